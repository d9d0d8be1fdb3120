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
    sparsity_pattern,
)


def state_preparation_measurements(k_test: np.ndarray) -> np.ndarray:
    """N / P per test row, k = row / max|row|, P = sum k_i^2: cost of preparing |k_*>.

    See lesson 07.
    """
    k = np.atleast_2d(np.asarray(k_test, np.float64))
    k = k / np.abs(k).max(axis=1, keepdims=True)
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
           "kappa_exact", "state_prep", "readout_diag", "readout_sparse", "off_diagonal_ratio")


def trial_metrics(n: int, depth_factor: float = 0.1, seed: int = 0,
                  digits: Sequence[int] = PAPER_DIGITS_FC, n_test: int | None = None,
                  source: str = "digits", data: DigitPair | None = None) -> dict:
    """Train by exact, sparsified and diagonal NTK and measure the QLSA metrics (one trial).

    See lesson 07.

    Returns a dict with the keys of :data:`METRICS` plus ``n`` and ``seed``; state preparation and
    readout are medians over the test images.
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
    acc = {}
    for name, out in (("exact", kernel_regression(k_train, k_test, data.y_train)),
                      ("sparse", kernel_regression(k_sparse, k_test, data.y_train)),
                      ("diag", diagonal_regression(k_train, k_test, data.y_train))):
        acc[f"acc_{name}"] = float(np.mean(classify(out) == data.y_test))
    off = k_train[~np.eye(n, dtype=bool)]
    return dict(
        n=n, seed=seed, depth=depth, **acc,
        s_row=float(nonzeros_per_row(k_sparse).mean()),
        s_col_max=int(nonzeros_per_row(k_sparse.T).max()),
        kappa_sparse=condition_number(k_sparse), kappa_exact=condition_number(k_train),
        state_prep=float(np.median(state_preparation_measurements(k_test))),
        readout_diag=_median_readout(k_test, data.y_train),
        readout_sparse=_median_readout(k_test, data.y_train, k_sparse),
        off_diagonal_ratio=float(np.abs(off).max() / np.diag(k_train).min()),
    )


def sweep(n_values: Iterable[int], trials: int | Sequence[int] = 3, depth_factor: float = 0.1,
          digits: Sequence[int] = PAPER_DIGITS_FC, n_test: int | None = 64, source: str = "digits",
          progress: bool = True) -> list[dict]:
    """Run :func:`trial_metrics` for each n and trial (a fresh dict per trial). See lesson 07.

    ``trials`` is a count for every n or one count per n (the paper: 16, 8, 4, 4, 4, 4).
    """
    n_values = list(n_values)
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
