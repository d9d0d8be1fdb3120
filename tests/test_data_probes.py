"""Probes of issue 10 on data folders and ``data synth``, kept as tests.

Each command-line case runs ``qdr-course`` in a subprocess, as a user would, and asserts the
exit code and a one-line error that says what was wrong and what to do. Folder problems are
refused before any image is read.
"""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from qdr_course.retina import aptos_folder
from qdr_course.retina.aptos_folder import SYNTH_MANIFEST, save_aptos_folder
from qdr_course.retina.datasets import min_synthetic_n, validate_synthetic_n
from qdr_course.retina.fundus import synthetic_fundus_dataset
from qdr_course.retina.sources import MIN_IMAGE_PIXELS, load_aptos

REPO_ROOT = Path(__file__).resolve().parents[1]


def cli(*args, cwd=None):
    """Run ``qdr-course ARGS`` in a fresh interpreter with this checkout's package."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), TQDM_DISABLE="1")
    return subprocess.run([sys.executable, "-m", "qdr_course.cli", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300, check=False)


def one_line_error(result, *needles) -> str:
    """The error line of a failed command; exit code 1, no traceback, every needle in it."""
    assert result.returncode == 1, result.stdout + result.stderr
    err = result.stderr.strip()
    assert "Traceback" not in err and "\n" not in err and err.startswith("error: "), err
    for needle in needles:
        assert needle in err, f"{needle!r} not in {err!r}"
    return err


@pytest.fixture(scope="module")
def set15():
    return synthetic_fundus_dataset(n=15, size=32, seed=3, prior="balanced")


def aptos_rows(root, rows, encoding="utf-8", name="train.csv", header=("id_code", "diagnosis")):
    """Write a label CSV with ``rows`` in ``encoding``."""
    with open(root / name, "w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def csv_rows(root, name="train.csv"):
    with open(root / name, newline="") as handle:
        return list(csv.reader(handle))[1:]


# --------------------------------------------------------------------------- label files
def test_duplicate_rows_are_refused_before_any_image_is_read(tmp_path, set15):
    root = save_aptos_folder(*set15, tmp_path / "dup")
    rows = csv_rows(root)
    aptos_rows(root, rows + [rows[4]])
    (root / "train_images" / "synth_00000.png").write_bytes(b"corrupt")  # not reached
    err = one_line_error(cli("data", "info", f"aptos:{root}", "--size", 32),
                         "train.csv lists 1 id_code(s) more than once",
                         "'synth_00004' (lines 6, 17)",
                         "both the training and the test split", "keep one row per image")
    assert "corrupt" not in err and "synth_00000" not in err


def test_duplicates_with_different_grades_are_refused_in_eyepacs_folders(tmp_path, set15):
    images, grades = set15
    root = tmp_path / "eyepacs"
    (root / "train").mkdir(parents=True)
    for i, image in enumerate(images):
        Image.fromarray(image).save(root / "train" / f"{i}_left.jpeg", quality=95)
    rows = [[f"{i}_left", int(g)] for i, g in enumerate(grades)]
    aptos_rows(root, rows + [["3_left", (int(grades[3]) + 1) % 5]], name="trainLabels.csv",
               header=("image", "level"))
    one_line_error(cli("data", "info", f"eyepacs:{root}", "--size", 32),
                   "trainLabels.csv lists 1 image(s) more than once: '3_left' (lines 5, 17)")


def test_two_ids_naming_one_file_are_refused(tmp_path, set15):
    root = save_aptos_folder(*set15, tmp_path / "link")
    (root / "train_images" / "alias.png").symlink_to(root / "train_images" / "synth_00002.png")
    aptos_rows(root, csv_rows(root) + [["alias", 1]])
    with pytest.raises(ValueError, match=r"name the same image file: 'synth_00002' and 'alias'"):
        load_aptos(root, size=32)


@pytest.mark.parametrize("bad_id", ["../outside", "train_images/../../outside", "ABSOLUTE"])
def test_ids_that_leave_the_folder_are_refused(tmp_path, set15, bad_id):
    root = save_aptos_folder(*set15, tmp_path / "escape")
    Image.fromarray(set15[0][0]).save(tmp_path / "outside.png")  # a readable image out there
    if bad_id == "ABSOLUTE":
        bad_id = str(tmp_path / "outside")
    aptos_rows(root, csv_rows(root) + [[bad_id, 0]])
    one_line_error(cli("data", "info", f"aptos:{root}", "--size", 32),
                   "1 id_code value(s) are empty, absolute or contain '..'", f"line 17: {bad_id!r}",
                   "use the image's file name")


def test_windows_style_escapes_are_refused_too(tmp_path, set15):
    root = save_aptos_folder(*set15, tmp_path / "win")
    for bad in ("..\\outside", "C:\\data\\x", "\\\\server\\x", ""):
        aptos_rows(root, csv_rows(root)[:15] + [[bad, 0]])
        with pytest.raises(ValueError, match="do not name a file inside the folder"):
            load_aptos(root, size=32)


def test_a_csv_with_a_byte_order_mark_is_accepted(tmp_path, set15):
    root = save_aptos_folder(*set15, tmp_path / "bom")
    aptos_rows(root, csv_rows(root), encoding="utf-8-sig")  # what Excel's "CSV UTF-8" writes
    assert (root / "train.csv").read_bytes().startswith(b"\xef\xbb\xbfid_code")
    result = cli("data", "info", f"aptos:{root}", "--size", 32)
    assert result.returncode == 0, result.stderr
    assert "15 images" in result.stdout and result.stderr == ""


def test_a_latin1_csv_error_names_the_file(tmp_path, set15):
    root = save_aptos_folder(*set15, tmp_path / "latin")
    rows = csv_rows(root)
    (root / "train_images" / "synth_00001.png").rename(root / "train_images" / "café.png")
    rows[1][0] = "café"
    aptos_rows(root, rows, encoding="latin-1")
    one_line_error(cli("data", "info", f"aptos:{root}", "--size", 32),
                   f"{root / 'train.csv'} is not UTF-8 text", "save it as UTF-8")


def test_an_unparsable_csv_names_the_file(tmp_path, set15):
    root = save_aptos_folder(*set15, tmp_path / "huge")
    (root / "train.csv").write_text('id_code,diagnosis\n"' + "x" * 200_000 + '",0\n')
    with pytest.raises(ValueError, match=r"train.csv is not a readable CSV file \(field larger"):
        load_aptos(root, size=32)


# --------------------------------------------------------------------------- images
def test_a_one_pixel_image_is_not_a_photograph(tmp_path):
    set20 = synthetic_fundus_dataset(n=20, size=32, seed=3, prior="balanced")  # 4 per grade
    root = save_aptos_folder(*set20, tmp_path / "tiny")
    Image.new("RGB", (1, 1), (120, 40, 20)).save(root / "train_images" / "synth_00006.png")
    one_line_error(cli("data", "info", f"aptos:{root}", "--size", 32),
                   "train_images/synth_00006.png: ValueError: synth_00006.png is only 1 x 1 pixels",
                   f"at least {MIN_IMAGE_PIXELS} x {MIN_IMAGE_PIXELS}", "--skip-bad")
    result = cli("data", "info", f"aptos:{root}", "--size", 32, "--skip-bad")
    assert result.returncode == 0 and "19 images" in result.stdout
    assert "skipped: train_images/synth_00006.png" in result.stdout


def test_the_smallest_accepted_image_size_is_what_synth_writes(tmp_path):
    images, grades = synthetic_fundus_dataset(n=15, size=MIN_IMAGE_PIXELS, seed=0, prior="balanced")
    root = save_aptos_folder(images, grades, tmp_path / "small")
    assert len(load_aptos(root, size=32).train) == 5
    narrow = images[0][:, : MIN_IMAGE_PIXELS - 1]
    Image.fromarray(narrow).save(root / "train_images" / "synth_00000.png")
    side = MIN_IMAGE_PIXELS
    with pytest.raises(ValueError, match=f"is only {side - 1} x {side} pixels"):
        load_aptos(root, size=32)


# --------------------------------------------------------------------------- synth sizes
def test_minimum_synthetic_sizes():
    assert min_synthetic_n("aptos") == 51 and min_synthetic_n("balanced") == 15
    for prior in ("aptos", "balanced", [0.5, 0.2, 0.2, 0.05, 0.05]):
        smallest = min_synthetic_n(prior)
        with pytest.raises(ValueError, match=f"use n >= {smallest}"):
            validate_synthetic_n(smallest - 1, prior)
        for n in range(smallest, smallest + 400):
            validate_synthetic_n(n, prior)  # every size from the minimum on can be split


def test_synth_refuses_a_size_the_other_commands_would_refuse(tmp_path):
    out = tmp_path / "s50"
    one_line_error(cli("data", "synth", "--n", 50, "--size", 28, "--out", out, "--no-progress"),
                   "n=50 gives grade counts [25, 5, 14, 2, 4]",
                   "grade 3 would have only 2 image(s)",
                   "use n >= 51 or --prior balanced (n >= 15)")
    assert not out.exists()  # refused up front: nothing written
    err = one_line_error(cli("data", "info", "synthetic", "--n", 50), "use n >= 51")
    assert "prior" not in err.split("use n >=")[1]  # data info has no --prior to suggest


@pytest.mark.parametrize("prior, n", [("aptos", 51), ("balanced", 15)])
def test_synth_at_the_smallest_size_gives_a_folder_data_info_accepts(tmp_path, prior, n):
    out = tmp_path / prior
    made = cli("data", "synth", "--n", n, "--size", 28, "--out", out, "--prior", prior,
               "--no-progress")
    assert made.returncode == 0, made.stderr
    info = cli("data", "info", f"aptos:{out}", "--size", 28)
    assert info.returncode == 0, info.stderr
    assert f"{n} images" in info.stdout and info.stdout.count("\n") == 6  # + the groups line
    assert f"{n} images in {n} groups" in info.stdout
    if prior == "aptos":  # the case: train refused the folder synth had written
        run = cli("train", "--data", f"aptos:{out}", "--size", 28, "--epochs", 1, "--out",
                  tmp_path / "run", "--no-progress")
        assert run.returncode == 0, run.stdout + run.stderr


def test_synth_refuses_more_images_than_memory_holds(tmp_path):
    one_line_error(cli("data", "synth", "--n", 10_000_000, "--size", 512, "--out", tmp_path / "x",
                       "--no-progress"), "GiB of memory", "use a smaller --n or --size")
    assert not (tmp_path / "x").exists()


# --------------------------------------------------------------------------- synth --overwrite
def synth(out, n, *extra):
    return cli("data", "synth", "--n", n, "--size", 28, "--out", out, "--prior", "balanced",
               "--no-progress", *extra)


def test_overwrite_removes_the_previous_sets_files_and_only_those(tmp_path):
    out = tmp_path / "s"
    assert synth(out, 20).returncode == 0
    (out / "train_images" / "mine.png").write_bytes(b"a user's file")
    (out / "notes.txt").write_text("mine")
    assert synth(out, 15, "--overwrite").returncode == 0
    left = sorted(p.name for p in (out / "train_images").iterdir())
    assert left == sorted([f"synth_{i:05d}.png" for i in range(15)] + ["mine.png"])  # no stale
    assert len(csv_rows(out)) == 15 and (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", SYNTH_MANIFEST, "train.csv",
                                                      "train_images"]  # no staging left
    info = cli("data", "info", f"aptos:{out}", "--size", 28)
    assert info.returncode == 0 and "15 images" in info.stdout


def test_overwrite_refuses_a_folder_synth_did_not_write(tmp_path, set15):
    root = tmp_path / "real"
    save_aptos_folder(*set15, root)
    (root / SYNTH_MANIFEST).unlink()  # as a downloaded APTOS folder: no manifest
    before = sorted(p.name for p in (root / "train_images").iterdir())
    one_line_error(synth(root, 15, "--overwrite"), "that qdr-course data synth did not write",
                   f"no {SYNTH_MANIFEST}", "choose another folder")
    assert sorted(p.name for p in (root / "train_images").iterdir()) == before


def test_overwrite_refuses_to_replace_a_users_file_with_a_new_image(tmp_path, set15):
    out = save_aptos_folder(*set15, tmp_path / "s")  # as synth writes it
    (out / "train_images" / "synth_00015.png").write_bytes(b"a user's file")
    one_line_error(synth(out, 16, "--overwrite"), "the previous synth did not write",
                   "train_images/synth_00015.png")
    assert (out / "train_images" / "synth_00015.png").read_bytes() == b"a user's file"


def test_a_tampered_manifest_cannot_delete_outside_the_folder(tmp_path, set15):
    root = save_aptos_folder(*set15, tmp_path / "t")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (root / SYNTH_MANIFEST).write_text('{"files": ["train.csv", "train_images/../../victim.txt"]}')
    with pytest.raises(FileExistsError, match="lists files outside train.csv"):
        save_aptos_folder(*set15, root, overwrite=True)
    assert victim.read_text() == "keep me"


def test_a_failed_write_leaves_the_previous_set_and_nothing_half_written(tmp_path, set15,
                                                                         monkeypatch):
    root = save_aptos_folder(*set15, tmp_path / "full")
    before = {p.name: p.read_bytes() for p in (root / "train_images").iterdir()}
    csv_before = (root / "train.csv").read_bytes()
    real_save, calls = Image.Image.save, []

    def disk_full(self, *args, **kwargs):
        calls.append(1)
        if len(calls) > 5:
            raise OSError(28, "No space left on device")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", disk_full)
    images, grades = set15
    with pytest.raises(OSError, match="No space left"):
        save_aptos_folder(images[::-1].copy(), grades[::-1].copy(), root, overwrite=True)
    assert {p.name: p.read_bytes() for p in (root / "train_images").iterdir()} == before
    assert (root / "train.csv").read_bytes() == csv_before
    assert sorted(p.name for p in root.iterdir()) == [SYNTH_MANIFEST, "train.csv", "train_images"]
    assert aptos_folder.validate_aptos_target(root, 15, overwrite=True)  # still a synth folder
    calls.clear()
    with pytest.raises(OSError, match="No space left"):
        save_aptos_folder(*set15, tmp_path / "new" / "set")
    assert not (tmp_path / "new" / "set").exists()  # a folder it created is removed again
