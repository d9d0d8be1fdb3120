"""The parameter-shift rule (lesson 02): exact, general, and its shot-noise statistics."""

import math

import numpy as np
import pytest
from qiskit.circuit import Parameter, QuantumCircuit
from qiskit.primitives import StatevectorEstimator
from qiskit.quantum_info import SparsePauliOp

from qdr_course.quantum.circuits import (
    ParameterizedCircuit,
    retinopathy_circuit,
    seed_retinopathy_circuit,
    textbook_circuit,
    xia_kais_circuit,
    z_observables,
)
from qdr_course.quantum.compiled import gate_angles
from qdr_course.quantum.parameter_shift import (
    finite_difference_gradient,
    finite_difference_variance,
    parameter_shift_jacobian,
    shift_gradient,
    shift_gradient_variance,
    shots_for_gradient,
)
from qdr_course.quantum.statevector import expectation_values


def numeric_jacobian(pc, x, w, h=1e-6):
    def f(p):
        return expectation_values(pc, p[:pc.num_inputs], p[pc.num_inputs:])
    return finite_difference_gradient(f, np.concatenate([x, w]), h)


def test_shift_rule_is_exact_for_a_sinusoid():
    f = lambda t: 0.3 + 0.7 * np.cos(t - 0.4)  # the form of every 1-gate expectation
    for t in np.linspace(-3, 3, 7):
        assert shift_gradient(f, t) == pytest.approx(-0.7 * np.sin(t - 0.4), abs=1e-14)
        # any shift s works with the 1/(2 sin s) factor; pi/2 gives the famous 1/2
        assert shift_gradient(f, t, shift=0.3) == pytest.approx(-0.7 * np.sin(t - 0.4), abs=1e-13)
    with pytest.raises(ValueError, match="multiple of pi"):
        shift_gradient(f, 0.0, shift=np.pi)


def test_textbook_gradient_is_cos_over_two_and_seed_doubles_it():
    pc = textbook_circuit()
    f = lambda t: expectation_values(pc, [t])[0]
    for t in (-1.0, 0.2, 2.5):
        exact = np.cos(t) / 2  # d/dt (1 + sin t)/2
        assert shift_gradient(f, t) == pytest.approx(exact, abs=1e-14)
        seed_style = f(t + np.pi / 2) - f(t - np.pi / 2)  # no 1/2: the seed's bug
        assert seed_style == pytest.approx(2 * exact, abs=1e-14)


@pytest.mark.parametrize("pc", [retinopathy_circuit(3, 2), xia_kais_circuit(),
                                seed_retinopathy_circuit()],
                         ids=lambda pc: pc.name)
def test_jacobian_matches_finite_differences(pc):
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=pc.num_inputs), rng.normal(size=pc.num_weights)
    jac = parameter_shift_jacobian(pc, x, w)
    assert jac.shape == (pc.num_outputs, pc.num_inputs + pc.num_weights)
    np.testing.assert_allclose(jac, numeric_jacobian(pc, x, w), atol=1e-8)


def test_shared_parameter_needs_the_sum_over_gates():
    pc = seed_retinopathy_circuit()  # t0 sits in three RY gates
    x = np.random.default_rng(3).normal(size=7)
    exact = parameter_shift_jacobian(pc, x)[:, 0]
    shift_all = np.zeros(7); shift_all[0] = np.pi / 2
    wrong = (expectation_values(pc, x + shift_all) - expectation_values(pc, x - shift_all)) / 2
    assert np.abs(wrong - exact).max() > 0.05  # shifting all three gates at once is not the rule
    np.testing.assert_allclose(exact, numeric_jacobian(pc, x, np.zeros(0))[:, 0], atol=1e-8)


def test_expression_chain_rule_and_batch():
    t, u = Parameter("t"), Parameter("u")
    qc = QuantumCircuit(2)
    qc.h(0); qc.ry(2 * t + 1, 0); qc.rx(t - 0.5 * u, 1); qc.cx(0, 1); qc.rz(-3 * u, 1); qc.ry(u, 1)
    pc = ParameterizedCircuit(qc, [t], [u], z_observables(2))
    ga = gate_angles(pc)
    np.testing.assert_allclose(ga.jacobian, [[2, 0], [1, -0.5], [0, -3], [0, 1]])
    np.testing.assert_allclose(ga.offset, [1, 0, 0, 0])
    xs = np.array([[0.3], [-1.2], [2.0]])
    jac = parameter_shift_jacobian(pc, xs, [0.7])
    assert jac.shape == (3, 2, 2)
    for x, j in zip(xs, jac):
        np.testing.assert_allclose(j, numeric_jacobian(pc, x, np.array([0.7])), atol=1e-8)


def test_estimator_argument_gives_the_same_jacobian():
    from qdr_course.quantum.backends import aer_estimator
    pc = retinopathy_circuit(3, 1)
    x, w = np.array([0.1, -0.4, 0.9]), np.array([0.3, 0.2, -1.0])
    reference = parameter_shift_jacobian(pc, x, w, StatevectorEstimator())
    np.testing.assert_allclose(parameter_shift_jacobian(pc, x, w, aer_estimator()), reference,
                               atol=1e-12)
    np.testing.assert_allclose(parameter_shift_jacobian(pc, x, w), reference,
                               atol=1e-12)  # torch default


def test_controlled_rotation_gets_the_four_term_rule_but_the_two_term_rule_is_wrong_for_it():
    a = Parameter("a")
    qc = QuantumCircuit(2)
    qc.h(0); qc.cry(a, 0, 1)
    # <X_control> = cos(a/2): frequency 1/2, which the two-term rule gets wrong
    pc = ParameterizedCircuit(qc, [a], [], [SparsePauliOp("IX")])
    assert parameter_shift_jacobian(pc, [0.3])[0, 0] == pytest.approx(-np.sin(0.15) / 2, abs=1e-12)
    f = lambda t: expectation_values(pc, [t])[0]
    assert f(0.3) == pytest.approx(np.cos(0.15))
    assert abs(shift_gradient(f, 0.3) - finite_difference_gradient(f, 0.3, 1e-6)) > 1e-3
    # a fixed (unparameterised) controlled rotation is fine
    qc2 = QuantumCircuit(2)
    qc2.ry(a, 0); qc2.cry(0.4, 0, 1)
    parameter_shift_jacobian(ParameterizedCircuit(qc2, [a], [], z_observables(2)), [0.3])


def test_input_validation():
    pc = retinopathy_circuit()
    with pytest.raises(ValueError, match="expected 3 inputs and 6 weights"):
        parameter_shift_jacobian(pc, [0.1, 0.2], np.zeros(6))
    with pytest.raises(TypeError, match="ParameterizedCircuit"):
        gate_angles(pc.circuit)
    with pytest.raises(ValueError, match="h must be positive"):
        finite_difference_gradient(np.sin, 0.0, h=0)


def test_variances_match_simulated_shots():
    rng = np.random.default_rng(0)
    e_plus, e_minus, shots = 0.4, -0.2, 200

    def estimate(e, n):  # mean of n +-1 outcomes with mean e
        return np.where(rng.random((20000, n)) < (1 + e) / 2, 1.0, -1.0).mean(axis=1)

    shift = (estimate(e_plus, shots) - estimate(e_minus, shots)) / 2
    assert shift.var() == pytest.approx(shift_gradient_variance(e_plus, e_minus, shots), rel=0.05)
    h = 0.1
    fd = (estimate(e_plus, shots) - estimate(e_minus, shots)) / (2 * h)
    assert fd.var() == pytest.approx(finite_difference_variance(e_plus, e_minus, shots, h),
                                     rel=0.05)
    assert finite_difference_variance(e_plus, e_minus, shots, h) == pytest.approx(
        shift_gradient_variance(e_plus, e_minus, shots) / h**2)
    n = shots_for_gradient(e_plus, e_minus, 0.01)
    assert n == math.ceil(((1 - e_plus**2) + (1 - e_minus**2)) / (4 * 0.01**2))
    def variance(shots):
        return shift_gradient_variance(e_plus, e_minus, shots)

    assert variance(n) <= 0.01**2 < variance(n - 1)
    with pytest.raises(ValueError, match="target_std"):
        shots_for_gradient(0, 0, 0)
