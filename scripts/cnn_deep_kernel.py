"""Compute and store the CNN NTK of lesson 07 at a depth where the kernel is not nearly constant.

The lesson's live CNN (3 convolutions) has a nearly constant kernel (correlations 0.8-0.99), so
its flat N/P says nothing about the paper's depth-96 CNN. This script computes the same network
with ``--conv-per-block`` convolutions per pooling block (default 32: the paper's depth 96) for a
pool of 8x8 digits 1 and 0, and saves the kernel with what produced it. About 95 CPU-seconds for
96 images at depth 96 on the course machine: more than lesson 07 can spend beside its other
runs, so the lesson loads the stored file.

    python scripts/cnn_deep_kernel.py --conv-per-block 32 --per-class 48 \
        --out qdr_course/ntk/stored/cnn_depth96_pool96.npz
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    """Compute the pool kernel and save it; refuse to overwrite an existing file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conv-per-block", type=int, default=32)
    parser.add_argument("--per-class", type=int, default=48, help="images of each digit")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.out.exists():
        print(f"error: {args.out} exists; remove it or choose another --out", file=sys.stderr)
        return 1
    import jax
    import neural_tangents

    from qdr_course import ntk

    x, y = ntk.cnn_pool(per_class=args.per_class)
    start = time.process_time()
    kernel = ntk.cnn_kernels(x, conv_per_block=args.conv_per_block)
    seconds = time.process_time() - start
    np.savez_compressed(args.out, kernel=kernel, labels=y, images=x,
                        conv_per_block=args.conv_per_block, cpu_seconds=seconds,
                        versions=f"jax {jax.__version__}, neural-tangents "
                                 f"{neural_tangents.__version__}")
    print(f"{len(x)} images, depth {3 * args.conv_per_block}: {seconds:.0f} CPU-s; "
          f"saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
