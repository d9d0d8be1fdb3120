"""set_seed makes runs reproducible without importing what a lesson does not use."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from qdr_course import set_seed


def test_set_seed_reproduces_numpy_and_torch():
    rng = set_seed(3)
    a, ta, legacy_a = rng.normal(size=4), torch.randn(4), np.random.rand(2)
    rng = set_seed(3)
    assert np.array_equal(a, rng.normal(size=4))
    assert torch.equal(ta, torch.randn(4)) and np.array_equal(legacy_a, np.random.rand(2))


def test_set_seed_does_not_import_torch():
    code = "import sys, qdr_course; qdr_course.set_seed(0); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("bad", [-1, 1.5, "0", None])
def test_set_seed_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="non-negative integer"):
        set_seed(bad)
