"""The ``qdr-course`` command line.

Each sub-command lives in a module of :mod:`qdr_course.commands` that defines
``register(subparsers)``; the parser it adds sets ``func`` to a callable taking the parsed
arguments and returning an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import qdr_course
import qdr_course.commands

#: How every error of the course's commands starts (bootstrap.py's too): one prefix everywhere.
ERROR_PREFIX = "error: "


class OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line: what was wrong, where to read more."""

    def error(self, message: str):
        self.exit(2, f"{ERROR_PREFIX}{message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    parser = OneLineErrorParser(
        prog="qdr-course",
        description="Hybrid quantum-classical retinopathy grading and quantum NTK training: "
        "the course's command line.",
    )
    parser.add_argument("--version", action="version",
                        version=f"qdr-course {qdr_course.__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(qdr_course.commands.__path__),
                              key=lambda m: m.name):
        module = importlib.import_module(f"qdr_course.commands.{module_info.name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "parse_unknown", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
