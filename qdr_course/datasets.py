"""Retinopathy grading data: synthetic, RetinaMNIST, APTOS and EyePACS folders; splits; torch. See lesson 04.

One entry point, :func:`load_grading_data`, returns the same :class:`GradingData` for every
source: ``train`` / ``val`` / ``test`` splits of ``uint8 (N, H, W, 3)`` images and ``int64 (N,)``
ICDR grades 0-4.

================================ =============================================================
``"synthetic"``                   :func:`qdr_course.fundus.synthetic_fundus_dataset` (offline)
``"retinamnist"``                 MedMNIST's DR set (DeepDRiD), official splits; downloaded
                                  once with pooch, checked against its MD5, cached
``"retinamnist:PATH.npz"``        the same from a local file
``"aptos:DIR"``                   ``DIR/train.csv`` (``id_code,diagnosis``) + ``DIR/train_images/*.png``
``"eyepacs:DIR"``                 ``DIR/trainLabels.csv`` (``image,level``) + ``DIR/train/*.jpeg``
================================ =============================================================

Splits other than RetinaMNIST's are stratified and disjoint, with every grade in each split
(:func:`stratified_split`): never an unshuffled cut that puts a whole grade in validation.

Folders are checked before any image is read: the CSV may start with a UTF-8 byte-order mark
(Excel writes one) but must be UTF-8; an id listed twice is refused (it could land in both
train and test: remove the repeated row); an id that is an absolute path or contains ``..``
is refused (it would read files outside the folder). Images smaller than
:data:`MIN_IMAGE_PIXELS` on a side are refused as not photographs.

Example
-------
>>> from qdr_course.datasets import load_grading_data, FundusDataset, class_weights
>>> data = load_grading_data("synthetic", size=32, n=60, seed=0)
>>> data.train.images.shape, data.val.grades.dtype
((42, 32, 32, 3), dtype('int64'))
>>> x, y = FundusDataset(data.train.images, data.train.grades, augment=True)[0]
>>> tuple(x.shape), x.dtype, y.dtype
((3, 32, 32), torch.float32, torch.int64)
>>> class_weights(data.train.grades).shape
torch.Size([5])
"""

from __future__ import annotations

import csv
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

__all__ = [
    "FOLDER_GRADES",
    "MIN_IMAGE_PIXELS",
    "RETINAMNIST_FILES",
    "SYNTH_MANIFEST",
    "FundusDataset",
    "GradingData",
    "Split",
    "augment_batch",
    "check_aptos_target",
    "check_synthetic_n",
    "class_weights",
    "fetch_retinamnist",
    "grade_counts",
    "grade_from_folder_name",
    "load_aptos",
    "load_eyepacs",
    "load_grading_data",
    "load_retinamnist",
    "make_loaders",
    "min_synthetic_n",
    "save_aptos_folder",
    "stratified_split",
]

NUM_GRADES = 5
#: Smallest side, in pixels, of an image read from a folder: RetinaMNIST's 28 px, the smallest the
#: course grades. Anything smaller (a 1x1 placeholder, an icon) is not a fundus photograph.
MIN_IMAGE_PIXELS = 28
#: The list of files a synthetic APTOS folder was written with; ``--overwrite`` removes only those.
SYNTH_MANIFEST = "synth_manifest.json"
_ZENODO = "https://zenodo.org/records/10519652/files/{name}?download=1"
#: RetinaMNIST files (MedMNIST v2/+, CC BY 4.0) by image size: (file name, MD5).
RETINAMNIST_FILES = {
    28: ("retinamnist.npz", "bd4c0672f1bba3e3a89f0e4e876791e4"),
    64: ("retinamnist_64.npz", "afda852cc34dcda56f86ad2b2457dbcc"),
    128: ("retinamnist_128.npz", "e48e916a24454daf90583d4e6efb1a18"),
    224: ("retinamnist_224.npz", "eae7e3b6f3fcbda4ae613ebdcbe35348"),
}

#: ICDR grade of each folder name used by public "one folder per class" copies of APTOS.
#: Sorting these names alphabetically (as ``ImageFolder`` does) gives Mild=0, Moderate=1,
#: No_DR=2, Proliferate_DR=3, Severe=4: the wrong order. Map by meaning, never by sort order.
FOLDER_GRADES = {"no_dr": 0, "mild": 1, "moderate": 2, "severe": 3, "proliferate_dr": 4,
                 "proliferative_dr": 4, "proliferative": 4, "no dr": 0, "nodr": 0}


# --------------------------------------------------------------------------- containers
@dataclass
class Split:
    """Images ``uint8 (N, H, W, 3)`` and ICDR grades ``int64 (N,)`` of one split. See lesson 04."""

    images: np.ndarray
    grades: np.ndarray
    ids: list = field(default_factory=list)

    def __post_init__(self):
        _check_images(self.images)
        self.grades = _check_grade_array(self.grades)
        if len(self.images) != len(self.grades):
            raise ValueError(f"{len(self.images)} images but {len(self.grades)} grades")

    def __len__(self) -> int:
        return len(self.grades)


@dataclass
class GradingData:
    """Train / validation / test splits and where they came from. See lesson 04."""

    train: Split
    val: Split
    test: Split
    source: str
    skipped: list = field(default_factory=list)

    def counts(self) -> dict:
        """Images per grade in each split."""
        return {name: grade_counts(getattr(self, name).grades) for name in ("train", "val", "test")}

    def summary(self) -> str:
        """A small table of images per grade and split."""
        lines = [self.source, f"{'split':6s} " + " ".join(f"g{g:<5d}" for g in range(5)) + " total"]
        for name, c in self.counts().items():
            lines.append(f"{name:6s} " + " ".join(f"{v:<6d}" for v in c) + f" {c.sum()}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- validation
def _check_images(images) -> np.ndarray:
    images = np.asarray(images) if not hasattr(images, "shape") else images
    if images.ndim == 3 or (images.ndim == 4 and images.shape[-1] == 1):
        raise ValueError(f"images have shape {images.shape}: greyscale; fundus grading needs colour "
                         "(N, H, W, 3) images (for a greyscale copy, np.repeat(x[..., None], 3, -1) fakes colour)")
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"images must be (N, H, W, 3), got shape {images.shape}; channel-first arrays "
                         "can be moved with images.transpose(0, 2, 3, 1)")
    if images.shape[1] != images.shape[2]:
        raise ValueError(f"images must be square, got {images.shape[1]} x {images.shape[2]}; "
                         "use qdr_course.preprocessing.preprocess_fundus to crop and pad them")
    if images.dtype != np.uint8:
        raise TypeError(f"images must be uint8 (0-255), got {images.dtype}")
    return images


def _check_grade_array(grades) -> np.ndarray:
    grades = np.asarray(grades)
    if grades.ndim == 2 and grades.shape[1] == 1:
        grades = grades[:, 0]
    if grades.ndim != 1:
        raise ValueError(f"grades must be 1-D, got shape {grades.shape}")
    if grades.dtype.kind not in "iu":
        raise TypeError(f"grades must be integers 0-4, got dtype {grades.dtype}")
    bad = (grades < 0) | (grades > 4)
    if bad.any():
        raise ValueError(f"grades must be 0-4 (ICDR scale); found {sorted(set(grades[bad].tolist()))[:10]} "
                         f"at positions {np.flatnonzero(bad)[:10].tolist()}")
    return grades.astype(np.int64)


def grade_counts(grades) -> np.ndarray:
    """Number of images of each grade 0-4. See lesson 04."""
    return np.bincount(_check_grade_array(grades), minlength=NUM_GRADES)


def grade_from_folder_name(name: str) -> int:
    """The ICDR grade of a class-folder name ("No_DR", "Mild", ..., "Proliferate_DR"). See lesson 04."""
    key = str(name).strip().lower().replace("-", "_")
    if key not in FOLDER_GRADES:
        raise ValueError(f"unknown class folder {name!r}; expected one of No_DR, Mild, Moderate, Severe, "
                         "Proliferate_DR")
    return FOLDER_GRADES[key]


# --------------------------------------------------------------------------- splits
def stratified_split(grades, val_fraction: float = 0.15, test_fraction: float = 0.15, seed: int = 0):
    """Disjoint shuffled (train, val, test) index arrays with every grade in each split. See lesson 04.

    Within each grade the indices are shuffled and cut into ``round(n_g * fraction)`` (at
    least 1) validation and test images, the rest for training. Grades absent from ``grades``
    are absent everywhere; a present grade needs at least 3 images.
    """
    grades = _check_grade_array(grades)
    for name, f in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0 < f < 1:
            raise ValueError(f"{name} must be between 0 and 1, got {f}")
    if val_fraction + test_fraction >= 1:
        raise ValueError(f"val_fraction + test_fraction must be < 1, got {val_fraction + test_fraction}")
    rng = np.random.default_rng(seed)
    parts = ([], [], [])
    for g in range(NUM_GRADES):
        idx = np.flatnonzero(grades == g)
        if idx.size == 0:
            continue
        if idx.size < 3:
            raise ValueError(f"grade {g} has only {idx.size} image(s); every split needs one, so at least 3 "
                             "are required (get more data, or merge grades deliberately)")
        idx = rng.permutation(idx)
        n_val = max(1, int(round(idx.size * val_fraction)))
        n_test = max(1, int(round(idx.size * test_fraction)))
        if n_val + n_test >= idx.size:
            n_val = n_test = 1
        parts[1].append(idx[:n_val])
        parts[2].append(idx[n_val:n_val + n_test])
        parts[0].append(idx[n_val + n_test:])
    return tuple(rng.permutation(np.concatenate(p)) for p in parts)


def _split_data(images, grades, source, seed, val_fraction, test_fraction, ids=None, skipped=()):
    tr, va, te = stratified_split(grades, val_fraction, test_fraction, seed)
    ids = list(ids) if ids is not None else None

    def part(index):
        return Split(images[index], grades[index], [ids[i] for i in index] if ids is not None else [])

    return GradingData(part(tr), part(va), part(te), source, list(skipped))


# --------------------------------------------------------------------------- RetinaMNIST
def _cache_dir(cache_dir) -> Path:
    if cache_dir is None:
        cache_dir = os.environ.get("QDR_COURSE_DATA")
    if cache_dir is None:
        import pooch

        cache_dir = pooch.os_cache("qdr-course")
    path = Path(cache_dir).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise PermissionError(f"cannot create the data cache directory {path}: {error}; pass cache_dir=... "
                              "(or set QDR_COURSE_DATA) to a folder you can write") from error
    if not os.access(path, os.W_OK):
        raise PermissionError(f"the data cache directory {path} is not writable; pass cache_dir=... "
                              "(or set QDR_COURSE_DATA) to a folder you can write")
    return path


def fetch_retinamnist(size: int = 64, cache_dir=None, progress: bool = False) -> Path:
    """Download (once) and checksum RetinaMNIST at ``size`` px; return the cached file. See lesson 04."""
    import pooch

    if size not in RETINAMNIST_FILES:
        raise ValueError(f"RetinaMNIST comes in sizes {sorted(RETINAMNIST_FILES)}, got {size!r}")
    name, md5 = RETINAMNIST_FILES[size]
    path = _cache_dir(cache_dir)
    try:
        return Path(pooch.retrieve(_ZENODO.format(name=name), known_hash=f"md5:{md5}", fname=name, path=path,
                                   progressbar=progress))
    except ValueError:  # checksum mismatch: pooch says so, keep its message
        raise
    except Exception as error:  # network errors come in many types (requests, OSError, ...)
        raise ConnectionError(
            f"could not download RetinaMNIST ({name}) from zenodo.org: {type(error).__name__}: {error}. "
            "Without network use the synthetic set: load_grading_data('synthetic'), or download the file "
            f"elsewhere and load it with load_grading_data('retinamnist:/path/to/{name}')") from error


def load_retinamnist(size: int = 64, path=None, cache_dir=None) -> GradingData:
    """RetinaMNIST with its official train / val / test splits (local ``path`` or download). See lesson 04."""
    if path is None:
        path = fetch_retinamnist(size, cache_dir)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no RetinaMNIST file at {path}")
    try:
        npz = np.load(path, allow_pickle=False)
    except Exception as error:
        raise ValueError(f"{path} is not a readable .npz file ({error})") from error
    with npz:
        need = [f"{s}_{k}" for s in ("train", "val", "test") for k in ("images", "labels")]
        missing = [k for k in need if k not in npz.files]
        if missing:
            raise ValueError(f"{path} is not in MedMNIST format: missing arrays {missing} (found {npz.files})")
        splits = {}
        for s in ("train", "val", "test"):
            images, labels = npz[f"{s}_images"], npz[f"{s}_labels"]
            try:
                splits[s] = Split(images, labels)
            except (ValueError, TypeError) as error:
                raise ValueError(f"{path}: {s} split is not in MedMNIST format: {error}") from error
    return GradingData(splits["train"], splits["val"], splits["test"],
                       f"RetinaMNIST ({path.name}, official splits; MedMNIST v2, CC BY 4.0)")


# --------------------------------------------------------------------------- folders
def _read_labels(csv_path: Path, id_col: str, label_col: str):
    if not csv_path.is_file():
        raise FileNotFoundError(f"no label file {csv_path}")
    try:
        return _parse_labels(csv_path, id_col, label_col)
    except UnicodeDecodeError as error:
        raise ValueError(f"{csv_path} is not UTF-8 text (byte {error.start}: "
                         f"{error.object[error.start:error.start + 1]!r}); save it as UTF-8 "
                         "(a spreadsheet's 'CSV UTF-8' format) and try again") from None
    except csv.Error as error:
        raise ValueError(f"{csv_path} is not a readable CSV file ({error}); "
                         f"it must be plain text with a header line '{id_col},{label_col}'"
                         ) from None


def _parse_labels(csv_path: Path, id_col: str, label_col: str):
    """Ids and grades of a label CSV (UTF-8, with or without a byte-order mark), checked."""
    with open(csv_path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = [c.strip() for c in (reader.fieldnames or [])]
        missing = [c for c in (id_col, label_col) if c not in columns]
        if missing:
            raise ValueError(f"{csv_path} lacks column(s) {missing}; it has {columns}. "
                             f"Expected a header line '{id_col},{label_col}'")
        ids, grades, lines, bad = [], [], [], []
        for line, row in enumerate(reader, start=2):
            row = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
            try:
                grade = int(row[label_col])
            except ValueError:
                bad.append(f"line {line}: {row[label_col]!r}")
                continue
            if not 0 <= grade <= 4:
                bad.append(f"line {line}: {grade}")
                continue
            ids.append(row[id_col])
            grades.append(grade)
            lines.append(line)
    if bad:
        raise ValueError(f"{csv_path}: {len(bad)} grade(s) not an integer 0-4 (ICDR scale): {bad[:10]}")
    if not ids:
        raise ValueError(f"{csv_path} has no rows")
    _check_ids(csv_path, id_col, ids, lines)
    return ids, np.asarray(grades, np.int64)


def _unsafe_id(image_id: str) -> bool:
    """True for an empty id, an absolute path (/x, \\x, C:x), one with a '..' part or a NUL."""
    parts = image_id.replace("\\", "/").split("/")
    drive = image_id[:1].isalpha() and image_id[1:2] == ":"  # C:... on Windows
    return (not image_id or image_id.startswith(("/", "\\")) or Path(image_id).is_absolute()
            or drive or ".." in parts or "\0" in image_id)


def _check_ids(csv_path: Path, id_col: str, ids: list, lines: list) -> None:
    """Refuse ids that leave the folder and ids listed twice (an image in train and test)."""
    unsafe = [f"line {n}: {i!r}" for i, n in zip(ids, lines) if _unsafe_id(i)]
    if unsafe:
        raise ValueError(f"{csv_path}: {len(unsafe)} {id_col} value(s) are empty, absolute or "
                         f"contain '..' or NUL, so they do not name a file inside the folder: "
                         f"{unsafe[:10]}; use the image's file name (without extension)")
    seen: dict = {}
    for image_id, line in zip(ids, lines):
        seen.setdefault(image_id, []).append(line)
    repeated = [f"{i!r} (lines {', '.join(map(str, n))})" for i, n in seen.items() if len(n) > 1]
    if repeated:
        raise ValueError(f"{csv_path} lists {len(repeated)} {id_col}(s) more than once: "
                         f"{'; '.join(repeated[:10])}; a repeated image can land in both the "
                         "training and the test split - keep one row per image and try again")


def _read_image(path: Path, size: int, preprocess: bool) -> np.ndarray:
    from PIL import Image

    from qdr_course.preprocessing import pad_to_square, preprocess_fundus, resize

    with Image.open(path) as im:
        if im.mode in ("L", "LA", "I", "I;16", "F", "1"):
            raise ValueError(f"{path.name} is greyscale (mode {im.mode}); fundus photographs must be colour")
        if min(im.size) < MIN_IMAGE_PIXELS:
            raise ValueError(f"{path.name} is only {im.size[0]} x {im.size[1]} pixels; a fundus "
                             f"photograph must be at least {MIN_IMAGE_PIXELS} x {MIN_IMAGE_PIXELS}")
        image = np.asarray(im.convert("RGB"))
    if preprocess:
        return preprocess_fundus(image, size)
    return resize(pad_to_square(image), size)


def _check_distinct_files(csv_path: Path, ids: list, paths: list) -> None:
    """Refuse two ids that name one file (a case-insensitive disk, a symbolic link)."""
    first: dict = {}
    same = []
    for image_id, path in zip(ids, paths):
        if path is None:
            continue
        key = path.resolve()
        if key in first:
            same.append(f"{first[key]!r} and {image_id!r}")
        else:
            first[key] = image_id
    if same:
        raise ValueError(f"{csv_path}: {len(same)} pair(s) of ids name the same image file: "
                         f"{'; '.join(same[:10])}; a repeated image can land in both the training "
                         "and the test split - keep one row per image and try again")


def _load_folder(root, csv_name, id_col, label_col, image_dir, extensions, source, size, seed, val_fraction,
                 test_fraction, on_error, preprocess, progress, limit):
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' (stop at bad files) or 'skip' (leave them out and report "
                         f"them), got {on_error!r}")
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"no folder {root}")
    ids, grades = _read_labels(root / csv_name, id_col, label_col)
    if limit is not None:
        ids, grades = ids[:limit], grades[:limit]
    paths = [next((p for p in (root / image_dir / f"{image_id}{ext}" for ext in extensions)
                   if p.is_file()), None) for image_id in ids]
    _check_distinct_files(root / csv_name, ids, paths)
    images, kept, problems = [], [], []
    iterator = range(len(ids))
    if progress:
        from qdr_course.progress import progress_bar

        tqdm = progress_bar()

        iterator = tqdm(iterator, desc=f"reading {root.name}", unit="img")
    for i in iterator:
        path = paths[i]
        if path is None:
            problems.append(f"{image_dir}/{ids[i]}{extensions[0]}: missing")
            continue
        try:
            images.append(_read_image(path, size, preprocess))
        except Exception as error:  # PIL raises several types for corrupt files
            problems.append(f"{image_dir}/{path.name}: {type(error).__name__}: {error}")
            continue
        kept.append(i)
    if problems:
        listing = "; ".join(problems[:20]) + (f"; ... ({len(problems) - 20} more)" if len(problems) > 20 else "")
        if on_error == "raise":
            raise ValueError(f"{len(problems)} of {len(ids)} image(s) in {root} could not be read: {listing}. "
                             "Fix or remove them, or pass on_error='skip' to leave them out")
        warnings.warn(f"skipped {len(problems)} of {len(ids)} image(s) in {root}: {listing}", stacklevel=3)
    if not kept:
        raise ValueError(f"no readable images in {root / image_dir}")
    images = np.stack(images)
    return _split_data(images, grades[kept], f"{source} ({root}, {len(kept)} images, stratified split)", seed,
                       val_fraction, test_fraction, ids=[ids[i] for i in kept], skipped=problems)


def load_aptos(root, size: int = 224, seed: int = 0, val_fraction: float = 0.15, test_fraction: float = 0.15,
               on_error: str = "raise", preprocess: bool = True, progress: bool = False, limit=None) -> GradingData:
    """An APTOS-2019 folder: ``train.csv`` (id_code, diagnosis) + ``train_images/<id>.png``. See lesson 04.

    Each image is cropped to its field of view, padded to a square and resized
    (``preprocess=False``: only padded and resized). ``on_error="raise"`` stops at missing,
    corrupt or greyscale files and names them; ``"skip"`` leaves them out with a warning that
    names them, and lists them in ``data.skipped``.
    """
    return _load_folder(root, "train.csv", "id_code", "diagnosis", "train_images", (".png", ".jpg", ".jpeg"),
                        "APTOS 2019 format", size, seed, val_fraction, test_fraction, on_error, preprocess,
                        progress, limit)


def load_eyepacs(root, size: int = 224, seed: int = 0, val_fraction: float = 0.15, test_fraction: float = 0.15,
                 on_error: str = "raise", preprocess: bool = True, progress: bool = False, limit=None) -> GradingData:
    """An EyePACS (Kaggle DR 2015) folder: ``trainLabels.csv`` (image, level) + ``train/<image>.jpeg``. See lesson 04."""
    return _load_folder(root, "trainLabels.csv", "image", "level", "train", (".jpeg", ".jpg", ".png"),
                        "EyePACS format", size, seed, val_fraction, test_fraction, on_error, preprocess,
                        progress, limit)


def _manifest_files(out: Path) -> list[str]:
    """The files a previous synth wrote into ``out`` (from its manifest), checked to stay inside."""
    import json

    manifest = out / SYNTH_MANIFEST
    try:
        files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise FileExistsError(f"{manifest} is unreadable ({error}), so the files of the previous "
                              "synthetic set are unknown; choose another folder") from None
    ok = all(isinstance(f, str) and (f == "train.csv" or (
        f.startswith("train_images/") and f.count("/") == 1 and not _unsafe_id(f[13:])))
        for f in files) if isinstance(files, list) else False
    if not ok:
        raise FileExistsError(f"{manifest} lists files outside train.csv and train_images/; it "
                              "was not written by qdr-course - choose another folder")
    return files


def check_aptos_target(out, n: int, prefix: str = "synth", overwrite: bool = False) -> list[Path]:
    """Files that ``n`` new synthetic images replace in ``out``; or an error. See lesson 04.

    An empty folder is fine. A folder with ``train.csv`` or ``train_images`` needs
    ``overwrite=True`` *and* a :data:`SYNTH_MANIFEST` (written by :func:`save_aptos_folder`):
    only the files listed there are replaced, and a file of the user's that a new image would
    overwrite is refused. Nothing is changed here, so a command can check before slow work.
    """
    out = Path(out).expanduser()
    existing = [p.name for p in (out / "train.csv", out / "train_images") if p.exists()]
    if not existing:
        return []
    if not overwrite:
        raise FileExistsError(f"{out} already holds {existing}; choose another folder or pass "
                              "overwrite=True (--overwrite) to replace it")
    if not (out / SYNTH_MANIFEST).is_file():
        raise FileExistsError(f"{out} holds {existing} that qdr-course data synth did not write "
                              f"(no {SYNTH_MANIFEST}), so --overwrite will not touch them; "
                              "choose another folder (or move them away yourself)")
    old = set(_manifest_files(out))
    width = max(5, len(str(n)))
    clash = [f"train_images/{prefix}_{i:0{width}d}.png" for i in range(n)]
    clash = [f for f in clash if f not in old and (out / f).exists()]
    if clash:
        raise FileExistsError(f"{out} holds {len(clash)} file(s) that the new set would overwrite "
                              f"but the previous synth did not write, e.g. {clash[0]}; choose "
                              "another folder (or move them away yourself)")
    return [out / f for f in sorted(old) if (out / f).exists()]


def save_aptos_folder(images, grades, out, prefix: str = "synth", overwrite: bool = False,
                      progress: bool = False) -> Path:
    """Write images and grades as an APTOS-2019 folder (``train.csv`` + PNGs). See lesson 04.

    Refuses to write into a folder that already has a ``train.csv`` or ``train_images`` unless
    ``overwrite=True`` and the folder was written by this function (see
    :func:`check_aptos_target`): then the previous set's files, and only those, are removed, so
    no stale image is left. The new set is written to a staging folder first: a failure (a full
    disk) leaves the previous set as it was and nothing half-written.
    """
    import json
    import shutil

    from PIL import Image

    images = _check_images(images)
    grades = _check_grade_array(grades)
    if len(images) != len(grades):
        raise ValueError(f"{len(images)} images but {len(grades)} grades")
    if _unsafe_id(prefix) or "/" in prefix or "\\" in prefix:
        raise ValueError(f"prefix must be a plain file-name prefix, got {prefix!r}")
    out = Path(out).expanduser()
    old = check_aptos_target(out, len(images), prefix, overwrite)
    created = not out.exists()
    staging = out / f".synth-staging-{os.getpid()}"

    def clean_up():
        shutil.rmtree(staging, ignore_errors=True)
        if created:
            shutil.rmtree(out, ignore_errors=True)

    try:
        (staging / "train_images").mkdir(parents=True, exist_ok=True)
    except OSError as error:
        clean_up()
        raise PermissionError(f"cannot create {out / 'train_images'}: {error}") from error
    width = max(5, len(str(len(images))))
    names = [f"{prefix}_{i:0{width}d}" for i in range(len(images))]
    iterator = range(len(images))
    if progress:
        from qdr_course.progress import progress_bar

        tqdm = progress_bar()

        iterator = tqdm(iterator, desc=f"writing {out.name}", unit="img")
    try:
        for i in iterator:  # lossless; compress_level 3 is faster than the default
            Image.fromarray(images[i]).save(staging / "train_images" / f"{names[i]}.png",
                                            compress_level=3)
        with open(staging / "train.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id_code", "diagnosis"])
            writer.writerows(zip(names, grades.tolist()))
        files = ["train.csv"] + [f"train_images/{name}.png" for name in names]
        (staging / SYNTH_MANIFEST).write_text(json.dumps(
            {"written_by": "qdr-course data synth (qdr_course.datasets.save_aptos_folder)",
             "files": files}, indent=0), encoding="utf-8")
    except BaseException:
        clean_up()
        raise
    for path in old:  # the previous synth's files, and nothing else
        path.unlink()
    (out / "train_images").mkdir(exist_ok=True)
    for name in names:
        os.replace(staging / "train_images" / f"{name}.png", out / "train_images" / f"{name}.png")
    os.replace(staging / "train.csv", out / "train.csv")
    os.replace(staging / SYNTH_MANIFEST, out / SYNTH_MANIFEST)
    shutil.rmtree(staging, ignore_errors=True)
    return out


# --------------------------------------------------------------------------- entry point
def load_grading_data(source: str = "synthetic", size: int = 64, n: int = 2000, seed: int = 0,
                      val_fraction: float = 0.15, test_fraction: float = 0.15, prior="aptos",
                      on_error: str = "raise", cache_dir=None, cache: bool = False) -> GradingData:
    """Train / val / test fundus images and grades from ``source`` (see the module table). See lesson 04.

    ``n`` and ``prior`` apply to ``"synthetic"`` only; ``size`` must be 28, 64, 128 or 224 for
    RetinaMNIST (its published sizes); ``on_error`` applies to folders. ``cache=True`` keeps a
    generated synthetic set in ``cache_dir`` (default ``$QDR_COURSE_DATA`` or the user cache
    directory) and reloads it next time; the file name includes a hash of the generator's source,
    so a changed generator never serves stale images.
    """
    if not isinstance(source, str):
        raise TypeError(f"source must be a string such as 'synthetic' or 'aptos:/data/aptos', got {source!r}")
    kind, _, arg = source.partition(":")
    kind = kind.strip().lower()
    if kind == "synthetic":
        from qdr_course.fundus import synthetic_fundus_dataset

        check_synthetic_n(n, prior)
        if cache:
            images, grades = _cached_synthetic(n, size, seed, prior, cache_dir)
        else:
            images, grades = synthetic_fundus_dataset(n=n, size=size, seed=seed, prior=prior)
        name = prior if isinstance(prior, str) else "custom"
        return _split_data(images, grades, f"synthetic fundus ({n} images, {size} px, {name} prior, seed {seed}; "
                           "stratified split)", seed, val_fraction, test_fraction)
    if kind == "retinamnist":
        return load_retinamnist(size, path=arg or None, cache_dir=cache_dir)
    if kind in ("aptos", "eyepacs"):
        if not arg:
            raise ValueError(f"give the folder: load_grading_data('{kind}:/path/to/folder')")
        loader = load_aptos if kind == "aptos" else load_eyepacs
        return loader(arg, size=size, seed=seed, val_fraction=val_fraction, test_fraction=test_fraction,
                      on_error=on_error)
    raise ValueError(f"unknown data source {source!r}; use 'synthetic', 'retinamnist', 'retinamnist:FILE.npz', "
                     "'aptos:DIR' or 'eyepacs:DIR'")


def _cached_synthetic(n, size, seed, prior, cache_dir):
    """The synthetic set from the cache, generated and stored (atomically) on a miss."""
    import hashlib
    import inspect

    import qdr_course.fundus as fundus

    key = hashlib.sha256(inspect.getsource(fundus).encode()).hexdigest()[:12]
    p = fundus.class_prior(prior)
    prior_tag = prior if isinstance(prior, str) else hashlib.sha256(p.tobytes()).hexdigest()[:8]
    path = _cache_dir(cache_dir) / f"synthetic_fundus_n{n}_s{size}_seed{seed}_{prior_tag}_{key}.npz"
    if path.is_file():
        with np.load(path) as npz:
            return npz["images"], npz["grades"]
    images, grades = fundus.synthetic_fundus_dataset(n=n, size=size, seed=seed, prior=prior)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        np.savez(handle, images=images, grades=grades)
    os.replace(tmp, path)
    return images, grades


def min_synthetic_n(prior="aptos") -> int:
    """The smallest n from which on every synthetic set splits (3+ images a grade). See lesson 04.

    51 for the APTOS prior, 15 for the balanced one.
    """
    from qdr_course.fundus import _grade_counts, class_prior

    p = class_prior(prior)
    upper = int(np.ceil(3 / p[p > 0].min()))  # from here on floor(n p_g) >= 3 for every grade
    if upper > 1_000_000:
        return upper

    def splittable(n):
        counts = _grade_counts(n, p)
        return not np.any((counts > 0) & (counts < 3))

    n = upper
    while n > 1 and splittable(n - 1):
        n -= 1
    return n


def check_synthetic_n(n, prior="aptos", balanced: str | None = "prior='balanced'") -> None:
    """ValueError (with the minimum) if ``n`` synthetic images cannot be split. See lesson 04.

    ``balanced`` is how the caller's user asks for the balanced prior (None: they cannot).
    """
    counts = _grade_counts_for(n, prior)
    short = [g for g in range(NUM_GRADES) if 0 < counts[g] < 3]
    if short:
        name = prior if isinstance(prior, str) else "custom"
        g = short[0]
        raise ValueError(f"n={n} gives grade counts {counts.tolist()} with the {name!r} prior: "
                         f"grade {g} would have only {counts[g]} image(s), and every grade needs "
                         "3 (one each for train, validation and test); use n >= "
                         f"{min_synthetic_n(prior)}" + (
                             f" or {balanced} (n >= {min_synthetic_n('balanced')})"
                             if balanced and name != "balanced" else ""))


def _grade_counts_for(n, prior) -> np.ndarray:
    """Grade counts of a synthetic set of n images (n validated by the generator)."""
    from qdr_course.fundus import _grade_counts, class_prior

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    return _grade_counts(int(n), class_prior(prior))


# --------------------------------------------------------------------------- torch
def augment_batch(x, generator=None, max_angle: float = 180.0, brightness: float = 0.2):
    """Grade-preserving augmentation of a float batch (B, 3, H, W): flips, rotation, brightness. See lesson 04.

    Each image is flipped left-right and up-down with probability 1/2, rotated about its centre
    by a uniform angle in ``[-max_angle, max_angle]`` degrees (black fills the corners, as
    outside the field of view) and multiplied by a uniform brightness factor in
    ``[1 - brightness, 1 + brightness]`` (values are not clipped). Lesions keep their type and
    number, so the grade is unchanged.
    """
    import torch
    import torch.nn.functional as F

    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"x must be a float batch (B, 3, H, W), got shape {tuple(x.shape)}")
    if not 0 <= brightness < 1:
        raise ValueError(f"brightness must be in [0, 1), got {brightness}")
    b = x.shape[0]
    rand = torch.rand(b, 4, generator=generator, dtype=x.dtype)
    flip_lr = torch.where(rand[:, 0] < 0.5, -1.0, 1.0).to(x.dtype)
    flip_ud = torch.where(rand[:, 1] < 0.5, -1.0, 1.0).to(x.dtype)
    angle = (rand[:, 2] * 2 - 1) * (max_angle * torch.pi / 180)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.zeros(b, 2, 3, dtype=x.dtype)  # output -> input sampling coordinates
    theta[:, 0, 0], theta[:, 0, 1] = cos * flip_lr, -sin * flip_ud
    theta[:, 1, 0], theta[:, 1, 1] = sin * flip_lr, cos * flip_ud
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    factor = 1 + (rand[:, 3] * 2 - 1) * brightness
    return out * factor[:, None, None, None]


class FundusDataset(Dataset):
    """A torch ``Dataset`` of fundus images: item = (float32 (3, H, W) in 0..1, int64 grade). See lesson 04.

    ``augment=True`` applies :func:`augment_batch` (flips, rotation, brightness) to each item,
    for training only; validation and test sets must not be augmented.

    >>> import numpy as np
    >>> ds = FundusDataset(np.zeros((4, 16, 16, 3), np.uint8), np.array([0, 1, 2, 4]))
    >>> x, y = ds[3]; tuple(x.shape), int(y), len(ds)
    ((3, 16, 16), 4, 4)
    """

    def __init__(self, images, grades, augment: bool = False, generator=None):
        import torch

        images = _check_images(np.asarray(images))
        grades = _check_grade_array(grades)
        if len(images) != len(grades):
            raise ValueError(f"{len(images)} images but {len(grades)} grades; they must pair up one to one")
        if not isinstance(augment, bool):
            raise TypeError(f"augment must be True or False, got {augment!r}")
        self.images = torch.from_numpy(np.ascontiguousarray(images))
        self.grades = torch.from_numpy(grades)
        self.augment = augment
        self.generator = generator

    def __len__(self) -> int:
        return len(self.grades)

    def __getitem__(self, index):
        x = self.images[index].permute(2, 0, 1).float().div_(255)
        if self.augment:
            x = augment_batch(x[None], generator=self.generator)[0]
        return x, self.grades[index]


def make_loaders(data: GradingData, batch_size: int = 64, augment: bool = True, seed: int = 0,
                 num_workers: int = 0) -> dict:
    """DataLoaders: shuffled (seeded), optionally augmented ``train``; plain ``val`` and ``test``. See lesson 04."""
    import torch
    from torch.utils.data import DataLoader

    if not isinstance(data, GradingData):
        raise TypeError(f"data must be a GradingData from load_grading_data, got {type(data).__name__}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    generator = torch.Generator().manual_seed(seed)
    aug_generator = torch.Generator().manual_seed(seed + 1)
    loaders = {"train": DataLoader(FundusDataset(data.train.images, data.train.grades, augment, aug_generator),
                                   batch_size=batch_size, shuffle=True, generator=generator,
                                   num_workers=num_workers)}
    for name in ("val", "test"):
        split = getattr(data, name)
        loaders[name] = DataLoader(FundusDataset(split.images, split.grades), batch_size=batch_size,
                                   shuffle=False, num_workers=num_workers)
    return loaders


def class_weights(grades, num_classes: int = NUM_GRADES):
    """Inverse-frequency weights ``w_c = N / (K n_c)`` as a float32 tensor (K,). See lesson 04.

    (scikit-learn's "balanced" weights.) A weighted cross-entropy with them gives each grade
    the same total weight. Every grade needs at least one example.
    """
    import torch

    grades = _check_grade_array(grades)
    counts = np.bincount(grades, minlength=num_classes)
    if len(counts) > num_classes:
        raise ValueError(f"grades go up to {grades.max()} but num_classes = {num_classes}")
    if np.any(counts == 0):
        missing = np.flatnonzero(counts == 0).tolist()
        raise ValueError(f"grade(s) {missing} have no examples, so their weight N / (K n_c) is infinite; "
                         "check the split (every grade must be in training) or merge grades deliberately")
    return torch.tensor(len(grades) / (num_classes * counts), dtype=torch.float32)
