"""The sparsified NTK of the original code, and the sparsity and condition number a QLSA needs.

See lesson 07.
"""

from __future__ import annotations

import math

import numpy as np


def sparsity_probability(n: int) -> float:
    """p = min(2 ln n / n, 1): each row draws about 2 ln n random columns (half survive the class
    mask and the symmetrisation: about ln n off-diagonals per row).
    """
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    return min(2.0 * math.log(n) / n, 1.0)


def sparsity_pattern(y: np.ndarray, rng: np.random.Generator | int = 0) -> np.ndarray:
    """The original's random pattern F: Binomial(n, p) columns per row, symmetrised, same-class
    only, diagonal kept. See lesson 07.

    Row i draws c_i ~ Binomial(n, p) random columns *with replacement*, as the original's
    ``np.random.choice(n, c)`` does (a repeated column is kept once); F is symmetrised as
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
        f[i, rng.choice(n, size=c)] = True
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
    """Number of nonzero entries in each row; a QLSA's s is the maximum. See lesson 07."""
    return np.count_nonzero(np.asarray(matrix), axis=1)


def sparsity(matrix: np.ndarray) -> int:
    """s = the maximum nonzeros in a column (the original's ``get_sparsity``). See lesson 07.

    QLSA costs depend on the largest row or column (equal for a symmetric matrix), not the mean.
    """
    return int(nonzeros_per_row(np.asarray(matrix).T).max())


def cnn_class_thresholds(kernel: np.ndarray, labels: np.ndarray,
                         percentile: float = 90.0) -> dict[float, float]:
    """The original's truncation thresholds: one percentile of |K| per class. See lesson 07.

    As the original's ``compute_class_percentiles`` (on the n = 16 kernel): for each class c,
    the ``percentile`` of |K ⊙ M_c| over the WHOLE matrix, where M_c marks the off-diagonal
    pairs of class c, zeros of the other entries included (so 90 keeps about the top 60 % of a
    class's off-diagonal entries of a balanced kernel).
    """
    kernel, labels = np.asarray(kernel, np.float64), np.asarray(labels)
    if not 0 <= percentile <= 100:
        raise ValueError(f"percentile must be between 0 and 100, got {percentile}")
    off = ~np.eye(len(kernel), dtype=bool)
    return {float(c): float(np.percentile(np.abs(kernel * ((labels[:, None] == c)
                                                         & (labels[None, :] == c) & off)),
                                          percentile))
            for c in np.unique(labels)}


def cnn_sparsify(kernel: np.ndarray, pattern: np.ndarray, labels: np.ndarray,
                 thresholds: dict[float, float], ridge_factor: float | None = None) -> np.ndarray:
    """The original's CNN sparsification (``sparsify_biased``): K ⊙ F, plus f diag(K).

    See lesson 07.

    F keeps an entry of the random ``pattern`` only if it is within one class c and
    K_ij > thresholds[c] (signed, as the original's ``m > t0``), and always the diagonal; then
    f * diag(K) is added with f = 0.76 (ln n)^0.9 (:func:`cnn_ridge_factor`): in effect a ridge
    regulariser.
    """
    kernel, labels = np.asarray(kernel, np.float64), np.asarray(labels)
    keep = np.zeros(kernel.shape, dtype=bool)
    for c, t in thresholds.items():
        keep |= (labels[:, None] == c) & (labels[None, :] == c) & (kernel > t)
    keep &= np.asarray(pattern, dtype=bool)
    np.fill_diagonal(keep, True)
    f = cnn_ridge_factor(len(kernel)) if ridge_factor is None else float(ridge_factor)
    return kernel * keep + f * np.diag(np.diag(kernel))


def cnn_ridge_factor(n: int) -> float:
    """f = 0.76 (ln n)^0.9, the original's diagonal boost for the CNN's sparsified NTK."""
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    return 0.76 * math.log(n) ** 0.9
