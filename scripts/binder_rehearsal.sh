#!/usr/bin/env bash
# Rehearse a Binder launch: build a fresh environment from binder/ exactly as Binder would,
# then execute every lesson notebook in it and print the timings.
#
#   bash scripts/binder_rehearsal.sh                      # lessons/*.ipynb
#   bash scripts/binder_rehearsal.sh lessons/00_welcome.ipynb solutions/00_welcome.ipynb
#
# Steps, as repo2docker runs them for this repository:
#   1. the Python of binder/runtime.txt: the interpreter ($PYTHON, default python3.11) must match;
#   2. a new virtual environment in a temporary folder, holding a clean copy of the repository
#      (the committed HEAD, as Binder builds a commit; REHEARSAL_SOURCE=worktree copies the
#      working tree instead, untracked files included, ignored files left out);
#   3. pip install --no-cache-dir -r binder/requirements.txt;
#   4. binder/postBuild, run from the copy's root with the environment's pip and python. torch
#      comes from TORCH_INDEX_URL instead of PyTorch's CPU index: unset or empty means pip's
#      default index (on this project's machines that holds the local CPU wheel); set
#      TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu to do exactly what Binder does.
#      If postBuild does not read TORCH_INDEX_URL yet, the same one-line change is applied to
#      the temporary copy only (and printed); the repository's postBuild is never edited;
#   5. checks: pip check (in postBuild), every pin of requirements.txt and
#      requirements-no-deps.txt installed and TensorFlow not, the default-viewer override where
#      JupyterLab reads it, the jupytext extension enabled;
#   6. benchmarks/notebook_budgets.py, run by the new environment's python, executes each
#      notebook in a fresh kernel and prints its wall time and peak RSS;
#   7. tests/test_browser.py in the new environment, with JupyterLab reading the settings that
#      postBuild installed (QDR_BROWSER_SETTINGS=installed): a .py lesson opens as a notebook in
#      headless Chromium and runs. It needs pytest and Playwright, which binder/requirements.txt
#      does not hold (they are test packages): REHEARSAL_BROWSER=1 pip-installs
#      binder/requirements-test.txt into the temporary environment after the Binder steps (the
#      step is skipped, and says so, otherwise). Its screenshots are copied to
#      test-artifacts/binder-rehearsal/.
#
# Environment: PYTHON (interpreter), TORCH_INDEX_URL (see 4), REHEARSAL_SOURCE=head|worktree,
# REHEARSAL_BROWSER=1 (see 7), KEEP=1 keeps the temporary folder (its path is printed). Exit status: non-zero when any step
# fails or any notebook fails. Needs: bash, git, the package registries; nothing is installed
# outside the temporary folder.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3.11}"
SOURCE="${REHEARSAL_SOURCE:-head}"
TORCH_INDEX_URL="${TORCH_INDEX_URL-}"
CPU_INDEX="https://download.pytorch.org/whl/cpu"

# pip's notes about this machine's extra local index folders are noise here.
quiet_pip() { "$@" 2>&1 | { grep -v "^WARNING: Location 'file://.*' is ignored" || true; }; }
die() { echo "binder_rehearsal: error: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------- 1. the Python version
[ -f "$ROOT/binder/runtime.txt" ] || die "binder/runtime.txt is missing: Binder would pick its own default Python."
RUNTIME="$(tr -d '[:space:]' < "$ROOT/binder/runtime.txt")"
[[ "$RUNTIME" =~ ^python-([0-9]+\.[0-9]+)$ ]] \
    || die "binder/runtime.txt holds '$RUNTIME'; Binder expects 'python-X.Y' (e.g. python-3.11)."
WANT="${BASH_REMATCH[1]}"
command -v "$PYTHON" > /dev/null || die "no interpreter '$PYTHON': install Python $WANT or set PYTHON=/path/to/python$WANT."
HAVE="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2> /dev/null)" \
    || die "'$PYTHON' does not run: install Python $WANT or set PYTHON=/path/to/python$WANT."
[ "$HAVE" = "$WANT" ] \
    || die "binder/runtime.txt asks for Python $WANT but $PYTHON is Python $HAVE: set PYTHON=/path/to/python$WANT."
case "$SOURCE" in head|worktree) ;; *) die "REHEARSAL_SOURCE must be 'head' or 'worktree', not '$SOURCE'." ;; esac

# ---------------------------------------------------------------- 2. a fresh copy and venv
WORK="$(mktemp -d "${TMPDIR:-/tmp}/qdr-binder-rehearsal.XXXXXX")"
cleanup() {
    if [ "${KEEP:-0}" = "1" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
REPO="$WORK/repo"
VENV="$WORK/venv"
mkdir -p "$REPO"
if [ "$SOURCE" = head ]; then
    git -C "$ROOT" archive --format=tar HEAD | tar -x -C "$REPO"
    SOURCE_NAME="HEAD $(git -C "$ROOT" rev-parse --short HEAD)"
else
    (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard \
        | while IFS= read -r -d '' f; do if [ -e "$f" ]; then printf '%s\0' "$f"; fi; done \
        | tar --null -T - -c) | tar -x -C "$REPO"
    SOURCE_NAME="working tree of $ROOT"
fi
cd "$REPO"  # Binder builds and runs from the repository's root; so does every step below
echo "== rehearsal in $WORK (Python $HAVE from $(command -v "$PYTHON"); source: $SOURCE_NAME)"

# Nothing from the developer's own Jupyter/IPython/matplotlib setup leaks in; Binder starts clean.
export JUPYTER_CONFIG_DIR="$WORK/home/jupyter-config" JUPYTER_DATA_DIR="$WORK/home/jupyter-data"
export JUPYTER_RUNTIME_DIR="$WORK/home/jupyter-runtime" IPYTHONDIR="$WORK/home/ipython"
export MPLCONFIGDIR="$WORK/home/matplotlib" JUPYTER_PLATFORM_DIRS=1 PYTHONNOUSERSITE=1
unset PYTHONPATH VIRTUAL_ENV

T0="$(now)"
"$PYTHON" -m venv "$VENV"
export PATH="$VENV/bin:$PATH"  # postBuild's `pip` and `python` are this environment's
[ "$(command -v python)" = "$VENV/bin/python" ] || die "the new environment's python is not first on PATH."
echo "   venv base: $(pip --version | cut -d' ' -f1-2), setuptools $(python -c 'import importlib.metadata as m; print(m.version("setuptools"))')"
T_VENV="$(since "$T0")"

# ---------------------------------------------------------------- 3. requirements.txt
T0="$(now)"
echo "== pip install -r binder/requirements.txt"
(quiet_pip pip install --no-cache-dir --disable-pip-version-check -q -r binder/requirements.txt)
T_REQ="$(since "$T0")"

# ---------------------------------------------------------------- 4. postBuild
POSTBUILD="$REPO/binder/postBuild"
[ -f "$POSTBUILD" ] || die "binder/postBuild is missing."
if ! grep -q 'TORCH_INDEX_URL' "$POSTBUILD"; then
    # The change proposed for binder/postBuild, applied to the temporary copy only.
    grep -q -- "--index-url $CPU_INDEX " "$POSTBUILD" \
        || die "binder/postBuild no longer installs torch with '--index-url $CPU_INDEX': update this script."
    sed -i "s|--index-url $CPU_INDEX |\${TORCH_INDEX_URL:+--index-url \"\$TORCH_INDEX_URL\"} |" "$POSTBUILD"
    sed -i "s|^set -euo pipefail$|&\nTORCH_INDEX_URL=\${TORCH_INDEX_URL-$CPU_INDEX}|" "$POSTBUILD"
    echo "== binder/postBuild does not read TORCH_INDEX_URL yet; in the temporary copy it now says:"
    diff -u --label binder/postBuild --label "binder/postBuild (proposed)" "$ROOT/binder/postBuild" "$POSTBUILD" \
        | sed 's/^/   /' || true
fi
echo "== binder/postBuild (torch from ${TORCH_INDEX_URL:-the default index})"
T0="$(now)"
(TORCH_INDEX_URL="$TORCH_INDEX_URL" PIP_DISABLE_PIP_VERSION_CHECK=1 quiet_pip bash binder/postBuild) \
    || die "binder/postBuild failed (its output is above); Binder's build would stop there too."
T_POST="$(since "$T0")"

# ---------------------------------------------------------------- 5. what Binder users rely on
python - "$REPO" <<'EOF'
import json, sys
from pathlib import Path
import importlib.metadata as md
repo = Path(sys.argv[1])
settings = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
assert settings.exists(), f"{settings} is missing: .py lessons would open as text files"
assert json.loads(settings.read_text()) == json.loads((repo / "binder" / "overrides.json").read_text())
import qdr_course
assert Path(qdr_course.__file__).resolve().is_relative_to(repo), f"qdr_course imported from {qdr_course.__file__}"
pins = dict(line.split("#")[0].strip().split("==") for lock in ("requirements.txt", "requirements-no-deps.txt")
            for line in (repo / "binder" / lock).read_text().splitlines() if line.split("#")[0].strip())
assert not {"tensorflow", "tf2jax"} & {d.metadata["Name"] for d in md.distributions()}, "TensorFlow is installed"
wrong = {name: (pin, md.version(name)) for name, pin in pins.items() if md.version(name) != pin}
assert not wrong, f"installed versions differ from the lock: {wrong}"
torch_pin = (repo / "binder" / "torch-version.txt").read_text().split("#")[0].strip()
assert md.version("torch").split("+")[0] == torch_pin, f"torch {md.version('torch')} is not {torch_pin}"
print(f"   ok: {len(pins)} pins + torch {md.version('torch')} installed, overrides.json in place, "
      "qdr_course from the copy")
EOF
EXTENSIONS="$(jupyter labextension list 2>&1)"
grep -q "jupyterlab-jupytext.*enabled" <<< "$EXTENSIONS" \
    || die "the jupytext JupyterLab extension is not enabled in the new environment."
SIZE="$(du -sh "$VENV" | cut -f1)"

# ---------------------------------------------------------------- 6. the notebooks
echo "== executing notebooks in the new environment (fresh kernel each)"
if [ "$#" -gt 0 ]; then NOTEBOOKS=("$@"); else NOTEBOOKS=(lessons/[0-9][0-9]_*.ipynb); fi
[ -e "${NOTEBOOKS[0]}" ] || die "no notebooks to run (looked for ${NOTEBOOKS[*]})."
T0="$(now)"
STATUS=0
python benchmarks/notebook_budgets.py --json "$WORK/budgets.json" "${NOTEBOOKS[@]}" || STATUS=$?
T_RUN="$(since "$T0")"

# ---------------------------------------------------------------- 7. a real browser
T0="$(now)"
BROWSER="skipped"
if ! python -c 'import playwright, pytest' 2> /dev/null && [ "${REHEARSAL_BROWSER:-0}" = "1" ]; then
    echo "== REHEARSAL_BROWSER=1: pip install -r binder/requirements-test.txt (not a Binder step)"
    quiet_pip pip install --no-cache-dir --disable-pip-version-check -q -r binder/requirements-test.txt
fi
if python -c 'import playwright, pytest' 2> /dev/null; then
    echo "== tests/test_browser.py with the settings postBuild installed"
    if QDR_BROWSER_SETTINGS=installed python -m pytest -q -rs -p no:cacheprovider tests/test_browser.py \
            | tee "$WORK/browser.log"; then
        if grep -q "1 passed" "$WORK/browser.log"; then BROWSER="passed"; else BROWSER="skipped, see above"; fi
    else
        BROWSER="FAILED"; STATUS=1
    fi
    if [ -d test-artifacts/browser ]; then
        mkdir -p "$ROOT/test-artifacts/binder-rehearsal"
        cp test-artifacts/browser/* "$ROOT/test-artifacts/binder-rehearsal/"
    fi
else
    echo "== browser step skipped: pytest and Playwright are not in this environment (REHEARSAL_BROWSER=1 adds them)"
fi
T_BROWSER="$(since "$T0")"

echo
echo "== Binder rehearsal summary (Python $HAVE, $(nproc) CPUs here; Binder gives about 1 CPU and 2 GB)"
printf '%-44s %10s\n' "step" "seconds"
printf '%-44s %10s\n' "create venv" "$T_VENV" "pip install -r binder/requirements.txt" "$T_REQ" \
    "binder/postBuild (torch, course, pip check)" "$T_POST" "execute ${#NOTEBOOKS[@]} notebook(s)" "$T_RUN" \
    "browser test ($BROWSER)" "$T_BROWSER"
echo "environment size: $SIZE"
[ -f "$WORK/budgets.json" ] || die "benchmarks/notebook_budgets.py stopped before writing its results."
python - "$WORK/budgets.json" <<'EOF'
import json, sys
rows = json.load(open(sys.argv[1]))
print(f"{'notebook':<44} {'seconds':>8} {'peak GB':>8}")
for r in rows:
    print(f"{r['notebook']:<44} {r['seconds']:8.1f} {r['peak_gb']:8.2f}  {r['error'] or 'ok'}")
EOF
[ "$STATUS" -eq 0 ] || die "a notebook or the browser test failed in the Binder environment (see above)."
echo "binder rehearsal: ok"
