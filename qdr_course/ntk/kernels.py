"""The closed-form NTK of the erf network, stable at any depth, and kernel regression.

See lesson 06.

:func:`erf_ntk` equals neural-tangents' analytic kernel of
:func:`qdr_course.ntk.networks.fc_erf_network` but stays finite at any depth.
"""

from __future__ import annotations

import math

import numpy as np

from qdr_course.ntk.networks import MAX_STABLE_DEPTH, W_STD, _validate_depth


def erf_nngp_map(q11, q22, q12):
    """E[erf(u) erf(v)] = (2/pi) arcsin(2 q12 / sqrt((1 + 2 q11)(1 + 2 q22))). See lesson 06."""
    return 2.0 / np.pi * np.arcsin(2.0 * q12 / np.sqrt((1.0 + 2.0 * q11) * (1.0 + 2.0 * q22)))


def erf_derivative_map(q11, q22, q12):
    """E[erf'(u) erf'(v)] = (4/pi) / sqrt((1 + 2 q11)(1 + 2 q22) - 4 q12^2). See lesson 06."""
    return 4.0 / np.pi / np.sqrt((1.0 + 2.0 * q11) * (1.0 + 2.0 * q22) - 4.0 * q12**2)


def erf_ntk(x1: np.ndarray, x2: np.ndarray | None = None, depth: int = 1, get: str = "ntk",
            w_std: float = W_STD) -> np.ndarray:
    """Closed-form NTK (or NNGP) of :func:`fc_erf_network`, stable at any depth. See lesson 06.

    Sigma_1 = w^2 x.x'/d, Theta_1 = Sigma_1, and for each of the ``depth`` [Erf, Dense] steps
    Sigma_{l+1} = w^2 E[erf(u) erf(v)], Theta_{l+1} = Sigma_{l+1} + w^2 E[erf'(u) erf'(v)] Theta_l.
    The variances of the inputs follow their own scalar recursion with correlation exactly 1, so
    the diagonal carries no rounding error that the depth could amplify (neural-tangents'
    direct computation loses it: error ~ 1.2257^depth).

    >>> x = np.eye(3)[:2]
    >>> k = erf_ntk(x, depth=3)
    >>> k.shape, bool(np.allclose(k, k.T))
    ((2, 2), True)
    """
    _validate_depth(depth, MAX_STABLE_DEPTH)
    if get not in ("ntk", "nngp"):
        raise ValueError(f"get must be 'ntk' or 'nngp', got {get!r}")
    x1 = np.asarray(x1, dtype=np.float64)
    same = x2 is None
    x2 = x1 if same else np.asarray(x2, dtype=np.float64)
    if x1.ndim != 2 or x2.ndim != 2 or x1.shape[1] != x2.shape[1]:
        raise ValueError(f"x1 and x2 must be 2-D with the same number of features, got {x1.shape} "
                         f"and {x2.shape}")
    w2 = float(w_std) ** 2
    d = x1.shape[1]
    q1 = w2 * np.einsum("ij,ij->i", x1, x1) / d  # variances of the pre-activations of x1
    q2 = q1 if same else w2 * np.einsum("ij,ij->i", x2, x2) / d
    if np.allclose(q1, q1[0], rtol=1e-13, atol=0) and np.allclose(q2, q1[0], rtol=1e-13, atol=0):
        theta, cov = _erf_ntk_equal_norms(x1, None if same else x2, depth, float(q1[0]), w2)
    else:
        theta, cov = _erf_ntk_general(x1, x2, same, depth, q1, q2, w2)
    out = theta if get == "ntk" else cov
    if not np.all(np.isfinite(out)):
        raise FloatingPointError(f"the NTK overflowed float64 at depth {depth}; use a smaller "
                                 "depth")
    return out


def _erf_ntk_general(x1, x2, same, depth, q1, q2, w2):
    """The recursion of :func:`erf_ntk` for inputs of any norms (per-point variances)."""
    d = x1.shape[1]
    cov = w2 * (x1 @ x2.T) / d
    if same:
        np.fill_diagonal(cov, q1)
    theta = cov.copy()
    theta1, theta2 = q1.copy(), q2.copy()  # the NTK's diagonal, same recursion with correlation 1
    for _ in range(depth):
        a, b = q1[:, None], q2[None, :]
        dot_sigma = w2 * erf_derivative_map(a, b, cov)
        cov = w2 * erf_nngp_map(a, b, cov)
        theta = cov + dot_sigma * theta
        theta1 = w2 * erf_nngp_map(q1, q1, q1) + w2 * erf_derivative_map(q1, q1, q1) * theta1
        if not same:
            theta2 = w2 * erf_nngp_map(q2, q2, q2) + w2 * erf_derivative_map(q2, q2, q2) * theta2
        else:
            theta2 = theta1
        q1_new = w2 * erf_nngp_map(q1, q1, q1)
        q2 = q1_new if same else w2 * erf_nngp_map(q2, q2, q2)
        q1 = q1_new
        if same:  # identical inputs: correlation exactly 1, no rounding error to amplify
            np.fill_diagonal(cov, q1)
            np.fill_diagonal(theta, theta1)
    return theta, cov


def _erf_ntk_equal_norms(x1, x2, depth, q, w2):
    """The recursion of :func:`erf_ntk` when every input has the same norm (the paper's unit-norm
    images).

    One scalar variance q per layer; in-place updates; for a square kernel only the upper
    triangle is computed, and its diagonal follows the scalar recursion at correlation exactly 1.
    """
    d = x1.shape[1]
    if x2 is None:
        n = len(x1)
        rows, cols = np.triu_indices(n)
        cov = (w2 / d) * (x1 @ x1.T)[rows, cols]
        diag = np.flatnonzero(rows == cols)
        cov[diag] = q
    else:
        cov = ((w2 / d) * (x1 @ x2.T)).ravel()
        diag = None
    theta, tmp, dot = cov.copy(), np.empty_like(cov), np.empty_like(cov)
    theta_diag = q
    for _ in range(depth):
        p = 1.0 + 2.0 * q
        np.multiply(cov, cov, out=dot)  # dot = w2 (4/pi) / sqrt(p^2 - 4 cov^2)
        dot *= -4.0
        dot += p * p
        np.sqrt(dot, out=dot)
        np.divide(w2 * 4.0 / np.pi, dot, out=dot)
        np.multiply(cov, 2.0 / p, out=tmp)  # tmp = w2 (2/pi) arcsin(2 cov / p)
        np.arcsin(tmp, out=tmp)
        tmp *= w2 * 2.0 / np.pi
        theta *= dot
        theta += tmp
        cov, tmp = tmp, cov
        q_new = w2 * 2.0 / np.pi * math.asin(2.0 * q / p)
        theta_diag = q_new + w2 * 4.0 / np.pi / math.sqrt(p * p - 4.0 * q * q) * theta_diag
        q = q_new
        if diag is not None:
            cov[diag] = q
            theta[diag] = theta_diag
    if x2 is None:
        out_theta, out_cov = np.empty((n, n)), np.empty((n, n))
        for out, vals in ((out_theta, theta), (out_cov, cov)):
            out[rows, cols] = vals
            out[cols, rows] = vals
        return out_theta, out_cov
    shape = (len(x1), len(x2))
    return theta.reshape(shape), cov.reshape(shape)


def test_kernel_threshold(depth: int, dim: int, get: str = "ntk") -> float:
    """k_thresh = k(x0, x1) for unit vectors with x0 . x1 = 1 - 1e-5 (paper's normalisation).

    See lesson 07.
    """
    if dim < 2:
        raise ValueError(f"dim must be >= 2, got {dim}")
    c = 1.0 - 1e-5
    x = np.zeros((2, dim))
    x[0, 0] = 1.0
    x[1, 0], x[1, 1] = c, math.sqrt(1.0 - c * c)
    return float(erf_ntk(x[:1], x[1:], depth, get)[0, 0])


def normalised_test_kernel(k_test: np.ndarray, k_thresh: float) -> np.ndarray:
    """The paper's k_* / k_thresh, clipped to [-1, 1] (only near-duplicates of training images).

    See lesson 07.
    """
    if not k_thresh > 0:
        raise ValueError(f"k_thresh must be positive, got {k_thresh}")
    return np.clip(np.asarray(k_test, dtype=np.float64) / k_thresh, -1.0, 1.0)


def kernel_regression(kernel: np.ndarray, k_test: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Infinite-width, infinite-time prediction k_* K^-1 y (no regulariser). See lesson 07."""
    kernel = np.asarray(kernel, np.float64)
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1] or kernel.shape[0] != len(y):
        raise ValueError(f"kernel must be n x n with n = len(y) = {len(y)}, got {kernel.shape}")
    if np.shape(k_test)[-1] != len(y):
        raise ValueError(f"k_test must have n = {len(y)} columns (test x train), got "
                         f"{np.shape(k_test)}")
    return np.asarray(k_test, np.float64) @ np.linalg.solve(kernel, np.asarray(y, np.float64))


def diagonal_regression(kernel: np.ndarray, k_test: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Prediction with the diagonal NTK: k_* diag(K)^-1 y (= k_* y / K_ii for unit-norm inputs).

    See lesson 07.
    """
    return np.asarray(k_test, np.float64) @ (np.asarray(y, np.float64) / np.diag(kernel))


def classify(out: np.ndarray) -> np.ndarray:
    """sign(out - median(out)): the paper's labels for a balanced test set. See lesson 07."""
    out = np.asarray(out, dtype=np.float64)
    return np.where(out - np.median(out) > 0, 1.0, -1.0)
