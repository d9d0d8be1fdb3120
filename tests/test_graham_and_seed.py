"""Issue 13: Ben Graham's settings, the loss cap, the seed's model as written, readout bias."""

import math

import numpy as np
import pytest
import torch

from qdr_course.retina import synthetic_fundus
from qdr_course.retina.preprocessing import ben_graham, circular_mask, fov_radius


def test_graham_settings_remove_the_rim_ring():
    img = synthetic_fundus(grade=2, size=128, seed=4)[0]
    r = fov_radius(img)
    assert 50 < r <= 64
    kept = ben_graham(img, rim=None)
    graham = ben_graham(img)
    ring = circular_mask(128, 1.0 * r / 64) & ~circular_mask(128, 0.9 * r / 64)
    assert np.abs(kept[ring].astype(float) - 128).mean() > 10  # the filter's bright/dark rim
    assert np.all(graham[ring] == 128)
    inner = circular_mask(128, 0.8 * r / 64)
    assert np.array_equal(graham[inner], kept[inner])


def test_fov_radius_of_a_padded_photograph():
    img = np.zeros((100, 100, 3), np.uint8)
    img[circular_mask(100, 0.6)] = 120
    assert fov_radius(img) == pytest.approx(30, abs=1)
    assert fov_radius(np.zeros((20, 20, 3), np.uint8)) == 10
