"""Exercise checks for lesson 00 (welcome)."""

from __future__ import annotations

import numpy as np

from qdr_course.checks._core import exercise_check

__all__ = ["check_probability_of_one", "check_p1_predictions"]


def _ry(theta: float) -> np.ndarray:
    """The RY(theta) rotation matrix, written out (independent of any closed form)."""
    c, s = np.cos(theta / 2), np.sin(theta / 2)
    return np.array([[c, -s], [s, c]])


@exercise_check("Exercise 0.1 (probability of measuring 1)")
def check_probability_of_one(probability_of_one) -> str:
    """Check ``probability_of_one(theta)`` = P(1) after RY(theta) on |0>, for many angles."""
    thetas = np.linspace(-2 * np.pi, 2 * np.pi, 17)
    for theta in thetas:
        expected = abs((_ry(theta) @ np.array([1.0, 0.0]))[1]) ** 2
        got = probability_of_one(float(theta))
        assert got is not None, "your function returns None: did you forget `return`?"
        got = float(got)
        assert np.isclose(got, expected, atol=1e-9), (
            f"for theta = {theta:.3f} you return {got:.4f}, but P(1) = {expected:.4f}. "
            "Hint: RY(theta)|0> = cos(theta/2)|0> + sin(theta/2)|1>, and a probability is an "
            "amplitude squared.")
    return f"P(1) = sin^2(theta/2) at all {len(thetas)} test angles."


PREDICTION_ANGLES = (np.pi / 2, np.pi, 3 * np.pi / 2, 2 * np.pi)


@exercise_check("Exercise 0.1 (predicted probabilities of measuring 1)")
def check_p1_predictions(my_predictions) -> str:
    """Check four predicted P(1) after RY(theta)|0>, theta = pi/2, pi, 3pi/2, 2pi (to 0.02)."""
    got = my_predictions() if callable(my_predictions) else my_predictions
    assert got is not None, "your function returns None: return a list of four numbers."
    got = np.asarray(got, dtype=float).ravel()
    assert got.size == len(PREDICTION_ANGLES), (
        f"give {len(PREDICTION_ANGLES)} numbers, one per angle pi/2, pi, 3pi/2, 2pi; "
        f"you gave {got.size}.")
    assert ((got >= 0) & (got <= 1)).all(), "a probability lies between 0 and 1."
    names = ("pi/2", "pi", "3pi/2", "2pi")
    wrong = [name for name, theta, p in zip(names, PREDICTION_ANGLES, got)
             if abs(p - abs((_ry(theta) @ np.array([1.0, 0.0]))[1]) ** 2) > 0.02]
    assert not wrong, (
        f"not yet right for theta = {', '.join(wrong)}. Hint: put the angle into the formula "
        "for the amplitude of |1> - mind the half angle - and square it.")
    return "all four predictions match the rotation matrix."
