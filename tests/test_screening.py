"""Screening metrics of lesson 05 against scikit-learn, SciPy and brute force."""

import numpy as np
import pytest
import torch
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_curve

from qdr_course.retina.metrics import quadratic_weighted_kappa
from qdr_course.retina.screening import (
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
    operating_point,
    referable_truth,
    reliability_curve,
    seed_image_bootstrap,
    sensitivity_at_specificity,
)


def _scores(n=300, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.4
    return y, y * 1.2 + rng.normal(size=n)


def test_referable_truth_includes_dme_only_where_graded():
    grades, dme = np.array([0, 1, 2, 4, 1, 0]), np.array([0, 2, 0, 0, 1, 2])
    assert referable_truth(grades).tolist() == [False, False, True, True, False, False]
    assert referable_truth(grades, dme).tolist() == [False, True, True, True, False, True]
    with pytest.raises(ValueError, match="dme"):
        referable_truth(grades, dme[:3])


def test_sensitivity_at_specificity_is_the_roc_curve_read_by_brute_force():
    y, s = _scores()
    for target in (0.8, 0.9, 0.95):
        sens, threshold = sensitivity_at_specificity(y, s, target)
        # brute force over every cut: best sensitivity among cuts meeting the specificity
        best = max(operating_point(y, s, t)[0] for t in np.unique(s)
                   if operating_point(y, s, t)[1] >= target)
        assert sens == pytest.approx(best)
        got_sens, got_spec = operating_point(y, s, threshold)
        assert got_sens == pytest.approx(sens) and got_spec >= target
        fpr, tpr, _ = roc_curve(y, s)
        assert sens == pytest.approx(tpr[fpr <= 1 - target].max())


def test_reliability_curve_matches_scikit_learn_and_ece_by_hand():
    rng = np.random.default_rng(1)
    p = rng.random(500)
    y = rng.random(500) < p**2  # overconfident in the middle
    mean_p, rate, count = reliability_curve(y, p, n_bins=10)
    sk_rate, sk_mean = calibration_curve(y, p, n_bins=10)
    assert np.allclose(mean_p, sk_mean) and np.allclose(rate, sk_rate) and count.sum() == 500
    bins = np.minimum((p * 10).astype(int), 9)
    by_hand = sum(abs(y[bins == b].mean() - p[bins == b].mean()) * (bins == b).sum()
                  for b in range(10) if (bins == b).any()) / 500
    assert expected_calibration_error(y, p, 10) == pytest.approx(by_hand)
    assert expected_calibration_error(y, p, 10) > 0.05
    perfect = rng.random(20000)
    assert expected_calibration_error(rng.random(20000) < perfect, perfect, 10) < 0.02


def test_fit_temperature_recovers_the_temperature_that_made_the_labels():
    rng = np.random.default_rng(2)
    logits = rng.normal(scale=3, size=(4000, 5))
    true_t = 2.5
    probs = apply_temperature(logits, true_t)
    y = np.array([rng.choice(5, p=row) for row in probs])
    t = fit_temperature(logits, y)
    assert t == pytest.approx(true_t, rel=0.1)
    # the fitted T minimises the cross-entropy: its neighbours are worse (SciPy's optimum)
    def nll(temp):
        return -np.log(apply_temperature(logits, temp)[np.arange(len(y)), y]).mean()
    assert nll(t) <= min(nll(t * 0.95), nll(t * 1.05))
    # log-probabilities give the same temperature as the logits
    assert fit_temperature(np.log(apply_temperature(logits, 1.0)), y) == pytest.approx(t, rel=1e-3)
    assert np.allclose(apply_temperature(logits, 1.0), torch.softmax(torch.tensor(logits), 1))


def test_seed_image_bootstrap_widens_with_images_and_pairs_seed_for_seed():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 5, 150)
    noisy = lambda scale: np.clip(y + rng.normal(scale=scale, size=150).round(), 0, 4).astype(int)  # noqa: E731
    a = np.stack([noisy(0.6) for _ in range(5)])
    b = np.stack([noisy(0.6) for _ in range(5)])
    both = seed_image_bootstrap(y, a, quadratic_weighted_kappa, n_boot=300)
    seeds_only = seed_image_bootstrap(y, a, quadratic_weighted_kappa, n_boot=300,
                                      resample_images=False)
    assert both["estimate"] == pytest.approx(np.mean([quadratic_weighted_kappa(y, p) for p in a]))
    assert both["low"] < both["estimate"] < both["high"]
    assert both["high"] - both["low"] > 1.3 * (seeds_only["high"] - seeds_only["low"])
    same = seed_image_bootstrap(y, a, quadratic_weighted_kappa, paired_with=a, n_boot=50)
    assert same["estimate"] == same["low"] == same["high"] == 0
    diff = seed_image_bootstrap(y, a, quadratic_weighted_kappa, paired_with=b, n_boot=300)
    assert diff["low"] < 0 < diff["high"]
    with pytest.raises(ValueError, match="paired_with"):
        seed_image_bootstrap(y, a, quadratic_weighted_kappa, paired_with=b[:3])


def test_screening_inputs_are_refused_in_one_line():
    with pytest.raises(ValueError, match="0/1"):
        sensitivity_at_specificity([0, 2, 1], [0.1, 0.2, 0.3], 0.9)
    with pytest.raises(ValueError, match="NaN"):
        expected_calibration_error([0, 1], [0.2, float("nan")])
    with pytest.raises(ValueError, match="temperature"):
        apply_temperature(np.zeros((2, 5)), 0.0)


def test_full_turn_is_the_only_encoding_range_that_keeps_every_phase_its_range():
    """Lesson 05: the circuit is a + r cos(alpha - phi) in one angle; (-pi, pi) covers it."""
    from qdr_course.retina import HybridGrader

    torch.manual_seed(3)
    layer = HybridGrader(image_size=32).bottleneck
    alpha = torch.linspace(-np.pi, np.pi, 41)
    angles = torch.zeros(41, 3, dtype=torch.float64)
    angles[:, 1], angles[:, 2] = 0.4, -1.1
    angles[:, 0] = alpha
    with torch.no_grad():
        out = layer(angles).double().numpy()
    # every output is exactly a + b cos(alpha) + c sin(alpha): a Fourier series of degree 1
    design = np.stack([np.ones(41), np.cos(alpha.numpy()), np.sin(alpha.numpy())], axis=1)
    coefficients, *_ = np.linalg.lstsq(design, out, rcond=None)
    assert np.allclose(design @ coefficients, out, atol=1e-6)

    phases = np.linspace(-np.pi, np.pi, 73)

    def worst_span(s):  # the smallest fraction of the full range 2r that (-s, s) reaches
        a = np.linspace(-s, s, 2001)
        return min(np.ptp(np.cos(a - phi)) / 2 for phi in phases)

    assert worst_span(np.pi) > 0.999
    assert worst_span(np.pi / 2) == pytest.approx(0.5, abs=0.01)
    assert worst_span(0.9 * np.pi) < 0.99
