"""Small helpers shared by every lesson (seeds, paths)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np

#: The course's root folder when run from a checkout (lessons/, solutions/ beside the package).
REPO_ROOT = Path(__file__).resolve().parent.parent


def set_seed(seed: int = 0) -> np.random.Generator:
    """Seed Python, NumPy and (if imported) torch; return a NumPy generator. See lesson 00."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        import torch
    except ImportError:  # torch is optional for the NTK lessons
        pass
    else:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)
