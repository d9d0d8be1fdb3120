"""Formulas that lessons 00-03 state, checked against Qiskit and Aer (issue 23 items 3, 4, 6, 7)."""

import math

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import Operator, Statevector

from qdr_course.checks import (
    check_any_shift_gradient,
    check_best_step,
    check_p1_predictions,
    check_product_amplitudes,
    check_z_after_ry_on_one,
)
from qdr_course.checks.concepts import QUESTIONS
from qdr_course.quantum import expectation_values, retinopathy_circuit


def test_amplitude_index_is_the_little_endian_binary_number():
    """Lesson 01: |q_{n-1} ... q_0> sits at index sum_k 2^k q_k, and equals np.kron in order."""
    rng = np.random.default_rng(0)
    states = [rng.normal(size=2) + 1j * rng.normal(size=2) for _ in range(3)]
    states = [s / np.linalg.norm(s) for s in states]  # qubit 0, 1, 2
    circuit = QuantumCircuit(3)
    for qubit, state in enumerate(states):
        circuit.initialize(state, qubit)
    joint = Statevector(circuit).data
    assert np.allclose(joint, np.kron(states[2], np.kron(states[1], states[0])))
    for bits in range(8):
        q = [(bits >> k) & 1 for k in range(3)]
        assert np.isclose(joint[bits], states[0][q[0]] * states[1][q[1]] * states[2][q[2]])


def test_operator_tensor_puts_the_left_factor_on_the_higher_qubit():
    a, b = Operator.from_label("X"), Operator.from_label("H")
    circuit = QuantumCircuit(2)
    circuit.x(1)
    circuit.h(0)
    assert a.tensor(b).equiv(Operator(circuit))
    assert np.allclose(Operator(circuit).data, np.kron(a.data, b.data))


def test_readout_error_is_a_shrink_and_a_shift():
    """Lesson 03: <Z>_read = (1 - p01 - p10) <Z> + (p10 - p01), against Aer with readout error."""
    from qiskit_aer import AerSimulator
    from qiskit_aer.noise import NoiseModel, ReadoutError

    p01, p10 = 0.03, 0.11  # P(read 1 | 0), P(read 0 | 1)
    noise = NoiseModel()
    noise.add_all_qubit_readout_error(ReadoutError([[1 - p01, p01], [p10, 1 - p10]]))
    simulator = AerSimulator(noise_model=noise, seed_simulator=1)
    shots = 200_000
    for theta in (0.0, 1.0, 2.0, math.pi):
        circuit = QuantumCircuit(1, 1)
        circuit.ry(theta, 0)
        circuit.measure(0, 0)
        counts = simulator.run(circuit, shots=shots).result().get_counts()
        z_read = (counts.get("0", 0) - counts.get("1", 0)) / shots
        predicted = (1 - p01 - p10) * math.cos(theta) + (p10 - p01)
        assert abs(z_read - predicted) < 4 / math.sqrt(shots), (theta, z_read, predicted)


def test_mitigation_formula_inverts_the_readout_formula():
    from qdr_course.retina.device import mitigate_readout

    p01, p10, z = 0.02, 0.06, np.array([[-0.03, 0.5, -0.9]])
    read = (1 - p01 - p10) * z + (p10 - p01)
    assert np.allclose(mitigate_readout(read, np.tile([p01, p10], (3, 1))), z)
    assert read[0, 0] > 0 > z[0, 0]  # concept check 3.2: the shift flips a small <Z>


def test_any_shift_gives_the_exact_derivative_of_a_sinusoid():
    """Lesson 02: E' = [E(t + s) - E(t - s)] / (2 sin s) for every s not a multiple of pi."""
    circuit = retinopathy_circuit(3, 2)
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=3), rng.normal(size=6)

    def energy(t):
        return expectation_values(circuit, x, np.concatenate([[t], w[1:]]))[0]

    exact = (energy(0.4 + 1e-6) - energy(0.4 - 1e-6)) / 2e-6
    for s in (0.2, 1.0, math.pi / 2, 2.9):
        assert (energy(0.4 + s) - energy(0.4 - s)) / (2 * math.sin(s)) == pytest.approx(
            exact, abs=1e-8)


def test_a_frequency_two_angle_makes_the_plain_rule_zero():
    """Concept check 2.1: for E(t) = A + B cos 2t + C sin 2t the pi/2 rule gives 0 everywhere."""
    for t in np.linspace(-3, 3, 7):
        e = lambda u: 0.3 + 0.5 * math.cos(2 * u) - 0.2 * math.sin(2 * u)  # noqa: E731
        assert abs((e(t + math.pi / 2) - e(t - math.pi / 2)) / 2) < 1e-12


def test_the_best_step_minimises_the_total_error_and_lies_near_the_crossing():
    eps, slope = np.finfo(float).eps, 0.5
    hs = np.logspace(-8, -2, 20001)
    total = hs**2 * slope / 6 + eps / hs
    best = hs[np.argmin(total)]
    assert best == pytest.approx((3 * eps / slope) ** (1 / 3), rel=1e-3)
    crossing = (6 * eps / slope) ** (1 / 3)
    assert crossing / best == pytest.approx(2 ** (1 / 3), rel=1e-3)
    assert check_best_step(lambda: crossing) and check_best_step(lambda: best)


@pytest.mark.parametrize("s_range,at_most,at_least", [(math.pi / 2, 1, 0), (math.pi, 2, 1),
                                                       (2 * math.pi, 4, 3)])
def test_an_encoding_range_of_length_2s_bounds_the_turning_points(s_range, at_most, at_least):
    """Lesson 03: a sinusoid on an arc of length 2s turns between ceil(2s/pi) - 1 and
    floor(2s/pi) times, whatever its phase (open range)."""
    alphas = np.linspace(-s_range, s_range, 4001)[1:-1]
    for phi in np.linspace(0, 2 * math.pi, 181):
        slope = np.sign(np.diff(np.cos(alphas - phi)))
        turns = int((slope[1:] * slope[:-1] < 0).sum())
        assert at_least <= turns <= at_most, (phi, turns)


def test_the_new_checks_accept_right_answers_and_refuse_the_classic_slips(capsys):
    assert check_p1_predictions(lambda: [0.5, 1.0, 0.5, 0.0])
    assert not check_p1_predictions(lambda: [0.5, 0.0, 0.5, 1.0])  # forgot the half angle
    assert not check_p1_predictions(lambda: [0.71, 1.0, 0.71, 0.0])  # forgot to square
    assert check_z_after_ry_on_one(lambda t: -math.cos(t))
    assert not check_z_after_ry_on_one(lambda t: math.cos(t))  # the |0> formula
    assert check_product_amplitudes(lambda: [0, 0.707, 0, 0.707])
    assert not check_product_amplitudes(lambda: [0, 0, 0.707, 0.707])  # |q0 q1> order
    assert check_any_shift_gradient(lambda f, t, s: (f(t + s) - f(t - s)) / (2 * math.sin(s)))
    assert not check_any_shift_gradient(lambda f, t, s: (f(t + s) - f(t - s)) / 2)
    assert not check_any_shift_gradient(lambda f, t, s: (f(t + s) - f(t - s)) / (2 * s))
    out = capsys.readouterr().out
    assert "2 sin" not in out and "-cos" not in out  # a failing check never shows the answer


def test_lessons_00_to_03_have_two_concept_checks_each_with_four_options():
    for lesson in "0123":
        keys = [k for k in QUESTIONS if k.startswith(f"{lesson}.")]
        assert len(keys) >= 2, lesson
        for key in keys:
            assert len(QUESTIONS[key].options) == 4
