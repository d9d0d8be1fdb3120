"""IDRiD shipped with the course (issue 22): every file verified, IDRiD's own split and counts,
the DME risk, the lesion masks, a damaged file named, and the copy rebuilt byte for byte."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from qdr_course.retina import idrid
from qdr_course.retina.datasets import load_grading_data

MIRROR = Path("/work/.mirror/imsaksham-c+EyeDisease_IDRiD/repo")
#: IDRiD's published label counts (Porwal et al. 2018, Table 3): grades 0-4 and DME risk 0-2.
TRAIN_GRADES, TEST_GRADES = [134, 20, 136, 74, 49], [34, 5, 32, 19, 13]
TRAIN_DME, TEST_DME = [177, 41, 195], [45, 10, 48]


@pytest.fixture(scope="module")
def data():
    return load_grading_data("idrid", size=32, seed=0)


def test_every_shipped_file_is_in_the_manifest_and_verifies():
    root = idrid.IDRID_ROOT
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    sums = idrid.read_manifest()
    assert on_disk - {idrid.MANIFEST} == set(sums)
    assert idrid.verify_idrid() == len(sums) == 516 + 2 + 81 + 363 + 4 + 1
    size = sum((root / name).stat().st_size for name in on_disk)
    assert size < 20e6, f"the IDRiD copy is {size / 1e6:.1f} MB, more than 20 MB"


def test_licence_and_attribution_travel_with_the_images():
    root = idrid.IDRID_ROOT
    for part in ("grading", "segmentation"):
        licence = (root / part / "LICENSE.txt").read_text(encoding="utf-8")
        assert "Prasanna Porwal, Samiksha Pachade and Manesh Kokare" in licence
        assert "Creative Commons Attribution 4.0 International License" in licence
        assert "Attribution 4.0 International" in (root / part / "CC-BY-4.0.txt").read_text(
            encoding="utf-8-sig")
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "doi:10.3390/data3030025" in readme and "Changes made by qdr-course" in readme


def test_labels_are_idrids_published_counts():
    for split, grades_expected, dme_expected in (("train", TRAIN_GRADES, TRAIN_DME),
                                                 ("test", TEST_GRADES, TEST_DME)):
        ids, grades, dme = idrid.idrid_labels(split)
        assert np.bincount(grades, minlength=5).tolist() == grades_expected
        assert np.bincount(dme, minlength=3).tolist() == dme_expected
        assert len(set(ids)) == len(ids)


def test_grading_data_keeps_idrids_split_and_carves_a_stratified_validation(data):
    train_ids, train_grades, train_dme = idrid.idrid_labels("train")
    test_ids, test_grades, test_dme = idrid.idrid_labels("test")
    assert data.test.ids == test_ids
    np.testing.assert_array_equal(data.test.grades, test_grades)
    np.testing.assert_array_equal(data.test.dme, test_dme)
    # IDRiD's training IDRiD_118 is its test IDRiD_064, byte for byte: left out of training
    assert sorted(data.train.ids + data.val.ids) == sorted(set(train_ids) - {"IDRiD_118"})
    assert data.skipped == ["train/IDRiD_118: a copy of test/IDRiD_064 (left out of training)"]
    assert not set(data.train.ids) & set(data.val.ids)
    assert len(data.val) == pytest.approx(0.15 * 412, abs=5)
    # copies within the training set stay in one split; the graded-differently ones are listed
    conflicts = {tuple(names) for names, _ in data.conflicts}
    assert ("train/IDRiD_028", "train/IDRiD_327") in conflicts
    assert ("train/IDRiD_118", "test/IDRiD_064") in conflicts
    for group in (("IDRiD_028", "IDRiD_327"), ("IDRiD_013", "IDRiD_397"),
                  ("IDRiD_021", "IDRiD_391")):
        assert set(group) <= set(data.train.ids) or set(group) <= set(data.val.ids)
    by_id = dict(zip(train_ids, zip(train_grades, train_dme)))
    for split in (data.train, data.val):
        assert split.images.shape[1:] == (32, 32, 3) and split.images.dtype == np.uint8
        assert [by_id[i] for i in split.ids] == list(zip(split.grades, split.dme))
    # stratified: every grade in validation, in proportion within one image
    val_counts = np.bincount(data.val.grades, minlength=5)
    assert np.all(val_counts >= 1)
    assert np.all(np.abs(val_counts - 0.15 * np.array(TRAIN_GRADES)) <= 1.0)


def test_validation_split_is_seeded(data):
    again = load_grading_data("idrid", size=32, seed=0)
    other = load_grading_data("idrid", size=32, seed=1)
    assert again.val.ids == data.val.ids
    np.testing.assert_array_equal(again.train.images, data.train.images)
    assert set(other.val.ids) != set(data.val.ids)


def test_photographs_are_the_shipped_ones_unprocessed():
    ids, images = idrid.load_idrid_photographs("test", ids=["IDRiD_001", "IDRiD_103"])
    assert ids == ["IDRiD_001", "IDRiD_103"] and images.shape == (2, 256, 385, 3)
    with pytest.raises(ValueError, match="not in IDRiD's test split"):
        idrid.load_idrid_photographs("test", ids=["IDRiD_104"])


def test_segmentation_set_and_its_masks():
    train = idrid.load_idrid_segmentation("train")
    test = idrid.load_idrid_segmentation("test")
    assert len(train) == 54 and len(test) == 27
    assert train.images.shape == (54, 512, 771, 3) and train.masks.shape == (54, 5, 512, 771)
    # IDRiD gives 53 haemorrhage and 26 soft-exudate masks of 54 training images, all of the test
    assert train.annotated.sum(0).tolist() == [54, 53, 54, 26, 54]
    assert test.annotated.sum(0).tolist() == [27, 27, 27, 14, 27]
    for s in (train, test):
        # a mask IDRiD gives is never empty; one it does not give is all False
        assert np.all(s.masks.any(axis=(2, 3)) == s.annotated)
        disc = s.mask("OD").mean(axis=(1, 2))
        assert np.all((disc > 0.005) & (disc < 0.05))
        assert s.mask("MA").mean() < s.mask("OD").mean()
    small = idrid.load_idrid_segmentation("all", size=64)
    assert small.images.shape == (81, 64, 64, 3) and small.masks.shape == (81, 5, 64, 64)
    # no lesion is lost by shrinking: a mask pixel is set if any pixel it covers is
    assert np.all(small.masks.any(axis=(2, 3)) == small.annotated)


def _copy_of_shipped(tmp_path) -> Path:
    root = tmp_path / "idrid"
    shutil.copytree(idrid.IDRID_ROOT, root)
    return root


def test_a_damaged_file_is_named(tmp_path):
    root = _copy_of_shipped(tmp_path)
    victim = root / "grading" / "train" / "IDRiD_007.jpg"
    data = bytearray(victim.read_bytes())
    data[-10] ^= 0xFF
    victim.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"grading/train/IDRiD_007\.jpg has SHA-256") as error:
        load_grading_data(f"idrid:{root}", size=16)
    assert "\n" not in str(error.value)
    with pytest.raises(ValueError, match=r"IDRiD_007\.jpg"):
        idrid.verify_idrid(root)
    victim.unlink()
    with pytest.raises(ValueError, match=r"grading/train/IDRiD_007\.jpg is missing"):
        idrid.verify_idrid(root)


def _original_files(tmp_path, names) -> Path:
    """A few original IDRiD files, laid out as the archive: from $QDR_IDRID_SOURCE or the
    mirror of imsaksham-c/EyeDisease_IDRiD (skipped where neither is present)."""
    source = os.environ.get("QDR_IDRID_SOURCE")
    if source:
        return Path(source)
    if not MIRROR.is_dir():
        pytest.skip("no full IDRiD download here (set QDR_IDRID_SOURCE to one)")
    out = tmp_path / "full"
    for name in names:
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shown = subprocess.run(["git", "-C", str(MIRROR), "show", f"HEAD:dataset/{name}"],
                               check=True, capture_output=True)
        target.write_bytes(shown.stdout)
    return out


def test_rebuild_from_the_originals_gives_the_shipped_bytes(tmp_path):
    grading, segmentation = "B. Disease Grading", "A. Segmentation"
    seg_masks = f"{segmentation}/2. All Segmentation Groundtruths/a. Training Set"
    originals = [f"{grading}/LICENSE.txt", f"{grading}/CC-BY-4.0.txt",
                 f"{grading}/2. Groundtruths/a. IDRiD_Disease Grading_Training Labels.csv",
                 f"{grading}/1. Original Images/a. Training Set/IDRiD_001.jpg",
                 f"{grading}/1. Original Images/b. Testing Set/IDRiD_050.jpg",
                 f"{segmentation}/1. Original Images/a. Training Set/IDRiD_03.jpg",
                 f"{seg_masks}/1. Microaneurysms/IDRiD_03_MA.tif",
                 f"{seg_masks}/4. Soft Exudates/IDRiD_03_SE.tif"]
    source = _original_files(tmp_path, originals)
    wanted = {"grading/LICENSE.txt", "grading/CC-BY-4.0.txt", "grading/train.csv",
              "grading/train/IDRiD_001.jpg", "grading/test/IDRiD_050.jpg",
              "segmentation/train/images/IDRiD_03.jpg", "segmentation/train/masks/IDRiD_03_MA.png",
              "segmentation/train/masks/IDRiD_03_SE.png"}
    out = tmp_path / "copy"
    assert idrid.build_idrid_copy(source, out, only=wanted) == len(wanted)
    sums = idrid.read_manifest()
    for name in sorted(wanted):
        assert idrid._sha256((out / name).read_bytes()) == sums[name], name


def test_build_refuses_a_folder_it_did_not_write(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    (tmp_path / "src" / "B. Disease Grading").mkdir(parents=True)
    with pytest.raises(FileExistsError, match="not empty"):
        idrid.build_idrid_copy(tmp_path / "src", tmp_path, overwrite=True)
    assert (tmp_path / "mine.txt").read_text() == "keep me"
    with pytest.raises(FileNotFoundError, match="'B. Disease Grading'"):
        idrid.build_idrid_copy(tmp_path / "nowhere", tmp_path / "out")


def test_cli_verifies_the_shipped_copy(capsys):
    from qdr_course.cli import main

    assert main(["data", "idrid", "--verify"]) == 0
    assert "files match their SHA-256" in capsys.readouterr().out
    assert main(["data", "idrid", "--from", "x"]) == 2


def test_field_of_view_box_survives_recompression():
    from qdr_course.retina.copies import realistic_copy
    from qdr_course.retina.preprocessing import fov_box

    _, photos = idrid.load_idrid_photographs("train", ids=[f"IDRiD_{i:03d}" for i in range(1, 31)])
    shifts = [np.abs(np.subtract(fov_box(realistic_copy(p, f"jpeg {q}")), fov_box(p))).max()
              for p in photos for q in (50, 70, 90)]
    assert max(shifts) <= 2, max(shifts)


def test_field_of_view_circle_ignores_a_clipped_rim():
    from qdr_course.retina.copies import realistic_copy
    from qdr_course.retina.preprocessing import fov_box, fov_circle

    _, photos = idrid.load_idrid_photographs("test", ids=["IDRiD_001", "IDRiD_050"])
    for p in photos:
        row, col, radius = fov_circle(p)
        top, bottom, left, right = fov_box(p)
        assert radius == pytest.approx((right - left) / 2, abs=3)  # IDRiD's field: clipped at
        assert bottom - top < 2 * radius - 20                      # top and bottom, not sides
        sides = fov_circle(realistic_copy(p, "sides clipped 8 %"))
        cut = round(0.08 * (right - left))
        assert sides == pytest.approx((row, col - left - cut, radius), abs=2)


def test_near_duplicate_threshold_on_real_photographs():
    from qdr_course.retina.copies import COPY_KINDS, copy_distances, hashes_of, pairwise_distances
    from qdr_course.retina.splits import NEAR_DUPLICATE_BITS

    _, photos = idrid.load_idrid_photographs("train", ids=[f"IDRiD_{i:03d}" for i in range(1, 61)])
    different = pairwise_distances(hashes_of(photos))  # IDRiD_001-060: no two of one eye
    assert different.min() > NEAR_DUPLICATE_BITS
    copies = copy_distances(photos[::3], kinds=COPY_KINDS)
    assert max(d.max() for d in copies.values()) <= NEAR_DUPLICATE_BITS
