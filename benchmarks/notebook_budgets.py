#!/usr/bin/env python3
"""Execute every lesson and solution notebook in a fresh kernel; print wall time and peak RSS.

    python benchmarks/notebook_budgets.py                 # all notebooks
    python benchmarks/notebook_budgets.py solutions/00_welcome.ipynb
    python benchmarks/notebook_budgets.py --markdown      # a table for the README
    python benchmarks/notebook_budgets.py lessons/*.ipynb # the lessons only (the README's table)

Results go to ``benchmarks/results/notebook_budgets.json`` (``--no-save``: print only); the
notebooks not run keep their stored rows, each with its date; each notebook runs once
(``--repeats 5`` for medians, five times as long).

Each notebook runs in its own child process, under the same environment as the tests
(one thread, no progress bars); the peak RSS is the kernel's, read from the operating system
(getrusage of the finished kernel process), not sampled. Targets: each lesson under 3 minutes
and 1.5 GB, the whole course under 15 minutes (Binder: about 1 CPU, 2 GB).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.benchlib import RESULTS, load_average, write_results  # noqa: E402

LIMIT_SECONDS, LIMIT_GB, COURSE_MINUTES = 180, 1.5, 15


def run_one(path: Path) -> dict:
    """Execute one notebook (in this process's child kernel) and measure it."""
    import nbformat

    from qdr_course.authoring import execute

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    error = None
    try:  # the build's own execution: same kernel, environment and time-out
        execute(nb, path.parent, path, source_text="")
    except Exception as exc:  # reported in the table, not raised: we want every row
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:120]}"
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # Linux: kilobytes
    return {"notebook": str(path.relative_to(ROOT)), "seconds": seconds,
            "peak_gb": peak_kb / 2**20, "error": error}


def measure(path: Path) -> dict:
    """Run :func:`run_one` in a fresh child process so getrusage sees only this kernel."""
    result = subprocess.run([sys.executable, __file__, "--one", str(path)], capture_output=True,
                            text=True, cwd=ROOT)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"notebook": str(path.relative_to(ROOT)), "seconds": float("nan"),
                "peak_gb": float("nan"), "error": (result.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    parser.add_argument("--repeats", type=int, default=1, help="runs per notebook (median)")
    parser.add_argument("--no-save", action="store_true",
                        help="do not write benchmarks/results/notebook_budgets.json")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one.resolve())))
        return 0
    paths = [p.resolve() for p in args.notebooks] or sorted(
        list((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
        + list((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")))
    rows = []
    before = load_average()
    print(f"{'notebook':<44} {'seconds':>8} {'peak GB':>8}  status", flush=True)
    for path in paths:
        runs = [measure(path) for _ in range(max(1, args.repeats))]
        row = dict(runs[0])
        row["seconds"] = statistics.median(r["seconds"] for r in runs)
        row["peak_gb"] = max(r["peak_gb"] for r in runs)
        row["runs_seconds"] = [r["seconds"] for r in runs]
        row["error"] = next((r["error"] for r in runs if r["error"]), None)
        rows.append(row)
        over = row["seconds"] > LIMIT_SECONDS or row["peak_gb"] > LIMIT_GB
        status = f"ERROR {row['error']}" if row["error"] else ("OVER BUDGET" if over else "ok")
        print(f"{row['notebook']:<44} {row['seconds']:8.1f} {row['peak_gb']:8.2f}  {status}",
              flush=True)
    lessons = [r for r in rows if r["notebook"].startswith("lessons/")]
    total = sum(r["seconds"] for r in lessons) / 60
    print(f"\nall lessons: {total:.1f} min (target < {COURSE_MINUTES} min); "
          f"largest peak {max(r['peak_gb'] for r in rows):.2f} GB (target < {LIMIT_GB} GB)")
    if args.markdown:
        print("\n| notebook | runs in | peak memory |\n|---|---|---|")
        for r in rows:
            print(f"| {r['notebook']} | {r['seconds']:.0f} s | {r['peak_gb']:.2f} GB |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    if not args.no_save:
        for row in rows:
            row["date"], row["load_before"] = time.strftime("%Y-%m-%d"), before
        kept = []  # notebooks not run this time keep their stored row (with its own date)
        stored = RESULTS / "notebook_budgets.json"
        if stored.is_file():
            ran = {r["notebook"] for r in rows}
            kept = [r for r in json.loads(stored.read_text())["tables"]["notebooks"]
                    if r["notebook"] not in ran]
        write_results("notebook_budgets", {"repeats": args.repeats, "torch_threads": 1,
                                           "peak": "getrusage of the kernel process"},
                      {"notebooks": sorted(kept + rows, key=lambda r: r["notebook"])}, before)
    return 1 if any(r["error"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
