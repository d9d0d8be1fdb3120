"""``qdr-course minutes``: each lesson's minutes by the reading model, next to its header's."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "minutes", help="print each lesson's modelled minutes next to its header's",
        description="Model how long a careful beginner needs for each lesson (prose at 110 words "
        "a minute, formulas, each code cell run and read, figures, each exercise by its kind; "
        "see qdr_course/reading_model.py) and print it next to the minutes the lesson's header "
        "states. Exit 1 when a header is more than 20%% off the model.")
    parser.add_argument("--root", type=Path, default=Path.cwd(),
                        help="the course's root folder (default: the current folder)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from qdr_course.lesson_source import AuthoringError, lesson_summary
    from qdr_course.reading_model import TOLERANCE, lesson_minutes, minutes_report

    sources = sorted((args.root / "solutions").glob("[0-9][0-9]_*.py"))
    if not sources:
        print(f"error: no lesson sources solutions/NN_*.py under {args.root}: run this in the "
              "course's folder or pass --root.", file=sys.stderr)
        return 1
    try:
        stated = {path.name[:2]: lesson_summary(path).minutes for path in sources}
    except AuthoringError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(minutes_report(sources, stated))
    off = [path.name[:2] for path in sources
           if abs(stated[path.name[:2]] / lesson_minutes(path).total - 1) > TOLERANCE]
    if off:
        print(f"\nheaders more than {TOLERANCE:.0%} off the model: {', '.join(off)}")
        return 1
    return 0
