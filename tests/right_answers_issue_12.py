"""Right answers for the checks added by issue 12 (used by test_checks_nan and test_i12_*)."""

import math

from qiskit import QuantumCircuit

from qdr_course.checks import QUESTIONS
from qdr_course.quantum import four_term_gradient


def anticorrelated_bell() -> QuantumCircuit:
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.x(1)
    return qc


RIGHT = {
    "check_anticorrelated_bell": anticorrelated_bell,
    "check_bloch_angle": lambda: 4 * math.pi / 3,
    "check_best_step": lambda: 1e-5,
    "check_fd_shots_to_match": lambda: 94382,
    "check_four_term_gradient": four_term_gradient,
    "check_encoding_collision": lambda: (1.0, math.pi - 1.0),
    "check_highest_frequency": lambda: 6,
    **{f"check_concept_{key.replace('.', '_')}": (lambda key=key: QUESTIONS[key].right)
       for key in QUESTIONS},
}
