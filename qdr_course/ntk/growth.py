"""Is it O(log n) or a power of n? Local slopes and a two-model comparison. See lesson 07.

Over n = 16 ... 512 a power law n^b and a + b ln n can look alike on a log-log plot. Two tools
tell them apart: the **local slope** per doubling, d ln v / d ln n between n and 2n (steady for a
power law; falling like 1/ln n for ln n itself: :func:`log_n_local_slopes`), and the residuals of
the two fits over the same points (:func:`compare_growth_models`). :func:`growth_verdict` applies
ONE criterion to any metric.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def _check(n_values: Sequence[float], values: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Positive n and positive values of the same length (at least three points)."""
    n, v = np.asarray(n_values, np.float64), np.asarray(values, np.float64)
    if n.shape != v.shape or n.ndim != 1 or len(n) < 3:
        raise ValueError("need at least three (n, value) pairs of the same length, got "
                         f"{n.shape} and {v.shape}")
    if np.any(n <= 1) or np.any(v <= 0) or not np.all(np.isfinite(v)):
        raise ValueError("growth fits need n > 1 and positive, finite values")
    return n, v


def local_slopes(n_values: Sequence[float], values: Sequence[float]) -> np.ndarray:
    """d ln v / d ln n between consecutive points: the exponent of each doubling. See lesson 07."""
    n, v = _check(n_values, values)
    return np.diff(np.log(v)) / np.diff(np.log(n))


def log_n_local_slopes(n_values: Sequence[float]) -> np.ndarray:
    """The local slopes of v = ln n itself (0.32 from 16 to 32, 0.17 from 256 to 512)."""
    n = np.asarray(n_values, np.float64)
    return local_slopes(n, np.log(n))


@dataclass
class GrowthFits:
    """Both fits of one metric over the same points. See lesson 07.

    ``power``: v = c n^exponent (least squares in ln v); ``log``: v = a + slope ln n (least
    squares in v). Residuals are RMS of ln(v / fitted), so both are judged on the same scale.
    """

    exponent: float
    power_residual: float
    log_intercept: float
    log_slope: float
    log_residual: float

    @property
    def preferred(self) -> str:
        """'log' if a + b ln n fits at least as well as the power law, else 'power'."""
        return "log" if self.log_residual <= self.power_residual else "power"


def compare_growth_models(n_values: Sequence[float], values: Sequence[float]) -> GrowthFits:
    """Fit v = c n^b and v = a + b ln n; RMS log residuals of each. See lesson 07."""
    n, v = _check(n_values, values)
    ln_n = np.log(n)
    b, ln_c = np.polyfit(ln_n, np.log(v), 1)
    power_res = np.log(v) - (ln_c + b * ln_n)
    slope, intercept = np.polyfit(ln_n, v, 1)
    fitted = intercept + slope * ln_n
    log_res = np.log(v / fitted) if np.all(fitted > 0) else np.full_like(v, np.inf)
    rms = lambda r: float(np.sqrt(np.mean(r**2)))  # noqa: E731
    return GrowthFits(float(b), rms(power_res), float(intercept), float(slope), rms(log_res))


def growth_verdict(n_values: Sequence[float], values: Sequence[float],
                   tolerance: float = 0.05) -> str:
    """ONE criterion for every metric: 'does not grow', 'like log n' or 'faster than log n'.

    See lesson 07.

    - 'does not grow': the fitted power-law exponent is at most ``tolerance``;
    - 'like log n': it grows, but no faster than ln n itself over the same n (its exponent is at
      most ln n's own fitted exponent), or v = a + b ln n fits at least as well as v = c n^b;
    - 'faster than log n': it grows faster than ln n AND the power law fits better.
    """
    fits = compare_growth_models(n_values, values)
    if fits.exponent <= tolerance:
        return "does not grow"
    log_exponent = compare_growth_models(n_values, np.log(n_values)).exponent
    if fits.exponent <= log_exponent or fits.preferred == "log":
        return "like log n"
    return "faster than log n"
