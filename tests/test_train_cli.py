"""Tests for `qdr-course train` and `qdr-course evaluate` (tiny synthetic data, 1 epoch)."""

import json

import pytest

from qdr_course.cli import main
from qdr_course.commands.train import parse_data_spec

TINY = ["--n", "100", "--size", "32", "--epochs", "1", "--no-progress"]


@pytest.fixture(scope="module")
def classical_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "classical"
    assert main(["train", "--model", "classical", "--out", str(out), *TINY]) == 0
    return out


def test_train_writes_a_complete_run_folder(classical_run, capsys):
    for name in ("checkpoint.pt", "metrics.json", "confusion_matrix.png", "learning_curve.png"):
        assert (classical_run / name).stat().st_size > 0, name
    meta = json.loads((classical_run / "metrics.json").read_text())
    assert meta["settings"]["kind"] == "ClassicalGrader" and meta["settings"]["data"] == "synthetic"
    assert -1 <= meta["test"]["qwk"] <= 1
    assert sum(map(sum, meta["test"]["confusion"])) == meta["test"]["n"]


def test_evaluate_reproduces_the_stored_metrics(classical_run, capsys):
    assert main(["evaluate", str(classical_run)]) == 0
    out = capsys.readouterr().out
    assert "reproduced" in out and "QWK" in out


def test_existing_run_folder_is_refused(classical_run, capsys):
    before = (classical_run / "metrics.json").read_text()
    assert main(["train", "--model", "classical", "--out", str(classical_run), *TINY]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (classical_run / "metrics.json").read_text() == before


def test_default_run_folder_gets_a_fresh_name(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "hybrid-synthetic-s0").mkdir(parents=True)
    assert main(["train", *TINY]) == 0  # no --model: the hybrid grader
    out = capsys.readouterr().out
    assert "HybridGrader" in out and "QWK" in out
    assert (tmp_path / "runs" / "hybrid-synthetic-s0-2" / "metrics.json").is_file()
    assert not any((tmp_path / "runs" / "hybrid-synthetic-s0").iterdir())
    # the trained hybrid on a noisy fake IBM device, a few images
    run = tmp_path / "runs" / "hybrid-synthetic-s0-2"
    device = ["--device", "FakeManilaV2", "--shots", "500", "--limit", "4"]
    assert main(["evaluate", str(run), *device]) == 0
    out = capsys.readouterr().out
    assert "FakeManilaV2, 500 shots" in out and "4 images" in out
    assert main(["evaluate", str(run), "--limit", "1"]) == 2
    assert "--limit" in capsys.readouterr().err


def test_evaluate_bad_inputs(tmp_path, classical_run, capsys):
    assert main(["evaluate", str(tmp_path / "nope")]) == 2
    assert "no run folder" in capsys.readouterr().err
    assert main(["evaluate", str(classical_run), "--device", "FakeManilaV2"]) == 2
    assert "needs a hybrid grader" in capsys.readouterr().err


@pytest.mark.parametrize("spec, words", [
    ("", "empty"), ("mnist", "kind must be one of"), ("aptos", "needs the folder"),
    ("aptos:/definitely/not/here", "not a folder"), ("synthetic:/tmp", "takes no folder"),
])
def test_bad_data_specs(spec, words, capsys):
    with pytest.raises(ValueError, match=words):
        parse_data_spec(spec)
    assert main(["train", "--data", spec, "--out", "/tmp/never-created-qdr", *TINY]) == 2
    assert words.split()[0] in capsys.readouterr().err


def test_good_data_specs(tmp_path):
    assert parse_data_spec("synthetic") == ("synthetic", None)
    assert parse_data_spec("RetinaMNIST") == ("retinamnist", None)
    assert parse_data_spec(f"eyepacs:{tmp_path}") == ("eyepacs", tmp_path)


def test_bad_numbers_are_usage_errors(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--epochs", "0"])
    assert exit_info.value.code == 2
    assert "positive integer" in capsys.readouterr().err


def test_number_arguments_are_validated():
    import argparse

    from qdr_course.commands.train import _non_negative_int, _positive_float, _positive_int

    assert _positive_int("3") == 3 and _non_negative_int("0") == 0 and _positive_float("0.5") == 0.5
    for parse, text in [(_positive_int, "0"), (_positive_int, "x"), (_non_negative_int, "-1"),
                        (_positive_float, "0"), (_positive_float, "nan"),
                        (_positive_float, "-1e-3")]:
        with pytest.raises(argparse.ArgumentTypeError, match="expected"):
            parse(text)
