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
