"""IDRiD, shipped with the course: 516 graded photographs and 81 with lesion masks. See lesson 04.

The Indian Diabetic Retinopathy Image Dataset (Porwal, Pachade, Kokare et al., *Data* 2018,
doi:10.3390/data3030025; CC BY 4.0) in a downsized copy inside the package
(``qdr_course/retina/bundled/idrid``, about 12 MB):

* ``grading/``: the disease-grading set, IDRiD's own 413 training and 103 test photographs, each
  shrunk to a short side of :data:`GRADING_SHORT_SIDE` px (385 x 256, the black border kept) as
  JPEG quality :data:`JPEG_QUALITY`; ``train.csv`` / ``test.csv`` give the ICDR grade 0-4 and the
  risk of diabetic macular edema (DME) 0-2 of each.
* ``segmentation/``: the 54 + 27 photographs of the segmentation set at a short side of
  :data:`SEGMENTATION_SHORT_SIDE` px (771 x 512) and their masks of microaneurysms (MA),
  haemorrhages (HE), hard exudates (EX), soft exudates (SE) and the optic disc (OD) as 1-bit PNG.
  A mask pixel is set when any full-resolution pixel it covers is (a microaneurysm a few pixels
  across stays visible); IDRiD gives no file where a lesion type is absent.
* each part's ``LICENSE.txt`` and ``CC-BY-4.0.txt`` (the data set's own, verbatim), ``README.md``
  (attribution,
  citation, what was changed) and ``MANIFEST.sha256``: every file's SHA-256, verified as it is
  read (:func:`verify_idrid` checks all).

:func:`build_idrid_copy` (``qdr-course data idrid --from DIR --out DIR``) rebuilds this copy,
byte for byte with the locked Pillow, from a full IDRiD download laid out as the original archive
(``DIR/B. Disease Grading/...``, ``DIR/A. Segmentation/...``).
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qdr_course.retina.splits import (
    NEAR_DUPLICATE_BITS,
    GradingData,
    Split,
    conflicting_groups,
    duplicate_groups,
)

__all__ = ["GRADING_SHORT_SIDE", "IDRID_LESIONS", "IDRID_LESION_NAMES", "IDRID_ROOT",
           "IDRID_TO_SYNTHETIC", "JPEG_QUALITY",
           "SEGMENTATION_SHORT_SIDE", "SegmentationSet", "build_idrid_copy", "idrid_labels",
           "load_idrid", "load_idrid_photographs", "load_idrid_segmentation", "verify_idrid"]

#: Where the shipped copy lives (package data).
IDRID_ROOT = Path(__file__).resolve().parent / "bundled" / "idrid"
#: Short side, in pixels, of the shipped grading photographs (4288 x 2848 -> 385 x 256).
GRADING_SHORT_SIDE = 256
#: Short side, in pixels, of the shipped segmentation photographs and masks (-> 771 x 512).
SEGMENTATION_SHORT_SIDE = 512
#: JPEG quality of the shipped photographs (4:2:0 chroma, baseline, no metadata).
JPEG_QUALITY = 90
#: The lesion masks of the segmentation set, in IDRiD's order, and their names.
IDRID_LESIONS = ("MA", "HE", "EX", "SE", "OD")
IDRID_LESION_NAMES = {"MA": "microaneurysms", "HE": "hemorrhages", "EX": "hard exudates",
                "SE": "soft exudates", "OD": "optic disc"}
#: The synthetic lesion type (:data:`~qdr_course.retina.lesions.LESION_TYPES`) each IDRiD mask
#: is the real counterpart of (soft exudates are cotton-wool spots; the optic disc is anatomy).
IDRID_TO_SYNTHETIC = {"MA": "microaneurysms", "HE": "hemorrhages", "EX": "hard_exudates",
                      "SE": "cotton_wool_spots", "OD": None}
MANIFEST = "MANIFEST.sha256"
_SPLITS = {"train": "a. Training Set", "test": "b. Testing Set"}
_LABEL_FILES = {"train": "a. IDRiD_Disease Grading_Training Labels.csv",
                "test": "b. IDRiD_Disease Grading_Testing Labels.csv"}
_MASK_FOLDERS = {"MA": "1. Microaneurysms", "HE": "2. Haemorrhages", "EX": "3. Hard Exudates",
                 "SE": "4. Soft Exudates", "OD": "5. Optic Disc"}
_CSV_HEADER = ("image", "retinopathy_grade", "macular_edema_risk")
_REBUILD = ("reinstall qdr-course, or rebuild the copy with "
            "`qdr-course data idrid --from DIR --out DIR`")


# --- the shipped copy: manifest and verified reads -----------------------------------------

def idrid_root(root=None) -> Path:
    """The folder of an IDRiD copy (default: the one shipped in the package)."""
    root = IDRID_ROOT if root is None else Path(root).expanduser()
    if not (root / MANIFEST).is_file():
        raise FileNotFoundError(f"no IDRiD copy at {root} (its {MANIFEST} is missing); {_REBUILD}")
    return root


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(root=None) -> dict[str, str]:
    """``{relative path: SHA-256}`` of every file of an IDRiD copy, from its manifest."""
    root = idrid_root(root)
    sums = {}
    for n, line in enumerate((root / MANIFEST).read_text(encoding="utf-8").splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64:
            raise ValueError(f"{root / MANIFEST} line {n} is not 'SHA256  PATH': {line!r}")
        sums[name] = digest
    return sums


class _Reader:
    """Reads files of an IDRiD copy, each checked against the manifest."""

    def __init__(self, root=None):
        self.root = idrid_root(root)
        self.sums = read_manifest(self.root)

    def names(self, prefix: str) -> list[str]:
        """Manifest paths under ``prefix``, sorted."""
        return sorted(n for n in self.sums if n.startswith(prefix))

    def read(self, name: str) -> bytes:
        """The bytes of ``name``; ValueError naming it if missing or not the manifest's."""
        if name not in self.sums:
            raise ValueError(f"IDRiD copy {self.root}: {name} is not in {MANIFEST}; {_REBUILD}")
        path = self.root / name
        if not path.is_file():
            raise ValueError(f"IDRiD copy {self.root}: {name} is missing; {_REBUILD}")
        data = path.read_bytes()
        digest = _sha256(data)
        if digest != self.sums[name]:
            raise ValueError(f"IDRiD copy {self.root}: {name} has SHA-256 {digest[:16]}... but "
                             f"{MANIFEST} says {self.sums[name][:16]}...: the file is damaged or "
                             f"was changed; {_REBUILD}")
        return data

    def image(self, name: str) -> np.ndarray:
        """A verified image file as an array (RGB uint8, or bool for a 1-bit mask)."""
        from PIL import Image

        with Image.open(io.BytesIO(self.read(name))) as im:
            return np.asarray(im) if im.mode == "1" else np.asarray(im.convert("RGB"))


def verify_idrid(root=None) -> int:
    """Check every file of an IDRiD copy against its manifest; return how many were checked."""
    reader = _Reader(root)
    for name in reader.sums:
        reader.read(name)
    return len(reader.sums)


# --- grading set --------------------------------------------------------------------------

def _check_split(split: str) -> str:
    if split not in _SPLITS:
        raise ValueError(f"split must be 'train' or 'test' (IDRiD's own split), got {split!r}")
    return split


def _labels(reader: _Reader, split: str):
    text = reader.read(f"grading/{_check_split(split)}.csv").decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    if tuple(rows[0]) != _CSV_HEADER:
        raise ValueError(f"grading/{split}.csv: header {rows[0]}, expected {list(_CSV_HEADER)}")
    ids = [r[0] for r in rows[1:]]
    return ids, np.array([int(r[1]) for r in rows[1:]]), np.array([int(r[2]) for r in rows[1:]])


def idrid_labels(split: str = "train", root=None):
    """``(ids, grades, dme)`` of IDRiD's ``split``: ICDR grades 0-4 and DME risk 0-2 (int64)."""
    return _labels(_Reader(root), split)


def load_idrid_photographs(split: str = "train", ids=None, root=None):
    """``(ids, images)``: the shipped photographs as they are, ``uint8 (N, 256, 385, 3)``.

    See lesson 04. Unprocessed: wide, with the black border (for the field-of-view crop).
    """
    reader = _Reader(root)
    all_ids, _, _ = _labels(reader, split)
    ids = all_ids if ids is None else list(ids)
    unknown = [i for i in ids if i not in all_ids]
    if unknown:
        raise ValueError(f"not in IDRiD's {split} split: {unknown[:5]}; ids look like "
                         f"{all_ids[0]!r}")
    return ids, np.stack([reader.image(f"grading/{split}/{i}.jpg") for i in ids])


def _carve_validation(grades, groups, fraction: float, seed: int):
    """(train, val) index arrays: whole groups, stratified by their worst grade, seeded."""
    rng = np.random.default_rng(seed)
    labels, inverse = np.unique(groups, return_inverse=True)
    worst = np.zeros(len(labels), dtype=np.int64)
    np.maximum.at(worst, inverse, grades)
    val_groups = []
    for g in np.unique(worst):
        members = rng.permutation(np.flatnonzero(worst == g))
        if len(members) < 2:
            raise ValueError(f"grade {g} has only {len(members)} group(s) in IDRiD's training "
                             "split: it cannot give one to validation and keep one")
        n_val = min(len(members) - 1, max(1, int(round(len(members) * fraction))))
        val_groups.extend(members[:n_val])
    in_val = np.isin(inverse, np.array(val_groups))
    return rng.permutation(np.flatnonzero(~in_val)), rng.permutation(np.flatnonzero(in_val))


def load_idrid(size: int = 64, seed: int = 0, val_fraction: float = 0.15, preprocess: bool = True,
               root=None, max_distance: int = NEAR_DUPLICATE_BITS) -> GradingData:
    """IDRiD's grading set as :class:`GradingData`, with IDRiD's own train / test split.

    See lesson 04.

    ``test`` is IDRiD's 103 test photographs, all of them (results stay comparable with other
    work on IDRiD). A training photograph that is a copy of a test photograph (perceptual hashes
    at most ``max_distance`` bits apart, :func:`~qdr_course.retina.splits.duplicate_groups` on
    all 516) is left out of training and listed in ``skipped``: IDRiD's training file IDRiD_118
    is byte for byte its test file IDRiD_064 (graded 0 and 3). ``val`` is ``val_fraction`` of
    the remaining training photographs, carved out stratified by grade with ``seed`` (groups of
    copies kept whole), and ``train`` the rest; ``conflicts`` lists groups of copies graded
    differently. Each split's ``dme`` holds the risk of macular edema (0 none, 1 hard exudates
    away from the macula, 2 within one disc diameter of its centre). Images are cropped to the
    field of view, padded and resized to ``size`` (``preprocess=False``: only padded, resized).
    """
    from qdr_course.retina.preprocessing import pad_to_square, preprocess_fundus, resize

    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    reader = _Reader(root)
    parts, raw = {}, []
    for split in _SPLITS:
        ids, grades, dme = _labels(reader, split)
        photos = [reader.image(f"grading/{split}/{i}.jpg") for i in ids]
        raw.extend(photos)
        images = np.stack([preprocess_fundus(im, size) if preprocess else
                           resize(pad_to_square(im), size) for im in photos])
        parts[split] = (images, grades, dme, ids)
    images, grades, dme, ids = parts["train"]
    test = parts["test"]
    groups = duplicate_groups(raw, max_distance)  # the shipped photographs, before resizing
    train_groups, test_groups = groups[:len(ids)], groups[len(ids):]
    leaked = np.isin(train_groups, test_groups)
    skipped = [f"train/{ids[i]}: a copy of test/"
               f"{'/'.join(test[3][k] for k in np.flatnonzero(test_groups == train_groups[i]))} "
               "(left out of training)" for i in np.flatnonzero(leaked)]
    kept = np.flatnonzero(~leaked)
    tr, va = _carve_validation(grades[kept], train_groups[kept], val_fraction, seed)
    tr, va = kept[tr], kept[va]

    def split_of(index, images, grades, dme, ids):
        return Split(images[index], grades[index], [ids[i] for i in index], dme[index])

    all_grades = np.concatenate([grades, test[1]])
    all_ids = [f"train/{i}" for i in ids] + [f"test/{i}" for i in test[3]]
    return GradingData(
        split_of(tr, *parts["train"]), split_of(va, *parts["train"]),
        split_of(np.arange(len(test[1])), *test),
        f"IDRiD (Porwal et al. 2018, CC BY 4.0; {len(ids) + len(test[1])} photographs, {size} px; "
        f"IDRiD's own train/test split, {len(skipped)} training copy of a test photograph left "
        f"out; validation {val_fraction:g} of train, stratified, seed {seed})",
        skipped=skipped, groups=len(np.unique(groups)),
        conflicts=conflicting_groups(all_grades, groups, all_ids))


# --- segmentation set ---------------------------------------------------------------------

@dataclass
class SegmentationSet:
    """IDRiD's segmentation photographs and lesion masks. See lesson 04.

    ``images`` ``uint8 (N, H, W, 3)``; ``masks`` ``bool (N, 5, H, W)`` in :data:`IDRID_LESIONS`
    order; ``annotated`` ``bool (N, 5)``: IDRiD has a mask file for that lesion type (where it
    has none, the lesion was not found and the mask is all False); ``ids`` the image names.
    """

    images: np.ndarray
    masks: np.ndarray
    annotated: np.ndarray
    ids: list
    lesions: tuple = IDRID_LESIONS

    def __len__(self) -> int:
        return len(self.ids)

    def mask(self, code: str) -> np.ndarray:
        """The ``bool (N, H, W)`` masks of one lesion type ('MA', 'HE', 'EX', 'SE' or 'OD')."""
        if code not in self.lesions:
            raise ValueError(f"lesion code must be one of {self.lesions}, got {code!r}")
        return self.masks[:, self.lesions.index(code)]


def _square(image: np.ndarray, masks: np.ndarray, size: int):
    """Crop image and masks to the image's field of view, pad square, resize to ``size``."""
    from PIL import Image

    from qdr_course.retina.preprocessing import fov_box, pad_to_square, resize

    top, bottom, left, right = fov_box(image)
    image = pad_to_square(image[top:bottom, left:right])
    out = []
    for m in masks:
        m = m[top:bottom, left:right]
        h, w = m.shape
        n = max(h, w)
        square = np.zeros((n, n), np.uint8)
        square[(n - h) // 2:(n - h) // 2 + h, (n - w) // 2:(n - w) // 2 + w] = m * 255
        small = Image.fromarray(square).resize((size, size), Image.Resampling.BOX)
        out.append(np.asarray(small) > 0)
    return resize(image, size), np.stack(out)


def load_idrid_segmentation(split: str = "train", size: int | None = None,
                            root=None) -> SegmentationSet:
    """IDRiD's segmentation set (``split`` 'train': 54, 'test': 27, 'all': 81). See lesson 04.

    ``size=None`` gives the shipped 771 x 512 photographs and masks; ``size=n`` crops both to
    the photograph's field of view, pads them square and resizes to ``n x n`` (a mask pixel is
    set when any pixel it covers is).
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
    reader = _Reader(root)
    images, masks, annotated, ids = [], [], [], []
    for part in ("train", "test") if split == "all" else (split,):
        for name in reader.names(f"segmentation/{part}/images/"):
            image_id = Path(name).stem
            image = reader.image(name)
            row, have = [], []
            for code in IDRID_LESIONS:
                mask_name = f"segmentation/{part}/masks/{image_id}_{code}.png"
                have.append(mask_name in reader.sums)
                row.append(reader.image(mask_name) if have[-1] else
                           np.zeros(image.shape[:2], bool))
            row = np.stack(row)
            if size is not None:
                image, row = _square(image, row, size)
            images.append(image)
            masks.append(row)
            annotated.append(have)
            ids.append(image_id)
    return SegmentationSet(np.stack(images), np.stack(masks), np.array(annotated), ids)


# --- rebuilding the copy from a full IDRiD download ----------------------------------------

def _shrunk_size(size: tuple[int, int], short_side: int) -> tuple[int, int]:
    w, h = size
    scale = short_side / min(w, h)
    return round(w * scale), round(h * scale)


def _jpeg_bytes(source: Path, short_side: int) -> tuple[bytes, tuple[int, int]]:
    """A photograph shrunk (Lanczos) to ``short_side`` and encoded as the copy's JPEG."""
    from PIL import Image

    with Image.open(source) as im:
        full = im.size
        small = im.convert("RGB").resize(_shrunk_size(full, short_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=JPEG_QUALITY, subsampling="4:2:0", optimize=False,
               progressive=False)
    return buffer.getvalue(), full


def _mask_bytes(source: Path, full: tuple[int, int], short_side: int) -> bytes:
    """A lesion mask shrunk like its photograph (set if any pixel it covers is), as 1-bit PNG."""
    from PIL import Image

    with Image.open(source) as im:
        if im.size != full:
            raise ValueError(f"{source} is {im.size[0]} x {im.size[1]} but its photograph is "
                             f"{full[0]} x {full[1]}")
        values = np.asarray(im)
    if values.ndim == 3:
        values = values.max(axis=2)
    binary = Image.fromarray(np.where(values > 0, 255, 0).astype(np.uint8))
    small = np.asarray(binary.resize(_shrunk_size(full, short_side), Image.Resampling.BOX)) > 0
    buffer = io.BytesIO()
    Image.fromarray(small).save(buffer, "PNG", compress_level=9)
    return buffer.getvalue()


def _source_labels(path: Path):
    """``[(id, grade, dme), ...]`` from an original IDRiD label CSV (CRLF, trailing commas)."""
    if not path.is_file():
        raise FileNotFoundError(f"no IDRiD label file {path}: --from must be the folder holding "
                                "'B. Disease Grading' and 'A. Segmentation' as in the archive")
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = [r for r in csv.reader(handle) if any(c.strip() for c in r)]
    header = [c.strip() for c in rows[0]]
    if header[:3] != ["Image name", "Retinopathy grade", "Risk of macular edema"]:
        raise ValueError(f"{path}: header {header[:3]} is not IDRiD's")
    return [(r[0].strip(), int(r[1]), int(r[2])) for r in rows[1:]]


def _label_table(source: Path, split: str) -> tuple[list, bytes]:
    """The rows of an original IDRiD label CSV and the copy's CSV file made of them."""
    rows = _source_labels(source / "B. Disease Grading" / "2. Groundtruths" / _LABEL_FILES[split])
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(_CSV_HEADER)
    writer.writerows(rows)
    return rows, table.getvalue().encode()


_PARTS = {"grading": "B. Disease Grading", "segmentation": "A. Segmentation"}
_LICENCES = ("LICENSE.txt", "CC-BY-4.0.txt")


def _licence_file(source: Path, name: str) -> bytes:
    """``grading/LICENSE.txt`` etc.: each part's licence file, verbatim from the data set."""
    part, _, file_name = name.partition("/")
    path = source / _PARTS[part] / file_name
    if not path.is_file():
        raise FileNotFoundError(f"no {path}: IDRiD's licence must travel with its images")
    return path.read_bytes()


_README = """# IDRiD, downsized for qdr-course

Indian Diabetic Retinopathy Image Dataset (IDRiD), (c) Prasanna Porwal, Samiksha Pachade and
Manesh Kokare, licensed under the Creative Commons Attribution 4.0 International License
(grading/ and segmentation/ each hold the data set's own LICENSE.txt and CC-BY-4.0.txt, as
its two parts ship them; the licence is also at <http://creativecommons.org/licenses/by/4.0/>).

Cite: P. Porwal, S. Pachade, R. Kamble, M. Kokare, G. Deshmukh, V. Sahasrabuddhe,
F. Meriaudeau. "Indian Diabetic Retinopathy Image Dataset (IDRiD): A Database for Diabetic
Retinopathy Screening Research." Data 3(3):25, 2018. doi:10.3390/data3030025.
Original: IEEE DataPort, doi:10.21227/H25W98.

Changes made by qdr-course (the licence asks that changes be indicated):
- grading/: the 413 training and 103 test photographs of "B. Disease Grading", resized (Lanczos)
  to a short side of {grading} px and re-encoded as JPEG quality {quality}, without metadata;
  the two label CSV files rewritten as image,retinopathy_grade,macular_edema_risk.
- segmentation/: the 54 training and 27 test photographs of "A. Segmentation" at a short side of
  {segmentation} px (same JPEG settings), and their lesion masks (MA microaneurysms,
  HE haemorrhages, EX hard exudates, SE soft exudates, OD optic disc) resized to the same size
  as 1-bit PNG, a pixel set where any full-resolution pixel it covers is set.
- MANIFEST.sha256: the SHA-256 of every other file.

Rebuilt exactly with `qdr-course data idrid --from DIR --out DIR` (Pillow {pillow}).
"""


def _copy_files(source: Path):
    """Yield ``(relative path, bytes)`` of the downsized copy, from a full IDRiD folder."""
    import PIL

    grading, segmentation = source / "B. Disease Grading", source / "A. Segmentation"
    for part in _PARTS:
        for licence in _LICENCES:
            yield f"{part}/{licence}", _licence_file(source, f"{part}/{licence}")
    yield "README.md", _README.format(grading=GRADING_SHORT_SIDE, quality=JPEG_QUALITY,
                                      segmentation=SEGMENTATION_SHORT_SIDE,
                                      pillow=PIL.__version__).encode()
    for split, folder in _SPLITS.items():
        rows, table = _label_table(source, split)
        yield f"grading/{split}.csv", table
        for image_id, _, _ in rows:
            photo = grading / "1. Original Images" / folder / f"{image_id}.jpg"
            if not photo.is_file():
                raise FileNotFoundError(f"{photo} is listed in the labels but missing")
            yield f"grading/{split}/{image_id}.jpg", _jpeg_bytes(photo, GRADING_SHORT_SIDE)[0]
    for split, folder in _SPLITS.items():
        photos = sorted((segmentation / "1. Original Images" / folder).glob("*.jpg"))
        if not photos:
            raise FileNotFoundError("no photographs in "
                                    f"{segmentation / '1. Original Images' / folder}")
        for photo in photos:
            data, full = _jpeg_bytes(photo, SEGMENTATION_SHORT_SIDE)
            yield f"segmentation/{split}/images/{photo.stem}.jpg", data
            for code, mask_folder in _MASK_FOLDERS.items():
                mask = (segmentation / "2. All Segmentation Groundtruths" / folder / mask_folder
                        / f"{photo.stem}_{code}.tif")
                if mask.is_file():
                    yield (f"segmentation/{split}/masks/{photo.stem}_{code}.png",
                           _mask_bytes(mask, full, SEGMENTATION_SHORT_SIDE))


def build_idrid_copy(source, out, overwrite: bool = False, only=None, progress=None) -> int:
    """Write the downsized IDRiD copy and its manifest from a full download; return the count.

    ``source`` holds ``B. Disease Grading`` and ``A. Segmentation`` as in IDRiD's archive (a
    ``dataset/`` folder holding them is found too). ``only`` (a set of relative paths) writes
    just those files and no manifest (to check a few against the shipped copy). An existing
    folder is refused unless ``overwrite`` and it holds a copy this function wrote.
    """
    source = Path(source).expanduser()
    if (source / "dataset" / "B. Disease Grading").is_dir():
        source = source / "dataset"
    if not (source / "B. Disease Grading").is_dir():
        raise FileNotFoundError(f"{source} has no 'B. Disease Grading' folder: give the folder "
                                "that holds IDRiD's 'A. Segmentation' and 'B. Disease Grading'")
    out = Path(out).expanduser()
    if out.exists() and any(out.iterdir()):
        if not (overwrite and (out / MANIFEST).is_file()):
            raise FileExistsError(f"{out} is not empty; choose a new folder (or pass "
                                  "--overwrite to replace an IDRiD copy written there before)")
    sums = {}
    files = _copy_files(source) if only is None else _copy_files_only(source, set(only))
    for name, data in files:
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        sums[name] = _sha256(data)
        if progress:
            progress(name)
    if only is None:
        (out / MANIFEST).write_text("".join(f"{sums[n]}  {n}\n" for n in sorted(sums)),
                                    encoding="utf-8")
    return len(sums)


def _copy_files_only(source: Path, wanted: set):
    """The files of :func:`_copy_files` named in ``wanted``, computing only those images."""
    import PIL

    grading, segmentation = source / "B. Disease Grading", source / "A. Segmentation"
    missing = set(wanted)
    for name in sorted(wanted):
        parts = name.split("/")
        if len(parts) == 2 and parts[0] in _PARTS and parts[1] in _LICENCES:
            data = _licence_file(source, name)
        elif name == "README.md":
            data = _README.format(grading=GRADING_SHORT_SIDE, quality=JPEG_QUALITY,
                                  segmentation=SEGMENTATION_SHORT_SIDE,
                                  pillow=PIL.__version__).encode()
        elif parts[0] == "grading" and len(parts) == 3 and parts[1] in _SPLITS:
            photo = grading / "1. Original Images" / _SPLITS[parts[1]] / parts[2]
            data = _jpeg_bytes(photo, GRADING_SHORT_SIDE)[0]
        elif parts[0] == "segmentation" and len(parts) == 4 and parts[2] == "images":
            photo = segmentation / "1. Original Images" / _SPLITS[parts[1]] / parts[3]
            data = _jpeg_bytes(photo, SEGMENTATION_SHORT_SIDE)[0]
        elif parts[0] == "segmentation" and len(parts) == 4 and parts[2] == "masks":
            stem, code = parts[3][:-len(".png")].rsplit("_", 1)
            photo = segmentation / "1. Original Images" / _SPLITS[parts[1]] / f"{stem}.jpg"
            from PIL import Image

            with Image.open(photo) as im:
                full = im.size
            mask = (segmentation / "2. All Segmentation Groundtruths" / _SPLITS[parts[1]]
                    / _MASK_FOLDERS[code] / f"{stem}_{code}.tif")
            data = _mask_bytes(mask, full, SEGMENTATION_SHORT_SIDE)
        elif parts[0] == "grading" and len(parts) == 2 and parts[1][:-len(".csv")] in _SPLITS:
            data = _label_table(source, parts[1][:-len(".csv")])[1]
        else:
            continue
        missing.discard(name)
        yield name, data
    if missing:
        raise ValueError(f"not files of the IDRiD copy: {sorted(missing)[:5]}")


