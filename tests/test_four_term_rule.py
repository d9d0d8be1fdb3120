"""Issue 12, item 4: the four-term parameter-shift rule for CRX, CRY and CRZ, checked against
autograd through the torch simulator and against finite differences on random circuits."""

import numpy as np
import pytest
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector

from qdr_course.quantum import (
    ParameterizedCircuit,
    TorchStatevector,
    aer_estimator,
    expectation_values,
    finite_difference_gradient,
    four_term_gradient,
    parameter_shift_jacobian,
    shift_gradient,
    z_observables,
)
from qdr_course.quantum.parameter_shift import FOUR_TERM_COEFFICIENTS, gate_gradients


def test_four_term_rule_is_exact_for_every_trig_polynomial_of_frequencies_half_and_one():
    rng = np.random.default_rng(3)
    for _ in range(20):
        a, b, c, d, e, theta = rng.normal(size=6)
        def f(t, a=a, b=b, c=c, d=d, e=e):
            return a + b * np.cos(t / 2) + c * np.sin(t / 2) + d * np.cos(t) + e * np.sin(t)

        exact = -b / 2 * np.sin(theta / 2) + c / 2 * np.cos(theta / 2) - d * np.sin(theta) \
            + e * np.cos(theta)
        assert four_term_gradient(f, theta) == pytest.approx(exact, abs=1e-12)
    d_plus, d_minus = FOUR_TERM_COEFFICIENTS
    assert d_plus + d_minus == pytest.approx(0.5)  # frequency 1 alone: the two-term rule.s 1/2


def random_controlled_circuit(seed: int) -> ParameterizedCircuit:
    """3 qubits: RY inputs, then random CRX/CRY/CRZ/RY weights, a weight shared by two gates."""
    rng = np.random.default_rng(seed)
    x, w = ParameterVector("x", 3), ParameterVector("w", 5)
    qc = QuantumCircuit(3)
    qc.h(range(3))
    for q in range(3):
        qc.ry(x[q], q)
    for k in range(5):
        gate = rng.choice(["crx", "cry", "crz", "ry"])
        control, target = rng.choice(3, size=2, replace=False)
        if gate == "ry":
            qc.ry(w[k], int(target))
        else:
            getattr(qc, gate)(w[k], int(control), int(target))
        qc.cx(int(target), int(control))
    qc.cry(2 * w[0] + 0.3, 0, 2)  # a shared weight inside an expression
    qc.crx(x[1] - w[1], 2, 1)
    return ParameterizedCircuit(qc, list(x), list(w), z_observables(3))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_four_term_jacobian_equals_autograd_and_finite_differences(seed):
    pc = random_controlled_circuit(seed)
    assert {"crx", "cry", "crz"} & set(pc.circuit.count_ops())
    rng = np.random.default_rng(seed + 10)
    x, w = rng.normal(size=3), rng.normal(size=5)
    jac = parameter_shift_jacobian(pc, x, w)
    sim = TorchStatevector(pc)
    auto = torch.autograd.functional.jacobian(
        lambda q: sim.run(q[:3][None], q[3:])[0], torch.tensor(np.concatenate([x, w]))).numpy()
    np.testing.assert_allclose(jac, auto, atol=1e-12)
    f = lambda p: expectation_values(pc, p[:3], p[3:])
    np.testing.assert_allclose(jac, finite_difference_gradient(f, np.concatenate([x, w]), 1e-6),
                               atol=1e-8)


def test_four_term_jacobian_on_aer_and_in_a_batch():
    pc = random_controlled_circuit(5)
    rng = np.random.default_rng(7)
    xs, w = rng.normal(size=(4, 3)), rng.normal(size=5)
    batch = parameter_shift_jacobian(pc, xs, w, aer_estimator())
    assert batch.shape == (4, 3, 8)
    for row, x in zip(batch, xs):
        np.testing.assert_allclose(row, parameter_shift_jacobian(pc, x, w), atol=1e-10)


def test_the_two_term_rule_is_wrong_for_a_controlled_rotation_and_the_four_term_right():
    pc = random_controlled_circuit(1)
    ga_theta = np.random.default_rng(0).normal(size=(2, 1))
    f = lambda t: np.cos(t / 2) + 0.3 * np.sin(t)  # frequencies 1/2 and 1

    def evaluate(rows):
        return f(rows[:, :1])

    two = gate_gradients(evaluate, ga_theta)
    four = gate_gradients(evaluate, ga_theta, four_term=[True])
    exact = -np.sin(ga_theta / 2) / 2 + 0.3 * np.cos(ga_theta)
    np.testing.assert_allclose(four[..., 0], exact, atol=1e-12)
    assert np.abs(two[..., 0] - exact).max() > 1e-2
    assert shift_gradient(f, 0.4) != pytest.approx(four_term_gradient(f, 0.4), abs=1e-3)
    with pytest.raises(ValueError, match="one flag per gate angle"):
        gate_gradients(evaluate, ga_theta, four_term=[True, False])
    assert pc.num_weights == 5
