"""Exercise checks for lesson 04 (retinopathy and its data)."""

from __future__ import annotations

import numpy as np

from qdr_course.checks._core import ExerciseError, exercise_check

__all__ = ["check_ben_graham", "check_copy_prediction", "check_label_map", "check_qwk",
           "check_qwk_prediction", "check_stratified_split"]

_FOLDERS = ["Severe", "Mild", "No_DR", "Proliferate_DR", "Moderate"]
_TRUE = {"No_DR": 0, "Mild": 1, "Moderate": 2, "Severe": 3, "Proliferate_DR": 4}


@exercise_check("Labels in severity order")
def check_label_map(label_map) -> str:
    """``label_map(folder_names) -> {name: grade}`` must follow the ICDR scale, not the alphabet."""
    answer = label_map(list(_FOLDERS))
    if not isinstance(answer, dict):
        raise ExerciseError(f"return a dict {{folder name: grade}}, got {type(answer).__name__}")
    alphabetical = {name: i for i, name in enumerate(sorted(_FOLDERS))}
    if {k: int(v) for k, v in answer.items()} == alphabetical:
        raise ExerciseError("this is the alphabetical order (Mild=0, Moderate=1, No_DR=2, ...): "
                            "the seed's bug. Map each name to its place on the ICDR scale: "
                            "No_DR=0, Mild=1, ... Proliferate_DR=4")
    if set(answer) != set(_FOLDERS):
        raise ExerciseError(f"the keys must be exactly the folder names {sorted(_FOLDERS)}, got "
                            f"{sorted(answer)}")
    wrong = {k: answer[k] for k in _FOLDERS if answer[k] != _TRUE[k]}
    if wrong:
        raise ExerciseError(f"wrong grade for {wrong}; expected "
                            f"{{{', '.join(f'{k}: {_TRUE[k]}' for k in wrong)}}}")
    shuffled = label_map(list(reversed(_FOLDERS)))
    if shuffled != answer:
        raise ExerciseError("the answer changes with the order of the folder names; it must depend "
                            "on the names only")
    return "No_DR=0 < Mild=1 < Moderate=2 < Severe=3 < Proliferate_DR=4."


@exercise_check("Stratified split without a leak")
def check_stratified_split(split_indices) -> str:
    """``split_indices(grades, val_fraction, seed) -> (train_idx, val_idx)``: disjoint, complete,
    stratified.
    """
    counts = (180, 37, 100, 19, 30)  # APTOS proportions, sorted by class as a folder listing is
    grades = np.repeat(np.arange(5), counts)
    result = split_indices(grades, 0.2, 0)
    if not isinstance(result, tuple) or len(result) != 2:
        raise ExerciseError("return a tuple (train_idx, val_idx)")
    train, val = (np.asarray(r).ravel() for r in result)
    if train.dtype.kind not in "iu" or val.dtype.kind not in "iu":
        raise ExerciseError("return integer index arrays (positions into grades), not masks or "
                            "grades")
    if np.intersect1d(train, val).size:
        raise ExerciseError(f"{np.intersect1d(train, val).size} image(s) are in both splits: a "
                            "leak")
    if len(np.unique(train)) != len(train) or len(np.unique(val)) != len(val):
        raise ExerciseError("an index appears twice within a split")
    if not np.array_equal(np.sort(np.concatenate([train, val])), np.arange(len(grades))):
        raise ExerciseError("every image must be in exactly one split (some are missing or out of "
                            "range)")
    for g, n in enumerate(counts):
        n_val = int((grades[val] == g).sum())
        if n_val == 0 or n_val == n:
            where = "validation" if n_val == n else "training"
            raise ExerciseError(f"grade {g} is only in {where}: that is the seed's unshuffled cut. "
                                "Split within each grade (stratify)")
        if abs(n_val - 0.2 * n) > 1.5:
            raise ExerciseError(f"grade {g}: {n_val} of {n} in validation, expected about "
                                f"{0.2 * n:.0f} (stratify: the same fraction of every grade)")
    if np.array_equal(np.sort(np.asarray(split_indices(grades, 0.2, 1)[1]).ravel()), np.sort(val)):
        raise ExerciseError("the split ignores the seed: shuffle with np.random.default_rng(seed)")
    return f"{len(train)} training and {len(val)} validation images, every grade in both."


@exercise_check("Quadratic weighted kappa")
def check_qwk(qwk) -> str:
    """``qwk(y_true, y_pred) -> float`` must match scikit-learn's quadratic Cohen's kappa."""
    from sklearn.metrics import cohen_kappa_score

    rng = np.random.default_rng(0)
    cases = [([0, 1, 2, 3, 4], [0, 1, 2, 3, 4]), ([0, 0, 1, 2, 3, 4], [0, 1, 1, 2, 4, 4]),
             ([0, 1, 2, 3, 4, 4], [4, 3, 2, 1, 0, 0])]
    y = rng.integers(0, 5, 200)
    cases.append((y, np.clip(y + rng.integers(-1, 2, 200), 0, 4)))
    cases.append((y, rng.integers(0, 5, 200)))
    for y_true, y_pred in cases:
        expected = cohen_kappa_score(y_true, y_pred, weights="quadratic", labels=list(range(5)))
        got = float(qwk(np.asarray(y_true), np.asarray(y_pred)))
        if not np.isclose(got, expected, atol=1e-9):
            raise ExerciseError(f"for y_true={list(y_true)[:6]}..., y_pred={list(y_pred)[:6]}... "
                                f"you return {got:.4f}, expected {expected:.4f}. Check W_ij = "
                                "(i-j)^2/(K-1)^2 and E = outer(row sums, column sums) / N")
    constant = float(qwk(y, np.zeros_like(y)))
    if not np.isclose(constant, 0, atol=1e-9):
        raise ExerciseError("always predicting grade 0 must give QWK 0 (chance level), you return "
                            f"{constant:.4f}")
    return "It matches scikit-learn; always predicting one grade scores 0."


@exercise_check("Ben Graham's filter")
def check_ben_graham(ben_graham) -> str:
    """``ben_graham(image, sigma) -> uint8`` = clip(round(4 I - 4 G_sigma*I + 128), 0, 255)."""
    from qdr_course.retina.fundus import synthetic_fundus
    from qdr_course.retina.preprocessing import ben_graham as reference

    image = synthetic_fundus(3, size=64, seed=4)[0]
    out = np.asarray(ben_graham(image, 2.0))
    if out.shape != image.shape:
        raise ExerciseError(f"the output must have the image's shape {image.shape}, got "
                            f"{out.shape}")
    if out.dtype != np.uint8:
        raise ExerciseError("return uint8 (clip to 0..255, round, then .astype(np.uint8)), got "
                            f"{out.dtype}")
    expected = reference(image, sigma=2.0, rim=None)
    diff = np.abs(out.astype(int) - expected.astype(int))
    # the borders depend on the blur's edge mode
    diff[:6], diff[-6:], diff[:, :6], diff[:, -6:] = 0, 0, 0, 0
    if diff.max() > 1:
        i, j, c = np.unravel_index(np.argmax(diff), diff.shape)
        raise ExerciseError(f"pixel ({i}, {j}, channel {c}) is {out[i, j, c]}, expected "
                            f"{expected[i, j, c]}. Work in floats (x = image.astype(np.float64): 4 "
                            "* a uint8 array wraps around at 256) and blur each channel "
                            "separately: gaussian_filter(x, sigma=(sigma, sigma, 0))")
    return "Illumination is gone; lesions and vessels stand out on grey."


def _prediction_graders():
    """IDRiD's test grades and the two graders of exercise 4.3."""
    from qdr_course.retina.idrid import idrid_labels

    grades = idrid_labels("test")[1]
    one_up = np.minimum(grades + 1, 4)              # A: one grade too high, 4 stays 4
    pdr_missed = np.where(grades == 4, 0, grades)  # B: right, but proliferative called "no DR"
    return grades, one_up, pdr_missed


@exercise_check("Predict two graders' QWK")
def check_qwk_prediction(my_prediction) -> str:
    """``my_prediction() -> (qwk_a, qwk_b)`` within 0.15 of the measured QWKs. See lesson 04."""
    from qdr_course.retina.metrics import quadratic_weighted_kappa

    answer = my_prediction() if callable(my_prediction) else my_prediction
    if answer is None:
        raise ExerciseError("return your two predictions, e.g. (0.5, 0.5)")
    try:
        predicted = [float(v) for v in answer]
    except (TypeError, ValueError):
        raise ExerciseError("return two numbers (QWK of grader A, QWK of grader B)") from None
    if len(predicted) != 2 or not all(-1 <= v <= 1 for v in predicted):
        raise ExerciseError("return two numbers between -1 and 1 (A first, then B)")
    grades, *graders = _prediction_graders()
    measured = [quadratic_weighted_kappa(grades, g) for g in graders]
    if (predicted[0] - predicted[1]) * (measured[0] - measured[1]) < 0:
        raise ExerciseError("you ranked the two graders the wrong way round; run the next cell "
                            "and look at which errors QWK charges most")
    far = [name for name, p, m in zip("AB", predicted, measured) if abs(p - m) > 0.15]
    if far:
        raise ExerciseError(f"the ranking is right, but your QWK for grader {' and '.join(far)} "
                            "is more than 0.15 away; run the next cell and see why")
    return "both within 0.15, in the right order."


_COPY_OPTIONS = {"a": "jpeg 50", "b": "half resolution", "c": "rotated 2 deg",
                 "d": "brighter 15 %"}


@exercise_check("Predict which copy moves the hash most")
def check_copy_prediction(my_choice) -> str:
    """``my_choice() -> letter``: the copy with the largest median hash distance. See lesson 04."""
    from qdr_course.retina.copies import copy_distances
    from qdr_course.retina.idrid import load_idrid_photographs

    letter = my_choice() if callable(my_choice) else my_choice
    if letter is None:
        raise ExerciseError("return one letter, 'a' to 'd'")
    letter = str(letter).strip().strip("()").lower()
    if letter not in _COPY_OPTIONS:
        raise ExerciseError(f"return one of the letters a-d; got {letter!r}")
    _, photos = load_idrid_photographs("test", ids=[f"IDRiD_{i:03d}" for i in range(1, 101, 8)])
    medians = {kind: float(np.median(d)) for kind, d in
               copy_distances(photos, kinds=tuple(_COPY_OPTIONS.values())).items()}
    if medians[_COPY_OPTIONS[letter]] < max(medians.values()):
        raise ExerciseError(f"{_COPY_OPTIONS[letter]} is not the copy that moves the hash most; "
                            "run the measurement below and compare")
    return "run the measurement below to see by how much."
