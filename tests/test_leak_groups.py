"""Issue 13: folders are split by patient and near-duplicate group; conflicting grades reported."""

import csv
import io

import numpy as np
import pytest
from PIL import Image

from qdr_course.retina import (
    NEAR_DUPLICATE_BITS,
    conflicting_groups,
    grouped_split,
    leak_groups,
    load_aptos,
    load_eyepacs,
    patient_of,
    perceptual_hash,
    synthetic_fundus,
)
from qdr_course.retina.splits import hamming_distances

GRADES = [0] * 10 + [1] * 4 + [2] * 6 + [3] * 4 + [4] * 4


def _eye(grade, seed):
    return synthetic_fundus(grade=grade, size=64, seed=seed)[0]


def _near_copy(image, seed=0):
    """Brighter and noisier inside the field of view, then JPEG-compressed: a re-saved copy."""
    rng = np.random.default_rng(seed)
    inside = image.max(axis=2, keepdims=True) > 10
    noisy = np.clip(image * 1.1 + inside * rng.normal(0, 4, image.shape), 0, 255)
    buffer = io.BytesIO()
    Image.fromarray(noisy.astype(np.uint8)).save(buffer, format="JPEG", quality=85)
    return np.asarray(Image.open(buffer)) * inside.astype(np.uint8)


def _write(root, csv_name, id_col, label_col, folder, ext, rows):
    (root / folder).mkdir(parents=True)
    with open(root / csv_name, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([id_col, label_col])
        for image_id, grade, image in rows:
            writer.writerow([image_id, grade])
            Image.fromarray(image).save(root / folder / f"{image_id}{ext}")


def _split_of(data):
    return {i: name for name in ("train", "val", "test") for i in getattr(data, name).ids}


def test_patient_of_reads_eyepacs_names():
    assert patient_of("10_left") == patient_of("10_right") == "10"
    assert patient_of("abc123") == "abc123" and patient_of("7_Left") == "7"


def test_hash_separates_copies_from_other_eyes():
    a, b = _eye(2, 1), _eye(2, 2)
    h = np.array([perceptual_hash(x) for x in (a, _near_copy(a), a, b)])
    (_, d), = hamming_distances(h)
    assert h.shape == (4, 255) and d[0, 2] == 0
    assert d[0, 1] <= NEAR_DUPLICATE_BITS < d[0, 3]
    with pytest.raises(ValueError, match="uint8 \\(H, W, 3\\)"):
        perceptual_hash(a.astype(float))


def test_leak_groups_join_patients_and_copies_transitively():
    a, b, c = _eye(0, 1), _eye(3, 2), _eye(4, 3)
    groups = leak_groups([a, _near_copy(a), b, c], ids=["1_left", "9", "1_right", "5"])
    assert groups[0] == groups[1] == groups[2] != groups[3]
    assert conflicting_groups([0, 0, 3, 4], groups, ["1_left", "9", "1_right", "5"]) == [
        (["1_left", "9", "1_right"], [0, 0, 3])]


def test_grouped_split_never_cuts_a_group_and_keeps_every_grade():
    grades = np.repeat([0, 1, 2, 3, 4], [40, 12, 20, 9, 9])
    groups = np.arange(len(grades)) // 2  # pairs of one grade
    tr, va, te = grouped_split(grades, groups, 0.2, 0.2, seed=3)
    assert sorted(np.concatenate([tr, va, te])) == list(range(len(grades)))
    where = {}
    for k, part in enumerate((tr, va, te)):
        for g in groups[part]:
            assert where.setdefault(g, k) == k
        assert set(grades[part]) == {0, 1, 2, 3, 4}
    assert 0.15 < len(va) / len(grades) < 0.3


def test_eyepacs_folder_split_by_patient(tmp_path):
    rows = []
    for p, g in enumerate(GRADES):
        other = g if p % 5 else max(g - 1, 0)  # a few patients with different eyes
        rows += [(f"{p}_left", g, _eye(g, 2 * p)), (f"{p}_right", other, _eye(other, 2 * p + 1))]
    _write(tmp_path, "trainLabels.csv", "image", "level", "train", ".jpeg", rows)
    data = load_eyepacs(tmp_path, size=64, seed=0, val_fraction=0.2, test_fraction=0.2)
    assert data.conflicts == []  # two eyes may differ; only copies must agree
    split = _split_of(data)
    assert len(split) == 2 * len(GRADES)
    assert all(split[f"{p}_left"] == split[f"{p}_right"] for p in range(len(GRADES)))
    assert data.groups == len(GRADES)  # 28 patients, no near-duplicates between patients
    assert "28 groups" in data.summary()


def test_aptos_folder_keeps_duplicates_together_and_reports_conflicts(tmp_path):
    rows = [(f"img{i:02d}", g, _eye(g, 100 + i)) for i, g in enumerate(GRADES)]
    copies = [("dupA", GRADES[0], rows[0][2].copy()),             # exact copy, same grade
              ("dupB", GRADES[15], _near_copy(rows[15][2])),      # near copy, same grade
              ("dupC", 3, _near_copy(rows[3][2], seed=1))]        # near copy, grade 0 vs 3
    _write(tmp_path, "train.csv", "id_code", "diagnosis", "train_images", ".png", rows + copies)
    with pytest.warns(UserWarning, match="1 group\\(s\\) .* img03/dupC graded \\[0, 3\\]"):
        data = load_aptos(tmp_path, size=64, seed=1, val_fraction=0.2, test_fraction=0.2)
    split = _split_of(data)
    for original, copy in (("img00", "dupA"), ("img15", "dupB"), ("img03", "dupC")):
        assert split[original] == split[copy]
    assert data.conflicts == [(["img03", "dupC"], [0, 3])]
    assert data.groups == len(GRADES)


@pytest.mark.parametrize("grades, groups, ids, words", [
    ([0, 1, 2], [0, 0], None, "3 grades but 2 group labels"),
    ([0, 1], [0, 0, 1], None, "2 grades but 3 group labels"),
    ([0, 1], [0, 0], ["a"], "2 grades but 1 ids"),
])
def test_conflicting_groups_refuses_lengths_that_do_not_match(grades, groups, ids, words):
    """Issue 27.14: an extra grade was silently ignored."""
    with pytest.raises(ValueError, match=words):
        conflicting_groups(grades, groups, ids)


def test_hash_of_a_frame_without_a_field_of_view():
    black = np.zeros((40, 60, 3), np.uint8)
    bright = np.full((40, 60, 3), 200, np.uint8)
    for image in (black, bright):
        bits = perceptual_hash(image)
        assert bits.shape == (255,) and bits.dtype == bool
