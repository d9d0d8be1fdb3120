"""A classical sampling estimator of the diagonal NTK's readout (dequantisation). See lesson 08.

With the same access a QRAM gives a quantum computer - sample an index i with probability
k_i^2 / ||k||^2, know ||k||, query any y_i - the overlap o = <k|y> of unit vectors along k and y
has the unbiased estimator (||k|| / ||y||) y_i / k_i, whose variance is 1 - o^2 whatever n is.
So the sign of o needs about 1/o^2 samples, like the quantum readout (Tang 2019 made this kind of
argument for recommendation systems).
"""

from __future__ import annotations

import numpy as np


def _sample_estimates(k: np.ndarray, y: np.ndarray, samples: int,
                      rng: np.random.Generator) -> np.ndarray:
    """``samples`` single-draw estimates (||k|| / ||y||) y_i / k_i, i ~ k_i^2 / ||k||^2."""
    k, y = np.asarray(k, np.float64).ravel(), np.asarray(y, np.float64).ravel()
    if k.shape != y.shape or not np.any(k) or not np.any(y):
        raise ValueError(f"k and y must be nonzero vectors of the same length, got {k.shape} and "
                         f"{y.shape}")
    if not isinstance(samples, (int, np.integer)) or samples < 1:
        raise ValueError(f"samples must be a positive integer, got {samples!r}")
    weight = k**2 / np.sum(k**2)
    idx = rng.choice(len(k), size=samples, p=weight)
    return np.linalg.norm(k) / np.linalg.norm(y) * y[idx] / k[idx]


def sample_overlap(k: np.ndarray, y: np.ndarray, samples: int,
                   rng: np.random.Generator | int = 0) -> float:
    """Estimate o = <k|y> / (||k|| ||y||) from ``samples`` length-squared samples of k.

    See lesson 08.

    >>> k, y = np.array([3.0, 1.0, -1.0, 1.0]), np.array([1.0, 1.0, -1.0, -1.0])
    >>> round(sample_overlap(k, y, 200000, rng=0), 2), round(float(k @ y / 2 / np.sqrt(12)), 2)
    (0.58, 0.58)
    """
    rng = np.random.default_rng(rng)
    return float(np.mean(_sample_estimates(k, y, samples, rng)))


def sign_error_rate(k: np.ndarray, y: np.ndarray, samples: int, repeats: int = 400,
                    rng: np.random.Generator | int = 0) -> float:
    """Fraction of ``repeats`` runs of :func:`sample_overlap` whose sign is wrong. See lesson 08."""
    rng = np.random.default_rng(rng)
    if not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise ValueError(f"repeats must be a positive integer, got {repeats!r}")
    truth = np.sign(np.dot(k, y))
    if truth == 0:
        raise ValueError("k and y are orthogonal: the overlap has no sign to read out")
    means = _sample_estimates(k, y, samples * repeats, rng).reshape(repeats, samples).mean(axis=1)
    return float(np.mean(np.where(means >= 0, 1.0, -1.0) != truth))


def rejection_sample(k: np.ndarray, draws: int, rng: np.random.Generator | int = 0
                     ) -> tuple[np.ndarray, int]:
    """``draws`` indices i ~ k_i^2 / ||k||^2 by rejection sampling, and the proposals it took.

    See lesson 08. Propose i uniformly, accept with probability k_i^2 (needs |k_i| <= 1): each
    draw takes N / P proposals on average, P = sum_i k_i^2 - the oracle both sides share in the
    cost comparison, and what the quantum rejection sampler of |k_*> pays per success.
    """
    rng = np.random.default_rng(rng)
    k = np.asarray(k, np.float64).ravel()
    if not np.all(np.isfinite(k)) or not np.any(k) or np.abs(k).max() > 1:
        raise ValueError("k must be a finite, nonzero vector with |k_i| <= 1 (scale it by a known "
                         "bound first, e.g. its maximum |k_i|)")
    if not isinstance(draws, (int, np.integer)) or draws < 1:
        raise ValueError(f"draws must be a positive integer, got {draws!r}")
    accepted: list[np.ndarray] = []
    proposals = 0
    batch = max(16, int(2 * draws * len(k) / np.sum(k**2)))
    while sum(len(a) for a in accepted) < draws:
        idx = rng.integers(len(k), size=batch)
        keep = rng.random(batch) < k[idx] ** 2
        need = draws - sum(len(a) for a in accepted)
        hits = np.flatnonzero(keep)
        if len(hits) >= need:  # stop at the proposal that gave the last draw
            proposals += int(hits[need - 1]) + 1
            accepted.append(idx[hits[:need]])
            break
        proposals += batch
        accepted.append(idx[hits])
    return np.concatenate(accepted), proposals
