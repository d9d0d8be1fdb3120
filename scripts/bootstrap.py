#!/usr/bin/env python3
"""Set up the course in ./.venv (once), then open JupyterLab or run the tests.

    python3 scripts/bootstrap.py lab     # set up, then open JupyterLab on lessons/
    python3 scripts/bootstrap.py test    # set up, then run the whole test suite

The environment is exactly the Binder one: torch first (so pip never pulls a CUDA build as a
dependency), then every other package at the version pinned in binder/requirements.txt, then
this course in editable mode. Set TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu to take
PyTorch's small CPU-only build on Linux. Only the standard library is used here.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
LOCK = ROOT / "binder" / "requirements.txt"
TORCH = (ROOT / "binder" / "torch-version.txt").read_text().split("#")[0].strip()
STAMP = VENV / ".qdr-course-installed"


def run(*command: str | os.PathLike) -> None:
    print("+", " ".join(map(str, command)), flush=True)
    subprocess.run([str(c) for c in command], check=True, cwd=ROOT)


def venv_bin(name: str) -> Path:
    folder = "Scripts" if os.name == "nt" else "bin"
    return VENV / folder / (name + (".exe" if os.name == "nt" else ""))


def fingerprint() -> str:
    """What the environment was installed from: the lock, the torch pin, the package metadata."""
    digest = hashlib.sha256()
    for path in (LOCK, ROOT / "binder" / "torch-version.txt", ROOT / "pyproject.toml"):
        digest.update(path.read_bytes())
    digest.update(os.environ.get("TORCH_INDEX_URL", "").encode())
    return digest.hexdigest()


def set_up() -> None:
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"error: the course is tested on Python 3.11, this is {sys.version.split()[0]}. "
                 "Run this script with python3.11 (e.g. `python3.11 scripts/bootstrap.py lab`).")
    if STAMP.exists() and STAMP.read_text() == fingerprint():
        print(f"environment {VENV} is up to date")
        return
    if not venv_bin("python").exists():
        print(f"creating {VENV}")
        venv.create(VENV, with_pip=True)
    pip = [venv_bin("python"), "-m", "pip", "install", "--disable-pip-version-check"]
    torch_index = os.environ.get("TORCH_INDEX_URL")
    run(*pip, "--no-deps", f"torch=={TORCH}",
        *(["--index-url", torch_index] if torch_index else []))
    run(*pip, "-r", LOCK)
    run(*pip, "--no-deps", "-e", ROOT)
    run(venv_bin("python"), "-m", "pip", "check")
    # Double-clicking a .py lesson in JupyterLab opens it as a notebook (this environment only).
    settings = VENV / "share" / "jupyter" / "lab" / "settings"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "overrides.json").write_bytes((ROOT / "binder" / "overrides.json").read_bytes())
    STAMP.write_text(fingerprint())


def main(argv: list[str]) -> int:
    if len(argv) < 1 or argv[0] not in ("lab", "test", "setup"):
        print(__doc__)
        return 2
    try:
        set_up()
    except subprocess.CalledProcessError as error:
        print(f"error: set-up step failed (exit {error.returncode}): "
              f"{' '.join(map(str, error.cmd))}\nFix what it printed above and run this command "
              "again (installed packages are kept).", file=sys.stderr)
        return 1
    command, extra = argv[0], argv[1:]
    if command == "lab":
        os.execv(str(venv_bin("qdr-course")), [str(venv_bin("qdr-course")), "lab", "--root",
                                               str(ROOT), *extra])
    if command == "test":
        pytest = [str(venv_bin("python")), "-m", "pytest", "-n", "2", *extra]
        return subprocess.run(pytest, cwd=ROOT).returncode
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
