"""Judging a grader as a screening programme would: ROC, operating points, calibration, intervals.

See lesson 05. A screening programme asks one question of each eye: *refer it or not?* Referable
means moderate NPDR or worse (grade >= 2) and/or referable diabetic macular edema (DME), where
the data grade DME (IDRiD does: risk 2 = hard exudates within one disc diameter of the macula
centre, Gulshan et al.'s definition). The grader's score is its probability of grade >= 2.

- ROC curve and AUC: scikit-learn's ``roc_curve`` / ``roc_auc_score`` (the tests compare).
- :func:`sensitivity_at_specificity`: the best sensitivity among thresholds whose specificity
  is at least the target, read from the ROC curve.
- :func:`expected_calibration_error` and :func:`reliability_curve` (equal-width bins; the curve
  is scikit-learn's ``calibration_curve``), :func:`fit_temperature` (one temperature T for the
  five logits, fitted on the validation split by maximum likelihood).
- :func:`seed_image_bootstrap`: an interval over training seeds *and* test images (a crossed
  bootstrap: resample the seeds, and the images shared by every seed); ``paired_with`` gives
  the interval of a paired difference of two models trained on the same seeds.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from qdr_course.retina.grades import NUM_GRADES, REFERABLE_GRADE

__all__ = [
    "REFERABLE_DME",
    "apply_temperature",
    "expected_calibration_error",
    "fit_temperature",
    "operating_point",
    "referable_truth",
    "reliability_curve",
    "seed_image_bootstrap",
    "sensitivity_at_specificity",
]

#: IDRiD's "risk of macular edema" 2: hard exudates within one disc diameter of the macula centre.
REFERABLE_DME = 2


def _binary(y, name: str = "y_true") -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or len(y) == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {y.shape}")
    if not np.isin(y, (0, 1, False, True)).all():
        raise ValueError(f"{name} must hold 0/1 (referable or not); got values "
                         f"{sorted(set(np.unique(y).tolist()))[:5]}; use referable_truth(grades)")
    return y.astype(bool)


def _scores(score, n: int, name: str = "score") -> np.ndarray:
    score = np.asarray(score, dtype=float)
    if score.shape != (n,):
        raise ValueError(f"{name} must have one number per image, shape ({n},), got {score.shape}")
    if not np.all(np.isfinite(score)):
        raise ValueError(f"{name} holds NaN or infinite values; check the model's outputs")
    return score


def referable_truth(grades, dme=None) -> np.ndarray:
    """Referable: DR grade >= 2, or (where DME is graded) DME risk >= 2. See lesson 05."""
    grades = np.asarray(grades)
    if grades.ndim != 1 or not np.isin(grades, np.arange(NUM_GRADES)).all():
        raise ValueError("grades must be a 1-D array of ICDR grades 0-4")
    referable = grades >= REFERABLE_GRADE
    if dme is not None:
        dme = np.asarray(dme)
        if dme.shape != grades.shape or not np.isin(dme, (0, 1, 2)).all():
            raise ValueError(f"dme must hold one DME risk 0-2 per image ({len(grades)}), got "
                             f"shape {dme.shape}")
        referable = referable | (dme >= REFERABLE_DME)
    return referable


def sensitivity_at_specificity(y_true, score, specificity: float) -> tuple[float, float]:
    """Best sensitivity with specificity >= ``specificity``, and its threshold. See lesson 05.

    Read from scikit-learn's ROC curve: among its thresholds with a false-positive rate at most
    ``1 - specificity``, the one with the highest true-positive rate. An eye is referred when
    its score is >= the threshold.
    """
    from sklearn.metrics import roc_curve

    y_true = _binary(y_true)
    score = _scores(score, len(y_true))
    if not 0 < specificity < 1:
        raise ValueError(f"specificity must be in (0, 1), got {specificity}")
    if y_true.all() or not y_true.any():
        raise ValueError("y_true needs referable and non-referable eyes to define sensitivity "
                         "and specificity")
    fpr, tpr, thresholds = roc_curve(y_true, score)
    allowed = fpr <= 1 - specificity + 1e-12
    best = np.flatnonzero(allowed)[np.argmax(tpr[allowed])]
    return float(tpr[best]), float(thresholds[best])


def operating_point(y_true, score, threshold: float) -> tuple[float, float]:
    """(sensitivity, specificity) when eyes with ``score >= threshold`` are referred."""
    y_true = _binary(y_true)
    refer = _scores(score, len(y_true)) >= threshold
    sens = float((refer & y_true).sum() / y_true.sum()) if y_true.any() else float("nan")
    spec = float((~refer & ~y_true).sum() / (~y_true).sum()) if (~y_true).any() else float("nan")
    return sens, spec


def _check_bins(n_bins) -> int:
    if not isinstance(n_bins, int) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    return n_bins


def _probabilities(p, n: int) -> np.ndarray:
    p = _scores(p, n, "p")
    if np.any(p < 0) or np.any(p > 1):
        raise ValueError("p must hold probabilities in [0, 1]")
    return p


def reliability_curve(y_true, p, n_bins: int = 10):
    """Per non-empty equal-width bin: mean predicted probability, observed rate, count.

    See lesson 05. The first two arrays equal scikit-learn's
    ``calibration_curve(y_true, p, n_bins=n_bins)`` (observed rate first there).
    """
    y_true = _binary(y_true)
    p = _probabilities(p, len(y_true))
    n_bins = _check_bins(n_bins)
    edges = np.linspace(0, 1, n_bins + 1)
    index = np.searchsorted(edges[1:-1], p, side="right")
    count = np.bincount(index, minlength=n_bins)
    mean_p = np.bincount(index, weights=p, minlength=n_bins)
    rate = np.bincount(index, weights=y_true.astype(float), minlength=n_bins)
    filled = count > 0
    return mean_p[filled] / count[filled], rate[filled] / count[filled], count[filled]


def expected_calibration_error(y_true, p, n_bins: int = 10) -> float:
    """ECE = sum over bins of (n_b / N) |observed rate_b - mean predicted p_b|. See lesson 05."""
    mean_p, rate, count = reliability_curve(y_true, p, n_bins)
    return float(np.sum(count * np.abs(rate - mean_p)) / count.sum())


def _log_probs(logits) -> np.ndarray:
    logits = np.asarray(logits, dtype=float)
    if logits.ndim != 2 or logits.shape[1] < 2 or not np.all(np.isfinite(logits)):
        raise ValueError(f"logits must be a finite (N, K) array with K >= 2, got shape "
                         f"{logits.shape}; log-probabilities (np.log(probs)) work too")
    return logits


def apply_temperature(logits, temperature: float) -> np.ndarray:
    """softmax(logits / T), row by row. See lesson 05."""
    from scipy.special import softmax

    if not np.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature must be a positive number, got {temperature}")
    return softmax(_log_probs(logits) / temperature, axis=1)


def fit_temperature(logits, y, bounds: tuple[float, float] = (0.05, 20.0)) -> float:
    """The T > 0 minimising the cross-entropy of softmax(logits / T) on (logits, y). See lesson 05.

    Fit it on the validation split, never on the test split. Log-probabilities work as logits
    (they differ from the logits by a constant per row, which the softmax ignores).
    """
    from scipy.optimize import minimize_scalar
    from scipy.special import log_softmax

    logits = _log_probs(logits)
    y = np.asarray(y)
    if y.shape != (len(logits),) or not np.isin(y, np.arange(logits.shape[1])).all():
        raise ValueError(f"y must hold one class 0..{logits.shape[1] - 1} per row of logits")
    rows = np.arange(len(y))

    def nll(log_t: float) -> float:
        return float(-log_softmax(logits / np.exp(log_t), axis=1)[rows, y].mean())

    result = minimize_scalar(nll, bounds=np.log(bounds), method="bounded",
                             options={"xatol": 1e-6})
    return float(np.exp(result.x))


def seed_image_bootstrap(y_true, per_seed, statistic: Callable, paired_with=None,
                         n_boot: int = 1000, level: float = 0.95, seed: int = 0,
                         resample_images: bool = True) -> dict:
    """Mean of ``statistic(y, scores)`` over seeds, with an interval over seeds and images.

    See lesson 05. ``per_seed`` is (n_seeds, n_images, ...): one model's predictions or scores
    on the same test images for each training seed. Each bootstrap draw resamples the seeds and,
    independently, the test images (the same images for every seed: they are one test set); the
    statistic is averaged over the drawn seeds. With ``paired_with`` (a second model trained on
    the same seeds) the interval is that of the paired difference, seed for seed and image for
    image. ``resample_images=False`` gives the seeds-only interval, for comparison. Draws where
    the statistic is undefined (NaN, e.g. one class only) are skipped and counted.
    """
    y_true = np.asarray(y_true)
    a = np.asarray(per_seed)
    b = None if paired_with is None else np.asarray(paired_with)
    if a.ndim < 2 or a.shape[1] != len(y_true):
        raise ValueError(f"per_seed must be (n_seeds, n_images = {len(y_true)}, ...), got shape "
                         f"{a.shape}")
    if b is not None and b.shape != a.shape:
        raise ValueError(f"paired_with must have per_seed's shape {a.shape}, got {b.shape}")
    if not 0 < level < 1 or not isinstance(n_boot, int) or n_boot < 10:
        raise ValueError("level must be in (0, 1) and n_boot an integer >= 10")

    def value(seeds, images) -> float:
        yy = y_true[images]
        first = np.mean([statistic(yy, a[s][images]) for s in seeds])
        return first - np.mean([statistic(yy, b[s][images]) for s in seeds]) if b is not None \
            else first

    every_image = np.arange(len(y_true))
    estimate = value(range(len(a)), every_image)
    rng = np.random.default_rng(seed)
    draws = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for _ in range(n_boot):
            seeds = rng.integers(0, len(a), len(a))
            images = rng.integers(0, len(y_true), len(y_true)) if resample_images else every_image
            draws.append(value(seeds, images))
    draws = np.asarray(draws, dtype=float)
    kept = draws[np.isfinite(draws)]
    low, high = (np.quantile(kept, [(1 - level) / 2, (1 + level) / 2]) if len(kept)
                 else (np.nan, np.nan))
    return {"estimate": float(estimate), "low": float(low), "high": float(high),
            "n_seeds": len(a), "n_images": len(y_true), "skipped": int(len(draws) - len(kept))}
