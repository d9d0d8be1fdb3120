"""Where retinopathy photographs come from: RetinaMNIST, APTOS and EyePACS folders. See lesson 04.

Each loader returns a :class:`~qdr_course.retina.splits.GradingData`; the one entry point for
all of them is :func:`qdr_course.retina.datasets.load_grading_data`.

Folders are checked before any image is read: the CSV may start with a UTF-8 byte-order mark
(Excel writes one) but must be UTF-8; an id listed twice is refused (it could land in both
train and test: remove the repeated row); an id that is an absolute path or contains ``..``
is refused (it would read files outside the folder). Images smaller than
:data:`MIN_IMAGE_PIXELS` on a side are refused as not photographs.
"""

from __future__ import annotations

import csv
import os
import warnings
from pathlib import Path

import numpy as np

from qdr_course.retina.splits import GradingData, Split, _split_data, duplicate_groups, leak_groups

__all__ = ["MIN_IMAGE_PIXELS", "RETINAMNIST_FILES", "fetch_retinamnist", "load_aptos",
           "load_eyepacs", "load_retinamnist", "try_load_retinamnist"]


_ZENODO = "https://zenodo.org/records/10519652/files/{name}?download=1"
#: RetinaMNIST files (MedMNIST v2/+, CC BY 4.0) by image size: (file name, MD5).
RETINAMNIST_FILES = {
    28: ("retinamnist.npz", "bd4c0672f1bba3e3a89f0e4e876791e4"),
    64: ("retinamnist_64.npz", "afda852cc34dcda56f86ad2b2457dbcc"),
    128: ("retinamnist_128.npz", "e48e916a24454daf90583d4e6efb1a18"),
    224: ("retinamnist_224.npz", "eae7e3b6f3fcbda4ae613ebdcbe35348"),
}
#: Smallest side, in pixels, of an image read from a folder: RetinaMNIST's 28 px, the smallest the
#: course grades. Anything smaller (a 1x1 placeholder, an icon) is not a fundus photograph.
MIN_IMAGE_PIXELS = 28


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
        raise PermissionError(f"cannot create the data cache directory {path}: {error}; pass "
                              "cache_dir=... (or set QDR_COURSE_DATA) to a folder you can "
                              "write") from error
    if not os.access(path, os.W_OK):
        raise PermissionError(f"the data cache directory {path} is not writable; pass "
                              "cache_dir=... (or set QDR_COURSE_DATA) to a folder you can write")
    return path


def fetch_retinamnist(size: int = 64, cache_dir=None, progress: bool = False) -> Path:
    """Download (once) and checksum RetinaMNIST at ``size`` px; return the cached file."""
    import pooch

    if size not in RETINAMNIST_FILES:
        raise ValueError(f"RetinaMNIST comes in sizes {sorted(RETINAMNIST_FILES)}, got {size!r}")
    name, md5 = RETINAMNIST_FILES[size]
    path = _cache_dir(cache_dir)
    try:
        return Path(pooch.retrieve(_ZENODO.format(name=name), known_hash=f"md5:{md5}", fname=name,
                                   path=path, progressbar=progress))
    except ValueError:  # checksum mismatch: pooch says so, keep its message
        raise
    except Exception as error:  # network errors come in many types (requests, OSError, ...)
        raise ConnectionError(
            f"could not download RetinaMNIST ({name}) from zenodo.org: {type(error).__name__}: "
            f"{error}. Without network use the synthetic set: load_grading_data('synthetic'), or "
            "download the file elsewhere and load it with "
            f"load_grading_data('retinamnist:/path/to/{name}')") from error


def try_load_retinamnist(size: int = 28, path=None, cache_dir=None,
                         download: bool = True) -> tuple[GradingData | None, str]:
    """RetinaMNIST if it can be had - a ``path``, the cache, or a download - else ``None``.

    For users who are online (``qdr-course train --data retinamnist``).

    Returns ``(data, one line saying what happened)``; never raises for a missing network or
    file, so a lesson can go on offline. ``QDR_RETINAMNIST`` (a path to the .npz) is used when
    ``path`` is not given. A file that is there but broken still raises (with its reason).
    """
    path = path or os.environ.get("QDR_RETINAMNIST")
    if path is None and not download:
        name = RETINAMNIST_FILES.get(size, ("retinamnist.npz",))[0]
        cached = _cache_dir(cache_dir) / name
        if not cached.is_file():
            return None, ("RetinaMNIST is not on this machine (downloads are off): skipping the "
                          "real-data section")
        path = cached
    import logging

    import pooch

    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)  # no "Downloading ..." line before an offline failure
    try:
        data = load_retinamnist(size, path=path, cache_dir=cache_dir)
    except (ConnectionError, PermissionError, FileNotFoundError) as error:
        return None, f"RetinaMNIST not available ({type(error).__name__}): skipping the " \
                     "real-data section - offline is fine, everything else runs on synthetic data"
    finally:
        logger.setLevel(level)
    return data, f"RetinaMNIST loaded: {data.source}"


def load_retinamnist(size: int = 64, path=None, cache_dir=None) -> GradingData:
    """RetinaMNIST with its official train / val / test splits (local ``path`` or download)."""
    if path is None:
        path = fetch_retinamnist(size, cache_dir)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no RetinaMNIST file at {path}")
    try:
        npz = np.load(path, allow_pickle=False)
    except Exception as error:  # numpy's own words would suggest unpickling: never for data
        raise ValueError(f"{path} is not a RetinaMNIST .npz file (numpy cannot read it as "
                         "arrays); pass the retinamnist_*.npz file itself, or download it with "
                         "qdr-course data download retinamnist") from error
    with npz:
        need = [f"{s}_{k}" for s in ("train", "val", "test") for k in ("images", "labels")]
        missing = [k for k in need if k not in npz.files]
        if missing:
            raise ValueError(f"{path} is not in MedMNIST format: missing arrays {missing} (found "
                             f"{npz.files})")
        splits = {}
        for s in ("train", "val", "test"):
            images, labels = npz[f"{s}_images"], npz[f"{s}_labels"]
            try:
                splits[s] = Split(images, labels)
            except (ValueError, TypeError) as error:
                raise ValueError(f"{path}: {s} split is not in MedMNIST format: {error}") from error
    return GradingData(splits["train"], splits["val"], splits["test"],
                       f"RetinaMNIST ({path.name}, official splits; MedMNIST v2, CC BY 4.0)")


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
        raise ValueError(f"{csv_path}: {len(bad)} grade(s) not an integer 0-4 (ICDR scale): "
                         f"{bad[:10]}")
    if not ids:
        raise ValueError(f"{csv_path} has no rows")
    _validate_ids(csv_path, id_col, ids, lines)
    return ids, np.asarray(grades, np.int64)


def _unsafe_id(image_id: str) -> bool:
    """True for an empty id, an absolute path (/x, \\x, C:x), one with a '..' part or a NUL."""
    parts = image_id.replace("\\", "/").split("/")
    drive = image_id[:1].isalpha() and image_id[1:2] == ":"  # C:... on Windows
    return (not image_id or image_id.startswith(("/", "\\")) or Path(image_id).is_absolute()
            or drive or ".." in parts or "\0" in image_id)


def _validate_ids(csv_path: Path, id_col: str, ids: list, lines: list) -> None:
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

    from qdr_course.retina.preprocessing import pad_to_square, preprocess_fundus, resize

    with Image.open(path) as im:
        if im.mode in ("L", "LA", "I", "I;16", "F", "1"):
            raise ValueError(f"{path.name} is greyscale (mode {im.mode}); fundus photographs must "
                             "be colour")
        if min(im.size) < MIN_IMAGE_PIXELS:
            raise ValueError(f"{path.name} is only {im.size[0]} x {im.size[1]} pixels; a fundus "
                             f"photograph must be at least {MIN_IMAGE_PIXELS} x {MIN_IMAGE_PIXELS}")
        image = np.asarray(im.convert("RGB"))
    if preprocess:
        return preprocess_fundus(image, size)
    return resize(pad_to_square(image), size)


def _validate_distinct_files(csv_path: Path, ids: list, paths: list) -> None:
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


def _load_folder(root, csv_name, id_col, label_col, image_dir, extensions, source, size, seed,
                 val_fraction, test_fraction, on_error, preprocess, progress, limit):
    if on_error not in ("raise", "skip"):
        raise ValueError("on_error must be 'raise' (stop at bad files) or 'skip' (leave them out "
                         f"and report them), got {on_error!r}")
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"no folder {root}")
    ids, grades = _read_labels(root / csv_name, id_col, label_col)
    if limit is not None:
        ids, grades = ids[:limit], grades[:limit]
    paths = [next((p for p in (root / image_dir / f"{image_id}{ext}" for ext in extensions)
                   if p.is_file()), None) for image_id in ids]
    _validate_distinct_files(root / csv_name, ids, paths)
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
        listing = "; ".join(problems[:20]) + (f"; ... ({len(problems) - 20} "
                                              "more)" if len(problems) > 20 else "")
        if on_error == "raise":
            raise ValueError(f"{len(problems)} of {len(ids)} image(s) in {root} could not be read: "
                             f"{listing}. Fix or remove them, or pass on_error='skip' to leave "
                             "them out")
        warnings.warn(f"skipped {len(problems)} of {len(ids)} image(s) in {root}: {listing}",
                      stacklevel=3)
    if not kept:
        raise ValueError(f"no readable images in {root / image_dir}")
    images = np.stack(images)
    kept_ids = [ids[i] for i in kept]
    copies = duplicate_groups(images)
    groups = (leak_groups(ids=kept_ids, copies=copies), copies)
    data = _split_data(images, grades[kept],
                       f"{source} ({root}, {len(kept)} images, split by patient and "
                       "near-duplicate group)", seed, val_fraction, test_fraction, ids=kept_ids,
                       skipped=problems, groups=groups)
    if data.conflicts:
        shown = "; ".join(f"{'/'.join(map(str, names))} graded {grades_}"
                          for names, grades_ in data.conflicts[:10])
        more = f"; ... ({len(data.conflicts) - 10} more)" if len(data.conflicts) > 10 else ""
        warnings.warn(f"{len(data.conflicts)} group(s) of copies of one photograph carry "
                      f"different grades: {shown}{more}. They stay in one split; check "
                      "the labels (data.conflicts lists them all)", stacklevel=3)
    return data


def load_aptos(root, size: int = 224, seed: int = 0, val_fraction: float = 0.15,
               test_fraction: float = 0.15, on_error: str = "raise", preprocess: bool = True,
               progress: bool = False, limit=None) -> GradingData:
    """An APTOS-2019 folder: ``train.csv`` (id_code, diagnosis) + ``train_images/<id>.png``.

    Each image is cropped to its field of view, padded to a square and resized
    (``preprocess=False``: only padded and resized). ``on_error="raise"`` stops at missing,
    corrupt or greyscale files and names them; ``"skip"`` leaves them out with a warning that
    names them, and lists them in ``data.skipped``.
    """
    return _load_folder(root, "train.csv", "id_code", "diagnosis", "train_images",
                        (".png", ".jpg", ".jpeg"), "APTOS 2019 format", size, seed, val_fraction,
                        test_fraction, on_error, preprocess, progress, limit)


def load_eyepacs(root, size: int = 224, seed: int = 0, val_fraction: float = 0.15,
                 test_fraction: float = 0.15, on_error: str = "raise", preprocess: bool = True,
                 progress: bool = False, limit=None) -> GradingData:
    """An EyePACS (Kaggle DR 2015) folder: ``trainLabels.csv`` (image, level) +
    ``train/<image>.jpeg``.
    """
    return _load_folder(root, "trainLabels.csv", "image", "level", "train",
                        (".jpeg", ".jpg", ".png"), "EyePACS format", size, seed, val_fraction,
                        test_fraction, on_error, preprocess, progress, limit)
