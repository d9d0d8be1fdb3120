"""The paper's CNN kernel at scale: the cost model, and nt.batch's path on CPU."""

import os
import subprocess
import sys

import numpy as np
import pytest

from qdr_course.ntk.scaling import (
    PAPER,
    Timing,
    batched_kernel_fn,
    check_divisible,
    conv_work,
    extrapolate,
    fit_constant,
    images,
    pairs,
    paper_cnn,
)
from qdr_course.utils import REPO_ROOT


def test_cost_model_counts_the_papers_work():
    assert conv_work(28, 32) == 32 * (28**4 + 14**4 + 7**4) == 20_975_136
    assert pairs(512, 256) == 512 * 513 // 2 + 512 * 256 == 262_400
    assert extrapolate(1e-9, **PAPER) == pytest.approx(1e-9 * 262_400 * 20_975_136)
    # doubling the image side multiplies the first block's cost by 16
    assert conv_work(32, 1) / conv_work(16, 1) == pytest.approx(16.0)


def test_fit_recovers_the_constant_and_reports_the_worst_ratio():
    timings = [Timing(n, s, k, 3e-9 * pairs(n) * conv_work(s, k))
               for n, s, k in [(4, 16, 1), (8, 16, 1), (4, 24, 2)]]
    c, worst = fit_constant(timings)
    assert c == pytest.approx(3e-9) and worst == pytest.approx(1.0)
    timings[0].seconds *= 4
    assert fit_constant(timings)[1] > 1.5


def test_batched_kernel_equals_the_direct_one_on_cpu():
    # rtol 1e-9 needs float64: say so here, not rely on another test having imported a module
    # that switched JAX to 64-bit (alone, this test compared float32 kernels and failed)
    import jax

    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        _compare_batched_and_direct()
    finally:
        jax.config.update("jax_enable_x64", before)


def _compare_batched_and_direct():
    x1, x2 = images(4, 16, seed=1), images(2, 16, seed=2)
    _, _, kernel_fn = paper_cnn(conv_per_block=1)
    batched = batched_kernel_fn(conv_per_block=1, batch_size=2, device_count=0)
    for a, b in ((x1, None), (x2, x1)):
        direct = np.asarray(kernel_fn(a, b, "ntk"))
        split = np.asarray(batched(a, b, "ntk"))
        assert split.shape == direct.shape
        # blocks off the diagonal are computed with x2 given: equal up to rounding
        np.testing.assert_allclose(split, direct, rtol=1e-9, atol=0)
    assert np.all(np.isfinite(direct)) and np.abs(direct).max() > 0


def test_sizes_that_do_not_split_are_refused_with_the_fix():
    with pytest.raises(ValueError, match="use a number of images divisible by 16 \\(e.g. 48\\)"):
        check_divisible(50, 8, 2)
    check_divisible(48, 8, 2)


def test_full_experiment_command_runs_on_two_cpu_devices(tmp_path):
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
           "PYTHONPATH": str(REPO_ROOT)}
    out = tmp_path / "k.npz"
    done = subprocess.run(
        [sys.executable, "-m", "qdr_course.ntk.scaling", "run", "--source", "digits", "--n", "8",
         "--n-test", "4", "--conv-per-block", "1", "--batch-size", "2", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "on 2 cpu device(s)" in done.stdout and "test accuracy" in done.stdout
    saved = np.load(out)
    assert saved["k_train"].shape == (8, 8) and saved["k_test"].shape == (4, 8)
    np.testing.assert_allclose(saved["k_train"], saved["k_train"].T, rtol=1e-12)
    refused = subprocess.run(
        [sys.executable, "-m", "qdr_course.ntk.scaling", "run", "--source", "digits", "--n", "6",
         "--n-test", "4", "--batch-size", "2", "--out", str(tmp_path / "no.npz")],
        capture_output=True, text=True, env=env, timeout=300)
    assert refused.returncode == 1 and "divisible by 4" in refused.stderr
    assert not (tmp_path / "no.npz").exists()


@pytest.mark.parametrize("args, words", [
    (["--out", "/proc/x.npz"], "cannot write there"),
    (["--out", "{afile}/x.npz"], "is not an existing folder"),
    (["--out", "{taken}"], "already exists"),
    (["--out", "k.txt"], "ending in .npz"),
    (["--batch-size", "0"], "argument --batch-size: '0' is not a positive integer"),
    (["--c", "nan"], "argument --c: 'nan' is not a positive finite number"),
    (["--n", "-5"], "argument --n: '-5' is not a positive integer"),
])
def test_run_refuses_bad_options_before_computing_anything(tmp_path, capsys, monkeypatch, args,
                                                           words):
    """Issue 27.4, 27.8, 27.14: the output is checked before hours of kernels, not after."""
    from qdr_course.ntk import scaling

    (tmp_path / "afile").write_text("x")
    (tmp_path / "taken.npz").write_bytes(b"a user's file")
    args = [a.format(afile=tmp_path / "afile", taken=tmp_path / "taken.npz") for a in args]
    monkeypatch.setattr(scaling, "batched_kernel_fn", lambda *a, **k: pytest.fail("computed"))
    try:
        code = scaling.main(["run", "--source", "digits", "--n", "8", "--n-test", "4", *args])
    except SystemExit as exit_:  # argparse's usage errors
        code = exit_.code
    assert code in (1, 2)
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err, err
    assert (tmp_path / "taken.npz").read_bytes() == b"a user's file"
