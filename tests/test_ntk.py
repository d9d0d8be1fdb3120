"""Tests of qdr_course.ntk: data, constants, the closed-form NTK, sparsification and metrics
(lessons 06-07).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, special

from qdr_course import ntk
from qdr_course.ntk import kernels


@pytest.fixture(scope="module")
def data():
    return ntk.load_digit_pair(16, (8, 9), n_test=16, seed=3)


# ------------------------------------------------------------------ constants (lesson 06)
def _gauss(f):
    """E[f(z)] for z ~ N(0, 1) by quadrature."""
    return integrate.quad(lambda z: f(z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi), -np.inf,
                          np.inf, epsabs=1e-13, epsrel=1e-13)[0]


def test_erf_scale_is_the_second_moment_of_erf():
    assert ntk.ERF_SCALE == pytest.approx(_gauss(lambda z: special.erf(z) ** 2), rel=1e-10)
    assert ntk.ERF_SCALE == pytest.approx(0.4645591, abs=1e-7)


def test_mu_is_the_coefficient_of_nonlinearity_of_the_normalised_erf():
    e_zs = _gauss(lambda z: z * special.erf(z) / math.sqrt(ntk.ERF_SCALE))
    assert ntk.MU == pytest.approx(1 - e_zs**2, rel=1e-9)
    assert ntk.MU == pytest.approx(0.0864172, abs=1e-7)


def test_normalised_erf_keeps_unit_variance_and_diagonal_growth():
    assert ntk.W_STD**2 * ntk.ERF_SCALE == pytest.approx(1.0)
    # per-layer factor of the NTK diagonal: w^2 E[erf'(u)^2] at q = 1
    derf2 = _gauss(lambda z: (2 / math.sqrt(math.pi) * math.exp(-z * z)) ** 2)
    assert ntk.DIAGONAL_GROWTH == pytest.approx(ntk.W_STD**2 * derf2, rel=1e-10)
    assert ntk.DIAGONAL_GROWTH == pytest.approx(1.2257, abs=1e-4)


@pytest.mark.parametrize("q11,q22,q12", [(0.7, 1.3, 0.4), (1.0, 1.0, -0.9), (0.05, 2.0, 0.2)])
def test_erf_kernel_maps_against_two_dimensional_quadrature(q11, q22, q12):
    cov = np.array([[q11, q12], [q12, q22]])
    chol = np.linalg.cholesky(cov)
    z, w = np.polynomial.hermite_e.hermegauss(120)
    w = w / w.sum()
    u = chol[0, 0] * z[:, None] + 0 * z[None, :]
    v = chol[1, 0] * z[:, None] + chol[1, 1] * z[None, :]
    weights = w[:, None] * w[None, :]
    derf = lambda x: 2 / math.sqrt(math.pi) * np.exp(-x * x)  # noqa: E731
    nngp = np.sum(weights * special.erf(u) * special.erf(v))
    derivative = np.sum(weights * derf(u) * derf(v))
    assert ntk.erf_nngp_map(q11, q22, q12) == pytest.approx(nngp, abs=1e-10)
    assert ntk.erf_derivative_map(q11, q22, q12) == pytest.approx(derivative, abs=1e-10)


# ------------------------------------------------------------------ data (lesson 06)
def test_digit_pair_is_balanced_standardised_and_unit_norm(data):
    assert data.x_train.shape == (16, 64) and data.x_test.shape == (16, 64)
    assert np.sum(data.y_train == 1) == 8 and np.sum(data.y_test == -1) == 8
    np.testing.assert_allclose(np.linalg.norm(data.x_train, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(data.x_test, axis=1), 1.0, atol=1e-12)
    again = ntk.load_digit_pair(16, (8, 9), n_test=16, seed=3)
    np.testing.assert_array_equal(again.x_train, data.x_train)
    # no test image is a training image
    assert np.max(data.x_test @ data.x_train.T) < 1 - 1e-9


def test_standardise_uses_one_global_mean_and_std():
    rng = np.random.default_rng(0)
    a, b = rng.normal(3, 2, size=(5, 4)), rng.normal(3, 2, size=(3, 4))
    xa, xb = ntk.standardise_images(a, b)
    z = (b - a.mean()) / a.std()
    np.testing.assert_allclose(xb, z / np.linalg.norm(z, axis=1, keepdims=True))


def test_labels_follow_the_digit_order():
    from sklearn.datasets import load_digits

    d = ntk.load_digit_pair(8, (3, 5), n_test=4, seed=0)
    target = load_digits().target
    np.testing.assert_array_equal(np.where(target[d.index_train] == 3, 1.0, -1.0), d.y_train)
    np.testing.assert_array_equal(np.where(target[d.index_test] == 3, 1.0, -1.0), d.y_test)
    assert set(target[d.index_train]) == {3, 5}
    assert not set(d.index_train) & set(d.index_test)


@pytest.mark.parametrize("kwargs,match", [
    (dict(n=400), "per class"),
    (dict(n=16, digits=(8, 8)), "different"),
    (dict(n=16, digits=(8, 10)), "between 0 and 9"),
    (dict(n=16, digits=(8,)), "two digits"),
    (dict(n=15), "even"),
    (dict(n=300, n_test=128), "n_test"),
    (dict(n=16, n_test=3), "n_test"),
    (dict(n=16, source="cifar"), "source"),
])
def test_bad_data_requests_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ntk.load_digit_pair(**kwargs)


def test_mnist_offline_gives_a_clear_error(monkeypatch):
    import urllib.error

    import sklearn.datasets

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", offline)
    with pytest.raises(ConnectionError, match="source='digits'"):
        ntk.load_digit_pair(16, source="mnist")


# ------------------------------------------------------------------ depth (lesson 06)
def test_margin_and_convergence_depth(data):
    gram = np.abs(data.x_train @ data.x_train.T)
    np.fill_diagonal(gram, 0)
    assert ntk.min_margin(data.x_train) == pytest.approx(1 - gram.max())
    assert ntk.convergence_depth(16, 0.05) == pytest.approx(8 * math.log(16 / 0.05) / ntk.MU)
    l_conv = ntk.convergence_depth(16, ntk.min_margin(data.x_train))
    assert ntk.depth_for(data.x_train, 0.1) == round(0.1 * l_conv)
    assert ntk.depth_for(data.x_train, 1e-6) == 1
    with pytest.raises(ValueError, match="depth_factor"):
        ntk.depth_for(data.x_train, 0)
    with pytest.raises(ValueError, match="identical"):
        ntk.min_margin(np.eye(3)[[0, 0, 1]])


# ------------------------------------------------------------------ closed-form NTK (lesson 06)
@pytest.mark.parametrize("depth", [1, 3, 12])
def test_closed_form_ntk_equals_neural_tangents(data, depth):
    x1, x2 = data.x_train[:6], data.x_test[:5]
    for get in ("ntk", "nngp"):
        want = ntk.nt_erf_ntk(x1, None, depth, get)
        got = ntk.erf_ntk(x1, None, depth, get)
        assert np.max(np.abs(got - want)) / np.max(np.abs(want)) < 1e-10
        want = ntk.nt_erf_ntk(x2, x1, depth, get)
        got = ntk.erf_ntk(x2, x1, depth, get)
        assert np.max(np.abs(got - want)) / np.max(np.abs(want)) < 1e-10


def test_closed_form_for_inputs_of_different_norms_equals_neural_tangents():
    x = np.random.default_rng(0).normal(size=(5, 7)) * np.array([[0.5], [1.0], [2.0], [3.0], [0.1]])
    for depth in (1, 6):
        want = ntk.nt_erf_ntk(x, x[:3], depth)
        np.testing.assert_allclose(ntk.erf_ntk(x, x[:3], depth), want, rtol=1e-10, atol=0)
        want = ntk.nt_erf_ntk(x, None, depth)
        np.testing.assert_allclose(ntk.erf_ntk(x, None, depth), want, rtol=1e-10, atol=0)


def test_equal_norm_fast_path_equals_the_general_recursion(data):
    x1, x2 = data.x_train, data.x_test[:5]
    w2 = ntk.W_STD**2
    q = lambda x: w2 * np.sum(x * x, axis=1) / x.shape[1]  # noqa: E731
    for depth in (1, 30):
        general, _ = kernels._erf_ntk_general(x1, x1, True, depth, q(x1), q(x1), w2)
        np.testing.assert_allclose(ntk.erf_ntk(x1, None, depth), general, rtol=1e-13)
        general, _ = kernels._erf_ntk_general(x2, x1, False, depth, q(x2), q(x1), w2)
        np.testing.assert_allclose(ntk.erf_ntk(x2, x1, depth), general, rtol=1e-13)


def _diagonal_high_precision(d: int, depth: int):
    """The NTK diagonal of a unit-norm input in 50-digit arithmetic (mpmath)."""
    import mpmath

    mpmath.mp.dps = 50
    w2 = 1 / (2 / mpmath.pi * mpmath.asin(mpmath.mpf(2) / 3))
    q = w2 / d
    theta = q
    for _ in range(depth):
        dot = 4 / mpmath.pi / mpmath.sqrt((1 + 2 * q) ** 2 - 4 * q * q)
        q_new = w2 * 2 / mpmath.pi * mpmath.asin(2 * q / (1 + 2 * q))
        theta = q_new + w2 * dot * theta
        q = q_new
    return float(theta)


def test_closed_form_is_stable_where_the_direct_computation_is_not(data):
    x = data.x_train[:4]
    for depth in (100, 400, 2000):
        diag = np.diag(ntk.erf_ntk(x, None, depth))
        np.testing.assert_allclose(diag, _diagonal_high_precision(64, depth), rtol=1e-12)
    # neural-tangents' direct diagonal drifts already by depth 70
    # (rounding error ~ 1e-16 x 1.2257^L)
    direct = np.diag(ntk.nt_erf_ntk(x, None, 70))
    assert np.max(np.abs(direct / _diagonal_high_precision(64, 70) - 1)) > 1e-11


def test_too_deep_networks_are_refused_with_a_pointer_to_the_stable_recursion(data):
    with pytest.raises(ValueError, match="erf_ntk"):
        ntk.nt_erf_ntk(data.x_train, None, ntk.MAX_DIRECT_DEPTH + 1)
    init_fn, apply_fn, kernel_fn = ntk.fc_erf_network(200, width=8)
    with pytest.raises(ValueError, match="stable closed-form recursion"):
        kernel_fn(data.x_train, None, "ntk")
    with pytest.raises(ValueError, match="depth"):
        ntk.erf_ntk(data.x_train, None, ntk.MAX_STABLE_DEPTH + 1)
    with pytest.raises(ValueError, match="positive integer"):
        ntk.erf_ntk(data.x_train, None, 0)
    with pytest.raises(ValueError, match="features"):
        ntk.erf_ntk(data.x_train, data.x_train[:, :10], 2)


def test_off_diagonal_decays_like_0745_to_the_depth(data):
    x = data.x_train[:4]
    kernels = [ntk.erf_ntk(x, None, L) for L in (400, 401)]
    r = [np.abs(k[0, 1:]).max() / k[0, 0] for k in kernels]
    ratio_limit = (4 / (3 * math.pi)) / (4 / (math.pi * math.sqrt(5)))  # 0.9136 / 1.2257
    assert r[1] / r[0] == pytest.approx(ratio_limit,
                                        rel=5e-3)  # Theta_offdiag ~ L 0.9136^L: slow approach
    assert ratio_limit == pytest.approx(0.745, abs=1e-3)


def test_neural_tangents_layer_by_layer_equals_its_serial_network(data):
    x = data.x_train[:5]
    by_depth = ntk.nt_erf_ntk_by_depth(x, None, [2, 5])
    for depth in (2, 5):
        np.testing.assert_allclose(by_depth[depth], ntk.fc_erf_network(depth)[2](x, None, "ntk"),
                                   rtol=1e-12)


def test_wide_finite_network_has_nearly_the_analytic_ntk(data):
    import jax
    import neural_tangents as nt

    x = data.x_train[:3]
    init_fn, apply_fn, kernel_fn = ntk.fc_erf_network(2, width=2048)
    _, params = init_fn(jax.random.PRNGKey(0), x.shape)
    empirical = np.asarray(nt.empirical_ntk_fn(apply_fn, trace_axes=(-1,))(x, None, params))
    analytic = ntk.erf_ntk(x, None, 2)
    assert np.max(np.abs(empirical - analytic)) / np.max(analytic) < 0.1


def test_myrtle_cnn_kernel_is_a_kernel():
    x = np.random.default_rng(0).normal(size=(3, 4, 4, 1))
    _, _, kernel_fn = ntk.myrtle_cnn(conv_per_block=1, n_pools=2)
    k = np.asarray(kernel_fn(x, None, "ntk"))
    assert k.shape == (3, 3)
    np.testing.assert_allclose(k, k.T, rtol=1e-10)
    assert np.linalg.eigvalsh(k).min() > 0
    with pytest.raises(ValueError, match="conv_per_block"):
        ntk.myrtle_cnn(conv_per_block=0)


def test_test_kernel_threshold_and_normalisation():
    k = ntk.test_kernel_threshold(10, 64)
    c = 1 - 1e-5
    x0, x1 = np.zeros((1, 64)), np.zeros((1, 64))
    x0[0, 0], x1[0, 0], x1[0, 5] = 1, c, math.sqrt(1 - c * c)
    assert k == pytest.approx(ntk.erf_ntk(x0, x1, 10)[0, 0])
    normalised = ntk.normalised_test_kernel(np.array([[2 * k, -3 * k, 0.5 * k]]), k)
    np.testing.assert_array_equal(normalised, [[1.0, -1.0, 0.5]])
    with pytest.raises(ValueError):
        ntk.normalised_test_kernel(np.ones((1, 2)), 0.0)


# ------------------------------------------------------------------ sparsification (lesson 07)
def test_sparsity_pattern_structure_and_density():
    n = 64
    y = np.repeat([1.0, -1.0], n // 2)[np.random.default_rng(1).permutation(n)]
    p = ntk.sparsity_probability(n)
    assert p == pytest.approx(2 * math.log(n) / n)
    # the min(., 1) never binds
    assert max(ntk.sparsity_probability(k) for k in range(1, 10)) <= 2 / math.e
    rows = []
    for seed in range(60):
        f = ntk.sparsity_pattern(y, seed)
        assert f.dtype == bool and np.array_equal(f, f.T) and f.diagonal().all()
        assert not np.any(f & (y[:, None] != y[None, :]))
        rows.append(f.sum(axis=1).mean())
    # a same-class pair is kept if the later row drew it at least once in c ~ Binomial(n, p)
    # draws WITH replacement (as the original): q = 1 - E[(1 - 1/n)^c] = 1 - (1 - p/n)^n,
    # so E[nonzeros] = 1 + q (n/2 - 1)
    q = 1 - (1 - p / n) ** n
    assert np.mean(rows) == pytest.approx(1 + q * (n / 2 - 1), rel=0.03)
    with pytest.raises(ValueError):
        ntk.sparsity_pattern(np.ones(1))


def test_sparsify_and_nonzeros():
    k = np.arange(9.0).reshape(3, 3) + 1
    f = np.eye(3, dtype=bool)
    f[0, 2] = f[2, 0] = True
    s = ntk.sparsify(k, f)
    np.testing.assert_array_equal(s, [[1, 0, 3], [0, 5, 0], [7, 0, 9]])
    np.testing.assert_array_equal(ntk.nonzeros_per_row(s), [2, 1, 2])
    with pytest.raises(ValueError):
        ntk.sparsify(k, f[:2])


def test_kernel_regression_equals_neural_tangents_predict(data):
    import neural_tangents as nt

    k_train = ntk.erf_ntk(data.x_train, None, 4)
    k_test = ntk.erf_ntk(data.x_test, data.x_train, 4)
    predict_fn = nt.predict.gradient_descent_mse(k_train, data.y_train[:, None], diag_reg=0.0)
    _, want = predict_fn(None, 0.0, 0.0, k_test)
    np.testing.assert_allclose(ntk.kernel_regression(k_train, k_test, data.y_train),
                               np.asarray(want)[:, 0], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ntk.diagonal_regression(k_train, k_test, data.y_train),
                               k_test @ data.y_train / k_train[0, 0], rtol=1e-12)
    with pytest.raises(ValueError):
        ntk.kernel_regression(k_train, k_test, data.y_train[:-1])


def test_classify_condition_number_and_measurements():
    np.testing.assert_array_equal(ntk.classify([0.1, 0.5, -2.0, 3.0]), [-1, 1, -1, 1])
    a = np.array([[2.0, 1.0], [1.0, -3.0]])
    assert ntk.condition_number(a) == pytest.approx(np.linalg.cond(a))
    with pytest.raises(ValueError, match="symmetric"):
        ntk.condition_number(np.array([[1.0, 2.0], [0.0, 1.0]]))
    k_rows = [[0, 0, 3.0, 0], [1, 1, 1, 1]]
    np.testing.assert_allclose(ntk.state_preparation_measurements(k_rows, "row"), [4, 1])
    np.testing.assert_allclose(ntk.state_preparation_measurements(k_rows), [4, 9])  # global
    y = np.array([1.0, -1.0, 1.0, -1.0])
    o = ntk.readout_overlap(np.array([[1.0, -1.0, 1.0, -1.0], [1.0, 0, 0, 0]]), y)
    np.testing.assert_allclose(o, [1.0, 0.5])
    np.testing.assert_allclose(ntk.readout_measurements(o), [0.0, 3.0])
    k = np.diag([1.0, 2.0, 1.0, 2.0])
    v = np.linalg.solve(k, y)
    np.testing.assert_allclose(ntk.readout_overlap(y[None], y, k),
                               [y @ v / (2 * np.linalg.norm(v))])


# ------------------------------------------------------------------ trials and sweeps (lesson 07)
def test_deep_ntk_is_diagonal_and_shallow_is_not():
    deep = ntk.trial_metrics(32, depth_factor=0.1, seed=0, n_test=32)
    assert deep["kappa_sparse"] == pytest.approx(1.0, abs=0.01)
    assert deep["acc_exact"] == deep["acc_sparse"] == deep["acc_diag"]
    assert deep["off_diagonal_ratio"] < 1e-4
    shallow = ntk.trial_metrics(32, depth_factor=0.005, seed=0, n_test=32)
    assert shallow["kappa_sparse"] > 10 and shallow["depth"] < 5
    assert shallow["readout_sparse"] > shallow["readout_diag"]
    assert set(ntk.METRICS) <= set(deep)


def test_sweep_records_are_independent_and_summaries_bootstrap():
    records = ntk.sweep([16, 32], trials=[3, 2], depth_factor=0.02, n_test=16, progress=False)
    assert [r["n"] for r in records] == [16, 16, 16, 32, 32]
    assert len({id(r) for r in records}) == 5
    assert len({r["kappa_sparse"] for r in records}) > 1  # the original's bug made these all equal
    rows = ntk.summarise(records, "kappa_sparse")
    for (n, med, lo, hi, count), want in zip(rows, (3, 2)):
        assert lo <= med <= hi and count == want
        vals = [r["kappa_sparse"] for r in records if r["n"] == n]
        assert med == pytest.approx(np.median(vals)) and min(vals) <= lo and hi <= max(vals)
    assert ntk.bootstrap_interval([2.0, 2.0, 2.0]) == (2.0, 2.0, 2.0)
    with pytest.raises(ValueError, match="unknown metric"):
        ntk.summarise(records, "accuracy")
    with pytest.raises(ValueError, match="trials"):
        ntk.sweep([16, 32], trials=[1], progress=False)
