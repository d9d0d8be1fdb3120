"""Small helpers shared by every lesson (seeds, paths)."""

from __future__ import annotations

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
