"""The paper's figure as the original drew it: trials, sparsity patterns, and its error bars.

See lesson 07.

The original's ``analyze`` (analysis.ipynb) loops over the T trials of each n and over
B = ``sparsity_bootstraps`` = 3 random sparsity patterns per trial. :func:`paper_trial` computes
one trial's per-test-image values for all B patterns; :func:`original_statistics` draws the error
bars exactly as the original did (accuracy and kappa: mean +- 2 SEM; N/P and readout: median of
its replicated array +- 2 std/sqrt(5) of 5 Poisson-weighted medians), and :func:`trial_medians`
gives the honest alternative: one median per trial.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qdr_course.ntk.data import PAPER_DIGITS_FC, load_digit_pair
from qdr_course.ntk.kernels import (
    classify,
    erf_ntk,
    kernel_regression,
    normalised_test_kernel,
    test_kernel_threshold,
)
from qdr_course.ntk.networks import depth_for
from qdr_course.ntk.qlsa_metrics import PAPER_TRIALS
from qdr_course.ntk.sparsification import (
    condition_number,
    sparsify,
    sparsity,
    sparsity_pattern,
)

#: The original's ``sparsity_bootstraps``: random sparsity patterns per trial.
PAPER_PATTERNS = 3
#: The original's Poisson bootstrap replicates for N/P and readout.
PAPER_POISSON_REPLICATES = 5


def _unit(v: np.ndarray) -> np.ndarray:
    """v / ||v||."""
    return v / np.linalg.norm(v)


def paper_trial(n: int, depth_factor: float = 0.1, seed: int = 0, n_test: int = 256,
                source: str = "mnist-subset", digits: Sequence[int] = PAPER_DIGITS_FC,
                patterns: int = PAPER_PATTERNS, statistics: str = "split") -> dict:
    """One trial of the original's ``analyze``: per-test-image values for ``patterns`` patterns.

    See lesson 07.

    As the original: the exact NTK predicts from the raw test kernel, the sparsified and the
    diagonal NTK from the normalised (clipped) one; N/P uses ONE global maximum of the normalised
    test kernel. Also returned: per-row N/P and the factor (global max / row max)^2 that turns it
    into the global N/P (their product, image by image), and the test-train pair behind the
    global maximum.
    """
    if not isinstance(patterns, int) or patterns < 1:
        raise ValueError(f"patterns must be a positive integer, got {patterns!r}")
    data = load_digit_pair(n, digits, n_test=n_test, seed=seed, source=source,
                           statistics=statistics)
    y = data.y_train
    depth = depth_for(data.x_train, depth_factor)
    k_train = erf_ntk(data.x_train, None, depth)
    k_raw = erf_ntk(data.x_test, data.x_train, depth)
    k_test = normalised_test_kernel(k_raw, test_kernel_threshold(depth, data.x_train.shape[1]))
    absolute = np.abs(k_test)
    global_max, row_max = absolute.max(), absolute.max(axis=1)
    argmax = np.unravel_index(np.argmax(absolute), absolute.shape)
    record = dict(
        n=n, seed=seed, depth=depth,
        correct_exact=classify(kernel_regression(k_train, k_raw, y)) == data.y_test,
        correct_diag=classify(k_test @ (y / np.diag(k_train))) == data.y_test,
        np_global=n / np.sum((k_test / global_max) ** 2, axis=1),
        np_row=n / np.sum((k_test / row_max[:, None]) ** 2, axis=1),
        max_factor=(global_max / row_max) ** 2,
        overlap_diag=_unit_rows(k_test) @ _unit(y),
        max_pair_cosine=float(data.x_test[argmax[0]] @ data.x_train[argmax[1]]),
        kappa=[], s=[], correct_sparse=[], overlap_sparse=[],
    )
    rng = np.random.default_rng([seed, n, 1])
    for _ in range(patterns):
        k_sparse = sparsify(k_train, sparsity_pattern(y, rng))
        solved = np.linalg.solve(k_sparse, y)
        record["kappa"].append(condition_number(k_sparse))
        record["s"].append(sparsity(k_sparse))
        record["correct_sparse"].append(classify(k_test @ solved) == data.y_test)
        record["overlap_sparse"].append(_unit_rows(k_test) @ _unit(solved))
    for key in ("kappa", "s", "correct_sparse", "overlap_sparse"):
        record[key] = np.asarray(record[key])
    return record


def _unit_rows(k: np.ndarray) -> np.ndarray:
    """Each row divided by its norm: the amplitudes of |k_*>."""
    return k / np.linalg.norm(k, axis=1, keepdims=True)


def paper_sweep(n_values: Sequence[int] = (16, 32, 64, 128, 256, 512), depth_factor: float = 0.1,
                n_test: int = 256, source: str = "mnist-subset", **kwargs) -> list[dict]:
    """:func:`paper_trial` with the paper's trial counts (16, 8, 4, 4, 4, 4). See lesson 07."""
    unknown = [n for n in n_values if n not in PAPER_TRIALS]
    if unknown:
        raise ValueError(f"the paper's trial counts exist for n in {sorted(PAPER_TRIALS)}, got "
                         f"{unknown}")
    return [paper_trial(n, depth_factor, seed=t, n_test=n_test, source=source, **kwargs)
            for n in n_values for t in range(PAPER_TRIALS[n])]


def readout_cost(overlap: np.ndarray) -> np.ndarray:
    """1/o^2 - 1 failed measurements (the original's ``these_measurements``)."""
    return 1.0 / np.asarray(overlap, np.float64) ** 2 - 1.0


def replicated_array(per_trial: Sequence[np.ndarray], patterns: int) -> np.ndarray:
    """What the original concatenated: its shared, still-growing list, appended T x B times.

    See lesson 07.

    ``per_trial[t]`` holds trial t's values, shape (B, n_test) for a pattern-dependent quantity
    or (n_test,) for one that does not depend on the pattern (appended B times all the same).
    The final list holds T*B arrays; ``all_scale`` holds T*B references to it; so a
    pattern-independent value appears T*B^2 times and a pattern-dependent one T*B times.
    """
    rows = []
    for values in per_trial:
        values = np.asarray(values, np.float64)
        rows.extend(values if values.ndim == 2 else [values] * patterns)
    trial_list = np.asarray(rows)  # the final trial_p: T*B arrays
    return np.tile(trial_list.ravel(), len(trial_list))  # all_scale: T*B references to it


def poisson_error(values: np.ndarray, rng: np.random.Generator,
                  replicates: int = PAPER_POISSON_REPLICATES) -> float:
    """The original's error: std of ``replicates`` medians of Poisson(1)-weighted values / sqrt.

    See lesson 07. Each value is *multiplied* by a Poisson(1) draw (about 37 % become 0), the
    median taken, and the spread of 5 such medians divided by sqrt(5); the figure shows +- 2x.
    """
    values = np.asarray(values, np.float64)
    medians = [np.median(rng.poisson(size=values.shape) * values) for _ in range(replicates)]
    return float(np.std(medians) / np.sqrt(replicates))


def original_statistics(records: Sequence[dict], patterns: int = PAPER_PATTERNS,
                        seed: int = 0) -> dict[int, dict[str, tuple[float, float]]]:
    """Per n, (centre, half-width of the error bar) of every panel, as the original computed.

    See lesson 07.

    Accuracy: mean and 2 SEM of the concatenated correct/incorrect flags (the exact and diagonal
    flags concatenated once per pattern); kappa: mean and 2 SEM over T*B values; N/P and the two
    readouts: median of the replicated array and 2 x :func:`poisson_error`.
    """
    rng = np.random.default_rng(seed)
    out: dict[int, dict[str, tuple[float, float]]] = {}
    for n in sorted({r["n"] for r in records}):
        group = [r for r in records if r["n"] == n]
        stats: dict[str, tuple[float, float]] = {}
        for name in ("exact", "diag", "sparse"):
            flags = np.concatenate([np.tile(r[f"correct_{name}"], patterns) if name != "sparse"
                                    else r["correct_sparse"].ravel() for r in group])
            stats[f"acc_{name}"] = (float(flags.mean()),
                                    float(2 * flags.std() / np.sqrt(len(flags))))
        kappas = np.concatenate([r["kappa"] for r in group])
        stats["kappa"] = (float(kappas.mean()), float(2 * kappas.std() / np.sqrt(len(kappas))))
        for name, per_trial in (("state_prep", [r["np_global"] for r in group]),
                                ("readout_diag", [readout_cost(r["overlap_diag"]) for r in group]),
                                ("readout_sparse", [readout_cost(r["overlap_sparse"])
                                                    for r in group])):
            values = replicated_array(per_trial, patterns)
            stats[name] = (float(np.median(values)), 2 * poisson_error(values, rng))
        out[n] = stats
    return out


def trial_medians(records: Sequence[dict], key: str) -> dict[int, np.ndarray]:
    """Per n, one value per trial: the median over its test images (and patterns). See lesson 07.

    ``key`` is a per-image key of :func:`paper_trial` (``np_global``, ``np_row``,
    ``max_factor``, ``readout_diag``, ``readout_sparse``) or a per-pattern one (``kappa``,
    ``s``).
    """
    out: dict[int, list[float]] = {}
    for r in records:
        if key in ("readout_diag", "readout_sparse"):
            values = readout_cost(r["overlap" + key[len("readout"):]])
        elif key in r:
            values = np.asarray(r[key], np.float64)
        else:
            raise ValueError(f"unknown key {key!r}")
        out.setdefault(r["n"], []).append(float(np.median(values)))
    return {n: np.asarray(v) for n, v in out.items()}
