"""Lesson 08's primer and readouts (issue 24.5, 24.6): the QFT from H and controlled phases,
phase kickback, the rejection sampler of |k_*>, the flagged Hadamard test and the paper's
sign-split readout - each against an exact reference."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit.circuit.library import QFTGate
from qiskit.quantum_info import Operator, Statevector

from qdr_course.quantum import hhl


@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_qft_from_hadamards_and_controlled_phases_is_qiskits(m):
    qc = hhl.qft_circuit(m)
    assert set(qc.count_ops()) <= {"h", "cp", "swap"}
    np.testing.assert_allclose(Operator(qc).data, Operator(QFTGate(m)).data, atol=1e-12)
    # the definition itself: QFT|j> = sum_k exp(2 pi i j k / 2^m) |k> / sqrt(2^m)
    dim = 2**m
    j, k = np.meshgrid(np.arange(dim), np.arange(dim), indexing="ij")
    np.testing.assert_allclose(Operator(qc).data, np.exp(2j * np.pi * j * k / dim).T / np.sqrt(dim),
                               atol=1e-12)
    with pytest.raises(ValueError, match="num_qubits"):
        hhl.qft_circuit(0)


def test_phase_kickback_lands_on_the_control():
    for phase in (0.3, 0.125, 0.9):
        state = Statevector(hhl.kickback_circuit(phase)).data.reshape(2, 2)  # [control, target]
        np.testing.assert_allclose(np.abs(state[:, 0]), 0, atol=1e-12)  # target stays |1>
        control = state[:, 1]
        np.testing.assert_allclose(np.abs(control), [2**-0.5, 2**-0.5], atol=1e-12)
        assert np.angle(control[1] / control[0]) % (2 * np.pi) == pytest.approx(
            2 * np.pi * phase % (2 * np.pi))


@pytest.fixture
def kernel_row():
    rng = np.random.default_rng(0)
    k = rng.uniform(-1, 1, 8)
    return k / np.abs(k).max(), np.sign(rng.normal(size=8))


def test_rejection_sampler_prepares_k_with_rate_p_over_n(kernel_row):
    k, _ = kernel_row
    amplitudes = Statevector(hhl.rejection_sampler_circuit(k)).data
    success = amplitudes[8:]  # flag (the last qubit) = 1
    assert np.sum(np.abs(success) ** 2) == pytest.approx(np.sum(k**2) / 8, abs=1e-12)
    np.testing.assert_allclose(success / np.linalg.norm(success), k / np.linalg.norm(k),
                               atol=1e-12)
    measured = hhl.rejection_success_rate(k, shots=8000, seed=1)
    assert measured["exact"] == pytest.approx(np.sum(k**2) / 8)
    assert abs(measured["rate"] - measured["exact"]) < 4 * measured["stderr"]
    with pytest.raises(ValueError, match="bound"):
        hhl.rejection_sampler_circuit(2 * k)


def test_flagged_hadamard_test_reads_sqrt_p_over_n_times_o(kernel_row):
    k, y = kernel_row
    o = k @ y / np.linalg.norm(k) / np.linalg.norm(y)
    expected = np.sqrt(np.sum(k**2) / 8) * o
    out = hhl.flagged_sign_readout(k, y, shots=20000, seed=2)
    assert abs(out["estimate"] - expected) < 4 * out["stderr"]
    assert out["sign"] == np.sign(o)


def test_sign_split_readout_recovers_the_sign_from_magnitudes(kernel_row):
    k, y = kernel_row
    out = hhl.sign_split_readout(k, y, shots=20000, seed=3)
    assert out["sign"] == np.sign(k @ y)
    assert out["estimate"] == pytest.approx(k @ y, rel=0.05)
    exact = {a + b: float(np.maximum(sa * k, 0) @ np.maximum(sb * y, 0))
             for a, sa in (("+", 1), ("-", -1)) for b, sb in (("+", 1), ("-", -1))}
    for key, value in out["terms"].items():
        assert value >= 0 and value == pytest.approx(exact[key], abs=0.05 * np.abs(k).sum())
    # magnitudes alone: the inversion test cannot tell k from -k ...
    flipped = hhl.inversion_test_circuit(-k, y).remove_final_measurements(inplace=False)
    plain = hhl.inversion_test_circuit(k, y).remove_final_measurements(inplace=False)
    assert Statevector(flipped).probabilities()[0] == pytest.approx(
        Statevector(plain).probabilities()[0])
    # ... but the split readout can
    assert hhl.sign_split_readout(-k, y, shots=20000, seed=3)["sign"] == -np.sign(k @ y)


@pytest.mark.parametrize("eigenvalue", [3.0, -2.0, 2.4, -0.3, 7.6, 0.2])
def test_clock_reading_is_the_most_likely_phase_estimation_outcome(eigenvalue):
    """Exercise 8.1's answer against the simulated phase estimation of exp(i lambda t)."""
    t, m = 2 * np.pi / 16, 4
    probabilities = hhl.phase_estimation_probabilities((eigenvalue * t / (2 * np.pi)) % 1, m)
    assert hhl.clock_reading(eigenvalue, t, m) == int(np.argmax(probabilities))
    # inside the clock's range (-8 .. 7 here) it is the value whose two's-complement
    # eigenvalue is nearest; 7.6 rounds to 8, which reads as -8: why t keeps lambda_max at 3/8
    grid = hhl.clock_eigenvalues(m, t)
    nearest = int(np.argmin(np.abs(grid - eigenvalue)))
    assert (hhl.clock_reading(eigenvalue, t, m) == nearest) == (abs(eigenvalue) < 7.5)


def test_convergence_depth_grows_by_8_ln2_over_mu_per_doubling():
    """Exercise 6.2's answer: doubling n and halving delta each add 8 ln 2 / mu layers."""
    from qdr_course import ntk

    base = ntk.convergence_depth(32, 0.05)
    step = 8 * np.log(2) / ntk.MU
    assert ntk.convergence_depth(64, 0.05) - base == pytest.approx(step)
    assert ntk.convergence_depth(32, 0.025) - base == pytest.approx(step)
    assert 60 < step < 70
