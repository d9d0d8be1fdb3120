"""The sparsified NTK of the original code, and the sparsity and condition number a QLSA needs.

See lesson 07.
"""

from __future__ import annotations

import math

import numpy as np


def sparsity_probability(n: int) -> float:
    """p = min(2 ln n / n, 1): each row keeps about 2 ln n random columns."""
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    return min(2.0 * math.log(n) / n, 1.0)


def sparsity_pattern(y: np.ndarray, rng: np.random.Generator | int = 0) -> np.ndarray:
    """The original's random pattern F: Binomial(n, p) columns per row, symmetrised, same-class
    only, diagonal kept. See lesson 07.

    Row i draws c_i ~ Binomial(n, p) distinct random columns; F is symmetrised as
    tril(F) + tril(F, -1).T; entries between different classes are removed; F_ii = 1.
    """
    y = np.asarray(y)
    if y.ndim != 1 or len(y) < 2:
        raise ValueError(f"y must be a 1-D array of at least two labels, got shape {y.shape}")
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    n = len(y)
    p = sparsity_probability(n)
    f = np.zeros((n, n), dtype=bool)
    for i, c in enumerate(rng.binomial(n, p, size=n)):
        f[i, rng.choice(n, size=c, replace=False)] = True
    f = np.tril(f) | np.tril(f, -1).T
    f &= y[:, None] == y[None, :]
    np.fill_diagonal(f, True)
    return f


def sparsify(kernel: np.ndarray, pattern: np.ndarray) -> np.ndarray:
    """The sparsified NTK K ⊙ F. See lesson 07."""
    kernel, pattern = np.asarray(kernel), np.asarray(pattern)
    if kernel.shape != pattern.shape or kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1]:
        raise ValueError("kernel and pattern must be square with the same shape, got "
                         f"{kernel.shape}, {pattern.shape}")
    return np.where(pattern, kernel, 0.0)


def condition_number(kernel: np.ndarray) -> float:
    """kappa = max|lambda| / min|lambda| of a symmetric matrix. See lesson 07."""
    kernel = np.asarray(kernel, dtype=np.float64)
    if not np.allclose(kernel, kernel.T):
        raise ValueError("condition_number expects a symmetric matrix (a kernel)")
    lam = np.abs(np.linalg.eigvalsh(kernel))
    return float(lam.max() / lam.min()) if lam.min() > 0 else math.inf


def nonzeros_per_row(matrix: np.ndarray) -> np.ndarray:
    """Number of nonzero entries in each row (the sparsity s of a QLSA). See lesson 07."""
    return np.count_nonzero(np.asarray(matrix), axis=1)
