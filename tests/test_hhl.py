"""Tests of the HHL circuit (qdr_course.quantum.hhl) and the QLSA cost model
(qdr_course.ntk.qlsa_cost), lesson 07.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from qdr_course import ntk
from qdr_course.ntk import qlsa_cost
from qdr_course.quantum import hhl


def _rotated(eigenvalues, seed=0):
    """A dense real symmetric matrix with the given eigenvalues."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(len(eigenvalues),) * 2))
    return (q * np.asarray(eigenvalues, float)) @ q.T


# ------------------------------------------------------------------ input validation
@pytest.mark.parametrize("matrix,match", [
    (np.ones((2, 3)), "square"),
    (np.eye(3), "2\\^k"),
    (np.eye(16), "too large"),
    (np.array([[1.0, 2.0], [0.0, 1.0]]), "Hermitian"),
    (np.array([[1.0, np.nan], [np.nan, 1.0]]), "nan"),
    (np.diag([1.0, 0.0]), "singular"),
])
def test_bad_matrices_are_refused(matrix, match):
    with pytest.raises(ValueError, match=match):
        hhl.HHL(matrix)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="num_clock"):
        hhl.HHL(np.eye(2), num_clock=1)
    with pytest.raises(ValueError, match="t ="):
        hhl.HHL(np.eye(2), t=10.0)
    solver = hhl.HHL(np.diag([1.0, 2.0]), num_clock=3)
    with pytest.raises(ValueError, match="2 entries"):
        solver.solve([1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="nonzero"):
        solver.solve([0.0, 0.0])
    with pytest.raises(ValueError, match="shots"):
        solver.estimate_overlap([1, 1], [1, 0], shots=0)
    with pytest.raises(ValueError, match="positive"):
        hhl.rotation_angles([1.0], 0.0)


# ------------------------------------------------------------------ the parts
def test_clock_grid_and_rotation_angles():
    lam = hhl.clock_eigenvalues(3, 2 * np.pi / 8)
    np.testing.assert_allclose(lam, [0, 1, 2, 3, -4, -3, -2, -1])
    theta = hhl.rotation_angles(lam, 1.5)
    nonzero = lam != 0
    ratio = np.clip(1.5 / lam[nonzero], -1, 1)
    np.testing.assert_allclose(np.sin(theta[nonzero] / 2), ratio)
    assert theta[0] == 0 and theta[1] == pytest.approx(np.pi)  # |C / lambda| > 1 capped at 1


def test_phase_estimation_writes_the_eigenvalue_into_the_clock():
    from qiskit.quantum_info import Statevector

    a = np.diag([1.0, 3.0, -2.0, 5.0])
    solver = hhl.HHL(a, num_clock=4,
                     t=2 * np.pi / 16)  # eigenvalues on the grid: clock value = lambda mod 16
    qpe = solver._phase_estimation()
    for k, lam in enumerate(np.diag(a)):
        state = np.zeros(2 ** qpe.num_qubits, complex)
        state[k] = 1.0
        probs = Statevector(state).evolve(qpe).probabilities_dict()
        outcome, p = max(probs.items(), key=lambda kv: kv[1])
        assert p == pytest.approx(1.0)
        assert int(outcome[:4], 2) == int(lam) % 16 and int(outcome[4:], 2) == k


# ------------------------------------------------------------------ the whole algorithm
def test_exact_when_eigenvalues_lie_on_the_clock_grid():
    a = _rotated([1.0, 2.0, -3.0, 5.0])
    b = np.array([1.0, -2.0, 0.5, 1.0])
    result = hhl.HHL(a, num_clock=4, t=2 * np.pi / 16).solve(b)
    x = np.linalg.solve(a, b)
    assert result.fidelity == pytest.approx(1.0, abs=1e-10)
    np.testing.assert_allclose(result.solution, x / np.linalg.norm(x), atol=1e-8)
    # P(success) = C^2 sum_j |beta_j|^2 / lambda_j^2 with C = min |lambda| = 1
    eig, vec = np.linalg.eigh(a)
    beta = vec.T @ (b / np.linalg.norm(b))
    assert result.success_probability == pytest.approx(np.sum(beta**2 / eig**2), rel=1e-9)
    assert result.clock_leakage == pytest.approx(0.0, abs=1e-10)


def test_fidelity_on_a_small_sparsified_ntk():
    data = ntk.load_digit_pair(4, (8, 9), n_test=2, seed=0)
    kernel = ntk.erf_ntk(data.x_train, None, ntk.depth_for(data.x_train, 0.02))
    sparse = ntk.sparsify(kernel / kernel[0, 0], ntk.sparsity_pattern(data.y_train, 0))
    result = hhl.HHL(sparse, num_clock=8).solve(data.y_train)
    assert result.fidelity >= 0.99
    assert 0 < result.success_probability < 1


def test_success_probability_falls_with_the_condition_number():
    b = np.ones(4)
    matrices = [hhl.matrix_with_condition_number(k, 4, seed=1) for k in (2, 5, 20)]
    probs = [hhl.HHL(a, num_clock=7).solve(b).success_probability for a in matrices]
    assert probs[0] > probs[1] > probs[2]
    assert np.linalg.cond(hhl.matrix_with_condition_number(7.0, 8)) == pytest.approx(7.0)


def test_shot_estimate_of_the_readout_overlap():
    a = _rotated([1.0, 2.0, 3.0, 4.0], seed=2)
    solver = hhl.HHL(a, num_clock=4, t=2 * np.pi / 16)
    b, k = np.array([1.0, 1.0, -1.0, 1.0]), np.array([1.0, 2.0, 0.0, 1.0])
    out = solver.estimate_overlap(b, k, shots=4000, seed=7)
    x = np.linalg.solve(a, b)
    exact = (k @ x) ** 2 / (np.linalg.norm(k) ** 2 * np.linalg.norm(x) ** 2)
    assert out["exact"] == pytest.approx(exact)
    assert abs(out["estimate"] - exact) < 4 * out["stderr"]
    assert 0 < out["successes"] < 4000


# ------------------------------------------------------------------ cost model
def test_cost_formulas():
    assert qlsa_cost.hhl_queries(256, 6, 3, 0.01) == pytest.approx(8 * 36 * 9 / 0.01)
    assert qlsa_cost.hhl_run_queries(256, 6, 3, 0.01) == pytest.approx(8 * 36 * 3 / 0.01)
    assert qlsa_cost.cks_queries(256, 6, 3, 0.01) == pytest.approx(18 * math.log2(1800) ** 2)
    assert qlsa_cost.cg_queries(256, 6, 4, 0.01) == pytest.approx(256 * 6 * 2 * math.log(200))
    assert qlsa_cost.dense_queries(300) == pytest.approx(9e6)
    assert qlsa_cost.worst_success_probability(4) == pytest.approx(1 / 16)
    for bad in (dict(n=1, s=1, kappa=1), dict(n=8, s=9, kappa=1), dict(n=8, s=2, kappa=0.5)):
        with pytest.raises(ValueError):
            qlsa_cost.hhl_queries(**bad)
    with pytest.raises(ValueError, match="solver"):
        qlsa_cost.quantum_queries(8, 2, 2, 2, 1, solver="grover")
    with pytest.raises(ValueError, match="N/P"):
        qlsa_cost.sampler_queries(0.5, 3)
    assert "QRAM" in qlsa_cost.ASSUMPTIONS and "equal access" in qlsa_cost.ASSUMPTIONS


def test_cost_model_equal_access_and_amplification():
    """The model's formulas, term by term (issue 24.1): N/P = 10, 1/o^2 = 5, kappa = 3."""
    n, s, kappa, prep, readout = 256, 6, 3.0, 10.0, 4.0
    run = 8 * 36 * 3 / 0.01  # one HHL run: log2(n) s^2 kappa / eps
    # plain: (N/P) kappa^2 / o^2 Hadamard-test shots (p_succ = 1/kappa^2), each a run + 1 query
    assert qlsa_cost.quantum_queries(n, s, kappa, prep, readout) == pytest.approx(
        10 * 9 * 5 * (run + 1))
    cks = 18 * math.log2(1800) ** 2
    assert qlsa_cost.quantum_queries(n, s, kappa, prep, readout, solver="cks") == pytest.approx(
        10 * 9 * 5 * (cks + 1))
    # best case: amplitude estimation (1/|o| rounds) of the amplified solver + sqrt(N/P)
    assert qlsa_cost.quantum_queries(n, s, kappa, prep, readout, amplified=True) == \
        pytest.approx(math.sqrt(5) * (3 * run + math.sqrt(10)))
    assert qlsa_cost.quantum_queries(n, s, kappa, prep, readout, solver="cks",
                                     amplified=True) == pytest.approx(math.sqrt(5) * (
                                         cks + math.sqrt(10)))
    # diagonal NTK: the quantum readout and the classical sampler share the oracle
    assert qlsa_cost.quantum_readout_queries(prep, readout) == pytest.approx(10 * 5 * 2)
    assert qlsa_cost.quantum_readout_queries(prep, readout, amplified=True) == pytest.approx(
        math.sqrt(5) * (math.sqrt(10) + 1))
    assert qlsa_cost.sampler_queries(prep, readout) == pytest.approx(5 * 11)
    assert qlsa_cost.tree_sampler_queries(n, readout) == pytest.approx(256 + 5 * 9)
    # equal access: the plain quantum readout and the classical sampler are within a factor 2
    ratio = qlsa_cost.quantum_readout_queries(prep, readout) / qlsa_cost.sampler_queries(
        prep, readout)
    assert 1 <= ratio <= 2


def test_rejection_sampling_costs_n_over_p_per_draw():
    """The shared oracle: N / P proposals per draw, draws distributed as k_i^2 / ||k||^2."""
    rng = np.random.default_rng(5)
    k = rng.uniform(-1, 1, size=32)
    k /= np.abs(k).max()
    draws = 20000
    idx, proposals = ntk.rejection_sample(k, draws, rng=1)
    n_over_p = float(ntk.state_preparation_measurements(k[None, :], "global")[0])
    assert proposals / draws == pytest.approx(n_over_p, rel=0.03)
    freq = np.bincount(idx, minlength=32) / draws
    np.testing.assert_allclose(freq, k**2 / np.sum(k**2), atol=4 * np.sqrt(0.1 / draws))
    with pytest.raises(ValueError, match="bound"):
        ntk.rejection_sample(2 * k, 10)


def test_hhl_success_probability_formula_and_worst_case():
    """P(ancilla = 1) = sum_j beta_j^2 (C / lambda_j)^2 against the simulated circuit; b along
    lambda_max gives (C / lambda_max)^2 = 1 / kappa^2 when C = lambda_min (eigenvalues on grid)."""
    q, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(4, 4)))
    lam = np.array([1.0, 2.0, 4.0, 6.0])  # on the grid of t = 2 pi / 16, 5 clock qubits
    a = (q * lam) @ q.T
    solver = hhl.HHL(a, num_clock=5, t=2 * np.pi / 16)
    assert solver.c == pytest.approx(1.0)
    for b in (np.ones(4), np.array([1.0, -2.0, 0.5, 3.0]), q[:, 3]):
        simulated = solver.solve(b).success_probability
        assert simulated == pytest.approx(hhl.success_probability(a, b, solver.c), abs=1e-9)
    worst = solver.solve(q[:, 3]).success_probability  # b along lambda_max = 6
    assert worst == pytest.approx(1 / 36, abs=1e-9)
    assert worst == pytest.approx(qlsa_cost.worst_success_probability(solver.condition_number))
    with pytest.raises(ValueError, match="C must be"):
        hhl.success_probability(a, np.ones(4), 0.0)
    assert hhl.success_probability(a, q[:, 0], 2.0) == pytest.approx(1.0)  # capped, as RY is


def test_cost_table_from_a_sweep():
    records = ntk.sweep([16, 32], trials=2, depth_factor=0.02, n_test=16, progress=False)
    rows = qlsa_cost.cost_table(records)
    assert [r["n"] for r in rows] == [16, 32]
    for row in rows:
        group = [r for r in records if r["n"] == row["n"]]
        assert row["kappa"] == pytest.approx(np.median([r["kappa_sparse"] for r in group]))
        assert row["dense"] == pytest.approx(row["n"] ** 3 / 3 + row["n"] ** 2 + row["n"])
        assert row["s"] == np.median([r["s_col_max"] for r in group])
    with pytest.raises(ValueError):
        qlsa_cost.cost_table([])


def test_docstring_examples_run():
    import doctest

    for module in (hhl, ntk):
        failures, _ = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert failures == 0, module.__name__


@pytest.mark.parametrize("kwargs, words", [
    ({"matrix": np.diag([1.0, 2.0, 3.0, 4.0]), "lambda_max": 1.0},
     "lambda_max = 1 is below A's largest |eigenvalue| 4"),
    ({"matrix": np.diag([1.0, 2.0, 3.0, 4.0]), "lambda_min": 2.0},
     "lambda_min = 2 is above A's smallest |eigenvalue| 1"),
    ({"matrix": np.diag([1.0, 1e-9])}, "below half the clock's resolution"),
])
def test_bounds_that_would_give_a_wrong_answer_are_refused(kwargs, words):
    """Issue 27.11: lambda_max = 1 for a true 4 gave fidelity 0.058, diag(1, 1e-9) gave 0.0."""
    with pytest.raises(ValueError, match=re.escape(words)):
        hhl.HHL(**kwargs)
