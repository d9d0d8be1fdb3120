"""Neural tangent kernels of wide, deep networks and their sparsified versions. See lessons 06-07.

This module re-does the numerical side of Zlokapa, Neven and Lloyd, *A quantum algorithm for
training wide and deep classical neural networks* (arXiv:2107.09200):

- data as in the paper (:func:`load_digit_pair`): two digit classes, labels +-1, n/2 examples
  per class, one global mean and standard deviation, every image scaled to unit L2 norm;
- the networks (:func:`fc_erf_network`, :func:`myrtle_cnn`) built with ``neural_tangents.stax``,
  with the exact constants :data:`ERF_SCALE` and :data:`MU` and the depth set from the
  convergence depth :func:`convergence_depth`;
- a closed-form, numerically stable NTK recursion for the fully connected erf network
  (:func:`erf_ntk`), equal to neural-tangents' analytic kernel but usable at any depth;
- the sparsified and the diagonal NTK (:func:`sparsity_pattern`), kernel-regression predictions
  and the metrics that decide whether a quantum linear-system algorithm is fast
  (:func:`trial_metrics`), and sweeps with bootstrap error bars (:func:`sweep`, :func:`summarise`).

The quantum linear-system solver itself is in :mod:`qdr_course.hhl`, the cost model in
:mod:`qdr_course.qlsa_cost`.

Float64 is used throughout; importing this module switches jax to 64-bit floats.
"""

from __future__ import annotations

import functools
import math
import os
import sys
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from qdr_course.utils import check_digit_pair

#: E[erf(z)^2] for z ~ N(0, 1), exactly (2/pi) arcsin(2/3) (the original estimated it by sampling).
ERF_SCALE: float = 2.0 / math.pi * math.asin(2.0 / 3.0)
#: Weight standard deviation that makes the erf network keep unit variance: sqrt(1 / ERF_SCALE).
W_STD: float = math.sqrt(1.0 / ERF_SCALE)
#: Coefficient of nonlinearity mu = 1 - E[z s(z)]^2 of the normalised erf s = erf / sqrt(ERF_SCALE).
MU: float = 1.0 - 4.0 / (3.0 * math.pi * ERF_SCALE)
#: Growth factor per layer of the NTK diagonal (and of rounding errors in it): W_STD^2 * 4/(pi sqrt 5).
DIAGONAL_GROWTH: float = W_STD**2 * 4.0 / (math.pi * math.sqrt(5.0))
#: Deepest fully connected erf network whose kernel neural-tangents computes reliably in float64.
MAX_DIRECT_DEPTH: int = 150
#: Deepest network for the closed-form recursion before the NTK diagonal overflows float64.
MAX_STABLE_DEPTH: int = int(math.log(np.finfo(np.float64).max / 1e3) / math.log(DIAGONAL_GROWTH))
#: Digit pairs of the paper: (8, 9) for the fully connected network, (1, 0) for the CNN.
PAPER_DIGITS_FC = (8, 9)
PAPER_DIGITS_CNN = (1, 0)


def import_neural_tangents():
    """Import neural_tangents with TensorFlow's C++ start-up log lines kept off stderr. See lesson 06.

    TensorFlow (imported by neural-tangents) writes "oneDNN ..." and "Could not find cuda
    drivers" lines straight to file descriptor 2 before Python can filter them; they would land
    in notebooks at random. Import errors still raise as usual.
    """
    if "neural_tangents" in sys.modules:
        return sys.modules["neural_tangents"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import neural_tangents
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return neural_tangents


def _enable_x64() -> None:
    """Switch jax to float64 (deep NTKs need it). See lesson 06."""
    import jax

    jax.config.update("jax_enable_x64", True)


_enable_x64()


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------
@dataclass
class DigitPair:
    """Training and test images of two digit classes, labels +1 / -1. See lesson 06."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    digits: tuple[int, int]
    source: str
    index_train: np.ndarray  # rows of the source data set, for tracing an image back
    index_test: np.ndarray

    @property
    def n(self) -> int:
        """Number of training examples."""
        return len(self.y_train)


def _load_images(source: str, data_home: str | None) -> tuple[np.ndarray, np.ndarray]:
    """All images (flattened, float64) and integer labels of a data source. See lesson 06."""
    if source == "digits":
        from sklearn.datasets import load_digits

        bunch = load_digits()
        return bunch.data.astype(np.float64), bunch.target.astype(int)
    if source == "mnist":
        from sklearn.datasets import fetch_openml

        try:
            x, y = fetch_openml("mnist_784", version=1, as_frame=False, return_X_y=True,
                                data_home=data_home, parser="liac-arff")
        except OSError as error:  # URLError, socket errors: no network and no cached copy
            raise ConnectionError(
                "could not download MNIST from OpenML and no cached copy was found "
                f"({error}). Connect to the internet once (the copy is then cached), or use "
                "source='digits' (scikit-learn's bundled 8x8 digits, works offline)."
            ) from error
        return np.asarray(x, dtype=np.float64), np.asarray(y).astype(int)
    raise ValueError(f"source must be 'digits' (offline, 8x8) or 'mnist' (28x28, online), got {source!r}")


def standardise_images(x_train: np.ndarray, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One global mean and std (from the training set), then unit L2 norm per image. See lesson 06."""
    x_train = np.asarray(x_train, dtype=np.float64)
    x_test = np.asarray(x_test, dtype=np.float64)
    mean, std = x_train.mean(), x_train.std()
    if std == 0:
        raise ValueError("the training images are all equal (std 0): cannot standardise them")
    out = []
    for x in (x_train, x_test):
        z = (x - mean) / std
        norms = np.linalg.norm(z, axis=1, keepdims=True)
        if np.any(norms == 0):
            raise ValueError("an image equals the mean image exactly and cannot be scaled to unit norm")
        out.append(z / norms)
    return out[0], out[1]


def load_digit_pair(n: int, digits: Sequence[int] = PAPER_DIGITS_FC, n_test: int | None = None,
                    seed: int = 0, source: str = "digits", data_home: str | None = None) -> DigitPair:
    """n training images (n/2 per digit, +1 for the first digit) and a balanced test set. See lesson 06.

    ``n_test`` defaults to the paper's 256 test images, or fewer (balanced) when a class of the
    8x8 digits has too few images left. Sampling without replacement, seeded by ``seed``.

    >>> data = load_digit_pair(16, digits=(8, 9), n_test=32, seed=0)
    >>> data.x_train.shape, data.y_train[:3], round(float(np.linalg.norm(data.x_test[0])), 6)
    ((16, 64), array([-1.,  1., -1.]), 1.0)
    """
    digits = check_digit_pair(digits)
    if not isinstance(n, (int, np.integer)) or n < 2 or n % 2:
        raise ValueError(f"n must be an even integer >= 2 (n/2 examples per class), got {n!r}")
    x_all, labels = _load_images(source, data_home)
    pools = [np.flatnonzero(labels == d) for d in digits]
    available = min(len(p) for p in pools)
    if n // 2 > available - 1:
        raise ValueError(
            f"n = {n} needs {n // 2} training images per class (and at least one test image), but "
            f"the {source!r} data have only {available} images of the rarer digit of {digits}. "
            f"Use n <= {2 * (available - 1)}" + (" or source='mnist' when online." if source == "digits" else ".")
        )
    if n_test is None:
        n_test = min(256, 2 * (available - n // 2))
    if not isinstance(n_test, (int, np.integer)) or n_test < 2 or n_test % 2:
        raise ValueError(f"n_test must be an even integer >= 2 (balanced test set), got {n_test!r}")
    if n // 2 + n_test // 2 > available:
        raise ValueError(
            f"n = {n} and n_test = {n_test} need {n // 2 + n_test // 2} images per class, but only "
            f"{available} exist for the rarer digit of {digits}; lower n_test to <= {2 * (available - n // 2)}."
        )
    rng = np.random.default_rng(seed)
    train_idx, test_idx = [], []
    for pool in pools:
        chosen = rng.permutation(pool)
        train_idx.append(chosen[: n // 2])
        test_idx.append(chosen[n // 2: n // 2 + n_test // 2])
    y_train = np.repeat([1.0, -1.0], n // 2)
    y_test = np.repeat([1.0, -1.0], n_test // 2)
    order = rng.permutation(n)  # mix the classes so that the first examples are not all +1
    train_idx, test_idx = np.concatenate(train_idx)[order], np.concatenate(test_idx)
    x_train, x_test = standardise_images(x_all[train_idx], x_all[test_idx])
    return DigitPair(x_train, y_train[order], x_test, y_test, digits, source,
                     train_idx, test_idx)


# --------------------------------------------------------------------------------------------
# Depth
# --------------------------------------------------------------------------------------------
def min_margin(x: np.ndarray) -> float:
    """delta = min over i != j of 1 - |x_i . x_j| for unit-norm rows x_i. See lesson 06."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"x must be a 2-D array with at least two rows, got shape {x.shape}")
    gram = np.abs(x @ x.T)
    np.fill_diagonal(gram, -np.inf)
    delta = 1.0 - float(gram.max())
    if delta <= 0:
        raise ValueError("two training images are identical (or opposite): delta = 0, remove duplicates")
    return delta


def convergence_depth(n: int, delta: float) -> float:
    """L_conv = 8 ln(n / delta) / mu, the depth at which the NTK is nearly diagonal. See lesson 06."""
    if n < 2 or not 0 < delta <= 1:
        raise ValueError(f"need n >= 2 and 0 < delta <= 1, got n={n}, delta={delta}")
    return 8.0 * math.log(n / delta) / MU


def depth_for(x_train: np.ndarray, depth_factor: float = 0.1) -> int:
    """Depth round(depth_factor * L_conv) (the paper: 0.1), at least 1. See lesson 06."""
    if not depth_factor > 0:
        raise ValueError(f"depth_factor must be positive (the paper uses 0.1), got {depth_factor!r}")
    l_conv = convergence_depth(len(x_train), min_margin(x_train))
    return max(1, int(round(depth_factor * l_conv)))


# --------------------------------------------------------------------------------------------
# Networks (neural-tangents stax)
# --------------------------------------------------------------------------------------------
def fc_erf_network(depth: int, width: int = 512):
    """depth x [Dense(W_std = sqrt(1/erf_scale)), Erf], Dense(1): stax (init, apply, kernel). See lesson 06.

    Past :data:`MAX_DIRECT_DEPTH` layers the returned ``kernel_fn`` raises a ``ValueError`` that
    points to :func:`erf_ntk` instead of returning neural-tangents' wrong (eventually nan) kernel.
    """
    stax = import_neural_tangents().stax

    _check_depth(depth, limit=None)
    if not isinstance(width, (int, np.integer)) or width < 1:
        raise ValueError(f"width must be a positive integer, got {width!r}")
    layers = []
    for _ in range(depth):
        layers += [stax.Dense(width, W_std=W_STD, b_std=None), stax.Erf()]
    layers.append(stax.Dense(1, W_std=W_STD, b_std=None))
    init_fn, apply_fn, kernel_fn = stax.serial(*layers)
    if depth <= MAX_DIRECT_DEPTH:
        return init_fn, apply_fn, kernel_fn

    def refusing_kernel_fn(*args, **kwargs):
        """neural-tangents' kernel would be wrong (nan) at this depth: say so."""
        _check_depth(depth, MAX_DIRECT_DEPTH)

    return init_fn, apply_fn, refusing_kernel_fn


def myrtle_cnn(conv_per_block: int = 1, channels: int = 64, n_pools: int = 3):
    """Myrtle-like CNN of the paper: [Conv3x3, Relu] x k, AvgPool(2) blocks, Dense, Erf, Dense. See lesson 06.

    The paper uses 32 convolutions per block and four pools at 28x28 (depth 96, about 80
    CPU-hours); on 8x8 images three pools reach 1x1. Inputs are NHWC arrays.
    """
    stax = import_neural_tangents().stax

    for name, value in (("conv_per_block", conv_per_block), ("channels", channels), ("n_pools", n_pools)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    conv = [stax.Conv(channels, (3, 3), W_std=math.sqrt(2.0), b_std=None, padding="SAME"), stax.Relu()]
    layers = []
    for _ in range(n_pools):
        layers += conv * conv_per_block + [stax.AvgPool((2, 2), strides=(2, 2))]
    layers += [stax.Flatten(), stax.Dense(channels, W_std=math.sqrt(2.0), b_std=None), stax.Erf(),
               stax.Dense(1, W_std=math.sqrt(2.0), b_std=None)]
    return stax.serial(*layers)


def _check_depth(depth, limit: int | None) -> None:
    """Validate a depth; with a limit, refuse depths whose kernel would overflow. See lesson 06."""
    if not isinstance(depth, (int, np.integer)) or depth < 1:
        raise ValueError(f"depth must be a positive integer, got {depth!r}")
    if limit is not None and depth > limit:
        raise ValueError(
            f"depth {depth} is too deep for neural-tangents' direct kernel computation in float64: "
            f"rounding errors in the NTK diagonal grow like {DIAGONAL_GROWTH:.4f}^depth (5 % wrong near "
            f"160 layers, inf/nan near 200-320). Use the stable closed-form recursion "
            f"qdr_course.ntk.erf_ntk(x1, x2, depth) instead (stable up to depth {MAX_STABLE_DEPTH})."
        )


@functools.lru_cache(maxsize=1)
def _nt_layers():
    """neural-tangents kernel functions of the first Dense layer and of one jitted [Erf, Dense] block."""
    import jax

    stax = import_neural_tangents().stax
    _, _, first = stax.Dense(1, W_std=W_STD, b_std=None)
    _, _, block = stax.serial(stax.Erf(), stax.Dense(1, W_std=W_STD, b_std=None))
    return first, jax.jit(block)


def nt_erf_ntk_by_depth(x1: np.ndarray, x2: np.ndarray | None, depths: Iterable[int],
                        get: str = "ntk") -> dict[int, np.ndarray]:
    """neural-tangents' analytic kernels of :func:`fc_erf_network` at several depths, in one pass. See lesson 06.

    The first Dense layer's kernel is pushed through one jitted [Erf, Dense] block ``depth``
    times: the same layer rules as ``fc_erf_network(depth)[2]``, compiled once. Depths above
    :data:`MAX_DIRECT_DEPTH` are refused (their float64 rounding error has blown up).
    """
    depths = sorted(set(int(d) for d in depths))
    if not depths:
        raise ValueError("depths is empty")
    for depth in depths:
        _check_depth(depth, MAX_DIRECT_DEPTH)
    if get not in ("ntk", "nngp"):
        raise ValueError(f"get must be 'ntk' or 'nngp', got {get!r}")
    first, block = _nt_layers()
    kernel = first(np.asarray(x1, np.float64), None if x2 is None else np.asarray(x2, np.float64))
    out = {}
    for layer in range(1, depths[-1] + 1):
        kernel = block(kernel)
        if layer in depths:
            out[layer] = np.asarray(getattr(kernel, get))
    return out


def nt_erf_ntk(x1: np.ndarray, x2: np.ndarray | None, depth: int, get: str = "ntk") -> np.ndarray:
    """neural-tangents' analytic kernel of :func:`fc_erf_network` (refuses overflowing depths). See lesson 06."""
    _check_depth(depth, MAX_DIRECT_DEPTH)
    return nt_erf_ntk_by_depth(x1, x2, [depth], get)[depth]


# --------------------------------------------------------------------------------------------
# Closed-form NTK recursion of the fully connected erf network
# --------------------------------------------------------------------------------------------
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
    _check_depth(depth, MAX_STABLE_DEPTH)
    if get not in ("ntk", "nngp"):
        raise ValueError(f"get must be 'ntk' or 'nngp', got {get!r}")
    x1 = np.asarray(x1, dtype=np.float64)
    same = x2 is None
    x2 = x1 if same else np.asarray(x2, dtype=np.float64)
    if x1.ndim != 2 or x2.ndim != 2 or x1.shape[1] != x2.shape[1]:
        raise ValueError(f"x1 and x2 must be 2-D with the same number of features, got {x1.shape} and {x2.shape}")
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
        raise FloatingPointError(f"the NTK overflowed float64 at depth {depth}; use a smaller depth")
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
        theta2 = theta1 if same else w2 * erf_nngp_map(q2, q2, q2) + w2 * erf_derivative_map(q2, q2, q2) * theta2
        q1_new = w2 * erf_nngp_map(q1, q1, q1)
        q2 = q1_new if same else w2 * erf_nngp_map(q2, q2, q2)
        q1 = q1_new
        if same:  # identical inputs: correlation exactly 1, no rounding error to amplify
            np.fill_diagonal(cov, q1)
            np.fill_diagonal(theta, theta1)
    return theta, cov


def _erf_ntk_equal_norms(x1, x2, depth, q, w2):
    """The recursion of :func:`erf_ntk` when every input has the same norm (the paper's unit-norm images).

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
    """k_thresh = k(x0, x1) for unit vectors with x0 . x1 = 1 - 1e-5 (paper's normalisation). See lesson 07."""
    if dim < 2:
        raise ValueError(f"dim must be >= 2, got {dim}")
    c = 1.0 - 1e-5
    x = np.zeros((2, dim))
    x[0, 0] = 1.0
    x[1, 0], x[1, 1] = c, math.sqrt(1.0 - c * c)
    return float(erf_ntk(x[:1], x[1:], depth, get)[0, 0])


def normalised_test_kernel(k_test: np.ndarray, k_thresh: float) -> np.ndarray:
    """The paper's k_* / k_thresh, clipped to [-1, 1] (only near-duplicates of training images). See lesson 07."""
    if not k_thresh > 0:
        raise ValueError(f"k_thresh must be positive, got {k_thresh}")
    return np.clip(np.asarray(k_test, dtype=np.float64) / k_thresh, -1.0, 1.0)


# --------------------------------------------------------------------------------------------
# Sparsified and diagonal NTK
# --------------------------------------------------------------------------------------------
def sparsity_probability(n: int) -> float:
    """p = min(2 ln n / n, 1): each row keeps about 2 ln n random columns. See lesson 07."""
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    return min(2.0 * math.log(n) / n, 1.0)


def sparsity_pattern(y: np.ndarray, rng: np.random.Generator | int = 0) -> np.ndarray:
    """The original's random pattern F: Binomial(n, p) columns per row, symmetrised, same-class only, diagonal kept. See lesson 07.

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
        raise ValueError(f"kernel and pattern must be square with the same shape, got {kernel.shape}, {pattern.shape}")
    return np.where(pattern, kernel, 0.0)


def kernel_regression(kernel: np.ndarray, k_test: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Infinite-width, infinite-time prediction k_* K^-1 y (no regulariser). See lesson 06."""
    kernel = np.asarray(kernel, np.float64)
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1] or kernel.shape[0] != len(y):
        raise ValueError(f"kernel must be n x n with n = len(y) = {len(y)}, got {kernel.shape}")
    if np.shape(k_test)[-1] != len(y):
        raise ValueError(f"k_test must have n = {len(y)} columns (test x train), got {np.shape(k_test)}")
    return np.asarray(k_test, np.float64) @ np.linalg.solve(kernel, np.asarray(y, np.float64))


def diagonal_regression(kernel: np.ndarray, k_test: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Prediction with the diagonal NTK: k_* diag(K)^-1 y (= k_* y / K_ii for unit-norm inputs). See lesson 07."""
    return np.asarray(k_test, np.float64) @ (np.asarray(y, np.float64) / np.diag(kernel))


def classify(out: np.ndarray) -> np.ndarray:
    """sign(out - median(out)): the paper's labels for a balanced test set. See lesson 07."""
    out = np.asarray(out, dtype=np.float64)
    return np.where(out - np.median(out) > 0, 1.0, -1.0)


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


def state_preparation_measurements(k_test: np.ndarray) -> np.ndarray:
    """N / P per test row, k = row / max|row|, P = sum k_i^2: cost of preparing |k_*>. See lesson 07."""
    k = np.atleast_2d(np.asarray(k_test, np.float64))
    k = k / np.abs(k).max(axis=1, keepdims=True)
    return k.shape[1] / np.sum(k**2, axis=1)


def readout_overlap(k_test: np.ndarray, y: np.ndarray, kernel: np.ndarray | None = None) -> np.ndarray:
    """o = <k_*|y> (diagonal NTK) or <k_*|K^-1 y / ||K^-1 y||> per test row, with |y> = y / sqrt(n). See lesson 07."""
    k = np.atleast_2d(np.asarray(k_test, np.float64))
    v = np.asarray(y, np.float64) if kernel is None else np.linalg.solve(kernel, np.asarray(y, np.float64))
    v = v / np.linalg.norm(v)
    return (k @ v) / np.linalg.norm(k, axis=1)


def readout_measurements(overlap: np.ndarray) -> np.ndarray:
    """1 / o^2 - 1: expected failed measurements before reading the sign out. See lesson 07."""
    overlap = np.asarray(overlap, np.float64)
    return 1.0 / overlap**2 - 1.0


# --------------------------------------------------------------------------------------------
# One trial and sweeps
# --------------------------------------------------------------------------------------------
METRICS = ("depth", "acc_exact", "acc_sparse", "acc_diag", "s_row", "s_col_max", "kappa_sparse",
           "kappa_exact", "state_prep", "readout_diag", "readout_sparse", "off_diagonal_ratio")


def trial_metrics(n: int, depth_factor: float = 0.1, seed: int = 0, digits: Sequence[int] = PAPER_DIGITS_FC,
                  n_test: int | None = None, source: str = "digits", data: DigitPair | None = None) -> dict:
    """Train by exact, sparsified and diagonal NTK and measure the QLSA metrics (one trial). See lesson 07.

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
        readout_diag=float(np.median(readout_measurements(readout_overlap(k_test, data.y_train)))),
        readout_sparse=float(np.median(readout_measurements(readout_overlap(k_test, data.y_train, k_sparse)))),
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
        raise ValueError(f"trials must be a positive count or one positive count per n, got {trials!r}")
    jobs = [(n, t) for n, c in zip(n_values, counts) for t in range(c)]
    if progress:
        from qdr_course.progress import progress_bar

        tqdm = progress_bar()

        jobs = tqdm(jobs, desc="NTK sweep")
    return [trial_metrics(n, depth_factor, seed=t, digits=digits, n_test=n_test, source=source)
            for n, t in jobs]


def bootstrap_interval(values: Sequence[float], seed: int = 0, confidence: float = 0.68,
                       n_resamples: int = 2000) -> tuple[float, float, float]:
    """Median and percentile-bootstrap interval of the median (scipy.stats.bootstrap). See lesson 07."""
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
    """Rows (group value, median, low, high, trials) of one metric grouped by ``by``. See lesson 07."""
    if not records:
        raise ValueError("records is empty")
    if metric not in records[0]:
        raise ValueError(f"unknown metric {metric!r}; choose from {sorted(records[0])}")
    groups: dict = {}
    for record in records:
        groups.setdefault(record[by], []).append(record[metric])
    return [(key, *bootstrap_interval(vals), len(vals)) for key, vals in groups.items()]
