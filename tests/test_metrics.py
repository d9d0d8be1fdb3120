"""Grading metrics against scikit-learn; the QWK formula; the screening view; bad input."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    confusion_matrix,
    recall_score,  # noqa: E402
    roc_auc_score,
)

from qdr_course.retina.metrics import (
    confusion,
    format_report,
    grading_report,
    plot_confusion_matrix,  # noqa: E402
    quadratic_weighted_kappa,
    qwk_from_confusion,
)


def _cases():
    rng = np.random.default_rng(0)
    for n in (7, 50, 400):
        y = rng.integers(0, 5, n)
        yield y, np.clip(y + rng.integers(-1, 2, n), 0, 4)
        yield y, rng.integers(0, 5, n)
    yield np.array([0, 0, 2, 2]), np.array([0, 2, 2, 0])  # grades 1, 3, 4 absent


@pytest.mark.parametrize("y_true, y_pred", list(_cases()))
def test_qwk_matches_scikit_learn(y_true, y_pred):
    expected = cohen_kappa_score(y_true, y_pred, weights="quadratic", labels=list(range(5)))
    assert quadratic_weighted_kappa(y_true, y_pred) == pytest.approx(expected, abs=1e-12)


def test_qwk_formula_by_hand():
    # QWK = 1 - sum(W O) / sum(W E): a 2-image example computed by hand
    O = np.zeros((5, 5))
    O[0, 0], O[4, 3] = 1, 1  # true 0 -> 0, true 4 -> 3
    # rows (1,0,0,0,1), columns (1,0,0,1,0), N=2: E = outer / 2
    W = (np.subtract.outer(np.arange(5), np.arange(5)) ** 2) / 16
    num = W[4, 3] * 1
    den = (W[0, 0] + W[0, 3] + W[4, 0] + W[4, 3]) / 2
    assert qwk_from_confusion(O) == pytest.approx(1 - num / den)
    assert qwk_from_confusion(np.eye(5)) == 1.0


def test_qwk_landmarks():
    y = np.array([0, 1, 2, 3, 4] * 4)
    assert quadratic_weighted_kappa(y, y) == 1.0
    # a constant prediction is chance level
    assert quadratic_weighted_kappa(y, np.zeros_like(y)) == pytest.approx(0.0)
    assert quadratic_weighted_kappa(y, 4 - y) == pytest.approx(-1.0)  # reversed scale
    off_by_one = quadratic_weighted_kappa(y, np.clip(y + 1, 0, 4))
    off_by_four = quadratic_weighted_kappa(np.array([0, 4, 2, 2]), np.array([4, 0, 2, 2]))
    assert off_by_one == pytest.approx(0.8) and off_by_four < 0
    assert np.isnan(quadratic_weighted_kappa([2, 2], [2, 2]))  # undefined: no variation at all


def test_grading_report_against_scikit_learn():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 5, 300)
    logits = rng.normal(size=(300, 5)) + 2 * np.eye(5)[y_true]
    y_score = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y_pred = y_score.argmax(1)
    r = grading_report(y_true, y_pred, y_score)
    assert r["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
    assert np.array_equal(r["confusion"], confusion_matrix(y_true, y_pred, labels=range(5)))
    np.testing.assert_allclose(r["per_grade_recall"],
                               recall_score(y_true, y_pred, labels=range(5), average=None))
    ref_t, ref_p = y_true >= 2, y_pred >= 2
    assert r["referable_sensitivity"] == pytest.approx(recall_score(ref_t, ref_p))
    assert r["referable_specificity"] == pytest.approx(recall_score(~ref_t, ~ref_p))
    assert r["referable_auc"] == pytest.approx(roc_auc_score(ref_t, y_score[:, 2:].sum(1)))
    assert r["qwk"] == pytest.approx(cohen_kappa_score(y_true, y_pred, weights="quadratic"))
    text = format_report(r)
    assert "QWK" in text and "sensitivity" in text


def test_undefined_quantities_are_nan_not_zero():
    r = grading_report([0, 0, 1], [0, 1, 1])
    assert np.isnan(r["referable_sensitivity"]) and r["referable_specificity"] == 1.0
    assert np.isnan(r["per_grade_recall"][3]) and r["referable_auc"] is None
    r = grading_report([0, 1], [0, 1], np.full((2, 5), 0.2))
    assert np.isnan(r["referable_auc"])


@pytest.mark.parametrize("y_true, y_pred, match", [
    ([0, 5], [0, 1], "outside 0-4"), ([0, -1], [0, 1], "outside 0-4"),
    ([0, 1, 2], [0, 1], "same length"), ([[0, 1]], [[0, 1]], "1-D"), ([0.5, 1], [0, 1], "integer"),
    ([], [], "empty"),
])
def test_bad_grades(y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        grading_report(y_true, y_pred)


def test_bad_scores():
    with pytest.raises(ValueError, match=r"\(N, 5\)"):
        grading_report([0, 1], [0, 1], np.full((2, 4), 0.25))
    with pytest.raises(ValueError, match="softmax"):
        grading_report([0, 1], [0, 1], np.ones((2, 5)))
    with pytest.raises(ValueError, match="square"):
        qwk_from_confusion(np.ones((2, 3)))


def test_plot_confusion_matrix_annotates_every_cell():
    ax = plot_confusion_matrix([0, 1, 2, 3, 4, 4], [0, 1, 2, 4, 4, 3])
    assert len(ax.texts) == 25
    assert "QWK" in ax.get_title()
    assert np.array_equal(confusion([0, 4], [0, 3])[4], [0, 0, 0, 1, 0])
