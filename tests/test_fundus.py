"""The synthetic fundus generator: shapes, determinism, ICDR lesion rules, anatomy, bad input."""

import doctest

import numpy as np
import pytest

import qdr_course.retina.datasets
import qdr_course.retina.fundus
import qdr_course.retina.metrics
import qdr_course.retina.preprocessing
from qdr_course.retina.fundus import (
    APTOS_COUNTS,
    LESION_TYPES,
    class_prior,
    overlay_lesions,
    synthetic_fundus,
    synthetic_fundus_dataset,
)

NPDR_ONLY = {"neovascularisation", "preretinal_hemorrhage", "vitreous_hemorrhage"}


@pytest.mark.parametrize("module", [qdr_course.retina.fundus, qdr_course.retina.preprocessing,
                                    qdr_course.retina.metrics, qdr_course.retina.datasets])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("size", [28, 64, 100, 224])
def test_shapes_types_and_mask_keys(size):
    img, grade, masks = synthetic_fundus(grade=3, size=size, seed=1)
    assert img.shape == (size, size, 3) and img.dtype == np.uint8 and grade == 3
    assert set(masks) == set(LESION_TYPES)
    for mask in masks.values():
        assert mask.shape == (size, size) and mask.dtype == bool


def test_deterministic_for_a_seed_and_varied_across_seeds():
    a = synthetic_fundus(grade=2, size=64, seed=7)
    b = synthetic_fundus(grade=2, size=64, seed=7)
    c = synthetic_fundus(grade=2, size=64, seed=8)
    assert np.array_equal(a[0], b[0])
    assert all(np.array_equal(a[2][k], b[2][k]) for k in LESION_TYPES)
    assert not np.array_equal(a[0], c[0])
    x1, g1 = synthetic_fundus_dataset(n=12, size=32, seed=3)
    x2, g2 = synthetic_fundus_dataset(n=12, size=32, seed=3)
    assert np.array_equal(x1, x2) and np.array_equal(g1, g2)


def test_field_of_view_is_dark_outside_and_bright_inside():
    img, _, _ = synthetic_fundus(grade=0, size=128, seed=0)
    grey = img.mean(axis=2)
    assert grey[:4, :4].max() < 20 and grey[-4:, -4:].max() < 20  # corners are outside the FOV
    assert grey[54:74, 54:74].mean() > 40  # the retina is lit


@pytest.mark.parametrize("eye", ["left", "right"])
def test_optic_disc_is_the_brightest_region_on_the_nasal_side(eye):
    from scipy.ndimage import uniform_filter

    for seed in range(3):
        img, _, _, info = synthetic_fundus(grade=0, size=96, seed=seed, eye=eye, return_info=True)
        assert info["eye"] == eye
        smooth = uniform_filter(img.astype(float).sum(axis=2), 9)
        row, col = np.unravel_index(np.argmax(smooth), smooth.shape)
        # right eye: disc right of centre (nasal side in a standard photograph); left eye: left
        assert (col > 48) == (eye == "right")
        assert abs((col / 48 - 1) - info["disc"][0]) < 0.15
        assert abs((row / 48 - 1) - info["disc"][1]) < 0.15


def test_grade_0_is_clean_and_grade_1_is_microaneurysms_only():
    for seed in range(6):
        masks = synthetic_fundus(grade=0, size=64, seed=seed)[2]
        assert not any(m.any() for m in masks.values())
        masks = synthetic_fundus(grade=1, size=64, seed=seed)[2]
        assert masks["microaneurysms"].any()
        assert not any(masks[k].any() for k in LESION_TYPES if k != "microaneurysms")


def test_grade_2_is_moderate_npdr_without_severe_or_proliferative_signs():
    for seed in range(6):
        _, _, masks, info = synthetic_fundus(grade=2, size=64, seed=seed, return_info=True)
        assert masks["microaneurysms"].any() and masks["hemorrhages"].any()
        assert not any(masks[k].any() for k in ("venous_beading", "irma", *NPDR_ONLY))
        assert info["plan"]["dot"] < 20


def test_grade_3_has_hemorrhages_in_all_four_quadrants_and_no_new_vessels():
    for seed in range(6):
        _, _, masks, info = synthetic_fundus(grade=3, size=128, seed=seed, return_info=True)
        assert not any(masks[k].any() for k in NPDR_ONLY)
        rows, cols = np.nonzero(masks["hemorrhages"])
        x, y = cols / 64 - 1 + 1 / 128, rows / 64 - 1 + 1 / 128
        angle = np.arctan2(y - info["macula"][1], x - info["macula"][0]) % (2 * np.pi)
        assert set((angle // (np.pi / 2)).astype(int).tolist()) == {0, 1, 2, 3}
        assert info["plan"]["dot"] >= 20


def test_grade_4_always_has_neovascularisation():
    kinds = set()
    for seed in range(10):
        _, _, masks, info = synthetic_fundus(grade=4, size=64, seed=seed, return_info=True)
        assert masks["neovascularisation"].any()
        kinds |= {k for k in ("preretinal_hemorrhage", "vitreous_hemorrhage") if masks[k].any()}
    assert kinds == {"preretinal_hemorrhage", "vitreous_hemorrhage"}  # both appear across seeds


def test_lesion_burden_grows_with_grade():
    def burden(grade):
        area = [sum(m.sum() for m in synthetic_fundus(grade=grade, size=64, seed=s)[2].values())
                for s in range(8)]
        return np.mean(area)

    b = [burden(g) for g in range(5)]
    assert b[0] == 0 < b[1] < b[2] < b[3]
    assert b[4] > b[1]


def test_lesions_have_their_colours():
    img, _, masks = synthetic_fundus(grade=3, size=224, seed=2)
    retina = ~np.logical_or.reduce(list(masks.values())) & (img.max(axis=2) > 40)
    background_green = img[..., 1][retina].mean()
    assert img[..., 1][masks["hemorrhages"]].mean() < 0.7 * background_green  # dark red
    if masks["hard_exudates"].any():
        assert img[..., 1][masks["hard_exudates"]].mean() > 1.2 * background_green  # yellow-white


def test_dataset_follows_the_prior_exactly():
    _, grades = synthetic_fundus_dataset(n=100, size=28, seed=0)
    expected = np.asarray(APTOS_COUNTS) / sum(APTOS_COUNTS) * 100
    assert grades.dtype == np.int64
    assert np.all(np.abs(np.bincount(grades, minlength=5) - expected) < 1)
    _, grades = synthetic_fundus_dataset(n=50, size=28, seed=0, prior="balanced")
    assert np.bincount(grades).tolist() == [10] * 5
    _, grades = synthetic_fundus_dataset(n=5, size=28, seed=0)
    assert sorted(grades.tolist()) == [0, 1, 2, 3, 4]  # every grade even in a tiny set
    np.testing.assert_allclose(class_prior("aptos")[0], 1805 / 3662)


def test_overlay_paints_mask_pixels_only():
    img, _, masks = synthetic_fundus(grade=4, size=64, seed=0)
    out = overlay_lesions(img, masks, alpha=1.0)
    nv = masks["neovascularisation"]
    later = np.logical_or.reduce([masks[k] for k in LESION_TYPES[7:]])
    assert np.all(out[nv & ~later] == (255, 0, 0))
    untouched = ~np.logical_or.reduce(list(masks.values()))
    assert np.array_equal(out[untouched], img[untouched])


@pytest.mark.parametrize("kwargs, error", [
    (dict(grade=5), ValueError), (dict(grade=-1), ValueError), (dict(grade=2.0), TypeError),
    (dict(grade=1, size=27), ValueError), (dict(grade=1, size=513), ValueError),
    (dict(grade=1, size=64.0), TypeError), (dict(grade=1, eye="up"), ValueError),
    (dict(prior="uniform"), ValueError), (dict(prior=[1, 2]), ValueError),
    (dict(prior=[1, -1, 1, 1, 1]), ValueError),
])
def test_bad_arguments_are_clear_errors(kwargs, error):
    with pytest.raises(error):
        synthetic_fundus(seed=0, **kwargs)


def test_bad_dataset_arguments():
    with pytest.raises(ValueError, match="n must be"):
        synthetic_fundus_dataset(n=0)
    with pytest.raises(ValueError, match="seed"):
        synthetic_fundus_dataset(n=3, seed=-1)
    with pytest.raises(ValueError, match="image must be uint8"):
        overlay_lesions(np.zeros((4, 4, 3)), {})
