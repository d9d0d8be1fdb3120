"""Every exercise check fails NaN and infinite answers, and never shows the expected answer then.

Probe of issue 10: check_erf_ntk, check_sigmoid_pair_floor and check_lesion_enrichment gave ✅
to answers containing NaN (``abs(nan - x) > tol`` is False), e.g. a kernel wrong by 2x with one
NaN "matched to 1e-10". The guard lives in the checks' common core (``exercise_check``); the
checks are found by name, so a new check without a right answer below fails this file.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter

from qdr_course import checks
from qdr_course.checks import exercise_check
from qdr_course.checks._core import non_finite_kind
from qdr_course.ntk import MU, erf_ntk, sparsity_pattern
from qdr_course.quantum.hhl import clock_reading
from qdr_course.quantum.ibm import depth_limit as _depth_limit
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
    "check_p1_predictions": lambda: [0.5, 1.0, 0.5, 0.0],
    "check_ry_matrix": ry,
    "check_z_after_ry_on_one": lambda t: -np.cos(t),
    "check_product_amplitudes": lambda: [0.0, np.sqrt(0.5), 0.0, np.sqrt(0.5)],
    "check_z_expectation_from_counts": z_from_counts,
    "check_shift_gradient": shift,
    "check_any_shift_gradient": lambda f, t, s: (f(t + s) - f(t - s)) / (2 * np.sin(s)),
    "check_shared_parameter_gradient": shared,
    "check_shots_needed": shots,
    "check_encode_angles": lambda z: (np.pi / 2) * torch.tanh(z),
    "check_depth_limit": lambda f1, f2, threshold: _depth_limit(f1, f2, threshold),
    "check_readout_prediction": lambda: (-1 + 2 * 0.05, 0.05 - 0.01, -(1 - 0.01 - 0.05)),
    "check_train_step": train_step,
    "check_label_map": lambda names: {n: ICDR.index(n) for n in names},
    "check_stratified_split": _split,
    "check_qwk": lambda a, b: qwk_from_confusion(confusion(a, b)),
    "check_ben_graham": _ben_graham,
    "check_qwk_prediction": lambda: (0.8, 0.45),
    "check_copy_prediction": lambda: "c",
    "check_sigmoid_pair_floor": sigmoid_pair_loss_floor,
    "check_saliency_map": saliency_map,
    "check_lesion_enrichment": lesion_enrichment,
    "check_temperature_prediction": lambda: 0,
    "check_saliency_prediction": lambda: "filter",
    "check_erf_ntk": lambda x1, x2, depth: erf_ntk(x1, x2, depth),
    "check_sparsity_pattern": sparsity_pattern,
    "check_max_factor": lambda k: (np.abs(k).max() / np.abs(k).max(axis=1)) ** 2,
    "check_clock_reading": clock_reading,
    "check_depth_growth": lambda: (8 * math.log(2) / MU, 8 * math.log(2) / MU),
    "check_width_gap_prediction": lambda: 8.0,
    "check_success_prediction": lambda: (0.01, 1.0),
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
    for finite in (None, "b", "No_DR", True, 3, np.arange(4), torch.arange(3), {"x": 1.0},
                   [1e308], "1.5", jnp.arange(3.0)):
        assert non_finite_kind(finite) is None
    # issue 27: routes by which a NaN used to reach a check unseen
    assert non_finite_kind(jnp.array([1.0, jnp.nan])) == "NaN"
    assert non_finite_kind("nan") == "NaN" and non_finite_kind(" -inf") == "an infinite value"
    assert non_finite_kind({"a": "NaN"}) == "NaN"
    assert non_finite_kind(torch.tensor([1j, complex("nan")])) == "NaN"


class _CallableObject:
    """An answer that is an object with ``__call__``, not a function."""

    def __init__(self, function):
        self.function = function

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)


def nan_routes(right):
    """Ways a learner's answer can carry NaN: each a callable like the right answer."""
    nan = math.nan
    return {
        "numpy float": lambda *a, **k: np.float64(nan),
        "jax array": lambda *a, **k: jnp.array([nan])[0],
        "jax array in a right-shaped answer": lambda *a, **k: _as_jax(poison(right(*a, **k), nan)),
        "torch tensor": lambda *a, **k: torch.tensor(nan),
        'the string "nan"': lambda *a, **k: "nan",
        "np.vectorize": np.vectorize(lambda *a, **k: nan),
        "jax.jit": jax.jit(lambda *a: jnp.nan),
        "object with __call__": _CallableObject(poisoned(right, nan)),
    }


def _as_jax(value):
    """``value`` with its arrays as JAX arrays (left alone where JAX has no such dtype)."""
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return jnp.asarray(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_as_jax(v) for v in value)
    return value


@pytest.mark.parametrize("name", CHECKS)
def test_no_route_of_nan_earns_a_tick(name, capsys):
    """Issue 27: a NaN as a JAX array, a string, or through a callable that is not a plain
    function (np.vectorize, jax.jit, an object with __call__) is never praised."""
    check = getattr(checks, name)
    for route, answer in nan_routes(RIGHT[name]).items():
        passed = check(answer)
        out = capsys.readouterr().out
        assert not passed and "✅" not in out and "Correct" not in out, (route, out)


@pytest.mark.parametrize("answer", [np.vectorize(lambda k: np.nan), lambda: "nan"])
def test_the_issue_27_repros(answer, capsys):
    check = (checks.check_sigmoid_pair_floor if isinstance(answer, np.vectorize)
             else checks.check_bloch_angle)
    assert not check(answer)
    out = capsys.readouterr().out
    assert out.startswith("❌ Not yet") and "NaN" in out, out


def test_a_check_that_cannot_read_the_answer_does_not_blame_the_learners_code(capsys):
    assert not checks.check_bloch_angle(lambda: [0.1, 0.2])
    out = capsys.readouterr().out
    assert "the check could not use what your function returned" in out, out
    assert "your code raised" not in out
