#!/bin/bash
# Set up qdr-course on a VM that runs The Littlest JupyterHub (installed as TLJH's docs say).
# Run as root from a clone of the course:  sudo bash deploy/tljh/setup.sh
# 1. The course's exact environment (binder/: torch first, then the lock, neural-tangents without
#    TensorFlow, then the course) in its own Python 3.11 venv, /opt/qdr-course/venv, whatever
#    Python TLJH itself runs on.
# 2. That venv becomes every learner's "python3" kernel, so the lessons open in it unchanged.
# 3. deploy/tljh/config.yaml's limits and idle culling, through tljh-config.
# 4. The lessons copied to /etc/skel, so each new learner's home starts with them.
set -euo pipefail
COURSE=$(cd "$(dirname "$0")/../.." && pwd)
PREFIX=${QDR_PREFIX:-/opt/qdr-course}
PYTHON=${PYTHON:-python3.11}
TORCH_INDEX_URL=${TORCH_INDEX_URL-https://download.pytorch.org/whl/cpu}
command -v tljh-config >/dev/null || { echo "error: tljh-config not found: install The Littlest JupyterHub first" >&2; exit 1; }
command -v "$PYTHON" >/dev/null || { echo "error: $PYTHON not found: install Python 3.11 (apt-get install python3.11-venv) or set PYTHON=" >&2; exit 1; }

mkdir -p "$PREFIX"
"$PYTHON" -m venv "$PREFIX/venv"
PIP="$PREFIX/venv/bin/pip"
TORCH_VERSION=$(sed 's/#.*//' "$COURSE/binder/torch-version.txt" | tr -d '[:space:]')
"$PIP" install --no-cache-dir --no-deps ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "torch==${TORCH_VERSION}"
"$PIP" install --no-cache-dir -r "$COURSE/binder/requirements.txt"
# neural-tangents without TensorFlow (never imported): see binder/requirements-no-deps.txt.
"$PIP" install --no-cache-dir --no-deps -r "$COURSE/binder/requirements-no-deps.txt"
"$PIP" install --no-cache-dir --no-deps "$COURSE"
"$PREFIX/venv/bin/python" "$COURSE/scripts/bootstrap.py" pip-check
# A plain `import neural_tangents` without TensorFlow (qdr_course/ntk/_neural_tangents.py).
"$PREFIX/venv/bin/python" "$COURSE/scripts/bootstrap.py" neural-tangents-hook

# Every learner's python3 kernel is the course's venv (TLJH's server looks in /opt/tljh/user).
"$PREFIX/venv/bin/python" -m ipykernel install --prefix /opt/tljh/user --name python3 \
    --display-name "Python 3 (qdr-course)"

# Limits and culling: the values of config.yaml, one tljh-config call each.
tljh-config set limits.memory 1.5G
tljh-config set limits.cpu 1
tljh-config set services.cull.enabled true
tljh-config set services.cull.timeout 3600
tljh-config set services.cull.every 300
tljh-config set user_environment.default_app jupyterlab
tljh-config reload

# New learners' homes start with the lessons (existing homes are left alone).
mkdir -p /etc/skel/qdr-course
cp -rn "$COURSE/lessons" /etc/skel/qdr-course/
echo "qdr-course is set up: learners' kernel $PREFIX/venv, lessons in ~/qdr-course/lessons"
