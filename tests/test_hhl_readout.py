"""Issue 11: phase estimation, the Hadamard-test sign readout and the dequantised estimator."""

import numpy as np
import pytest
from scipy.stats import norm

from qdr_course import ntk
from qdr_course.quantum import hhl


def test_phase_estimation_peaks_at_the_nearest_clock_value():
    probs = hhl.phase_estimation_probabilities(0.3, 3)
    assert probs.sum() == pytest.approx(1.0)
    assert int(np.argmax(probs)) == round(0.3 * 8)  # 2.4 -> 2
    assert hhl.phase_estimation_probabilities(0.25, 3)[2] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="num_clock"):
        hhl.phase_estimation_circuit(0.1, 0)


def test_solve_does_not_borrow_the_phase_of_the_classical_answer():
    a = hhl.matrix_with_condition_number(3.0, 4, seed=1)
    result = hhl.HHL(a, num_clock=6).solve(np.ones(4))
    # the raw circuit output already points along +A^-1 b: its overlap is real and positive
    overlap = np.vdot(result.classical, result.solution)
    assert overlap.real > 0.98 and abs(overlap.imag) < 1e-10


def test_default_clock_gives_the_fidelity_the_lesson_states():
    a = hhl.matrix_with_condition_number(5.0, 4, seed=1)
    assert hhl.HHL(a).num_clock == 8
    assert hhl.HHL(a).solve(np.ones(4)).fidelity > 0.99
    assert hhl.HHL(a, num_clock=6).solve(np.ones(4)).fidelity < 0.99


def test_sign_error_falls_as_shots_pass_one_over_o_squared():
    y = np.repeat([1.0, -1.0], 4)
    k = np.ones(8)
    k[:4] = 1.2  # a small positive overlap, o = 0.09
    o = k @ y / (np.linalg.norm(k) * np.sqrt(8))
    assert 0.05 < o < 0.2
    rates = []
    for shots in (1, int(1 / o**2), int(16 / o**2)):
        run = hhl.sign_readout(k, y, shots=shots, seed=11, repeats=200)
        rates.append(np.mean(run["signs"] != 1))
        # the counts alone give Re<k|y>: P(0) - P(1) averages to o
        assert np.mean(run["estimates"]) == pytest.approx(o, abs=4 / np.sqrt(200 * shots))
    assert rates[0] > rates[1] > rates[2]
    assert rates[2] < 0.02 and rates[0] > 0.35  # one shot: wrong with P = (1 - o) / 2
    # the Gaussian prediction Phi(-o sqrt(shots)) at shots = 1/o^2 is 0.16
    assert rates[1] == pytest.approx(norm.cdf(-1.0), abs=0.08)


def test_hhl_sign_readout_from_counts():
    a = hhl.matrix_with_condition_number(3.0, 2, seed=0)
    solver = hhl.HHL(a, num_clock=5)
    b = np.array([1.0, 0.3])
    x = np.linalg.solve(a, b)
    for k in (np.array([1.0, -0.2]), np.array([-1.0, 0.4])):
        out = solver.sign_readout(b, k, shots=3000, seed=2)
        assert out["sign"] == np.sign(k @ x)


def test_hadamard_test_refuses_mismatched_registers():
    with pytest.raises(ValueError, match="same register"):
        hhl.hadamard_test_circuit(hhl.state_preparation_circuit([1, 0]),
                                  hhl.state_preparation_circuit([1, 0, 0, 0]))
    with pytest.raises(ValueError, match="power of two"):
        hhl.state_preparation_circuit([1, 2, 3])


def test_dequantised_estimator_needs_about_one_over_o_squared_samples_for_any_n():
    for n in (16, 1024):
        rng = np.random.default_rng(n)
        y = np.repeat([1.0, -1.0], n // 2)
        k = np.abs(rng.normal(size=n)) + 0.2
        k[: n // 2] *= 1.3
        o = k @ y / (np.linalg.norm(k) * np.sqrt(n))
        assert ntk.sample_overlap(k, y, 100000, rng=1) == pytest.approx(o, abs=0.02)
        rate = ntk.sign_error_rate(k, y, int(4 / o**2), repeats=400, rng=2)
        assert rate < 0.06  # Phi(-2) = 0.023
    with pytest.raises(ValueError, match="orthogonal"):
        ntk.sign_error_rate(np.array([1.0, 1.0]), np.array([1.0, -1.0]), 10)
