"""``qdr-course nbgrader``: an nbgrader course from the solution sources."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "nbgrader", help="write an nbgrader course (source notebooks with graded exercises)",
        description="Write DIR/nbgrader_config.py and DIR/source/NN_topic/NN_topic.ipynb for "
        "each lesson: exercises as nbgrader autograded answers, each followed by a locked test "
        "cell asserting the exercise's check; written answers as manually graded answers. Then, "
        "in DIR: nbgrader generate_assignment NN_topic, collect, autograde, export.")
    parser.add_argument("--out", type=Path, required=True,
                        help="the nbgrader course folder (created; files that differ from "
                        "what this writes are never replaced)")
    parser.add_argument("lessons", nargs="*",
                        help="lesson numbers, e.g. 01 02 (default: every lesson)")
    parser.add_argument("--root", type=Path, default=Path.cwd(),
                        help="the course's root folder (default: the current folder)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from qdr_course.nbgrader_course import NbgraderCourseError, write_course

    try:
        write_course(args.root, args.out, args.lessons or None)
    except (NbgraderCourseError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"next: cd {args.out} && nbgrader generate_assignment NN_topic")
    return 0
