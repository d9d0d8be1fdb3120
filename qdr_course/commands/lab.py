"""``qdr-course lab``: open JupyterLab on the lessons, with lesson 00 open."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import sysconfig
from pathlib import Path

FIRST_LESSON = "00_welcome.ipynb"  # what the Binder link opens too


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "lab", help="open JupyterLab on the lessons",
        description=f"Start JupyterLab in the lessons/ folder with lesson 00 ({FIRST_LESSON}) "
        "open; extra arguments go to JupyterLab (e.g. --no-browser --port 8899).")
    parser.add_argument("--root", type=Path, default=Path.cwd(),
                        help="the course's root folder (default: the current folder)")
    parser.add_argument("--folder", default="lessons", choices=["lessons", "solutions"],
                        help="which folder to open (default: lessons)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the command instead of running it")
    parser.set_defaults(func=run, parse_unknown=True)


def running_as_root() -> bool:
    """True for the root user (containers, cloud shells), where Jupyter needs --allow-root."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def jupyterlab_arguments(folder: Path, extra: list[str], as_root: bool) -> list[str]:
    """JupyterLab's options: ``folder`` as root, lesson 00 open, --allow-root as root, ``extra``."""
    arguments = [f"--ServerApp.root_dir={folder}"]
    if (folder / FIRST_LESSON).is_file():  # "/" and the browser open it, as the Binder link does
        arguments.append(f"--LabApp.default_url=/lab/tree/{FIRST_LESSON}")
    if as_root and "--allow-root" not in extra:
        arguments.append("--allow-root")
    if os.name != "nt" and not any("terminado_settings" in a for a in extra):
        # Terminals run the user's shell as when JupyterLab is started from a terminal: not as a
        # login shell (Jupyter's choice without a tty), whose /etc/profile would reset PATH.
        shell = os.environ.get("SHELL") or shutil.which("sh") or "/bin/sh"
        arguments.append(f"--ServerApp.terminado_settings=shell_command={shlex.quote(shell)}")
    return [*arguments, *extra]


def server_environment(environ: dict[str, str]) -> dict[str, str]:
    """``environ`` with this environment's scripts folder first on PATH (for its terminals)."""
    scripts = sysconfig.get_path("scripts")
    rest = [p for p in environ.get("PATH", "").split(os.pathsep) if p and p != scripts]
    return {**environ, "PATH": os.pathsep.join([scripts, *rest])}


def run(args: argparse.Namespace) -> int:
    folder = (args.root / args.folder).resolve()
    if not folder.is_dir():
        print(f"error: {folder} does not exist: run 'qdr-course lab' from the course's root folder "
              "or pass --root.", file=sys.stderr)
        return 1
    extra = list(getattr(args, "extra", []))
    as_root = running_as_root()
    if as_root and "--allow-root" not in extra:
        print("note: running as root (as in many containers), so JupyterLab gets --allow-root.",
              file=sys.stderr)
    command = [sys.executable, "-m", "jupyterlab", *jupyterlab_arguments(folder, extra, as_root)]
    if args.dry_run:
        print(" ".join(command))
        return 0
    # Replaces this process (Ctrl-C stops JupyterLab); its terminals find `qdr-course` on PATH.
    os.execve(sys.executable, command, server_environment(dict(os.environ)))
    return 0  # pragma: no cover
