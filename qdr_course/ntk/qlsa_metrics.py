"""What decides whether a quantum linear-system algorithm is fast, measured per trial and swept.

See lesson 07.

State preparation and readout costs, one trial of exact, sparsified and diagonal NTK training
(:func:`trial_metrics`), sweeps over n (:func:`sweep`) and bootstrap error bars
(:func:`summarise`). The cost model built on these numbers is :mod:`qdr_course.ntk.qlsa_cost`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from qdr_course.ntk.data import PAPER_DIGITS_FC, DigitPair, load_digit_pair
from qdr_course.ntk.kernels import (
    classify,
    diagonal_regression,
    erf_ntk,
    kernel_regression,
    normalised_test_kernel,
    test_kernel_threshold,
)
from qdr_course.ntk.networks import depth_for
from qdr_course.ntk.sparsification import (
    condition_number,
    nonzeros_per_row,
    sparsify,
    sparsity,
    sparsity_pattern,
)

STATE_PREP_SCALES = ("global", "row", "bound")


def state_preparation_measurements(k_test: np.ndarray, scale: str = "global") -> np.ndarray:
    """N / P per test row, P = sum_i k_i^2, for three scalings k of the test kernel.

    See lesson 07.

    - ``"global"`` (the paper's metric): the whole normalised test-kernel matrix divided by ONE
      maximum, ``np.amax(np.abs(kernel_test_normalized))`` in the original;
    - ``"row"``: each row by its own maximum (optimistic: needs each row's maximum in advance);
    - ``"bound"``: no rescaling, k = k_* / k_thresh clipped to [-1, 1] as given; |k_i| <= 1 is
      the only bound known before the state is prepared, so this is what rejection sampling pays.
    """
    if scale not in STATE_PREP_SCALES:
        raise ValueError(f"scale must be one of {STATE_PREP_SCALES}, got {scale!r}")
    k = np.atleast_2d(np.asarray(k_test, np.float64))
    if scale == "global":
        k = k / np.amax(np.abs(k))
    elif scale == "row":
        k = k / np.abs(k).max(axis=1, keepdims=True)
    elif np.abs(k).max() > 1:
        raise ValueError("scale='bound' needs the normalised test kernel (entries in [-1, 1]): "
                         "pass normalised_test_kernel(k_test, k_thresh)")
    return k.shape[1] / np.sum(k**2, axis=1)


def readout_overlap(k_test: np.ndarray, y: np.ndarray,
                    kernel: np.ndarray | None = None) -> np.ndarray:
    """o = <k_*|y> (diagonal NTK) or <k_*|K^-1 y / ||K^-1 y||> per test row, with |y> = y / sqrt(n).

    See lesson 07.
    """
    k = np.atleast_2d(np.asarray(k_test, np.float64))
    v = np.asarray(y, np.float64)
    if kernel is not None:
        v = np.linalg.solve(kernel, v)
    v = v / np.linalg.norm(v)
    return (k @ v) / np.linalg.norm(k, axis=1)


def readout_measurements(overlap: np.ndarray) -> np.ndarray:
    """1 / o^2 - 1: expected failed measurements before reading the sign out. See lesson 07."""
    overlap = np.asarray(overlap, np.float64)
    return 1.0 / overlap**2 - 1.0


def _median_readout(k_test: np.ndarray, y: np.ndarray, kernel: np.ndarray | None = None) -> float:
    """Median over the test images of the expected failed readout measurements."""
    return float(np.median(readout_measurements(readout_overlap(k_test, y, kernel))))


METRICS = ("depth", "acc_exact", "acc_sparse", "acc_diag", "s_row", "s_col_max", "kappa_sparse",
           "kappa_exact", "state_prep", "state_prep_row", "state_prep_bound", "readout_diag",
           "readout_sparse", "off_diagonal_ratio")
#: The paper's resampled trials for n = 16, 32, 64, 128, 256, 512.
PAPER_TRIALS = {16: 16, 32: 8, 64: 4, 128: 4, 256: 4, 512: 4}


def trial_metrics(n: int, depth_factor: float = 0.1, seed: int = 0,
                  digits: Sequence[int] = PAPER_DIGITS_FC, n_test: int | None = None,
                  source: str = "digits", data: DigitPair | None = None) -> dict:
    """Train by exact, sparsified and diagonal NTK and measure the QLSA metrics (one trial).

    See lesson 07.

    Returns a dict with the keys of :data:`METRICS` plus ``n`` and ``seed``
    (:func:`metrics_from_kernels`).
    """
    if data is None:
        data = load_digit_pair(n, digits, n_test=n_test, seed=seed, source=source)
    elif data.n != n:
        raise ValueError(f"data has n = {data.n} training images but n = {n} was given")
    depth = depth_for(data.x_train, depth_factor)
    k_train = erf_ntk(data.x_train, None, depth)
    k_test = normalised_test_kernel(erf_ntk(data.x_test, data.x_train, depth),
                                    test_kernel_threshold(depth, data.x_train.shape[1]))
    pattern = sparsity_pattern(data.y_train, np.random.default_rng([seed, n, 1]))
    k_sparse = sparsify(k_train, pattern)
    return dict(n=n, seed=seed, depth=depth,
                **metrics_from_kernels(k_train, k_sparse, k_test, data.y_train, data.y_test))


def metrics_from_kernels(k_train: np.ndarray, k_sparse: np.ndarray, k_test: np.ndarray,
                         y_train: np.ndarray, y_test: np.ndarray) -> dict:
    """Accuracies, s, kappa, N/P (three scalings) and readouts from the kernels of one trial.

    See lesson 07.

    ``k_test`` is the normalised test kernel (entries in [-1, 1]); ``k_sparse`` the sparsified
    training kernel. State preparation and readout are medians over the test images.
    """
    n = len(y_train)
    acc = {}
    for name, out in (("exact", kernel_regression(k_train, k_test, y_train)),
                      ("sparse", kernel_regression(k_sparse, k_test, y_train)),
                      ("diag", diagonal_regression(k_train, k_test, y_train))):
        acc[f"acc_{name}"] = float(np.mean(classify(out) == y_test))
    off = k_train[~np.eye(n, dtype=bool)]
    return dict(
        **acc,
        s_row=float(nonzeros_per_row(k_sparse).mean()),
        s_col_max=sparsity(k_sparse),
        kappa_sparse=condition_number(k_sparse), kappa_exact=condition_number(k_train),
        **{name: float(np.median(state_preparation_measurements(k_test, scale)))
           for name, scale in (("state_prep", "global"), ("state_prep_row", "row"),
                               ("state_prep_bound", "bound"))},
        readout_diag=_median_readout(k_test, y_train),
        readout_sparse=_median_readout(k_test, y_train, k_sparse),
        off_diagonal_ratio=float(np.abs(off).max() / np.diag(k_train).min()),
    )


def sweep(n_values: Iterable[int], trials: int | Sequence[int] | str = 3, depth_factor: float = 0.1,
          digits: Sequence[int] = PAPER_DIGITS_FC, n_test: int | None = 64, source: str = "digits",
          progress: bool = True) -> list[dict]:
    """Run :func:`trial_metrics` for each n and trial (a fresh dict per trial). See lesson 07.

    ``trials`` is a count for every n, one count per n, or ``"paper"`` (16, 8, 4, 4, 4, 4 for
    n = 16 ... 512, :data:`PAPER_TRIALS`).
    """
    n_values = list(n_values)
    if isinstance(trials, str):
        if trials != "paper" or any(n not in PAPER_TRIALS for n in n_values):
            raise ValueError(f"trials='paper' needs n in {sorted(PAPER_TRIALS)}, got "
                             f"trials={trials!r}, n={n_values}")
        trials = [PAPER_TRIALS[n] for n in n_values]
    counts = [trials] * len(n_values) if isinstance(trials, (int, np.integer)) else list(trials)
    if len(counts) != len(n_values) or any(c < 1 for c in counts):
        raise ValueError("trials must be a positive count or one positive count per n, got "
                         f"{trials!r}")
    jobs = [(n, t) for n, c in zip(n_values, counts) for t in range(c)]
    if progress:
        from qdr_course.progress import progress_bar

        tqdm = progress_bar()

        jobs = tqdm(jobs, desc="NTK sweep")
    return [trial_metrics(n, depth_factor, seed=t, digits=digits, n_test=n_test, source=source)
            for n, t in jobs]


def bootstrap_interval(values: Sequence[float], seed: int = 0, confidence: float = 0.68,
                       n_resamples: int = 2000) -> tuple[float, float, float]:
    """Median and percentile-bootstrap interval of the median (scipy.stats.bootstrap).

    See lesson 07.
    """
    from scipy.stats import bootstrap

    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) == 0:
        raise ValueError("values must be a non-empty 1-D sequence")
    median = float(np.median(values))
    if len(values) == 1 or np.all(values == values[0]):
        return median, median, median
    res = bootstrap((values,), np.median, confidence_level=confidence, n_resamples=n_resamples,
                    method="percentile", random_state=np.random.default_rng(seed))
    return median, float(res.confidence_interval.low), float(res.confidence_interval.high)


def summarise(records: Sequence[dict], metric: str, by: str = "n") -> list[tuple]:
    """Rows (group value, median, low, high, trials) of one metric grouped by ``by``.

    See lesson 07.
    """
    if not records:
        raise ValueError("records is empty")
    if metric not in records[0]:
        raise ValueError(f"unknown metric {metric!r}; choose from {sorted(records[0])}")
    groups: dict = {}
    for record in records:
        groups.setdefault(record[by], []).append(record[metric])
    return [(key, *bootstrap_interval(vals), len(vals)) for key, vals in groups.items()]


def growth_exponent(n_values: Sequence[float], values: Sequence[float]) -> float:
    """Slope b of a least-squares fit log(value) = a + b log(n). See lesson 07.

    O(log n) growth shows up as a slope that falls towards 0 as n grows; a steady b > 0 means
    power-law growth n^b.
    """
    n_values, values = np.asarray(n_values, np.float64), np.asarray(values, np.float64)
    if n_values.shape != values.shape or len(values) < 2:
        raise ValueError("need at least two (n, value) pairs of the same length, got "
                         f"{n_values.shape} and {values.shape}")
    if np.any(n_values <= 0) or np.any(values <= 0):
        raise ValueError("a log-log fit needs positive n and positive values")
    return float(np.polyfit(np.log(n_values), np.log(values), 1)[0])


def original_replicated_values(values: Sequence[float], patterns: int = 3) -> np.ndarray:
    """The original analysis's bug, reproduced for one value per trial. See lesson 07.

    The original's loop runs over trials and, inside, over ``patterns`` sparsity patterns
    (``sparsity_bootstraps``); in every step it appends the trial's value to one list
    (``trial_p``) and appends *that same list object* to ``all_scale``, which it concatenates at
    the end. Every stored reference shows the final list (T x B entries), so each value of a
    quantity that does not depend on the pattern appears T x B^2 times (144 for T = 16, B = 3):
    medians unchanged, bootstrap spread shrunk. :func:`qdr_course.ntk.replicated_array` does the
    same for per-image arrays.
    """
    if not isinstance(patterns, (int, np.integer)) or patterns < 1:
        raise ValueError(f"patterns must be a positive integer, got {patterns!r}")
    trial_p: list = []
    all_scale: list = []
    for value in values:
        for _ in range(patterns):
            trial_p.append(float(value))
            all_scale.append(trial_p)  # the same object each time: the bug
    if not all_scale:
        raise ValueError("values is empty")
    return np.concatenate(all_scale)
