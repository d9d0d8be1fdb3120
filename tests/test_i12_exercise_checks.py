"""Issue 12, item 6: the predict-then-run exercises pass right answers, and wrong ones hear what
is wrong without the answer."""

import math

import pytest
from qiskit import QuantumCircuit
from right_answers_issue_12 import RIGHT

from qdr_course import checks


def circuit(*ops):
    qc = QuantumCircuit(2)
    for name, *qubits in ops:
        getattr(qc, name)(*qubits)
    return qc


WRONG = {  # check -> [(wrong answer, words the message must hold, the answer it must not show)]
    "check_anticorrelated_bell": [
        (lambda: circuit(("h", 0), ("cx", 0, 1)), "always DISAGREE", None),
        (lambda: circuit(("h", 0), ("cx", 0, 1), ("x", 1), ("z", 0)), "relative phase", None),
        (lambda: circuit(("x", 0)), "must be random", None),
        (lambda: QuantumCircuit(3), "2-qubit circuit", None)],
    "check_bloch_angle": [(lambda: 2 * math.pi / 3, "not negative", "4.19"),
                          (lambda: 1.0, "not -0.5", "4.19")],
    "check_best_step": [(lambda: 1e-8, "too small", "1e-05"), (lambda: 1e-2, "too large", "1e-05")],
    "check_fd_shots_to_match": [(lambda: 10_000, "too few", "9438"),
                                (lambda: 1e6, "too many", "9438")],
    "check_four_term_gradient": [
        (lambda f, t: (f(t + math.pi / 2) - f(t - math.pi / 2)) / 2, "two-term rule", "sqrt"),
        (lambda f, t: 0.5 * (f(t + math.pi / 2) - f(t - math.pi / 2))
         - 0.1 * (f(t + 3 * math.pi / 2) - f(t - 3 * math.pi / 2)), "not exact", "sqrt")],
    "check_encoding_collision": [(lambda: (0.5, 0.5 + 2 * math.pi), "(0, 3)", None),
                                 (lambda: (0.5, 1.5), "differ", None),
                                 (lambda: (1.0, 1.05), "at least 0.1", None),
                                 (lambda: 3.0, "two numbers", None)],
    "check_highest_frequency": [(lambda: 3, "too low", "6"), (lambda: 12, "too high", "6"),
                                (lambda: 6.0, "whole number", None)],
}


@pytest.mark.parametrize("name", sorted(WRONG))
def test_right_passes_and_wrong_is_told_why_without_the_answer(name, capsys):
    check = getattr(checks, name)
    assert check(RIGHT[name]), capsys.readouterr().out
    capsys.readouterr()
    for answer, says, never in WRONG[name]:
        assert not check(answer)
        out = capsys.readouterr().out
        assert out.startswith("❌ Not yet") and says in out, out
        if never:
            assert never not in out, out


def test_the_old_encoding_message_no_longer_shows_the_formula(capsys):
    import torch
    assert not checks.check_encode_angles(lambda z: 1.2 * torch.tanh(z))
    out = capsys.readouterr().out
    assert "pi/2) * tanh" not in out and "not the encoding described above" in out
