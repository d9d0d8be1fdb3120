"""Issue 27, misleading messages: each mistake gets one line that names it and says what to do."""

import json
import os
import shutil

import pytest

from qdr_course.cli import main

TINY = ["--n", "100", "--size", "32", "--epochs", "1", "--no-progress"]


def test_train_size_below_what_preprocessing_takes_blames_the_option(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--data", "aptos:nowhere", "--size", "5"])
    err = capsys.readouterr().err
    assert "argument --size: expected an integer from 8 to 512, got 5" in err, err


def test_data_info_caps_the_size(capsys):
    assert main(["data", "info", "synthetic", "--size", "100000"]) == 1
    assert "--size must be from 8 to 512 pixels, got 100000" in capsys.readouterr().err


def test_a_wrong_retinamnist_file_never_suggests_unpickling(tmp_path, capsys):
    bad = tmp_path / "f.csv"
    bad.write_text("a,b\n1,2\n")
    assert main(["data", "info", f"retinamnist:{bad}"]) == 1
    err = capsys.readouterr().err
    assert "is not a RetinaMNIST .npz file" in err and "pickle" not in err.lower(), err


def test_empty_grades_say_so(capsys):
    from qdr_course.retina.splits import grouped_split, stratified_split

    for split in (lambda: stratified_split([]), lambda: grouped_split([], [])):
        with pytest.raises(ValueError, match="grades is empty"):
            split()


@pytest.fixture(scope="module")
def aptos_run(tmp_path_factory):
    """A run trained on an APTOS folder given by a relative path."""
    root = tmp_path_factory.mktemp("relative")
    cwd = os.getcwd()
    os.chdir(root)
    try:
        assert main(["data", "synth", "--n", "60", "--size", "32", "--out", "ap",
                     "--no-progress"]) == 0
        assert main(["train", "--model", "classical", "--data", "aptos:ap", "--out", "run",
                     "--size", "32", "--epochs", "1", "--no-progress"]) == 0
    finally:
        os.chdir(cwd)
    return root / "run"


def test_evaluate_from_another_folder_finds_a_relative_data_folder(aptos_run, tmp_path,
                                                                   monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["evaluate", str(aptos_run)]) == 0
    assert "reproduced" in capsys.readouterr().out


def test_a_stored_metric_that_is_null_or_edited_is_no_traceback(aptos_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(aptos_run, run)
    meta = json.loads((run / "metrics.json").read_text())
    meta["test"]["qwk"] = None  # undefined, as NaN is stored
    (run / "metrics.json").write_text(json.dumps(meta))
    assert main(["evaluate", str(run)]) == 0
    out = capsys.readouterr().out
    assert "stored at training time: QWK n/a" in out, out
    meta["test"]["accuracy"] = "high"
    (run / "metrics.json").write_text(json.dumps(meta))
    assert main(["evaluate", str(run)]) == 2
    assert "test.accuracy = 'high' is not a number" in capsys.readouterr().err


@pytest.mark.parametrize("out", ["afile", "afile/sub"])
def test_data_synth_into_a_file_names_it_not_a_staging_folder(tmp_path, capsys, out):
    (tmp_path / "afile").write_text("a user's file")
    assert main(["data", "synth", "--n", "60", "--size", "32", "--out", str(tmp_path / out),
                 "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and "staging" not in err, err
    assert (tmp_path / "afile").read_text() == "a user's file"
