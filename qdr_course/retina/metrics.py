"""Grading metrics: quadratic weighted kappa, confusion matrix, screening view. See lesson 04.

DR grades are ordinal: calling a proliferative eye "mild" is much worse than calling it
"severe". Accuracy ignores that; the quadratic weighted kappa (QWK, the APTOS 2019 metric)
does not. With O the confusion matrix (counts), E = outer(row sums, column sums) / N the counts
expected by chance, and W_ij = (i - j)^2 / (K - 1)^2,

    QWK = 1 - sum(W * O) / sum(W * E).

QWK = 1 for perfect agreement, 0 for chance-level agreement (e.g. always predicting one grade),
negative for worse than chance. A screening programme asks a simpler question: does the eye
have *referable* DR (grade >= 2, moderate or worse) that needs an ophthalmologist? Its
sensitivity, specificity and ROC AUC are in :func:`grading_report`.

Example
-------
>>> from qdr_course.retina.metrics import grading_report
>>> r = grading_report([0, 0, 1, 2, 3, 4], [0, 1, 1, 2, 4, 4])
>>> round(r["qwk"], 3), round(r["accuracy"], 3), r["referable_sensitivity"]
(0.929, 0.667, 1.0)
"""

from __future__ import annotations

import math

import numpy as np

from qdr_course.retina.grades import NUM_GRADES, REFERABLE_GRADE, SHORT_GRADE_NAMES, grade_labels

__all__ = [
    "confusion",
    "format_report",
    "grading_report",
    "plot_confusion",
    "plot_confusion_matrix",
    "quadratic_weighted_kappa",
    "qwk_difference_interval",
    "qwk_from_confusion",
]



def _validate_pair(y_true, y_pred):
    y_true, y_pred = grade_labels(y_true, "y_true"), grade_labels(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same length, got {len(y_true)} and "
                         f"{len(y_pred)}")
    return y_true, y_pred


def confusion(y_true, y_pred) -> np.ndarray:
    """5 x 5 confusion matrix, rows = true grade, columns = predicted grade. See lesson 04."""
    from sklearn.metrics import confusion_matrix

    y_true, y_pred = _validate_pair(y_true, y_pred)
    return confusion_matrix(y_true, y_pred, labels=np.arange(NUM_GRADES))


def qwk_from_confusion(O) -> float:
    """QWK = 1 - sum(W O) / sum(W E), E = outer(row sums, col sums) / N, W_ij = (i-j)^2/(K-1)^2."""
    O = np.asarray(O, dtype=float)
    if O.ndim != 2 or O.shape[0] != O.shape[1] or O.shape[0] < 2:
        raise ValueError("O must be a square K x K confusion matrix with K >= 2, got shape "
                         f"{O.shape}")
    if np.any(O < 0) or O.sum() <= 0:
        raise ValueError("O must hold non-negative counts with a positive total")
    K = O.shape[0]
    i, j = np.indices((K, K))
    W = (i - j) ** 2 / (K - 1) ** 2
    E = np.outer(O.sum(axis=1), O.sum(axis=0)) / O.sum()
    denominator = (W * E).sum()
    if denominator == 0:  # every true and predicted grade identical: agreement is not measurable
        return float("nan")
    return float(1 - (W * O).sum() / denominator)


def quadratic_weighted_kappa(y_true, y_pred) -> float:
    """Quadratic weighted Cohen's kappa over grades 0-4, from the formula of lesson 04.

    Equal to scikit-learn's ``cohen_kappa_score(..., weights="quadratic")`` (tested); computed
    from the confusion matrix so the lesson's formula and the package are one and the same.

    Returns ``nan`` when it is undefined (all true and predicted grades are one and the same).
    """
    y_true, y_pred = _validate_pair(y_true, y_pred)
    return qwk_from_confusion(confusion(y_true, y_pred))


def _validate_scores(y_score, n: int) -> np.ndarray:
    y_score = np.asarray(y_score, dtype=float)
    if y_score.shape != (n, NUM_GRADES):
        raise ValueError("y_score must be (N, 5) class probabilities, one row per image; got "
                         f"shape {y_score.shape} for N = {n}")
    if (not np.all(np.isfinite(y_score)) or np.any(y_score < 0)
            or not np.allclose(y_score.sum(1), 1, atol=1e-4)):
        raise ValueError("y_score rows must be probabilities (non-negative, summing to 1); "
                         "apply softmax to logits first: torch.softmax(logits, dim=1)")
    return y_score


def grading_report(y_true, y_pred, y_score=None) -> dict:
    """QWK, accuracy, confusion, per-grade recall and the referable-DR screening view.

    See lesson 04.

    Keys: ``qwk``, ``accuracy``, ``confusion`` (5 x 5, rows true), ``per_grade_recall`` (5,
    ``nan`` for a grade absent from ``y_true``), ``referable_sensitivity`` and
    ``referable_specificity`` (referable = grade >= 2; ``nan`` when there are no referable /
    no non-referable eyes) and ``referable_auc`` (ROC AUC of the probability of grade >= 2,
    from ``y_score`` (N, 5); ``None`` without scores, ``nan`` when only one class is present).
    """
    from sklearn.metrics import accuracy_score, roc_auc_score

    y_true, y_pred = _validate_pair(y_true, y_pred)
    O = confusion(y_true, y_pred)
    support = O.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(support > 0, np.diag(O) / np.maximum(support, 1), np.nan)
    ref_true, ref_pred = y_true >= REFERABLE_GRADE, y_pred >= REFERABLE_GRADE
    n_pos, n_neg = int(ref_true.sum()), int((~ref_true).sum())
    sens = float((ref_pred & ref_true).sum() / n_pos) if n_pos else float("nan")
    spec = float((~ref_pred & ~ref_true).sum() / n_neg) if n_neg else float("nan")
    auc = None
    if y_score is not None:
        y_score = _validate_scores(y_score, len(y_true))
        p_referable = y_score[:, REFERABLE_GRADE:].sum(axis=1)
        auc = float(roc_auc_score(ref_true, p_referable)) if n_pos and n_neg else float("nan")
    return {
        "qwk": qwk_from_confusion(O),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "confusion": O,
        "per_grade_recall": recall,
        "referable_sensitivity": sens,
        "referable_specificity": spec,
        "referable_auc": auc,
        "n": int(len(y_true)),
    }


def format_report(report: dict, digits: int = 3) -> str:
    """A short printable summary of :func:`grading_report`'s dictionary. See lesson 04."""
    def f(x):
        return "n/a" if x is None else ("nan" if np.isnan(x) else f"{x:.{digits}f}")

    recall = " ".join(f(r) for r in report["per_grade_recall"])
    return (f"n={report['n']}  QWK {f(report['qwk'])}  accuracy {f(report['accuracy'])}\n"
            f"per-grade recall (0-4): {recall}\n"
            f"referable DR (grade >= 2): sensitivity {f(report['referable_sensitivity'])}  "
            f"specificity {f(report['referable_specificity'])}  AUC {f(report['referable_auc'])}")


def plot_confusion_matrix(y_true, y_pred, ax=None, normalize: bool = True,
                          title: str | None = None):
    """Plot the 5 x 5 confusion matrix (rows true grade; row-normalised by default).

    See lesson 04.
    """
    return plot_confusion(confusion(y_true, y_pred), ax=ax, normalize=normalize, title=title)


def plot_confusion(O, ax=None, normalize: bool = True, title: str | None = None):
    """Plot a 5 x 5 confusion matrix of counts O (rows true grade, columns predicted)."""
    import matplotlib.pyplot as plt

    O = np.asarray(O, dtype=int)
    if O.shape != (NUM_GRADES, NUM_GRADES):
        raise ValueError(f"O must be a {NUM_GRADES} x {NUM_GRADES} confusion matrix, got shape "
                         f"{O.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.6, 4))
    with np.errstate(invalid="ignore", divide="ignore"):
        shown = O / O.sum(axis=1, keepdims=True) if normalize else O.astype(float)
    shown = np.nan_to_num(shown)
    # viridis: colour-blind safe and readable in grey; every cell also prints its number
    im = ax.imshow(shown, cmap="viridis", vmin=0, vmax=1 if normalize else max(1, O.max()))
    for i in range(NUM_GRADES):
        for j in range(NUM_GRADES):
            text = f"{shown[i, j]:.2f}\n({O[i, j]})" if normalize else f"{O[i, j]}"
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color=legible_text_colour(im.cmap(im.norm(shown[i, j]))))
    ticks = [f"{g}" for g in range(NUM_GRADES)]
    ax.set_xticks(range(NUM_GRADES), ticks)
    ax.set_yticks(range(NUM_GRADES), [f"{g} {SHORT_GRADE_NAMES[g]}" for g in range(NUM_GRADES)])
    ax.set_xlabel("predicted grade")
    ax.set_ylabel("true grade")
    ax.set_title(title or f"QWK {qwk_from_confusion(O):.3f}")
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return ax


def relative_luminance(rgb) -> float:
    """WCAG 2 relative luminance of an sRGB colour given as 0-1 floats (for legible labels)."""
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb[:3]]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(rgb_a, rgb_b) -> float:
    """WCAG 2 contrast ratio of two colours, 1 (none) to 21 (black on white)."""
    high, low = sorted((relative_luminance(rgb_a), relative_luminance(rgb_b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def legible_text_colour(background) -> str:
    """"black" or "white", whichever contrasts more with ``background`` (an RGB(A) tuple)."""
    black, white = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    return "black" if contrast_ratio(background, black) >= contrast_ratio(background, white) \
        else "white"


def _confusion_counts(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """The 5 x 5 confusion matrix by one bincount (fast inside a bootstrap loop)."""
    flat = np.bincount(y_true * NUM_GRADES + y_pred, minlength=NUM_GRADES**2)
    return flat.reshape(NUM_GRADES, NUM_GRADES)


def qwk_difference_interval(y_true, pred_a, pred_b, n_boot: int = 2000, level: float = 0.95,
                            seed: int = 0) -> tuple[float, float, float]:
    """QWK(a) - QWK(b) on the same images and its paired bootstrap interval.

    Images are resampled with replacement ``n_boot`` times; resamples where either QWK is
    undefined (one grade only) are skipped. Returns ``(difference, low, high)``; an interval
    containing 0 means the two graders' difference is within chance on these images.
    """
    y_true, pred_a, pred_b = (np.asarray(v, dtype=np.int64).reshape(-1)
                              for v in (y_true, pred_a, pred_b))
    if not len(y_true) == len(pred_a) == len(pred_b) or len(y_true) < 2:
        raise ValueError("y_true, pred_a and pred_b must have the same length, at least 2")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    diff = quadratic_weighted_kappa(y_true, pred_a) - quadratic_weighted_kappa(y_true, pred_b)
    rng = np.random.default_rng(seed)
    diffs = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for _ in range(n_boot):
            i = rng.integers(0, len(y_true), len(y_true))
            qa, qb = (qwk_from_confusion(_confusion_counts(y_true[i], p[i]))
                      for p in (pred_a, pred_b))
            if np.isfinite(qa) and np.isfinite(qb):
                diffs.append(qa - qb)
    if not diffs:
        return float(diff), math.nan, math.nan
    low, high = np.quantile(diffs, [(1 - level) / 2, (1 + level) / 2])
    return float(diff), float(low), float(high)
