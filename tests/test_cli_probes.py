"""Bad inputs and faults for `qdr-course train` / `evaluate`: one-line errors, nothing half-written.

Each probe runs the command line in a subprocess (as a user does) and asserts the exit code,
that stderr is exactly one line saying what was wrong and what to do, and that no run folder
is left behind. Faults that cannot be caused from outside (a full disk, Ctrl-C after an epoch)
are simulated in-process by monkeypatching. Data are tiny (60 images of 32 px, 1 epoch).
"""

import builtins
import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from qdr_course.cli import main
from qdr_course.utils import REPO_ROOT

TINY = ["--n", "60", "--size", "32", "--epochs", "1", "--no-progress"]


def cli(*args, env=None, cwd=None, timeout=600):
    """Run ``python -m qdr_course.cli ARGS`` with this checkout's package; return the result."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TQDM_DISABLE": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "qdr_course.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=full_env, cwd=cwd)


def one_line_error(result, *words, code=2) -> str:
    """Assert the exit code, one line on stderr, no traceback, and the words; return the line."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == code, result.stdout + result.stderr
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A trained classical and hybrid run (in-process: the same code, half the start-up time)."""
    root = tmp_path_factory.mktemp("probe-runs")
    made = {}
    for model in ("classical", "hybrid"):
        made[model] = root / model
        assert main(["train", "--model", model, "--out", str(made[model]), *TINY]) == 0
    return made


def copy_run(run: Path, tmp_path: Path) -> Path:
    copy = tmp_path / run.name
    shutil.copytree(run, copy)
    return copy


# ------------------------------------------------------------------------------ train: data
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed when the socket is: connections are refused


def test_retinamnist_offline_is_one_line_naming_the_url(tmp_path):
    proxy = f"http://127.0.0.1:{closed_port()}"  # every download goes to a port nobody listens on
    env = {"HTTPS_PROXY": proxy, "https_proxy": proxy, "HTTP_PROXY": proxy, "http_proxy": proxy,
           "NO_PROXY": "", "no_proxy": "", "QDR_COURSE_DATA": str(tmp_path / "cache")}
    result = cli("train", "--data", "retinamnist", "--out", tmp_path / "run", "--epochs", "1",
                 env=env)
    line = one_line_error(result, "could not reach https://zenodo.org/", "retinamnist_64.npz",
                          "--data retinamnist:", "--data synthetic")
    assert "ConnectionError" in line or "ProxyError" in line
    assert not (tmp_path / "run").exists()


def test_retinamnist_size_is_checked_before_the_download(tmp_path):
    result = cli("train", "--data", "retinamnist", "--size", "32", "--out", tmp_path / "run")
    one_line_error(result, "sizes [28, 64, 128, 224]", "--size 32")
    assert "loading data" not in result.stdout and not (tmp_path / "run").exists()


def write_medmnist_npz(path: Path, side: int = 28, seed: int = 0) -> Path:
    """A small file in RetinaMNIST's layout: uint8 images (N, H, W, 3), labels (N, 1)."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in (("train", 40), ("val", 10), ("test", 10)):
        arrays[f"{split}_images"] = rng.integers(0, 256, (n, side, side, 3), dtype=np.uint8)
        arrays[f"{split}_labels"] = (np.arange(n) % 5).astype(np.uint8).reshape(n, 1)
    np.savez(path, **arrays)
    return path


def test_retinamnist_file_and_tilde_out_are_accepted(tmp_path):
    npz = write_medmnist_npz(tmp_path / "retinamnist_28.npz")
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    result = cli("train", "--model", "classical", "--data", f"retinamnist:{npz}", "--size", "28",
                 "--epochs", "1", "--no-progress", "--out=~/rm-run", env={"HOME": str(home)},
                 cwd=work)
    assert result.returncode == 0, result.stderr
    meta = json.loads((home / "rm-run" / "metrics.json").read_text())
    assert meta["settings"]["data"] == f"retinamnist:{npz}" and meta["test"]["n"] == 10
    assert not (work / "~").exists()  # ~ expanded, not a folder named "~"
    # the same file with another --size: refused before training, nothing left
    result = cli("train", "--model", "classical", "--data", f"retinamnist:{npz}", "--size", "32",
                 "--out", tmp_path / "wrong-size")
    one_line_error(result, "28x28 pixels but --size is 32", "pass --size 28")
    assert not (tmp_path / "wrong-size").exists()


def test_retinamnist_file_that_is_missing(tmp_path):
    result = cli("train", "--data", f"retinamnist:{tmp_path / 'nope.npz'}",
                 "--out", tmp_path / "run")
    one_line_error(result, "is not a file", "--data retinamnist")


# ------------------------------------------------------------------------------- train: --out
def test_out_under_a_file_is_refused_before_loading(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    result = cli("train", "--out", tmp_path / "a-file" / "run", *TINY)
    one_line_error(result, "is a file, not a folder")
    assert "loading data" not in result.stdout


@pytest.mark.parametrize("out, words", [
    ("", "not a usable folder name"),
    ("x" * 300, "too long"),
    ("/proc/qdr-course-run", "cannot create this folder"),
])
def test_invalid_or_unwritable_out(out, words, tmp_path):
    result = cli("train", "--out", out, *TINY, cwd=tmp_path)
    one_line_error(result, words)
    assert "loading data" not in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_out_with_tilde_that_exists_names_the_expanded_folder(tmp_path):
    (tmp_path / "taken").mkdir()
    result = cli("train", "--out=~/taken", *TINY, env={"HOME": str(tmp_path)}, cwd=tmp_path)
    one_line_error(result, f"run folder {tmp_path / 'taken'} already exists")
    assert not (tmp_path / "~").exists()


def _open_until_full(path, mode="r", *args, **kwargs):
    """``open`` on a disk that fills during the first write: a partial file, then ENOSPC."""
    file = builtins.open(path, mode, *args, **kwargs)
    if "w" not in mode:
        return file
    file.write(b"PK\x03\x04 half" if "b" in mode else "half")
    file.close()
    raise OSError(errno.ENOSPC, "No space left on device", str(path))


def test_full_disk_while_saving_the_first_checkpoint_leaves_nothing(tmp_path, monkeypatch,
                                                                   capsys):
    from qdr_course.retina import training

    monkeypatch.setattr(training, "open", _open_until_full, raising=False)
    out = tmp_path / "deep" / "run"
    assert main(["train", "--model", "classical", "--out", str(out), *TINY]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "no space left on the disk" in err and "free some space" in err
    assert not (tmp_path / "deep").exists()  # no finished epoch: the folders it made are gone


def test_full_disk_while_writing_the_figures_keeps_the_finished_run(tmp_path, monkeypatch,
                                                                    capsys):
    from matplotlib.figure import Figure

    def savefig_until_full(self, fname, *args, **kwargs):
        Path(fname).write_bytes(b"\x89PNG half")
        raise OSError(errno.ENOSPC, "No space left on device", str(fname))

    monkeypatch.setattr(Figure, "savefig", savefig_until_full)
    out = tmp_path / "run"
    assert main(["train", "--model", "classical", "--out", str(out), *TINY]) == 2
    captured = capsys.readouterr()
    assert "QWK" in captured.out  # the test results were printed before any figure
    keep, error = captured.err.strip().splitlines()
    assert "no space left" in error and "confusion_matrix.png" in error
    assert keep.startswith("the disk is full") and f"train --resume {out}" in keep
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.pt", "settings.json"]


def test_a_checkpoint_on_a_full_disk_is_an_os_error_and_leaves_no_file(tmp_path, monkeypatch):
    from qdr_course.retina import training
    from qdr_course.retina.models import ClassicalGrader

    monkeypatch.setattr(training, "open", _open_until_full, raising=False)
    with pytest.raises(OSError) as caught:
        training.save_checkpoint(tmp_path / "c.pt", ClassicalGrader(image_size=32))
    assert caught.value.errno == errno.ENOSPC  # serialised in memory: not torch's RuntimeError
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------- train: numbers
@pytest.mark.parametrize("args, words", [
    (["--lr", "inf"], "finite"),
    (["--lr", "nan"], "finite"),
    (["--lr", "1e308"], "more than 10, the largest accepted"),
    (["--epochs", "1e9"], "up to 1000"),
    (["--epochs", "1000000000"], "more than 1000, the largest accepted"),
    (["--batch-size", "100000"], "the largest accepted"),
    (["--seed", str(2**40)], "the largest accepted"),
])
def test_absurd_numbers_are_refused_naming_the_limit(args, words):
    line = one_line_error(cli("train", *args), words, f"argument {args[0]}")
    assert line.startswith("qdr-course train: error:")


def test_help_states_the_limits():
    result = cli("train", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for phrase in ("maximum epochs, at most 1000", "finite, at most 10", "--resume RUN_DIR"):
        assert phrase in text, phrase


@pytest.mark.parametrize("n_qubits", [26, 40])
def test_statevector_that_does_not_fit_is_refused(n_qubits, tmp_path):
    result = cli("train", "--n-qubits", n_qubits, "--out", tmp_path / "run", *TINY)
    line = one_line_error(result, f"a {n_qubits}-qubit circuit", "needs about", "available",
                          "use at most")
    assert "GB" in line or "TB" in line or "PB" in line
    assert "loading data" not in result.stdout and not (tmp_path / "run").exists()


def test_statevector_memory_estimate():
    from qdr_course.retina.models import HybridGrader, statevector_bytes, validate_statevector_fits

    # 32 x 2^15 complex128 states x (1.5 x 88 gates + 8); measured peak 2.2 GB, estimate above it
    assert statevector_bytes(15, 2, 32) == 32 * 2**15 * 16 * 140 + 2 * 2**15 * 15 * 8
    assert 2.2e9 < statevector_bytes(15, 2, 32) < 2.6e9
    assert validate_statevector_fits(3, 2, 32, available=10**9) < 10**6
    with pytest.raises(MemoryError, match=r"about 2\.4 GB .* only 1\.0 GB .* at most 13 qubits"):
        validate_statevector_fits(15, 2, 32, available=10**9)
    with pytest.raises(MemoryError, match="40-qubit"):
        HybridGrader(n_qubits=40)  # from Python too: refused, not an abort


# ------------------------------------------------------------------------------ evaluate
def test_evaluate_reproduces_every_stored_metric(runs):
    result = cli("evaluate", runs["classical"])
    assert result.returncode == 0, result.stderr
    assert "reproduced: every stored metric" in result.stdout and "within 1e-06" in result.stdout
    for key in ("accuracy", "confusion", "per_grade_recall", "referable_auc"):
        assert key in result.stdout


def test_evaluate_names_a_metric_that_differs(runs, tmp_path):
    run = copy_run(runs["classical"], tmp_path)
    meta = json.loads((run / "metrics.json").read_text())
    meta["test"]["referable_specificity"] += 0.01  # QWK untouched: it alone would say "reproduced"
    (run / "metrics.json").write_text(json.dumps(meta))
    result = cli("evaluate", run)
    assert result.returncode == 0, result.stderr
    assert "DIFFERENT" in result.stdout and "referable_specificity" in result.stdout
    assert "reproduced" not in result.stdout


@pytest.mark.parametrize("damage, words", [
    ("empty", "is empty (0 bytes)"),
    ("truncated", "truncated or damaged"),
])
def test_evaluate_empty_or_truncated_checkpoint(damage, words, runs, tmp_path):
    run = copy_run(runs["classical"], tmp_path)
    ckpt = run / "checkpoint.pt"
    data = ckpt.read_bytes()
    ckpt.write_bytes(b"" if damage == "empty" else data[: len(data) // 2])
    one_line_error(cli("evaluate", run), words, "train again")


def test_evaluate_checkpoint_of_the_other_model_type(runs, tmp_path):
    run = copy_run(runs["hybrid"], tmp_path)
    shutil.copy(runs["classical"] / "checkpoint.pt", run / "checkpoint.pt")
    one_line_error(cli("evaluate", run), "holds a ClassicalGrader", "trained a HybridGrader",
                   "restore the run's own checkpoint")


def flip_weight_bytes(ckpt: Path) -> None:
    """Change bytes inside a stored tensor: the zip CRC no longer matches, torch loads it anyway."""
    with zipfile.ZipFile(ckpt) as archive:
        tensors = [i for i in archive.infolist() if "/data/" in i.filename]
    info = max(tensors, key=lambda i: i.file_size)
    raw = bytearray(ckpt.read_bytes())
    name_len = int.from_bytes(raw[info.header_offset + 26: info.header_offset + 28], "little")
    extra_len = int.from_bytes(raw[info.header_offset + 28: info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    for k in range(start, start + 64):
        raw[k] ^= 0x55
    ckpt.write_bytes(bytes(raw))


def test_evaluate_checkpoint_with_corrupted_bytes(runs, tmp_path):
    from qdr_course.retina.training import read_checkpoint

    run = copy_run(runs["classical"], tmp_path)
    flip_weight_bytes(run / "checkpoint.pt")
    read_checkpoint(run / "checkpoint.pt")  # torch still loads it: only the stored hash can tell
    one_line_error(cli("evaluate", run), "SHA-256 differs", "restore it or train again")


def test_evaluate_metrics_missing_keys(runs, tmp_path):
    run = copy_run(runs["classical"], tmp_path)
    meta = json.loads((run / "metrics.json").read_text())
    del meta["settings"]["kind"], meta["test"]["accuracy"]
    (run / "metrics.json").write_text(json.dumps(meta))
    one_line_error(cli("evaluate", run), "lacks settings.kind, test.accuracy",
                   "train the run again")


def test_evaluate_metrics_that_is_not_json(runs, tmp_path):
    run = copy_run(runs["classical"], tmp_path)
    (run / "metrics.json").write_text('{"settings": ')
    one_line_error(cli("evaluate", run), "is not valid JSON")


def test_evaluate_absurd_shots_are_refused(runs):
    result = cli("evaluate", runs["hybrid"], "--device", "FakeManilaV2", "--shots", "1000000000")
    one_line_error(result, "more than 1000000, the largest accepted")


def test_evaluate_on_a_device_with_too_few_qubits(runs):
    one_line_error(cli("evaluate", runs["hybrid"], "--device", "FakeArmonkV2", "--limit", "4"),
                   "FakeArmonkV2 has 1 qubit, too few", "3-qubit circuit", "at least 3 qubits")


def test_evaluate_on_a_device_prints_training_qwk_and_chance(runs):
    meta = json.loads((runs["hybrid"] / "metrics.json").read_text())
    result = cli("evaluate", runs["hybrid"], "--device", "FakeManilaV2", "--shots", "300",
                 "--limit", "6")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"training-time QWK (statevector, {meta['test']['n']} test images): " \
           f"{meta['test']['qwk']:.3f}" in out
    assert "exact statevector on the same 6 images: QWK" in out
    assert any(words in out for words in ("within chance", "more than chance", "the same grades",
                                          "the same QWK", "too few images"))


def test_qwk_difference_interval():
    from qdr_course.retina.metrics import quadratic_weighted_kappa, qwk_difference_interval

    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 200)
    noisy = np.where(rng.random(200) < 0.1, rng.integers(0, 5, 200), y)  # 90 % right
    same = qwk_difference_interval(y, noisy, noisy)
    assert same == (0.0, 0.0, 0.0)
    diff, low, high = qwk_difference_interval(y, noisy, y)  # clearly worse than perfect
    assert diff == pytest.approx(quadratic_weighted_kappa(y, noisy) - 1.0)
    assert low <= diff <= high < 0
    slightly = np.where(rng.random(200) < 0.02, rng.integers(0, 5, 200), noisy)
    diff, low, high = qwk_difference_interval(y, slightly, noisy)  # a few flips: within chance
    assert low <= 0 <= high and high - low < 0.1


# ------------------------------------------------------------------------------ resume
def test_resume_finishes_an_interrupted_run_like_an_uninterrupted_one(tmp_path, monkeypatch):
    import qdr_course.retina.training as training

    settings = ["--model", "classical", "--n", "60", "--size", "32", "--epochs", "3",
                "--patience", "5", "--no-progress"]
    assert main(["train", *settings, "--out", str(tmp_path / "whole")]) == 0

    real_save = training.save_checkpoint
    saved = []

    def save_then_interrupt(*args, **kwargs):  # Ctrl-C right after epoch 1's checkpoint
        real_save(*args, **kwargs)
        saved.append(1)
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "save_checkpoint", save_then_interrupt)
    run = tmp_path / "interrupted"
    assert main(["train", *settings, "--out", str(run)]) == 130
    monkeypatch.setattr(training, "save_checkpoint", real_save)
    assert saved == [1] and (run / "checkpoint.pt").is_file()
    assert not (run / "metrics.json").exists()
    one_line_error(cli("evaluate", run), "not a complete run folder", f"--resume {run}")

    result = cli("train", "--resume", run, "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "resuming" in result.stdout and "trained 3 epochs" in result.stdout
    whole = json.loads((tmp_path / "whole" / "metrics.json").read_text())
    resumed = json.loads((run / "metrics.json").read_text())
    from qdr_course.retina.runs import compare_reports

    assert compare_reports(whole["test"], resumed["test"], tol=1e-9) == []
    np.testing.assert_allclose(resumed["history"]["train_loss"], whole["history"]["train_loss"],
                               rtol=1e-6)
    assert resumed["history"]["val_qwk"] == whole["history"]["val_qwk"]

    # a finished run is not resumed again; options that would change the run are refused
    one_line_error(cli("train", "--resume", run), "is complete", "qdr-course evaluate")
    one_line_error(cli("train", "--resume", run, "--epochs", "5"), "drop --epochs")
    one_line_error(cli("train", "--resume", tmp_path / "nope"), "no run folder there")


# ------------------------------------------------------------------------------ figures
def test_figures_name_model_data_split_and_seed(tmp_path, monkeypatch):
    import qdr_course.retina.runs as runs_module
    from qdr_course.retina.metrics import grading_report

    titles, legends = [], []
    real_save = runs_module._save_figure

    def capture(fig, path):
        fig.canvas.draw()
        for ax in fig.axes:
            if ax.get_title():
                titles.append(ax.get_title())
            legend = ax.get_legend()
            if legend is not None:
                legends.append((legend.get_window_extent(), ax.get_window_extent()))
        real_save(fig, path)

    monkeypatch.setattr(runs_module, "_save_figure", capture)
    y = np.array([0, 1, 2, 3, 4, 0, 1, 2])
    report = grading_report(y, np.roll(y, 1), y_score=np.full((8, 5), 0.2))
    history = {"train_loss": [1.6, 1.2, 0.9, 0.8], "val_loss": [1.7, 1.3, 1.1, 1.0],
               "val_qwk": [0.1, 0.5, 0.7, 0.8], "lr": [0.01] * 4}
    settings = {"kind": "HybridGrader", "data": "aptos:/data/my-aptos", "seed": 7}
    runs_module.write_run(tmp_path, report=report, history=history, settings=settings)
    confusion_title, curve_title = titles
    assert confusion_title.startswith("HybridGrader · aptos:my-aptos · test split · seed 7")
    assert curve_title == "HybridGrader · aptos:my-aptos · train/validation split · seed 7"
    (legend_box, axes_box), = legends
    assert not legend_box.overlaps(axes_box)  # below the axes: it covers no line
