"""Every exercise check fails NaN and infinite answers, and never shows the expected answer then.

Probe of issue 10: check_erf_ntk, check_sigmoid_pair_floor and check_lesion_enrichment gave ✅
to answers containing NaN (``abs(nan - x) > tol`` is False), e.g. a kernel wrong by 2x with one
NaN "matched to 1e-10". The guard lives in the checks' common core (``exercise_check``); the
checks are found by name, so a new check without a right answer below fails this file.
"""

import math

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter

from qdr_course import checks
from qdr_course.checks import exercise_check
from qdr_course.checks._core import non_finite_kind
from qdr_course.ntk import convergence_depth, erf_ntk, readout_overlap, sparsity_pattern
from qdr_course.quantum.hhl import rotation_angles
from qdr_course.retina.metrics import confusion, qwk_from_confusion
from qdr_course.retina.models import lesion_enrichment, saliency_map, sigmoid_pair_loss_floor
from qdr_course.retina.splits import stratified_split

ICDR = ["No_DR", "Mild", "Moderate", "Severe", "Proliferate_DR"]


def _ben_graham(image, sigma):
    x = image.astype(np.float64)
    blurred = gaussian_filter(x, (sigma, sigma, 0))
    return np.clip(np.rint(4 * x - 4 * blurred + 128), 0, 255).astype(np.uint8)


def _split(grades, fraction, seed):
    train, val, test = stratified_split(grades, fraction / 2, fraction / 2, seed)
    return train, np.concatenate([val, test])


import right_answers_issue_12 as issue_12  # noqa: E402 - tests/ is on sys.path (rootdir import)
from test_quantum_checks import ry, shared, shift, shots, train_step, z_from_counts  # noqa: E402

#: A right answer for every check (each must pass with it, so a poisoned copy tests the guard).
RIGHT = {
    "check_probability_of_one": lambda t: np.sin(t / 2) ** 2,
    "check_ry_matrix": ry,
    "check_z_expectation_from_counts": z_from_counts,
    "check_shift_gradient": shift,
    "check_shared_parameter_gradient": shared,
    "check_shots_needed": shots,
    "check_encode_angles": lambda z: (np.pi / 2) * torch.tanh(z),
    "check_fidelity_from_errors": lambda g, r: float(np.prod(1 - np.asarray(g))
                                                     * np.prod(1 - np.asarray(r))),
    "check_train_step": train_step,
    "check_label_map": lambda names: {n: ICDR.index(n) for n in names},
    "check_stratified_split": _split,
    "check_qwk": lambda a, b: qwk_from_confusion(confusion(a, b)),
    "check_ben_graham": _ben_graham,
    "check_sigmoid_pair_floor": sigmoid_pair_loss_floor,
    "check_saliency_map": saliency_map,
    "check_lesion_enrichment": lesion_enrichment,
    "check_temperature_prediction": lambda: 0,
    "check_saliency_prediction": lambda: "filter",
    "check_convergence_depth": convergence_depth,
    "check_erf_ntk": lambda x1, x2, depth: erf_ntk(x1, x2, depth),
    "check_sparsity_pattern": sparsity_pattern,
    "check_rotation_angles": rotation_angles,
    "check_readout_overlap": readout_overlap,
    **issue_12.RIGHT,
}

CHECKS = sorted(name for name in dir(checks) if name.startswith("check_")
                and callable(getattr(checks, name)))


def poison(result, bad: float):
    """A copy of a right answer with one entry replaced by ``bad`` (NaN or inf)."""
    if isinstance(result, torch.Tensor):
        out = result.clone() if result.is_floating_point() else result.double()
        with torch.no_grad():
            out.view(-1)[out.numel() // 2] = bad
        return out
    if isinstance(result, np.ndarray):
        out = result.astype(complex if result.dtype.kind == "c" else float)
        out.flat[out.size // 2] = bad
        return out
    if isinstance(result, dict):
        return {k: (bad if i == 0 else v) for i, (k, v) in enumerate(result.items())}
    if isinstance(result, tuple):
        return (poison(np.asarray(result[0]), bad),) + tuple(result[1:])
    return bad


def poisoned(right, bad):
    """The right answer, with ``bad`` in each of its results."""
    return lambda *args, **kwargs: poison(right(*args, **kwargs), bad)


def test_every_check_has_a_right_answer_here():
    assert len(CHECKS) >= 20
    missing = sorted(set(CHECKS) - set(RIGHT))
    assert not missing, f"add a right answer for {missing} to RIGHT so the NaN guard is tested"


@pytest.mark.parametrize("name", CHECKS)
def test_every_check_fails_nan_and_inf_answers_without_showing_the_answer(name, capsys):
    check = getattr(checks, name)
    assert check(RIGHT[name]), f"{name} rejects the right answer:\n{capsys.readouterr().out}"
    capsys.readouterr()
    for bad, kind in ((math.nan, "NaN"), (math.inf, "an infinite value"),
                      (-math.inf, "an infinite value")):
        for answer in (poisoned(RIGHT[name], bad), lambda *args, bad=bad, **kwargs: bad):
            assert not check(answer)
            out = capsys.readouterr().out
            assert out == (f"❌ Not yet - {check.title}: your function returned {kind}; a right "
                           "answer is always finite: look for a division by zero, the log of 0 "
                           "or of a negative number, or an overflow (exp of a large number)\n")


@pytest.mark.parametrize("name, wrong", [
    ("check_erf_ntk", lambda x1, x2, d: poison(2 * erf_ntk(x1, x2, d), math.nan)),
    ("check_sigmoid_pair_floor", lambda k: math.nan),
    ("check_lesion_enrichment", lambda s, m, f: np.float32("nan")),
])
def test_the_three_checks_that_passed_nan(name, wrong, capsys):
    assert not getattr(checks, name)(wrong)
    out = capsys.readouterr().out
    assert out.startswith("❌ Not yet") and "NaN" in out and "correct" not in out.lower()


@exercise_check("Exercise 9.9 (a value answer)")
def check_value(value):
    assert value > 0, "the value must be positive"


def test_values_and_containers_are_looked_at(capsys):
    assert check_value(1.5) and not check_value(float("nan"))
    assert "your answer contains NaN" in capsys.readouterr().out
    assert non_finite_kind([1.0, (2, {"a": np.array([1, np.inf])})]) == "an infinite value"
    assert non_finite_kind(torch.tensor([1.0, float("nan")])) == "NaN"
    assert non_finite_kind(complex(0, math.nan)) == "NaN"
    assert non_finite_kind(np.float32("-inf")) == "an infinite value"
    for finite in (None, "nan", True, 3, np.arange(4), torch.arange(3), {"x": 1.0}, [1e308]):
        assert non_finite_kind(finite) is None
