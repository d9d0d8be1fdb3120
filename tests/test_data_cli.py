"""``qdr-course data``: synth writes an APTOS folder the loader reads back; download and info
errors.
"""

import numpy as np

from qdr_course.cli import main
from qdr_course.retina.fundus import synthetic_fundus_dataset
from qdr_course.retina.sources import load_aptos


def test_synth_round_trip(tmp_path, capsys):
    out = tmp_path / "synth"
    assert main(["data", "synth", "--n", "15", "--size", "32", "--out", str(out), "--seed", "2",
                 "--prior", "balanced", "--no-progress"]) == 0
    assert "wrote 15 images" in capsys.readouterr().out
    images, grades = synthetic_fundus_dataset(15, 32, seed=2, prior="balanced")
    data = load_aptos(out, size=32, preprocess=False)
    for split in (data.train, data.val, data.test):
        for img, grade, name in zip(split.images, split.grades, split.ids):
            i = int(name.rsplit("_", 1)[1])
            assert np.array_equal(img, images[i]) and grade == grades[i]


def test_synth_never_overwrites_without_asking(tmp_path, capsys):
    out = tmp_path / "s"
    args = ["data", "synth", "--n", "15", "--size", "28", "--out", str(out), "--no-progress",
            "--prior", "balanced"]
    assert main(args) == 0
    before = (out / "train.csv").read_text()
    assert main(args[:3] + ["16"] + args[4:]) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "train.csv").read_text() == before
    assert main(args + ["--overwrite"]) == 0


def test_synth_bad_size(tmp_path, capsys):
    args = ["--n", "2", "--size", "20", "--out", str(tmp_path / "x"), "--no-progress"]
    assert main(["data", "synth", *args]) == 1
    assert "between 28 and 512" in capsys.readouterr().err


def test_info_and_download_errors(tmp_path, capsys):
    assert main(["data", "info", "synthetic", "--n", "60", "--size", "28"]) == 0
    assert "train" in capsys.readouterr().out
    assert main(["data", "info", f"aptos:{tmp_path / 'missing'}"]) == 1
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["data", "download", "retinamnist", "--cache-dir", str(blocker / "sub")]) == 1
    assert "cache directory" in capsys.readouterr().err


def test_synth_refuses_an_unrelated_non_empty_folder_naming_it(tmp_path, capsys):
    """data synth --out wrote silently into a folder of someone's files (issue 25 item 6)."""
    folder = tmp_path / "my_notes"
    folder.mkdir()
    (folder / "thesis.tex").write_text("mine")
    (folder / "figures").mkdir()
    assert main(["data", "synth", "--n", "15", "--prior", "balanced", "--size", "28", "--out",
                 str(folder), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err == (f"error: {folder} is not empty (it holds figures, thesis.tex) and holds no "
                   "synthetic set: name a new or empty folder\n")
    assert sorted(p.name for p in folder.iterdir()) == ["figures", "thesis.tex"]  # untouched
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["data", "synth", "--n", "15", "--prior", "balanced", "--size", "28", "--out",
                 str(empty), "--no-progress"]) == 0
