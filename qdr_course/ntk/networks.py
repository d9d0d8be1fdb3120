"""Wide erf networks built with neural-tangents' stax, their exact constants and depth.

See lesson 06.

Float64 is used throughout; importing this module switches jax to 64-bit floats.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable

import numpy as np

from qdr_course.ntk._neural_tangents import import_neural_tangents
from qdr_course.validate import positive_int

#: E[erf(z)^2] for z ~ N(0, 1), exactly (2/pi) arcsin(2/3) (the original estimated it by sampling).
ERF_SCALE: float = 2.0 / math.pi * math.asin(2.0 / 3.0)
#: Weight standard deviation that makes the erf network keep unit variance: sqrt(1 / ERF_SCALE).
W_STD: float = math.sqrt(1.0 / ERF_SCALE)
#: Coefficient of nonlinearity mu = 1 - E[z s(z)]^2 of the normalised erf s = erf / sqrt(ERF_SCALE).
MU: float = 1.0 - 4.0 / (3.0 * math.pi * ERF_SCALE)
#: Growth factor per layer of the NTK diagonal (and of its rounding errors): W_STD^2 4/(pi sqrt 5).
DIAGONAL_GROWTH: float = W_STD**2 * 4.0 / (math.pi * math.sqrt(5.0))
#: Deepest fully connected erf network whose kernel neural-tangents computes reliably in float64.
MAX_DIRECT_DEPTH: int = 150
#: Deepest network for the closed-form recursion before the NTK diagonal overflows float64.
MAX_STABLE_DEPTH: int = int(math.log(np.finfo(np.float64).max / 1e3) / math.log(DIAGONAL_GROWTH))


def _enable_x64() -> None:
    """Switch jax to float64 (deep NTKs need it)."""
    import jax

    jax.config.update("jax_enable_x64", True)


_enable_x64()


def min_margin(x: np.ndarray) -> float:
    """delta = min over i != j of 1 - |x_i . x_j| for unit-norm rows x_i. See lesson 06."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"x must be a 2-D array with at least two rows, got shape {x.shape}")
    gram = np.abs(x @ x.T)
    np.fill_diagonal(gram, -np.inf)
    delta = 1.0 - float(gram.max())
    if delta <= 0:
        raise ValueError("two training images are identical (or opposite): delta = 0, remove "
                         "duplicates")
    return delta


def convergence_depth(n: int, delta: float) -> float:
    """L_conv = 8 ln(n / delta) / mu, the depth at which the NTK is nearly diagonal.

    See lesson 06.
    """
    if n < 2 or not 0 < delta <= 1:
        raise ValueError(f"need n >= 2 and 0 < delta <= 1, got n={n}, delta={delta}")
    return 8.0 * math.log(n / delta) / MU


def depth_for(x_train: np.ndarray, depth_factor: float = 0.1) -> int:
    """Depth round(depth_factor * L_conv) (the paper: 0.1), at least 1. See lesson 06."""
    if not depth_factor > 0:
        raise ValueError("depth_factor must be positive (the paper uses 0.1), got "
                         f"{depth_factor!r}")
    l_conv = convergence_depth(len(x_train), min_margin(x_train))
    return max(1, int(round(depth_factor * l_conv)))


def fc_erf_network(depth: int, width: int = 512):
    """depth x [Dense(W_std = sqrt(1/erf_scale)), Erf], Dense(1): stax (init, apply, kernel).

    See lesson 06.

    Past :data:`MAX_DIRECT_DEPTH` layers the returned ``kernel_fn`` raises a ``ValueError`` that
    points to :func:`erf_ntk` instead of returning neural-tangents' wrong (eventually nan) kernel.
    """
    stax = import_neural_tangents().stax

    _validate_depth(depth, limit=None)
    positive_int("width", width)
    layers = []
    for _ in range(depth):
        layers += [stax.Dense(width, W_std=W_STD, b_std=None), stax.Erf()]
    layers.append(stax.Dense(1, W_std=W_STD, b_std=None))
    init_fn, apply_fn, kernel_fn = stax.serial(*layers)
    if depth <= MAX_DIRECT_DEPTH:
        return init_fn, apply_fn, kernel_fn

    def refusing_kernel_fn(*args, **kwargs):
        """neural-tangents' kernel would be wrong (nan) at this depth: say so."""
        _validate_depth(depth, MAX_DIRECT_DEPTH)

    return init_fn, apply_fn, refusing_kernel_fn


def myrtle_cnn(conv_per_block: int = 1, channels: int = 64, n_pools: int = 3):
    """Myrtle-like CNN of the paper: [Conv3x3, Relu] x k, AvgPool(2) blocks, Dense, Erf, Dense.

    The paper uses 32 convolutions per block and four pools at 28x28 (depth 96, about 80
    CPU-hours); on 8x8 images three pools reach 1x1. Inputs are NHWC arrays.
    """
    stax = import_neural_tangents().stax

    for name, value in (("conv_per_block", conv_per_block), ("channels", channels),
                        ("n_pools", n_pools)):
        positive_int(name, value)
    conv = [stax.Conv(channels, (3, 3), W_std=math.sqrt(2.0), b_std=None, padding="SAME"),
            stax.Relu()]
    layers = []
    for _ in range(n_pools):
        layers += conv * conv_per_block + [stax.AvgPool((2, 2), strides=(2, 2))]
    layers += [stax.Flatten(), stax.Dense(channels, W_std=math.sqrt(2.0), b_std=None), stax.Erf(),
               stax.Dense(1, W_std=math.sqrt(2.0), b_std=None)]
    return stax.serial(*layers)


def _validate_depth(depth, limit: int | None) -> None:
    """Validate a depth; with a limit, refuse depths whose kernel would overflow."""
    positive_int("depth", depth)
    if limit is not None and depth > limit:
        raise ValueError(
            f"depth {depth} is too deep for neural-tangents' direct kernel computation in float64: "
            f"rounding errors in the NTK diagonal grow like {DIAGONAL_GROWTH:.4f}^depth (5 % wrong "
            f"near 160 layers, inf/nan near 200-320). Use the stable closed-form recursion "
            "qdr_course.ntk.erf_ntk(x1, x2, depth) instead (stable up to depth "
            f"{MAX_STABLE_DEPTH})."
        )


@functools.lru_cache(maxsize=1)
def _nt_layers():
    """neural-tangents kernel functions of the first Dense layer and of one jitted [Erf, Dense]
    block.
    """
    import jax

    stax = import_neural_tangents().stax
    _, _, first = stax.Dense(1, W_std=W_STD, b_std=None)
    _, _, block = stax.serial(stax.Erf(), stax.Dense(1, W_std=W_STD, b_std=None))
    return first, jax.jit(block)


def nt_erf_ntk_by_depth(x1: np.ndarray, x2: np.ndarray | None, depths: Iterable[int],
                        get: str = "ntk") -> dict[int, np.ndarray]:
    """neural-tangents' analytic kernels of :func:`fc_erf_network` at several depths, in one pass.

    See lesson 06.

    The first Dense layer's kernel is pushed through one jitted [Erf, Dense] block ``depth``
    times: the same layer rules as ``fc_erf_network(depth)[2]``, compiled once. Depths above
    :data:`MAX_DIRECT_DEPTH` are refused (their float64 rounding error has blown up).
    """
    depths = sorted(set(int(d) for d in depths))
    if not depths:
        raise ValueError("depths is empty")
    for depth in depths:
        _validate_depth(depth, MAX_DIRECT_DEPTH)
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
    """neural-tangents' analytic kernel of :func:`fc_erf_network` (refuses overflowing depths).

    See lesson 06.
    """
    _validate_depth(depth, MAX_DIRECT_DEPTH)
    return nt_erf_ntk_by_depth(x1, x2, [depth], get)[depth]
