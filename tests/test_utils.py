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


def test_figure_style_pairs_every_colour_with_its_own_dash_pattern():
    import matplotlib as mpl

    from qdr_course.utils import OKABE_ITO, figure_style

    with mpl.rc_context():
        figure_style()
        cycle = list(mpl.rcParams["axes.prop_cycle"])
        assert len({str(c["linestyle"]) for c in cycle}) == len(cycle)  # never colour alone
        assert all(c["color"] in OKABE_ITO for c in cycle)
        assert mpl.rcParams["image.cmap"] == "viridis"
