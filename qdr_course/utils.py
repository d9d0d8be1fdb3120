"""Small helpers shared by every lesson (seeds, paths)."""

from __future__ import annotations

import math
import os
import random
import sys
from pathlib import Path

import numpy as np

#: The course's root folder when run from a checkout (lessons/, solutions/ beside the package).
REPO_ROOT = Path(__file__).resolve().parent.parent


def set_seed(seed: int = 0) -> np.random.Generator:
    """Seed Python, NumPy and torch (if imported); return a NumPy generator. See lesson 00."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    # Seed torch only if it is already imported: importing it here would cost the NTK lessons
    # about 250 MB. A torch imported later starts from its own fixed default seed, so runs stay
    # reproducible either way; call set_seed after `import torch` to get seed `seed` there too.
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)


def check_digit_pair(digits) -> tuple[int, int]:
    """Validate a pair of distinct digits 0-9 (lessons 03 and 06); return it as ints."""
    digits = tuple(digits)
    if len(digits) != 2 or not all(isinstance(d, (int, np.integer)) and 0 <= d <= 9 for d in digits):
        raise ValueError(f"digits must be two digits between 0 and 9, e.g. (8, 9); got {digits!r}")
    if digits[0] == digits[1]:
        raise ValueError(f"digits must be two different digits, got {digits!r}")
    return int(digits[0]), int(digits[1])


def format_stable(value: float, uncertainty: float) -> str:
    """``value`` with the decimals that every number within ±``uncertainty`` shares. See lesson 02.

    Stored outputs must read the same on any CPU: a result known only to ±``uncertainty``
    (rounding, threads, SIMD) is printed with no digit that such an error could change.

    >>> format_stable(0.58285, 1e-4)
    '+0.583'
    >>> format_stable(0.58285, 1e-9)
    '+0.58285000'
    """
    if not (math.isfinite(value) and math.isfinite(uncertainty) and uncertainty >= 0):
        raise ValueError(f"value and uncertainty must be finite (uncertainty >= 0), got "
                         f"{value!r} ± {uncertainty!r}")
    for decimals in range(15, -1, -1):
        low, high = (f"{v:+.{decimals}f}" for v in (value - uncertainty, value + uncertainty))
        if low == high:
            return low
    return f"{value:+.0e}"
