"""Issue 24 (items 2-4, lesson 07): MNIST subset, the original's figure statistics, growth tests,
the CNN thresholds computed once and the stored depth-96 CNN kernel."""

import hashlib
import math
import shutil

import numpy as np
import pytest

from qdr_course import ntk
from qdr_course.ntk import cnn as ntk_cnn
from qdr_course.ntk import data as ntk_data
from qdr_course.ntk import paper_figure

# ----------------------------------------------------------------------------- MNIST subset

def test_mnist_subset_is_verified_and_holds_every_8_and_9_of_the_test_set():
    x, labels = ntk.load_mnist_subset()
    assert x.shape == (1983, 784) and x.dtype == np.float64
    assert np.bincount(labels)[8:].tolist() == [974, 1009]  # MNIST t10k counts
    assert x.min() == 0 and x.max() == 255
    digest = hashlib.sha256(ntk_data.MNIST_SUBSET_FILE.read_bytes()).hexdigest()
    assert digest == ntk_data.MNIST_SUBSET_SHA256
    licence = (ntk_data.MNIST_SUBSET_FILE.parent / "MNIST-LICENSE.md").read_text()
    assert "CC BY-SA 3.0" in licence or "Attribution-Share Alike 3.0" in licence
    assert ntk_data.MNIST_SUBSET_SHA256 in licence


def test_mnist_subset_refuses_a_damaged_or_missing_file(tmp_path):
    copy = tmp_path / "mnist.npz"
    shutil.copy(ntk_data.MNIST_SUBSET_FILE, copy)
    with copy.open("r+b") as file:
        file.seek(100)
        file.write(b"\x00\x01")
    with pytest.raises(ValueError, match="SHA-256"):
        ntk.load_mnist_subset(copy)
    with pytest.raises(FileNotFoundError, match="reinstall"):
        ntk.load_mnist_subset(tmp_path / "absent.npz")


def test_mnist_pairs_need_digits_8_and_9_and_standardise_each_split_by_its_own_statistics():
    with pytest.raises(ValueError, match="only the digits"):
        ntk.load_digit_pair(16, digits=(1, 0), n_test=8, source="mnist-subset")
    own = ntk.load_digit_pair(16, n_test=256, seed=3, source="mnist-subset", statistics="split")
    shared = ntk.load_digit_pair(16, n_test=256, seed=3, source="mnist-subset")
    np.testing.assert_array_equal(own.index_test, shared.index_test)
    np.testing.assert_allclose(own.x_train, shared.x_train, atol=1e-15)  # same statistics
    raw = ntk.load_mnist_subset()[0][own.index_test]
    z = raw - raw.mean()
    np.testing.assert_allclose(own.x_test, z / np.linalg.norm(z, axis=1, keepdims=True),
                               atol=1e-14)
    assert not np.allclose(own.x_test, shared.x_test, atol=1e-6)
    assert set(own.index_train).isdisjoint(own.index_test)
    with pytest.raises(ValueError, match="'train' or 'split'"):
        ntk.standardise_images(raw, raw, statistics="test")


# ----------------------------------------------------------------------------- the original

def _original_loop(per_trial_p, patterns):
    """analysis.ipynb's loop, transcribed: one list, appended per pattern, referenced T*B times."""
    trial_p, all_scale = [], []
    for p in per_trial_p:
        for _ in range(patterns):
            trial_p.append(p)
            all_scale.append([trial_p])
    return np.concatenate(all_scale, axis=1)[0].flatten()


def test_replicated_array_is_the_originals_and_holds_t_b_squared_copies():
    rng = np.random.default_rng(0)
    per_trial = [rng.uniform(1, 2, size=5) for _ in range(16)]
    got = paper_figure.replicated_array(per_trial, 3)
    np.testing.assert_array_equal(got, _original_loop(per_trial, 3))
    assert len(got) == 16 * 5 * 144  # T * B^2 = 144 copies of each value
    values, counts = np.unique(got, return_counts=True)
    assert len(values) == 80 and np.all(counts == 144)
    dependent = [rng.uniform(size=(3, 5)) for _ in range(4)]  # one value per pattern
    assert np.all(np.unique(paper_figure.replicated_array(dependent, 3),
                            return_counts=True)[1] == 4 * 3)


def test_poisson_error_is_the_originals_recipe():
    values = np.arange(1.0, 101.0)
    rng = np.random.default_rng(5)
    medians = [np.median(rng.poisson(size=values.shape) * values) for _ in range(5)]
    want = np.std(medians) / math.sqrt(5)
    assert paper_figure.poisson_error(values, np.random.default_rng(5)) == pytest.approx(want)


def _fake_record(n, seed, rng):
    """A paper_trial-shaped record with random contents."""
    return dict(n=n, seed=seed, depth=1, correct_exact=rng.random(8) < 0.9,
                correct_diag=rng.random(8) < 0.8, correct_sparse=rng.random((3, 8)) < 0.7,
                kappa=rng.uniform(1, 3, 3), s=np.array([3, 4, 5]),
                np_global=rng.uniform(10, 20, 8), np_row=rng.uniform(1, 2, 8),
                max_factor=rng.uniform(1, 3, 8), overlap_diag=rng.uniform(0.1, 0.3, 8),
                overlap_sparse=rng.uniform(0.1, 0.3, (3, 8)), max_pair_cosine=0.9)


def test_original_statistics_match_hand_computation():
    rng = np.random.default_rng(2)
    records = [_fake_record(16, t, rng) for t in range(4)]
    stats = paper_figure.original_statistics(records, seed=7)[16]
    sparse = np.concatenate([r["correct_sparse"].ravel() for r in records])
    assert stats["acc_sparse"] == pytest.approx((sparse.mean(),
                                                 2 * sparse.std() / math.sqrt(len(sparse))))
    exact = np.concatenate([np.tile(r["correct_exact"], 3) for r in records])
    assert stats["acc_exact"] == pytest.approx((exact.mean(),
                                                2 * exact.std() / math.sqrt(96)))
    kappas = np.concatenate([r["kappa"] for r in records])
    assert stats["kappa"] == pytest.approx((kappas.mean(), 2 * kappas.std() / math.sqrt(12)))
    pooled = np.concatenate([r["np_global"] for r in records])
    assert stats["state_prep"][0] == pytest.approx(np.median(pooled))  # copies keep the median
    replicated = paper_figure.replicated_array([r["np_global"] for r in records], 3)
    want = 2 * paper_figure.poisson_error(replicated, np.random.default_rng(7))
    assert stats["state_prep"][1] == pytest.approx(want)
    medians = paper_figure.trial_medians(records, "readout_sparse")[16]
    np.testing.assert_allclose(medians, [np.median(1 / r["overlap_sparse"]**2 - 1)
                                         for r in records])


@pytest.fixture(scope="module")
def mnist_trial():
    return paper_figure.paper_trial(32, 0.02, seed=1, n_test=64)


def test_paper_trial_matches_the_course_metrics_and_decomposes_global_np(mnist_trial):
    r = mnist_trial
    data = ntk.load_digit_pair(32, n_test=64, seed=1, source="mnist-subset", statistics="split")
    depth = ntk.depth_for(data.x_train, 0.02)
    k_test = ntk.normalised_test_kernel(ntk.erf_ntk(data.x_test, data.x_train, depth),
                                        ntk.test_kernel_threshold(depth, 784))
    np.testing.assert_allclose(r["np_global"], ntk.state_preparation_measurements(k_test))
    np.testing.assert_allclose(r["np_row"], ntk.state_preparation_measurements(k_test, "row"))
    np.testing.assert_allclose(r["np_global"], r["np_row"] * r["max_factor"], rtol=1e-12)
    assert np.min(r["max_factor"]) == pytest.approx(1.0)
    np.testing.assert_allclose(r["overlap_diag"], ntk.readout_overlap(k_test, data.y_train))
    assert r["kappa"].shape == (3,) and len(set(r["kappa"])) == 3  # three different patterns
    k_train = ntk.erf_ntk(data.x_train, None, depth)
    exact = ntk.classify(ntk.kernel_regression(k_train, ntk.erf_ntk(data.x_test, data.x_train,
                                                                   depth), data.y_train))
    np.testing.assert_array_equal(r["correct_exact"], exact == data.y_test)
    with pytest.raises(ValueError, match="trial counts"):
        paper_figure.paper_sweep((16, 20))


# ----------------------------------------------------------------------------- growth

def test_local_slopes_and_log_n_reference():
    n = np.array([16, 32, 64, 128, 256, 512])
    np.testing.assert_allclose(ntk.local_slopes(n, 3 * n**0.4), 0.4)
    slopes = ntk.log_n_local_slopes(n)
    assert slopes[0] == pytest.approx(math.log(math.log(32) / math.log(16)) / math.log(2))
    assert round(slopes[0], 2) == 0.32 and round(slopes[-1], 2) == 0.17
    assert np.all(np.diff(slopes) < 0)


def test_growth_models_and_the_one_criterion():
    n = np.array([16, 32, 64, 128, 256, 512])
    power = ntk.compare_growth_models(n, 2 * n**0.4)
    assert power.exponent == pytest.approx(0.4) and power.preferred == "power"
    assert power.power_residual == pytest.approx(0, abs=1e-12)
    log = ntk.compare_growth_models(n, 3 + 2 * np.log(n))
    assert log.preferred == "log" and log.log_slope == pytest.approx(2)
    assert ntk.growth_verdict(n, 2 * n**0.4) == "faster than log n"
    assert ntk.growth_verdict(n, 3 + 2 * np.log(n)) == "like log n"
    assert ntk.growth_verdict(n, np.log(n) ** 0.5) == "like log n"  # slower than ln n
    assert ntk.growth_verdict(n, 5 + 0 * n) == "does not grow"
    assert ntk.growth_verdict(n, 100 / n) == "does not grow"
    with pytest.raises(ValueError, match="positive"):
        ntk.compare_growth_models(n, -np.ones(6))
    with pytest.raises(ValueError, match="three"):
        ntk.local_slopes([16, 32], [1, 2])


# ----------------------------------------------------------------------------- CNN

def test_cnn_thresholds_are_computed_once_on_n_16():
    x, y = ntk.cnn_pool(per_class=24)
    rng = np.random.default_rng(0)
    a = rng.normal(size=(48, 48))
    kernel = a @ a.T / 48 + np.eye(48)  # any symmetric positive definite "kernel"
    k_thresh, classes = ntk.cnn_fixed_thresholds(kernel, y, n_test=16)
    _, train, _ = ntk_cnn._split(y, 16, 16, seed=0)
    block = kernel[np.ix_(train, train)]
    assert k_thresh == np.abs(block[~np.eye(16, dtype=bool)]).max()
    assert classes == ntk.cnn_class_thresholds(block, y[train])
    records = ntk.cnn_sweep(kernel, y, n_values=(16, 32), n_test=16)
    for r in records:
        _, tr, te = ntk_cnn._split(y, r["n"], 16, r["seed"])
        scaled = kernel[np.ix_(te, tr)] / k_thresh
        assert r["clipped"] == pytest.approx(np.mean(np.abs(scaled) > 1))


def test_stored_deep_cnn_kernel_is_the_depth_96_kernel_of_the_pool():
    kernel, labels, depth, seconds = ntk.load_deep_cnn()
    x, y = ntk.cnn_pool(per_class=len(labels) // 2)
    np.testing.assert_array_equal(labels, y)
    assert depth == 96 and seconds > 0
    np.testing.assert_allclose(kernel, kernel.T, rtol=1e-12)
    # two images, one of each digit, recomputed without jit or batching (about 8 CPU-s); the
    # ReLU kernel's arccos near correlation 1 costs about half of float64's digits on the
    # diagonal over 96 layers, so the two computations agree to about 1e-7, not 1e-15
    _, _, kernel_fn = ntk.myrtle_cnn(conv_per_block=32, channels=1, n_pools=3)
    rows = [0, len(x) - 1]
    fresh = np.asarray(kernel_fn(x[rows], None, "ntk"))
    np.testing.assert_allclose(kernel[np.ix_(rows, rows)], fresh, rtol=1e-6)
    d = np.sqrt(np.diag(kernel))
    corr = (kernel / np.outer(d, d))[~np.eye(len(d), dtype=bool)]
    assert 0.6 < corr.min() and corr.max() < 0.8  # nearly constant (lesson 07)


def test_discussion_numbers_log_fit_misses_a_quarter_power_by_4_then_12_percent():
    """Lesson 07, discussion 1: over n = 16 ... 512 the best a + b ln n misses n^0.25 by an RMS
    of about 4 %; up to n = 4096 by about 12 %."""
    short = 2.0 ** np.arange(4, 10)
    longer = 2.0 ** np.arange(4, 13)
    assert ntk.compare_growth_models(short, short**0.25).log_residual == pytest.approx(0.04,
                                                                                     abs=0.005)
    assert ntk.compare_growth_models(longer, longer**0.25).log_residual == pytest.approx(
        0.12, abs=0.01)


def test_discussion_cauchy_schwarz_bound_gives_n_over_p_near_inverse_mean_squared_correlation():
    """Lesson 07, discussion 2: |k(x, x')| <= sqrt(k(x, x) k(x', x')) is a bound known in
    advance; with it N/P is about 1 / (mean squared correlation), flat for the deep CNN."""
    kernel, labels, _, _ = ntk.load_deep_cnn()
    d = np.sqrt(np.diag(kernel))
    assert np.all(np.abs(kernel) <= np.outer(d, d) * (1 + 1e-12))
    values = {}
    for n in (16, 32, 64):
        train, test = np.arange(n), np.arange(n, len(labels))
        bound = d[test, None] * d[train].max()
        n_over_p = n / np.sum((kernel[np.ix_(test, train)] / bound) ** 2, axis=1)
        corr = kernel[np.ix_(test, train)] / np.outer(d[test], d[train])
        inverse_mean_sq = 1 / np.mean(corr**2, axis=1)
        assert np.median(n_over_p / inverse_mean_sq) == pytest.approx(1, abs=0.15)
        values[n] = np.median(n_over_p)
    assert max(values.values()) / min(values.values()) < 1.2  # flat in n
