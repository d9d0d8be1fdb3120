"""What the paper's CNN kernel costs: measured on small sizes, extrapolated, batched on devices.

The Myrtle-like CNN of Zlokapa, Neven and Lloyd (depth 96: three blocks of 32 [Conv 3x3, Relu]
and an AvgPool each, one more AvgPool, Dense, Erf, Dense) at 28x28 has no closed form the course
can use: neural-tangents propagates the full spatial covariance of every pair of images through
every layer. A convolution layer on H x W feature maps costs about (H W)^2 x 9 operations per pair
of images, so the kernel's cost is

    seconds = c x pairs x sum over conv layers of (H W)^2,

with pairs = n (n + 1) / 2 for the training kernel plus n x n_test for the test kernel. The
constant c is fitted on small sizes on this CPU (:func:`measure`); :func:`extrapolate` gives
the paper's settings. :func:`batched_kernel_fn` spreads the pairs over every accelerator with
``nt.batch``; ``python -m qdr_course.ntk.scaling run`` is the full experiment. See
``docs/ntk-at-scale.md``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qdr_course.ntk._neural_tangents import import_neural_tangents
from qdr_course.validate import positive_int

#: The paper's settings: 28x28 MNIST, 32 convolutions per block (depth 96), n = 512, 256 tests.
PAPER = {"size": 28, "conv_per_block": 32, "n": 512, "n_test": 256}
#: c measured by ``measure`` on the course's 2-core test machine (CPU time of one core), float64.
MEASURED_C = 7.1e-8
BLOCKS = 3  # conv blocks, each ending with an AvgPool(2); one more AvgPool follows them


def paper_cnn(conv_per_block: int = 32, blocks: int = BLOCKS, channels: int = 1,
              last_pool: bool = True):
    """The paper's CNN: blocks x ([Conv 3x3, Relu] x k, AvgPool 2), AvgPool 2, Dense, Erf, Dense.

    Like :func:`qdr_course.ntk.networks.myrtle_cnn` plus the paper's last AvgPool; ``channels``
    does not change the infinite-width kernel; ``last_pool=False`` leaves out the last AvgPool
    for images too small for it (8x8 digits). Inputs are NHWC arrays.
    """
    stax = import_neural_tangents().stax
    positive_int("conv_per_block", conv_per_block)
    positive_int("blocks", blocks)
    conv = [stax.Conv(channels, (3, 3), W_std=math.sqrt(2.0), b_std=None, padding="SAME"),
            stax.Relu()]
    pool = stax.AvgPool((2, 2), strides=(2, 2))
    layers = []
    for _ in range(blocks):
        layers += conv * conv_per_block + [pool]
    layers += [pool] if last_pool else []
    layers += [stax.Flatten(), stax.Dense(1, W_std=math.sqrt(2.0), b_std=None), stax.Erf(),
               stax.Dense(1, W_std=math.sqrt(2.0), b_std=None)]
    return stax.serial(*layers)


def conv_work(size: int, conv_per_block: int, blocks: int = BLOCKS) -> int:
    """Sum over conv layers of (H W)^2: the kernel's cost per pair of images, in units of c."""
    work, side = 0, size
    for _ in range(blocks):
        work += conv_per_block * side**4
        side //= 2
    return work


def pairs(n: int, n_test: int = 0) -> int:
    """Kernel entries computed: the training kernel's upper triangle and the test kernel."""
    return n * (n + 1) // 2 + n * n_test


@dataclass
class Timing:
    """One measured kernel: n images of size x size, k convs per block, CPU seconds (compiled)."""
    n: int
    size: int
    conv_per_block: int
    seconds: float

    @property
    def work(self) -> float:
        return pairs(self.n) * conv_work(self.size, self.conv_per_block)


def images(n: int, size: int, seed: int = 0) -> np.ndarray:
    """n random unit-norm images (NHWC, one channel): the kernel's cost does not depend on them."""
    x = np.random.default_rng(seed).normal(size=(n, size, size, 1))
    return x / np.linalg.norm(x.reshape(n, -1), axis=1)[:, None, None, None]


def time_kernel(n: int, size: int, conv_per_block: int, repeats: int = 2) -> Timing:
    """Best CPU time (all threads) of the jitted NTK of n images with itself, compiled first.

    CPU time, not wall time: it counts core-seconds, and a busy machine does not inflate it.
    """
    import jax

    _, _, kernel_fn = paper_cnn(conv_per_block)
    kernel = jax.jit(kernel_fn, static_argnames="get")
    x = images(n, size)
    kernel(x, None, get="ntk").block_until_ready()  # compile
    best = math.inf
    for _ in range(repeats):
        start = time.process_time()
        kernel(x, None, get="ntk").block_until_ready()
        best = min(best, time.process_time() - start)
    return Timing(n, size, conv_per_block, best)


def measure(ns=(4, 8, 16), sizes=(16, 20, 24), convs=(1, 2, 4)) -> list[Timing]:
    """Time the kernel over n, image size and depth, one factor at a time around the first value.
    """
    grid = {(n, sizes[0], convs[0]) for n in ns} | {(ns[0], s, convs[0]) for s in sizes}
    grid |= {(ns[0], sizes[0], k) for k in convs}
    return [time_kernel(*point) for point in sorted(grid)]


def fit_constant(timings: list[Timing]) -> tuple[float, float]:
    """Least-squares c in log space (seconds = c x work), and the largest ratio measured/fitted."""
    logs = [math.log(t.seconds / t.work) for t in timings]
    c = math.exp(sum(logs) / len(logs))
    worst = max(max(t.seconds / (c * t.work), c * t.work / t.seconds) for t in timings)
    return c, worst


def extrapolate(c: float, n: int, size: int, conv_per_block: int, n_test: int = 256) -> float:
    """Predicted single-core seconds of the training and test kernels."""
    return c * pairs(n, n_test) * conv_work(size, conv_per_block)


def batched_kernel_fn(conv_per_block: int, batch_size: int, device_count: int = -1,
                      store_on_device: bool = False, last_pool: bool = True):
    """The CNN's kernel function split into batch_size x batch_size blocks over devices (nt.batch).

    ``device_count=-1`` uses every accelerator jax sees (GPUs, TPU cores); ``0`` runs the blocks
    one after another on the default device. Both inputs' sizes must divide by
    ``batch_size x devices``, as neural-tangents requires.
    """
    nt = import_neural_tangents()
    positive_int("batch_size", batch_size)
    _, _, kernel_fn = paper_cnn(conv_per_block, last_pool=last_pool)
    return nt.batch(kernel_fn, batch_size=batch_size, device_count=device_count,
                    store_on_device=store_on_device)


def check_divisible(n: int, batch_size: int, devices: int) -> None:
    """Refuse sizes nt.batch cannot split, with the sizes that work."""
    step = batch_size * max(devices, 1)
    if n % step:
        raise ValueError(f"{n} images do not split into batches of {batch_size} on {devices} "
                         f"device(s): use a number of images divisible by {step} (e.g. "
                         f"{n - n % step or step}) or another --batch-size")


# --------------------------------------------------------------------------- command line

def _positive(convert, what: str, minimum: float = 1):
    """An argparse type: ``convert``ed, finite and at least ``minimum`` (above 0 for floats)."""
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not math.isfinite(value) or value < minimum or (convert is float and value <= 0):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    return parse


def check_out_file(text: str) -> Path:
    """Check before hours of kernels that ``text`` is a new .npz file that can be written."""
    out = Path(text).expanduser()
    if out.suffix != ".npz":
        raise ValueError(f"--out {text}: give a file name ending in .npz (numpy adds it anyway)")
    if out.exists():
        raise ValueError(f"--out {out} already exists; choose another name (kernels never "
                         "overwrite a file)")
    if not out.parent.is_dir():
        raise ValueError(f"--out {out}: {out.parent} is not an existing folder; create it first")
    probe = out.with_name(f".{out.name}.{os.getpid()}.probe")
    try:
        probe.open("xb").close()
        probe.unlink()
    except OSError as error:
        raise ValueError(f"--out {out}: cannot write there ({error.strerror or error}); choose "
                         "a folder you can write") from None
    return out


def run_experiment(args: argparse.Namespace) -> int:
    """Compute the paper's train and test kernels with nt.batch; save them; print test accuracy."""
    import jax

    out = check_out_file(args.out)  # before any kernel: at the paper's scale that is hours

    from qdr_course.ntk.data import PAPER_DIGITS_CNN, load_digit_pair
    from qdr_course.ntk.kernels import classify, kernel_regression

    devices = jax.device_count() if args.device_count == -1 else args.device_count
    for count in (args.n, args.n_test):
        check_divisible(count, args.batch_size, devices)
    data = load_digit_pair(args.n, digits=PAPER_DIGITS_CNN, n_test=args.n_test, seed=args.seed,
                           source=args.source)
    side = int(round(math.sqrt(data.x_train.shape[1])))
    x_train = data.x_train.reshape(-1, side, side, 1)
    x_test = data.x_test.reshape(-1, side, side, 1)
    predicted = extrapolate(args.c, args.n, side, args.conv_per_block, args.n_test)
    print(f"{args.n} training and {args.n_test} test images of {side}x{side}, "
          f"{args.conv_per_block} convs per block (depth {BLOCKS * args.conv_per_block}), "
          f"batches of {args.batch_size} on {devices or 1} {jax.default_backend()} device(s); "
          f"one CPU core would take about {predicted / 3600:.2g} h")
    kernel_fn = batched_kernel_fn(args.conv_per_block, args.batch_size, args.device_count,
                                  last_pool=side >> BLOCKS >= 2)
    start = time.perf_counter()
    k_train = np.asarray(kernel_fn(x_train, None, "ntk"))
    k_test = np.asarray(kernel_fn(x_test, x_train, "ntk"))
    seconds = time.perf_counter() - start
    accuracy = float(np.mean(classify(kernel_regression(k_train, k_test, data.y_train))
                             == data.y_test))
    print(f"kernels in {seconds:.1f} s; NTK regression test accuracy {accuracy:.3f}", flush=True)
    partial = out.with_name(out.name + ".tmp.npz")
    try:  # whole or not at all
        np.savez(partial, k_train=k_train, k_test=k_test, y_train=data.y_train,
                 y_test=data.y_test)
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    print(f"saved to {out}")
    return 0


def print_measurements(args: argparse.Namespace) -> int:
    """Measure on this machine and print the fitted constant and the paper's extrapolated cost."""
    timings = measure()
    c, worst = fit_constant(timings)
    print("| n | image | convs per block | seconds | fitted |\n|---|---|---|---|---|")
    for t in timings:
        print(f"| {t.n} | {t.size}x{t.size} | {t.conv_per_block} | {t.seconds:.3g} | "
              f"{c * t.work:.3g} |")
    print(f"c = {c:.3g} s per pair per (HW)^2 unit; worst fit ratio {worst:.2f}")
    for n in (64, 128, 256, 512):
        hours = extrapolate(c, n, PAPER["size"], PAPER["conv_per_block"]) / 3600
        print(f"paper's CNN, 28x28, depth 96, n = {n} (+256 tests): {hours:.3g} core-hours")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """``python -m qdr_course.ntk.scaling measure|run``."""
    parser = argparse.ArgumentParser(prog="python -m qdr_course.ntk.scaling",
                                     description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("measure", help="time small kernels here and extrapolate to the paper"
                   ).set_defaults(func=print_measurements)
    run = sub.add_parser("run", help="the paper's CNN kernel experiment, batched over devices")
    count = _positive(int, "a positive integer")
    run.add_argument("--n", type=count, default=PAPER["n"], help="training images (default 512)")
    run.add_argument("--n-test", type=count, default=PAPER["n_test"], help="test images (256)")
    run.add_argument("--conv-per-block", type=count, default=PAPER["conv_per_block"],
                     help="convolutions per block; depth is 3x this (default 32: depth 96)")
    run.add_argument("--source", choices=["mnist", "digits"], default="mnist",
                     help="mnist: 28x28 from OpenML (online once, then cached); digits: 8x8")
    run.add_argument("--batch-size", type=count, default=8, help="images per block and device")
    run.add_argument("--device-count", type=_positive(int, "an integer >= -1", minimum=-1),
                     default=-1,
                     help="-1: every accelerator jax sees; 0: one after another (CPU)")
    run.add_argument("--seed", type=_positive(int, "a non-negative integer", minimum=0),
                     default=0)
    run.add_argument("--c", type=_positive(float, "a positive finite number"), default=MEASURED_C,
                     help="seconds per pair per (HW)^2 unit on one core, for the estimate")
    run.add_argument("--out", default="cnn_ntk.npz", help="where to save the kernels")
    run.set_defaults(func=run_experiment)
    return parser



def main(argv: list[str] | None = None) -> int:
    """Run ``measure`` or ``run``; errors are one line."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, ConnectionError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # a disk that filled while saving: the kernels were printed above
        print(f"error: could not save the kernels: {error.strerror or error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
