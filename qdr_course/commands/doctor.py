"""``qdr-course doctor``: versions, resources, and a non-zero exit naming what is broken."""

from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser("doctor", help="check that this machine can run the course",
                                   description="Print the versions of the key packages, CPU and "
                                   "memory, whether this is Binder; exit 1 naming anything missing "
                                   "or broken.")
    parser.add_argument("--fast", action="store_true",
                        help="import everything in this process (quicker, but one crash stops the "
                        "report)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from qdr_course.doctor import diagnose, resources

    rows = resources()
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print()
    how = "in this process" if args.fast else "each in a fresh Python, about 10 s"
    print(f"checking that every key package imports ({how}):", end="", file=sys.stderr,
          flush=True)
    findings = diagnose(isolated=not args.fast,
                        progress=lambda name: print(f" {name}", end="", file=sys.stderr,
                                                    flush=True))
    print(" done", file=sys.stderr, flush=True)
    name_w = max(len(f.name) for f in findings)
    ver_w = max(len(f.version) for f in findings)
    print(f"{'package':<{name_w}}  {'version':<{ver_w}}  status")
    for f in findings:
        print(f"{f.name:<{name_w}}  {f.version:<{ver_w}}  {'ok  ' if f.ok else 'FAIL'}  {f.note}")
    broken = [f.name for f in findings if not f.ok]
    print()
    if broken:
        print(f"not ready: {', '.join(broken)} missing or broken (see above). "
              "The tested versions are pinned in binder/requirements.txt.")
        return 1
    print("ready: every package imports and has a tested version")
    return 0
