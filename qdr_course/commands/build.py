"""``qdr-course build``: regenerate lessons and notebooks from the solution sources."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "build",
        help="regenerate lessons/ and the notebooks from solutions/",
        description="Write lessons/NN_topic.py (solutions replaced by stubs) and the paired .ipynb "
        "of lessons/ and solutions/ from each solutions/NN_topic.py.",
    )
    parser.add_argument("sources", nargs="*", type=Path,
                        help="solution sources to build (default: all of solutions/NN_*.py)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true",
                      help="change nothing; exit 1 if any generated file is missing or out of date")
    mode.add_argument("--execute", action="store_true",
                      help="also re-execute the solution notebooks and store their outputs")
    parser.add_argument("--root", type=Path, default=Path.cwd(),
                        help="the course's root folder (default: the current folder)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from qdr_course.authoring import AuthoringError, build

    try:
        problems = build(args.root, only=args.sources or None, execute_notebooks=args.execute,
                         check=args.check)
    except AuthoringError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return 1
    if args.check:
        print("all lessons and notebooks are up to date")
    return 0
