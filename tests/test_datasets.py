"""Loaders (synthetic, RetinaMNIST npz, APTOS and EyePACS folders), splits, torch dataset, class
weights.
"""

import csv

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.utils.class_weight import compute_class_weight

import qdr_course.retina.datasets as ds
from qdr_course.retina import (
    FundusDataset,
    augment_batch,
    class_weights,
    grade_from_folder_name,
    load_aptos,
    load_grading_data,
    load_retinamnist,
    make_loaders,
    save_aptos_folder,
    stratified_split,
)
from qdr_course.retina.fundus import synthetic_fundus_dataset


# --------------------------------------------------------------------------- splits
def test_stratified_split_is_disjoint_complete_and_has_every_grade_everywhere():
    grades = np.repeat(np.arange(5), [180, 37, 100, 19,
                                      30])  # sorted by class, like a folder listing
    tr, va, te = stratified_split(grades, 0.15, 0.15, seed=0)
    assert not (set(tr) & set(va) or set(tr) & set(te) or set(va) & set(te))
    assert np.array_equal(np.sort(np.concatenate([tr, va, te])), np.arange(len(grades)))
    for part in (tr, va, te):
        assert set(grades[part]) == {0, 1, 2, 3, 4}
    for g, n in enumerate([180, 37, 100, 19, 30]):
        assert abs((grades[va] == g).sum() - 0.15 * n) <= 1
    # seeded: same seed same split, other seed other split
    assert np.array_equal(stratified_split(grades, seed=0)[1], stratified_split(grades, seed=0)[1])
    assert not np.array_equal(np.sort(stratified_split(grades, seed=1)[1]), np.sort(va))


def test_the_seeds_unshuffled_cut_is_what_we_prevent():
    grades = np.repeat(np.arange(5), [180, 37, 100, 19, 30])
    names = ["No_DR", "Mild", "Moderate", "Severe", "Proliferate_DR"]
    order = np.argsort([names[g] for g in grades], kind="stable")
    listing = grades[order]  # alphabetical folders: Mild, Moderate, No_DR, Proliferate_DR, Severe
    cut = int(0.8 * len(listing))
    assert set(listing[cut:]) != {0, 1, 2, 3, 4}  # the naive cut loses whole grades
    _, va, _ = stratified_split(listing, seed=0)
    assert set(listing[va]) == {0, 1, 2, 3, 4}


def test_split_errors():
    with pytest.raises(ValueError, match="at least 3"):
        stratified_split([0, 0, 0, 1, 1])
    with pytest.raises(ValueError, match="< 1"):
        stratified_split([0] * 10, 0.5, 0.5)
    with pytest.raises(ValueError, match="0-4"):
        stratified_split([0, 1, 7])


def test_folder_names_map_by_meaning_not_alphabet():
    names = sorted(["No_DR", "Mild", "Moderate", "Severe", "Proliferate_DR"])
    assert [grade_from_folder_name(n) for n in names] == [1, 2, 0, 4, 3]
    with pytest.raises(ValueError, match="unknown class folder"):
        grade_from_folder_name("Bad")


# --------------------------------------------------------------------------- synthetic
def test_synthetic_source_has_disjoint_stratified_splits():
    data = load_grading_data("synthetic", size=32, n=80, seed=1)
    assert "synthetic" in data.source
    seen = {}
    for name in ("train", "val", "test"):
        split = getattr(data, name)
        assert split.images.dtype == np.uint8 and split.images.shape[1:] == (32, 32, 3)
        assert split.grades.dtype == np.int64 and set(split.grades) == {0, 1, 2, 3, 4}
        for img in split.images:
            assert seen.setdefault(img.tobytes(), name) == name  # no image in two splits
    assert sum(len(getattr(data, s)) for s in ("train", "val", "test")) == 80
    assert "total" in data.summary()


def test_unknown_source():
    with pytest.raises(ValueError, match="unknown data source"):
        load_grading_data("mnist")
    with pytest.raises(ValueError, match="give the folder"):
        load_grading_data("aptos")


# --------------------------------------------------------------------------- RetinaMNIST
def _write_medmnist(path, size=28, n=(30, 10, 15)):
    rng = np.random.default_rng(0)
    arrays = {}
    for split, k in zip(("train", "val", "test"), n):
        arrays[f"{split}_images"] = rng.integers(0, 256, (k, size, size, 3), dtype=np.uint8)
        arrays[f"{split}_labels"] = (np.arange(k) % 5).reshape(-1, 1).astype(np.uint8)
    np.savez(path, **arrays)
    return arrays


def test_retinamnist_from_a_local_npz_keeps_official_splits(tmp_path):
    arrays = _write_medmnist(tmp_path / "r.npz")
    data = load_grading_data(f"retinamnist:{tmp_path / 'r.npz'}")
    assert len(data.train) == 30 and len(data.val) == 10 and len(data.test) == 15
    assert np.array_equal(data.test.images, arrays["test_images"])
    assert data.train.grades.dtype == np.int64 and data.train.grades.shape == (30,)
    assert "official" in data.source


def test_retinamnist_download_goes_through_pooch_with_the_checksum(tmp_path, monkeypatch):
    import pooch

    calls = {}

    def fake_retrieve(url, known_hash, fname, path, progressbar):
        calls.update(url=url, known_hash=known_hash, path=path)
        _write_medmnist(tmp_path / "cache" / fname, size=64)
        return str(tmp_path / "cache" / fname)

    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    data = load_grading_data("retinamnist", size=64, cache_dir=tmp_path / "cache")
    assert data.train.images.shape[1:] == (64, 64, 3)
    assert calls["known_hash"] == "md5:afda852cc34dcda56f86ad2b2457dbcc"
    assert "retinamnist_64.npz" in calls["url"] and calls["path"] == tmp_path / "cache"


def test_retinamnist_without_network_suggests_the_synthetic_set(tmp_path, monkeypatch):
    import pooch

    def offline(*args, **kwargs):
        raise OSError("Name or service not known")

    monkeypatch.setattr(pooch, "retrieve", offline)
    with pytest.raises(ConnectionError, match="synthetic"):
        load_retinamnist(28, cache_dir=tmp_path)


def test_unwritable_cache_directory(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(PermissionError, match="cache_dir"):
        load_retinamnist(28, cache_dir=blocker / "sub")
    with pytest.raises(ValueError, match="sizes"):
        load_retinamnist(32, cache_dir=tmp_path)


def test_wrong_npz_formats(tmp_path):
    np.savez(tmp_path / "missing.npz", train_images=np.zeros((2, 28, 28, 3), np.uint8))
    with pytest.raises(ValueError, match="missing arrays"):
        load_retinamnist(path=tmp_path / "missing.npz")
    shapes = {"images": (3, 28, 28), "labels": (3, 1)}
    arrays = {f"{s}_{k}": np.zeros(shapes[k], np.uint8)
              for s in ("train", "val", "test") for k in ("images", "labels")}
    np.savez(tmp_path / "grey.npz", **arrays)
    with pytest.raises(ValueError, match="greyscale"):
        load_retinamnist(path=tmp_path / "grey.npz")
    arrays = _write_medmnist(tmp_path / "labels.npz")
    arrays["val_labels"][0] = 9
    np.savez(tmp_path / "labels.npz", **arrays)
    with pytest.raises(ValueError, match="0-4"):
        load_retinamnist(path=tmp_path / "labels.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="is not a RetinaMNIST .npz file"):
        load_retinamnist(path=tmp_path / "junk.npz")


# --------------------------------------------------------------------------- folders
@pytest.fixture(scope="module")
def small_set():
    return synthetic_fundus_dataset(n=25, size=32, seed=5, prior="balanced")


def test_aptos_round_trip_is_exact(tmp_path, small_set):
    images, grades = small_set
    save_aptos_folder(images, grades, tmp_path / "aptos")
    data = load_aptos(tmp_path / "aptos", size=32, preprocess=False)
    for split in (data.train, data.val, data.test):
        for img, grade, name in zip(split.images, split.grades, split.ids):
            i = int(name.split("_")[1])
            assert np.array_equal(img, images[i]) and grade == grades[i]
    with pytest.raises(FileExistsError, match="overwrite"):
        save_aptos_folder(images, grades, tmp_path / "aptos")
    save_aptos_folder(images[:20], grades[:20], tmp_path / "aptos", overwrite=True)
    assert sum(1 for _ in open(tmp_path / "aptos" / "train.csv")) == 21


def test_aptos_preprocessing_crops_wide_photographs(tmp_path, small_set):
    images, grades = small_set
    root = tmp_path / "wide"
    save_aptos_folder(images, grades, root)
    for png in (root / "train_images").glob("*.png"):  # make them wide camera frames
        Image.fromarray(np.pad(np.asarray(Image.open(png)), ((4, 4), (30, 10), (0, 0)))).save(png)
    data = load_aptos(root, size=32)
    assert data.train.images.shape[1:] == (32, 32, 3)
    assert data.train.images[:, :, :4].mean() < data.train.images[:, 12:20, 12:20].mean()


def test_bad_files_are_reported_by_name(tmp_path, small_set):
    images, grades = small_set
    root = save_aptos_folder(images, grades, tmp_path / "bad")
    (root / "train_images" / "synth_00003.png").write_bytes(b"corrupt")
    (root / "train_images" / "synth_00007.png").unlink()
    with pytest.raises(ValueError, match=r"synth_00003.*synth_00007.*on_error='skip'"):
        load_aptos(root, size=32)
    with pytest.warns(UserWarning, match="synth_00003"):
        data = load_aptos(root, size=32, on_error="skip")
    assert len(data.skipped) == 2 and sum(len(s) for s in (data.train, data.val, data.test)) == 23
    with pytest.raises(ValueError, match="on_error"):
        load_aptos(root, size=32, on_error="ignore")


def test_greyscale_file_is_an_error(tmp_path, small_set):
    images, grades = small_set
    root = save_aptos_folder(images, grades, tmp_path / "grey")
    grey = Image.fromarray(images[0].mean(axis=2).astype(np.uint8))
    grey.save(root / "train_images" / "synth_00000.png")
    with pytest.raises(ValueError, match="synth_00000.png is greyscale"):
        load_aptos(root, size=32)


def _write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def test_csv_problems(tmp_path, small_set):
    images, grades = small_set
    root = save_aptos_folder(images, grades, tmp_path / "csv")
    _write_csv(root / "train.csv", ["id_code", "grade"], [["synth_00000", 0]])
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['diagnosis'\]"):
        load_aptos(root)
    _write_csv(root / "train.csv", ["id_code", "diagnosis"],
               [["synth_00000", 0], ["synth_00001", 5]])
    with pytest.raises(ValueError, match="line 3: 5"):
        load_aptos(root)
    with pytest.raises(FileNotFoundError):
        load_aptos(tmp_path / "nowhere")


def test_eyepacs_folder(tmp_path, small_set):
    images, grades = small_set
    root = tmp_path / "eyepacs"
    (root / "train").mkdir(parents=True)
    rows = []
    for i, (img, g) in enumerate(zip(images, grades)):
        padded = Image.fromarray(np.pad(img, ((0, 0), (8, 8), (0, 0))))
        padded.save(root / "train" / f"{i}_left.jpeg", quality=95)
        rows.append([f"{i}_left", int(g)])
    _write_csv(root / "trainLabels.csv", ["image", "level"], rows)
    data = load_grading_data(f"eyepacs:{root}", size=32)
    assert data.train.images.shape[1:] == (32, 32, 3)
    assert np.array_equal(np.sort(np.concatenate([data.train.grades, data.val.grades,
                                                  data.test.grades])),
                          np.sort(grades))


# --------------------------------------------------------------------------- torch
def test_fundus_dataset_items(small_set):
    images, grades = small_set
    dset = FundusDataset(images, grades)
    x, y = dset[4]
    assert x.dtype == torch.float32 and x.shape == (3, 32, 32) and y.dtype == torch.int64
    assert torch.allclose(x, torch.from_numpy(images[4]).permute(2, 0, 1).float() / 255)
    assert int(y) == grades[4] and len(dset) == 25
    assert isinstance(dset, torch.utils.data.Dataset)


def test_augmentation_flips_exactly_and_scales_brightness():
    x = torch.rand(16, 3, 12, 12)
    g = torch.Generator().manual_seed(0)
    out = augment_batch(x, generator=g, max_angle=0, brightness=0)
    for a, b in zip(x, out):
        assert any(torch.allclose(torch.flip(a, dims) if dims else a, b, atol=1e-6)
                   for dims in ((), (1,), (2,), (1, 2)))
    out = augment_batch(x, generator=torch.Generator().manual_seed(1), max_angle=0, brightness=0.2)
    flipped_sums = x.sum(dim=(1, 2, 3))
    ratio = out.sum(dim=(1, 2, 3)) / flipped_sums
    assert torch.all((ratio > 0.8 - 1e-5) & (ratio < 1.2 + 1e-5)) and ratio.std() > 0.01
    # rotation keeps the image's content inside the inscribed disc (mean about the same)
    disc = torch.zeros(1, 3, 32, 32)
    disc[..., 8:24, 8:24] = 1.0
    rot = augment_batch(disc.repeat(8, 1, 1, 1), generator=torch.Generator().manual_seed(2),
                        brightness=0)
    assert torch.allclose(rot.sum(dim=(1, 2, 3)), disc.sum().expand(8), rtol=0.05)
    with pytest.raises(ValueError, match="B, 3, H, W"):
        augment_batch(torch.rand(3, 8, 8))


def test_augmentation_is_deterministic_with_a_generator(small_set):
    images, grades = small_set
    def first(seed):
        return FundusDataset(images, grades, augment=True,
                             generator=torch.Generator().manual_seed(seed))[0][0]

    a, b = first(3), first(3)
    assert torch.equal(a, b)


def test_loaders_shuffle_training_only_and_never_augment_evaluation():
    data = load_grading_data("synthetic", size=32, n=60, seed=0)
    loaders = make_loaders(data, batch_size=8, augment=True, seed=0)
    xv = torch.cat([x for x, _ in loaders["val"]])
    yv = torch.cat([y for _, y in loaders["val"]])
    assert torch.allclose(xv, torch.from_numpy(data.val.images).permute(0, 3, 1, 2).float() / 255)
    assert torch.equal(yv, torch.from_numpy(data.val.grades))
    y1 = torch.cat([y for _, y in loaders["train"]])
    assert sorted(y1.tolist()) == sorted(data.train.grades.tolist())
    assert not torch.equal(y1, torch.from_numpy(data.train.grades))  # shuffled
    with pytest.raises(TypeError, match="GradingData"):
        make_loaders({"train": None})


def test_class_weights_match_scikit_learn_balanced():
    grades = np.repeat(np.arange(5), [180, 37, 100, 19, 30])
    w = class_weights(grades)
    expected = compute_class_weight("balanced", classes=np.arange(5), y=grades)
    assert w.dtype == torch.float32
    np.testing.assert_allclose(w.numpy(), expected, rtol=1e-6)
    # equal total weight per grade
    assert float((w * torch.tensor([180, 37, 100, 19, 30])).std()) < 1e-3
    with pytest.raises(ValueError, match=r"grade\(s\) \[3\]"):
        class_weights([0, 1, 2, 4])


@pytest.mark.parametrize("images, grades, error, match", [
    (np.zeros((2, 8, 8), np.uint8), [0, 1], ValueError, "greyscale"),
    (np.zeros((2, 8, 9, 3), np.uint8), [0, 1], ValueError, "square"),
    (np.zeros((2, 8, 8, 3), np.float32), [0, 1], TypeError, "uint8"),
    (np.zeros((2, 8, 8, 3), np.uint8), [0, 5], ValueError, "0-4"),
    (np.zeros((2, 8, 8, 3), np.uint8), [0, 1, 2], ValueError, "pair up"),
    (np.zeros((2, 3, 8, 8), np.uint8), [0, 1], ValueError, "transpose"),
])
def test_bad_arrays_for_the_dataset(images, grades, error, match):
    with pytest.raises(error, match=match):
        FundusDataset(images, np.asarray(grades))


def test_module_lists_only_what_exists():
    assert all(hasattr(ds, name) for name in ds.__all__)


def test_too_small_synthetic_set_says_what_to_do():
    with pytest.raises(ValueError, match="prior='balanced'"):
        load_grading_data("synthetic", size=28, n=30)
    assert len(load_grading_data("synthetic", size=28, n=15, prior="balanced").val) == 5


def test_synthetic_cache_returns_the_same_data(tmp_path, monkeypatch):
    import qdr_course.retina.fundus as fundus

    first = load_grading_data("synthetic", size=28, n=20, prior="balanced", cache=True,
                              cache_dir=tmp_path)
    files = list(tmp_path.glob("synthetic_fundus_n20_s28_seed0_balanced_*.npz"))
    assert len(files) == 1

    def fail(*args, **kwargs):
        raise AssertionError("the cache was not used")

    monkeypatch.setattr(fundus, "synthetic_fundus_dataset", fail)
    second = load_grading_data("synthetic", size=28, n=20, prior="balanced", cache=True,
                               cache_dir=tmp_path)
    assert np.array_equal(first.train.images, second.train.images)
    assert np.array_equal(first.test.grades, second.test.grades)
