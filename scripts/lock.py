#!/usr/bin/env python3
"""Write binder/requirements.txt from the environment this script runs in (pip freeze).

Run it with the course's virtual environment after changing a dependency:
    .venv/bin/python scripts/lock.py
torch and the course itself are left out: torch is installed first, on its own (see
binder/torch-version.txt and binder/postBuild), the course in editable mode.
"""

import subprocess
import sys
from pathlib import Path

HEADER = """\
# The exact, tested environment of the course (Python 3.11), used by Binder, CI and
# scripts/bootstrap.py alike. torch is installed separately, first (see torch-version.txt);
# its dependencies are pinned here. Regenerate with: python scripts/lock.py
"""
# pip itself is left out too (the venv brings its own); setuptools stays: torch needs a recent one.
LEFT_OUT = ("torch==", "qdr-course==", "qdr_course==", "pip==")


def main() -> int:
    frozen = subprocess.run([sys.executable, "-m", "pip", "freeze", "--all", "--exclude-editable"],
                            check=True, capture_output=True, text=True).stdout.splitlines()
    pins = [line for line in frozen if line and not line.startswith(LEFT_OUT)]
    if any(" @ " in line or line.startswith("-e") for line in pins):
        sys.exit("error: some packages are installed from a path or URL, not a registry: "
                 + ", ".join(line for line in pins if " @ " in line or line.startswith("-e")))
    target = Path(__file__).resolve().parent.parent / "binder" / "requirements.txt"
    target.write_text(HEADER + "\n".join(pins) + "\n")
    print(f"wrote {len(pins)} pins to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
