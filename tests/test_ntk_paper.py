"""Issue 11: the paper's metrics, its CNN recipe, the repeated-values bug and the cost model."""

import math

import jax
import numpy as np
import pytest

from qdr_course import ntk
from qdr_course.ntk import qlsa_cost


def _original_state_prep(kernel_test_normalized):
    """analysis.ipynb, transcribed: one global max, then N / P per row, median."""
    scale = kernel_test_normalized / np.amax(np.abs(kernel_test_normalized))
    values = []
    for row in scale:
        p = np.sum(row**2)
        values.append(len(row) / p)
    return np.median(values)


@pytest.fixture(scope="module")
def deep_trial():
    data = ntk.load_digit_pair(64, (8, 9), n_test=64, seed=1)
    depth = ntk.depth_for(data.x_train, 0.1)
    k_test = ntk.normalised_test_kernel(ntk.erf_ntk(data.x_test, data.x_train, depth),
                                        ntk.test_kernel_threshold(depth, 64))
    return data, depth, k_test


def test_state_preparation_matches_the_original_formula(deep_trial):
    _, _, k_test = deep_trial
    ours = np.median(ntk.state_preparation_measurements(k_test))
    assert ours == pytest.approx(_original_state_prep(k_test), rel=1e-12)
    row = np.median(ntk.state_preparation_measurements(k_test, "row"))
    bound = np.median(ntk.state_preparation_measurements(k_test, "bound"))
    # per-row is the optimistic variant; the clip bound is the pessimistic, honest one
    assert row < ours < bound
    assert 10 < ours < 120 and 2 < row < 12 and bound > 1e6


def test_state_preparation_scales_and_errors():
    k = np.array([[1.0, 0.5], [0.1, 0.1]])
    np.testing.assert_allclose(ntk.state_preparation_measurements(k), [2 / 1.25, 2 / 0.02])
    np.testing.assert_allclose(ntk.state_preparation_measurements(k, "row"), [2 / 1.25, 1.0])
    with pytest.raises(ValueError, match="scale must be one of"):
        ntk.state_preparation_measurements(k, "max")
    with pytest.raises(ValueError, match="normalised test kernel"):
        ntk.state_preparation_measurements(2 * k, "bound")


def test_trial_metrics_report_all_three_scalings_and_max_sparsity():
    r = ntk.trial_metrics(32, 0.1, seed=0, n_test=32)
    assert r["state_prep_row"] < r["state_prep"] < r["state_prep_bound"]
    assert r["s_col_max"] >= r["s_row"] and isinstance(r["s_col_max"], int)


def test_sparsity_pattern_draws_with_replacement_about_ln_n_per_row():
    n = 256
    y = np.repeat([1.0, -1.0], n // 2)
    rows = [ntk.nonzeros_per_row(ntk.sparsity_pattern(y, seed)).mean() - 1 for seed in range(4)]
    # 2 ln n draws, symmetrised from the lower triangle (half), class mask (half again) ->
    # about ln n off-diagonals per row: ~ (2 ln n) / 2 from each triangle side, halved by class
    assert 0.7 * math.log(n) < np.mean(rows) < 1.3 * math.log(n)
    k = ntk.sparsify(np.eye(n) + 0.01, ntk.sparsity_pattern(y, 0))
    assert ntk.sparsity(k) == ntk.nonzeros_per_row(k.T).max()


def test_growth_exponent():
    n = np.array([16, 32, 64, 128, 256])
    assert ntk.growth_exponent(n, 3 * n**0.4) == pytest.approx(0.4)
    assert ntk.growth_exponent(n, np.log(n)) < 0.5
    with pytest.raises(ValueError, match="positive"):
        ntk.growth_exponent(n, -n)


def test_the_repeated_values_bug_shrinks_but_does_not_zero_the_error_bar():
    values = np.array([3.0, 5.0, 4.0, 9.0, 6.0, 2.0, 7.0, 4.5])
    buggy = ntk.original_replicated_values(values, patterns=3)
    assert len(buggy) == (len(values) * 3) ** 2
    assert set(np.unique(buggy)) == set(values)
    assert np.all(np.unique(buggy, return_counts=True)[1] == len(values) * 3**2)  # T * B^2
    honest = ntk.bootstrap_interval(values)
    shrunk = ntk.bootstrap_interval(buggy)
    assert shrunk[0] == honest[0]  # same median
    width_honest, width_bug = honest[2] - honest[1], shrunk[2] - shrunk[1]
    assert 0 < width_bug < 0.5 * width_honest


def test_paper_trials_and_sweep_refuses_unknown_n():
    assert [ntk.PAPER_TRIALS[n] for n in (16, 32, 64, 128, 256, 512)] == [16, 8, 4, 4, 4, 4]
    with pytest.raises(ValueError, match="trials='paper'"):
        ntk.sweep([20], trials="paper", progress=False)


def test_cnn_ridge_factor_and_sparsification():
    assert ntk.cnn_ridge_factor(100) == pytest.approx(0.76 * math.log(100) ** 0.9)
    k = np.array([[2.0, 1.0, 0.01], [1.0, 2.0, 0.5], [0.01, 0.5, 2.0]])
    f = np.ones((3, 3), bool)
    labels = np.array([1.0, 1.0, 1.0])
    out = ntk.cnn_sparsify(k, f, labels, {1.0: 0.3}, ridge_factor=1.0)
    assert out[0, 2] == 0 and out[0, 1] == 1.0 and out[1, 2] == 0.5 and out[0, 0] == 4.0
    # across classes nothing is kept, whatever its size
    out = ntk.cnn_sparsify(k, f, np.array([1.0, -1.0, -1.0]), {1.0: 0.0, -1.0: 0.0}, 1.0)
    assert out[0, 1] == 0 and out[1, 2] == 0.5


def test_cnn_class_thresholds_follow_the_originals_formula():
    """The original: np.percentile(np.abs(m * class_c), 90) over the whole class-ordered matrix."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(16, 16))
    m = a @ a.T
    half = np.ones((8, 8))
    zero = np.zeros((8, 8))
    class_0 = np.block([[half - np.eye(8), zero], [zero, zero]])
    class_1 = np.block([[zero, zero], [zero, half - np.eye(8)]])
    expected = (np.percentile(np.abs(m * class_0), 90), np.percentile(np.abs(m * class_1), 90))
    got = ntk.cnn_class_thresholds(m, np.repeat([1.0, -1.0], 8))
    assert (got[1.0], got[-1.0]) == pytest.approx(expected, rel=0, abs=0)


def test_cnn_kernel_batched_equals_direct_and_trial_runs():
    x, y = ntk.cnn_pool(per_class=8)
    kernel = ntk.cnn_kernels(x, batch_size=8)
    _, _, kernel_fn = ntk.myrtle_cnn(conv_per_block=1, channels=1, n_pools=3)
    direct = np.asarray(jax.jit(kernel_fn, static_argnames="get")(x[:8], x[8:], "ntk"))
    np.testing.assert_allclose(kernel[:8, 8:], direct, rtol=1e-10, atol=0)
    assert np.linalg.eigvalsh(kernel).min() > 0
    rng = np.random.default_rng(0)
    assert ntk.cnn_test_threshold(kernel, rng) <= np.abs(kernel).max()
    r = ntk.cnn_trial_metrics(kernel, y, 8, n_test=8, seed=0)
    assert 0.5 <= r["acc_exact"] <= 1 and r["kappa_sparse"] >= 1
    with pytest.raises(ValueError, match="per class"):
        ntk.cnn_trial_metrics(kernel, y, 12, n_test=8)


def test_cost_model_uses_max_sparsity_and_dequantised_cost():
    records = [dict(n=16, s_row=3.0, s_col_max=5, kappa_sparse=2.0, state_prep=20.0,
                    readout_sparse=15.0, readout_diag=12.0)]
    row = qlsa_cost.cost_table(records, n_predictions=10)[0]
    assert row["s"] == 5
    assert row["cg"] == pytest.approx(qlsa_cost.cg_queries(16, 5, 2.0) + 10 * 16)
    assert row["sampler"] == pytest.approx(10 * 13.0 * 21.0)  # 1/o^2 draws of N/P + 1 queries
    assert row["hhl"] == pytest.approx(10 * qlsa_cost.quantum_queries(16, 5, 2.0, 20.0, 15.0))
