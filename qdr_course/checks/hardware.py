"""Exercise checks for lesson 09 (on a real quantum computer)."""

from __future__ import annotations

import math

import numpy as np

from qdr_course.checks._core import ExerciseError, exercise_check

__all__ = ["check_fidelity_from_errors"]


def _expected_fidelity(gate_errors, readout_errors) -> float:
    """The product of the successes of every gate and every readout."""
    return float(np.prod(1 - np.asarray(gate_errors)) * np.prod(1 - np.asarray(readout_errors)))


@exercise_check("Exercise 9.1 (expected fidelity from the device's errors)")
def check_fidelity_from_errors(fidelity_from_errors) -> str:
    """``fidelity_from_errors(gate_errors, readout_errors)`` = prod(1 - e) over both lists."""
    rng = np.random.default_rng(9)
    cases = [([0.01] * 10, [0.03] * 3), ([], [0.02, 0.05]), ([0.2] * 8, [])]
    cases += [(list(rng.uniform(0, 0.05, 40)), list(rng.uniform(0, 0.1, 4))) for _ in range(3)]
    for gates, readouts in cases:
        got = fidelity_from_errors(list(gates), list(readouts))
        if got is None:
            raise ExerciseError("your function returns None: did you forget `return`?")
        got = float(got)
        want = _expected_fidelity(gates, readouts)
        if math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12):
            continue
        if math.isclose(got, 1 - sum(gates) - sum(readouts), rel_tol=1e-9, abs_tol=1e-12):
            raise ExerciseError("you subtracted the errors from 1: that is only the first-order "
                                "approximation (it can even go negative); multiply the "
                                "successes (1 - e) instead")
        if math.isclose(got, _expected_fidelity(gates, []), rel_tol=1e-9, abs_tol=1e-12) and \
                readouts:
            raise ExerciseError("the readout errors are missing: every measured qubit can be "
                                "misread too")
        if math.isclose(got, _expected_fidelity([], readouts), rel_tol=1e-9, abs_tol=1e-12) and \
                gates:
            raise ExerciseError("the gate errors are missing: every gate can fail")
        raise ExerciseError(f"for {len(gates)} gates and {len(readouts)} readouts your value "
                            f"{got:.4g} is not the chance that nothing fails")
    return "it is the product of every gate's and every readout's chance of success."
