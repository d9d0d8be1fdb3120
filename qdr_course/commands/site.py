"""``qdr-course site --out DIR``: the course as a website, from the executed solution notebooks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qdr_course.site import SOLUTION_MODES


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "site", help="render the course as a website (no notebook is executed)",
        description="Render every lesson from its executed solution notebook (outputs shown) and "
        "the docs into a static website with a launch-on-Binder button per lesson, a search box "
        "and equations, all offline. Publish DIR with GitHub Pages (see the instructor guide).")
    parser.add_argument("--out", type=Path, required=True,
                        help="the folder to write: empty, new, a publishing folder holding only "
                        "CNAME/.git, or an earlier 'qdr-course site' (its files are replaced, "
                        "yours are kept); checked before the build")
    parser.add_argument("--solutions", choices=SOLUTION_MODES, default="hide",
                        help="exercise solutions: hide (learners see the exercise stubs), "
                        "collapse (a 'show' button), show (default: hide)")
    parser.add_argument("--root", type=Path, default=Path.cwd(),
                        help="the course's root folder (default: the current folder)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from qdr_course.site import SiteError, build_site

    try:
        result, warnings = build_site(args.root, args.out, args.solutions)
    except SiteError as error:
        print(f"qdr-course site: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # the disk filled, or the folder went away, while copying
        reason = error.strerror or type(error).__name__
        where = f" ({error.filename})" if error.filename else ""
        print(f"qdr-course site: error: could not write the site{where}: {reason}; the files "
              "already copied are listed in the folder's .qdr-course-site", file=sys.stderr)
        return 1
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"wrote {len(result.lessons)} lessons and the docs to {result.out} in "
          f"{result.seconds:.0f} s (solutions: {args.solutions}); open "
          f"{result.out / 'index.html'} or publish the folder with GitHub Pages")
    return 0
