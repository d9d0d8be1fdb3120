"""Preprocessing: field-of-view crop, square padding, resize, Ben Graham's filter (formula and
effect).
"""

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from qdr_course.retina.fundus import synthetic_fundus
from qdr_course.retina.preprocessing import (
    ben_graham,
    circular_mask,
    crop_to_fov,
    fov_mask,
    pad_to_square,
    preprocess_fundus,
    resize,
)


@pytest.fixture(scope="module")
def photo():
    """A 96 px synthetic fundus inside a wide black frame, like a real camera image."""
    img = synthetic_fundus(grade=2, size=96, seed=3)[0]
    return img, np.pad(img, ((10, 14), (40, 25), (0, 0)))


def test_crop_finds_the_field_of_view(photo):
    img, wide = photo
    cropped = crop_to_fov(wide)
    rows, cols = np.nonzero(fov_mask(img))
    assert cropped.shape[:2] == (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1)
    assert np.array_equal(cropped, img[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1])


def test_pad_to_square_centres_the_image():
    x = np.full((10, 4, 3), 200, np.uint8)
    sq = pad_to_square(x)
    assert sq.shape == (10, 10, 3)
    assert np.array_equal(sq[:, 3:7], x) and sq[:, :3].max() == 0 and sq[:, 7:].max() == 0


def test_preprocess_makes_a_square_of_the_requested_size(photo):
    _, wide = photo
    out = preprocess_fundus(wide, size=64)
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    assert resize(out, 64) is not out and resize(out, 32).shape == (32, 32, 3)


def test_ben_graham_is_the_stated_formula(photo):
    img, _ = photo
    sigma = 3.0
    x = img.astype(float)
    expected = np.clip(np.rint(4 * x - 4 * gaussian_filter(x, sigma=(sigma, sigma, 0)) + 128), 0,
                       255)
    out = ben_graham(img, sigma=sigma, rim=None)
    assert np.array_equal(out, expected.astype(np.uint8))
    assert ben_graham(img).shape == img.shape  # default sigma = FOV radius / 30


def test_ben_graham_removes_illumination_and_keeps_lesions(photo):
    img, _ = photo
    # a slowly varying illumination: the filter output is (almost) unchanged by it
    y, x = np.mgrid[:96, :96]
    gain = 0.75 + 0.5 * x / 95
    lit = np.clip(img * gain[..., None], 0, 255).astype(np.uint8)
    inside = circular_mask(96, 0.7)
    before = np.abs(lit.astype(float) - img)[inside].mean()
    after = np.abs(ben_graham(lit).astype(float) - ben_graham(img))[inside].mean()
    assert after < 0.5 * before
    # a flat image becomes flat grey 128
    flat = np.full((64, 64, 3), 90, np.uint8)
    assert np.all(ben_graham(flat, rim=None) == 128)
    # a dark dot stays visible (far below grey) after the filter
    dot = flat.copy()
    dot[30:33, 30:33] = 20
    assert ben_graham(dot)[31, 31].max() < 60


def test_rim_is_grey():
    out = ben_graham(np.full((64, 64, 3), 90, np.uint8), rim=0.5)
    assert np.all(out[~circular_mask(64, 0.5)] == 128)


@pytest.mark.parametrize("bad, error, match", [
    (np.zeros((32, 32), np.uint8), ValueError, "greyscale"),
    (np.zeros((32, 32, 1), np.uint8), ValueError, "greyscale"),
    (np.zeros((32, 32, 4), np.uint8), ValueError, "alpha"),
    (np.zeros((32, 32, 3), np.float32), TypeError, "uint8"),
])
def test_bad_images_are_clear_errors(bad, error, match):
    with pytest.raises(error, match=match):
        preprocess_fundus(bad)


def test_non_square_and_black_images():
    with pytest.raises(ValueError, match="square"):
        ben_graham(np.zeros((32, 40, 3), np.uint8))
    with pytest.raises(ValueError, match="square"):
        resize(np.zeros((32, 40, 3), np.uint8), 16)
    with pytest.raises(ValueError, match="no field of view"):
        crop_to_fov(np.zeros((32, 40, 3), np.uint8))
    with pytest.raises(ValueError, match="sigma"):
        ben_graham(np.zeros((32, 32, 3), np.uint8), sigma=0)
