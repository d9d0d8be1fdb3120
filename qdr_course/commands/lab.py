"""``qdr-course lab``: open JupyterLab on the lessons."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser("lab", help="open JupyterLab on the lessons",
                                   description="Start JupyterLab in the lessons/ folder; extra "
                                   "arguments go to JupyterLab (e.g. --no-browser --port 8899).")
    parser.add_argument("--root", type=Path, default=Path.cwd(),
                        help="the course's root folder (default: the current folder)")
    parser.add_argument("--folder", default="lessons", choices=["lessons", "solutions"],
                        help="which folder to open (default: lessons)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the command instead of running it")
    parser.set_defaults(func=run, parse_unknown=True)


def run(args: argparse.Namespace) -> int:
    folder = (args.root / args.folder).resolve()
    if not folder.is_dir():
        print(f"error: {folder} does not exist: run 'qdr-course lab' from the course's root folder "
              "or pass --root.", file=sys.stderr)
        return 1
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}",
               *getattr(args, "extra", [])]
    if args.dry_run:
        print(" ".join(command))
        return 0
    os.execv(sys.executable, command)  # replaces this process: Ctrl-C stops JupyterLab
    return 0  # pragma: no cover
