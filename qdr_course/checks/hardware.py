"""Exercise checks for lesson 09 (on a real quantum computer)."""

from __future__ import annotations

import math

import numpy as np

from qdr_course.checks._core import ExerciseError, exercise_check

__all__ = ["check_depth_limit", "check_readout_prediction"]


def _as_int(value, what: str) -> int:
    """A whole number from the learner's answer, or a message saying what to return."""
    if value is None:
        raise ExerciseError("your function returns None: did you forget `return`?")
    number = float(value)
    if number != round(number):
        raise ExerciseError(f"{what} is a whole number of layers; got {number:g} (round down: "
                            "a layer is either there or not)")
    return int(round(number))


@exercise_check("Exercise 9.2 (how deep before the fidelity drops below a threshold)")
def check_depth_limit(depth_limit) -> str:
    """``depth_limit(f1, f2, threshold)``: deepest L with f1 * (f2 / f1)**(L - 1) >= threshold."""
    from qdr_course.quantum.ibm import depth_limit as reference

    cases = [(0.854, 0.837, 0.5), (0.964, 0.954, 0.5), (0.9, 0.8, 0.5), (0.99, 0.98, 0.9),
             (0.95, 0.90, 2 / 3), (0.45, 0.40, 0.5), (0.7, 0.6, 0.55)]
    for f1, f2, threshold in cases:
        got = _as_int(depth_limit(f1, f2, threshold), "the depth")
        want = reference(f1, f2, threshold)
        if got == want:
            continue
        if got == want + 1:
            raise ExerciseError(f"for F(1) = {f1}, F(2) = {f2} your depth is the first one BELOW "
                                f"{threshold:g}: return the deepest one still accepted")
        linear = 1 + math.floor((f1 - threshold) / (f1 - f2)) if f1 >= threshold else 0
        if got == linear:
            raise ExerciseError("you let the fidelity fall by the same AMOUNT per layer; each "
                                "layer multiplies it by the same FACTOR F(2)/F(1)")
        if got == math.floor(math.log(threshold) / math.log(f2)):
            raise ExerciseError("F(2) is the fidelity of two layers, not the factor per layer: "
                                "the factor is F(2)/F(1), and the first layer gives F(1)")
        raise ExerciseError(f"for F(1) = {f1}, F(2) = {f2} and threshold {threshold:g} your "
                            f"depth {got} is not the deepest accepted one")
    return ("each layer multiplies the fidelity by F(2)/F(1), so the depth grows like "
            "log(threshold / F(1)) / log(F(2) / F(1)).")


def _z_readings(e0: float, e1: float) -> dict[str, float]:
    """Expected readings: |1> and |+> without twirling, |1> with twirling (no mitigation)."""
    return {"one_raw": -(1 - e0 - e1) + (e1 - e0), "plus_raw": e1 - e0,
            "one_twirled": -(1 - e0 - e1)}


@exercise_check("Exercise 9.1 (predict what a misread qubit reports)")
def check_readout_prediction(my_prediction, e0: float = 0.01, e1: float = 0.05) -> str:
    """``my_prediction()`` = (<Z> read for |1>, for |+>, for |1> with the readout twirled) on a
    qubit misread with e0 = P(read 1 | 0) and e1 = P(read 0 | 1).
    """
    answer = my_prediction() if callable(my_prediction) else my_prediction
    if answer is None:
        raise ExerciseError("your function returns None: return three numbers")
    values = [float(v) for v in np.ravel(np.asarray(answer, dtype=float))]
    if len(values) != 3:
        raise ExerciseError(f"return three numbers (|1> raw, |+> raw, |1> twirled); got "
                            f"{len(values)}")
    want = _z_readings(float(e0), float(e1))
    names = {"one_raw": "|1> without twirling", "plus_raw": "|+> without twirling",
             "one_twirled": "|1> with the readout twirled"}
    for value, key in zip(values, want):
        if abs(value - want[key]) <= 2e-3:
            continue
        if key == "one_raw" and abs(value + (1 - e0 - e1)) <= 2e-3:
            raise ExerciseError(f"{names[key]}: readout does not only shrink <Z>; a 1 is misread "
                                "as 0 with its own probability, which also shifts it")
        if key == "plus_raw" and abs(value) <= 2e-3:
            raise ExerciseError(f"{names[key]}: the exact <Z> is 0, but the two ways of misreading "
                                "are not equally likely, so the reading is not 0")
        if key == "one_twirled" and abs(value - want["one_raw"]) <= 2e-3:
            raise ExerciseError(f"{names[key]}: with an X before half the measurements (and the "
                                "bit flipped back), half the shots of |1> are read as a 0 state")
        if key == "one_twirled" and abs(value + 1) <= 2e-3:
            raise ExerciseError(f"{names[key]}: twirling alone does not undo the errors; it "
                                "makes them the same for 0 and 1 (dividing comes later)")
        raise ExerciseError(f"{names[key]}: your {value:+.4f} is not what this qubit reports on "
                            "average; write P(read 0) - P(read 1) for that state")
    return ("a misread qubit shrinks AND shifts <Z>; twirling averages the two error rates, "
            "which leaves a pure shrink that a calibration can divide out.")
