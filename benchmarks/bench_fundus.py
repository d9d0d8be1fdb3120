#!/usr/bin/env python3
"""Synthetic fundus images per second at 64 and 224 px on one core, against reading the same PNGs.

    python benchmarks/bench_fundus.py            # default: 300 images at 64 px, 40 at 224 px
    python benchmarks/bench_fundus.py --n64 1000 --n224 100

Targets (issue 4): at least 200 images/s at 64 x 64 and 20 images/s at 224 x 224 on one core.
The alternative measured in the same run is reading the same images back from an APTOS-format
folder of PNG files (decoding each with PIL): what a course that shipped the images instead of
generating them would pay. Rates are per CPU second of this process (one
thread), so other load on the machine inflates them less than wall-clock rates; both are shown,
each the median of ``--repeat`` runs (results: ``benchmarks/results/fundus.json``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TQDM_DISABLE", "1")

TARGETS = {64: 200, 224: 20}


def timed(fn):
    """(result, CPU seconds, wall seconds) of fn()."""
    c, w = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - c, time.perf_counter() - w


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n64", type=int, default=300)
    parser.add_argument("--n224", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5, help="median of this many runs (>= 5)")
    parser.add_argument("--quick", action="store_true", help="100 images at 64 px, 20 at 224 px")
    args = parser.parse_args(argv)
    if args.repeat < 5:
        parser.error("--repeat must be at least 5 (medians of at least 5 runs)")
    if args.quick:
        args.n64, args.n224 = 100, 20
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks.benchlib import load_average, summary, write_results

    before, table = load_average(), []

    import torch

    torch.set_num_threads(1)
    import numpy as np
    from PIL import Image

    from qdr_course.retina.aptos_folder import save_aptos_folder
    from qdr_course.retina.fundus import synthetic_fundus_dataset

    synthetic_fundus_dataset(n=5, size=64, seed=99)  # warm-up: imports, caches
    rows, ok = [], True
    for size, n in ((64, args.n64), (224, args.n224)):
        runs = [timed(lambda: synthetic_fundus_dataset(n=n, size=size, seed=0))
                for _ in range(args.repeat)]
        (images, grades) = runs[0][0]
        cpu, wall = np.median([r[1] for r in runs]), np.median([r[2] for r in runs])
        with tempfile.TemporaryDirectory() as tmp:
            save_aptos_folder(images, grades, tmp)
            files = sorted((Path(tmp) / "train_images").glob("*.png"))
            reads = [timed(lambda: [np.asarray(Image.open(f).convert("RGB")) for f in files])[1]
                     for _ in range(args.repeat)]
            rcpu = float(np.median(reads))
        table.append({"size": size, "n": n,
                      "generated_per_cpu_second": summary([n / r[1] for r in runs]),
                      "generated_per_wall_second": summary([n / r[2] for r in runs]),
                      "png_read_per_cpu_second": summary([n / r for r in reads])})
        gen_rate, read_rate = n / cpu, n / rcpu
        passed = gen_rate >= TARGETS[size]
        ok &= passed
        rows.append((size, n, gen_rate, n / wall, read_rate, gen_rate / read_rate, TARGETS[size],
                     passed))

    print(f"{'size':>5} {'n':>5} {'generate/s (cpu)':>17} {'generate/s (wall)':>18} "
          f"{'read PNG/s (cpu)':>17} {'gen/read':>9} {'target':>7}  ok")
    for size, n, g, gw, r, ratio, target, passed in rows:
        print(f"{size:>5} {n:>5} {g:>17.1f} {gw:>18.1f} {r:>17.1f} {ratio:>9.2f} {target:>7}  "
              f"{'yes' if passed else 'NO'}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    write_results("fundus", {"repeat": args.repeat, "n64": args.n64, "n224": args.n224,
                             "torch_threads": 1}, {"rates": table}, before)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
