"""Splits of retinopathy data: the containers every source returns, stratified and disjoint.

See lesson 04.

Splits are stratified and disjoint, with every grade in each split (:func:`stratified_split`):
never an unshuffled cut that puts a whole grade in validation. Folders of photographs are split
by *group* (:func:`grouped_split`): one patient's two eyes, and exact or near-duplicate copies of
one photograph (:func:`perceptual_hash`, at most :data:`NEAR_DUPLICATE_BITS` bits apart), always
land in the same split, so no split holds an image the others have seen. Groups whose images
carry different grades are reported (:func:`conflicting_groups`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from qdr_course.retina.grades import NUM_GRADES, grade_array, grade_counts

__all__ = ["GradingData", "NEAR_DUPLICATE_BITS", "Split", "conflicting_groups", "duplicate_groups",
           "grouped_split", "leak_groups", "patient_of", "perceptual_hash", "stratified_split"]


@dataclass
class Split:
    """Images ``uint8 (N, H, W, 3)`` and ICDR grades ``int64 (N,)`` of one split. See lesson 04.

    ``dme``: the risk of diabetic macular edema ``int64 (N,)`` 0-2 where the source grades it
    (IDRiD), else ``None``.
    """

    images: np.ndarray
    grades: np.ndarray
    ids: list = field(default_factory=list)
    dme: np.ndarray | None = None

    def __post_init__(self):
        _validate_images(self.images)
        self.grades = grade_array(self.grades)
        if len(self.images) != len(self.grades):
            raise ValueError(f"{len(self.images)} images but {len(self.grades)} grades")
        if self.dme is not None:
            self.dme = np.asarray(self.dme, dtype=np.int64)
            if self.dme.shape != self.grades.shape or np.any((self.dme < 0) | (self.dme > 2)):
                raise ValueError(f"dme must be {len(self.grades)} risks 0-2, one per image, "
                                 f"got shape {self.dme.shape}")

    def __len__(self) -> int:
        return len(self.grades)


@dataclass
class GradingData:
    """Train / validation / test splits and where they came from."""

    train: Split
    val: Split
    test: Split
    source: str
    skipped: list = field(default_factory=list)
    groups: int | None = None
    conflicts: list = field(default_factory=list)

    def counts(self) -> dict:
        """Images per grade in each split."""
        return {name: grade_counts(getattr(self, name).grades) for name in ("train", "val", "test")}

    def summary(self) -> str:
        """A small table of images per grade and split."""
        lines = [self.source, f"{'split':6s} " + " ".join(f"g{g:<5d}" for g in range(5)) + " total"]
        for name, c in self.counts().items():
            lines.append(f"{name:6s} " + " ".join(f"{v:<6d}" for v in c) + f" {c.sum()}")
        if self.groups is not None:
            n = sum(len(getattr(self, name)) for name in ("train", "val", "test"))
            lines.append(f"{n} images in {self.groups} groups (patients and near-duplicates), "
                         f"each in one split; {len(self.conflicts)} group(s) of copies with "
                         "conflicting grades")
        return "\n".join(lines)


def _validate_images(images) -> np.ndarray:
    images = np.asarray(images) if not hasattr(images, "shape") else images
    if images.ndim == 3 or (images.ndim == 4 and images.shape[-1] == 1):
        raise ValueError(f"images have shape {images.shape}: greyscale; fundus grading needs "
                         "colour (N, H, W, 3) images (for a greyscale copy, np.repeat(x[..., "
                         "None], 3, -1) fakes colour)")
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"images must be (N, H, W, 3), got shape {images.shape}; channel-first "
                         "arrays can be moved with images.transpose(0, 2, 3, 1)")
    if images.shape[1] != images.shape[2]:
        raise ValueError(f"images must be square, got {images.shape[1]} x {images.shape[2]}; "
                         "use qdr_course.retina.preprocessing.preprocess_fundus to crop and pad "
                         "them")
    if images.dtype != np.uint8:
        raise TypeError(f"images must be uint8 (0-255), got {images.dtype}")
    return images


def stratified_split(grades, val_fraction: float = 0.15, test_fraction: float = 0.15,
                     seed: int = 0):
    """Disjoint shuffled (train, val, test) index arrays with every grade in each split.

    See lesson 04.

    Within each grade the indices are shuffled and cut into ``round(n_g * fraction)`` (at
    least 1) validation and test images, the rest for training. Grades absent from ``grades``
    are absent everywhere; a present grade needs at least 3 images.
    """
    grades = grade_array(grades)
    for name, f in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0 < f < 1:
            raise ValueError(f"{name} must be between 0 and 1, got {f}")
    if val_fraction + test_fraction >= 1:
        raise ValueError("val_fraction + test_fraction must be < 1, got "
                         f"{val_fraction + test_fraction}")
    rng = np.random.default_rng(seed)
    parts = ([], [], [])
    for g in range(NUM_GRADES):
        idx = np.flatnonzero(grades == g)
        if idx.size == 0:
            continue
        if idx.size < 3:
            raise ValueError(f"grade {g} has only {idx.size} image(s); every split needs one, so "
                             "at least 3 are required (get more data, or merge grades "
                             "deliberately)")
        idx = rng.permutation(idx)
        n_val = max(1, int(round(idx.size * val_fraction)))
        n_test = max(1, int(round(idx.size * test_fraction)))
        if n_val + n_test >= idx.size:
            n_val = n_test = 1
        parts[1].append(idx[:n_val])
        parts[2].append(idx[n_val:n_val + n_test])
        parts[0].append(idx[n_val + n_test:])
    return tuple(rng.permutation(np.concatenate(p)) for p in parts)


def _split_data(images, grades, source, seed, val_fraction, test_fraction, ids=None, skipped=(),
                groups=None):
    ids = list(ids) if ids is not None else None
    if groups is None:
        tr, va, te = stratified_split(grades, val_fraction, test_fraction, seed)
        conflicts, n_groups = [], None
    else:
        groups, copies = groups
        tr, va, te = grouped_split(grades, groups, val_fraction, test_fraction, seed)
        conflicts, n_groups = conflicting_groups(grades, copies, ids), len(np.unique(groups))

    def part(index):
        return Split(images[index], grades[index],
                     [ids[i] for i in index] if ids is not None else [])

    return GradingData(part(tr), part(va), part(te), source, list(skipped), n_groups, conflicts)


# --- leaks: one patient's two eyes, and copies of one photograph ---------------------------

HASH_SIZE = 16
"""Side of the block of low DCT frequencies kept by :func:`perceptual_hash` (255 bits)."""

HASH_CENTRE = 0.5
"""Half the side of the square :func:`perceptual_hash` reads, as a fraction of the field of
view's radius (the square's corners stay inside the circle)."""

NEAR_DUPLICATE_BITS = 54
"""Two photographs whose perceptual hashes differ in at most this many of 255 bits are one group.

Chosen from IDRiD's 516 photographs (lesson 04). Different photographs: 6 pairs of identical
files (0 bits), one pair of two photographs of one eye (IDRiD_013 and IDRiD_397, 20 bits), and
then no pair closer than 56 bits of the other 132,863 (so no false merge at 54). Ordinary copies
of 172 photographs: JPEG quality 50 up to 56 bits (missed 1 in 172), quality 70-90 up to 40,
half resolution 34, a 2-degree rotation 50, 15 % brighter 22, gamma 0.8 26, the field clipped
8 % at the sides 28 or at top and bottom 18 (none missed). At APTOS's 3,662 images (50 times
as many pairs) expect a few false merges of different eyes; a merge only keeps two images in
one split.
"""

_EYEPACS_EYE = re.compile(r"^(?P<patient>.+)_(left|right)$", re.IGNORECASE)


def patient_of(image_id: str) -> str:
    """The patient of an image id: ``"10_left"`` and ``"10_right"`` are patient ``"10"``."""
    match = _EYEPACS_EYE.match(str(image_id))
    return match["patient"] if match else str(image_id)


def perceptual_hash(image, hash_size: int = HASH_SIZE) -> np.ndarray:
    """pHash of a photograph's centre: signs of its low DCT frequencies against their median.

    See lesson 04.

    The green channel (the sharpest for vessels and lesions) of the square of half-side
    :data:`HASH_CENTRE` times the field of view's radius, centred on its circle
    (:func:`~qdr_course.retina.preprocessing.fov_circle`, which a clipped rim does not move), is
    shrunk to 64 x 64 (box filter), its 2-D DCT taken, the top-left ``hash_size x hash_size``
    block kept without the constant term, and each coefficient compared with the block's
    median: ``hash_size**2 - 1``
    booleans that survive recompression, resizing, brightness curves, small rotations and a
    clipped rim, and differ for different photographs: reading the circle's centre makes the
    hash independent of how much black border and clipped rim a copy has.
    """
    from PIL import Image
    from scipy.fft import dctn

    from qdr_course.retina.preprocessing import fov_circle

    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise ValueError(f"perceptual_hash needs one uint8 (H, W, 3) image, got {image.dtype} "
                         f"{image.shape}")
    if not 2 <= hash_size <= 64:
        raise ValueError(f"hash_size must be 2..64 (a block of the 64 x 64 DCT), got {hash_size}")
    try:
        row, col, radius = fov_circle(image)
    except ValueError:  # no field of view (a black or empty frame): read the image's centre
        row, col = (image.shape[0] - 1) / 2, (image.shape[1] - 1) / 2
        radius = min(image.shape[:2]) / 2
    half = max(HASH_CENTRE * radius, 1.0)
    centre = image[max(0, int(round(row - half))):int(round(row + half)),
                   max(0, int(round(col - half))):int(round(col + half)), 1]
    small = Image.fromarray(np.ascontiguousarray(centre)).resize((64, 64), Image.Resampling.BOX)
    low = dctn(np.asarray(small, dtype=np.float64), norm="ortho")[:hash_size, :hash_size]
    low = low.ravel()[1:]
    return low > np.median(low)


def hamming_distances(hashes: np.ndarray, chunk: int | None = None):
    """Yield ``(rows, distances)``: the bits in which each hash differs from every hash.

    Rows come in chunks (by default small enough to keep each step under about 64 MB, so a
    35,000-image EyePACS folder needs no more memory than a small one).
    """
    packed = np.packbits(np.asarray(hashes, dtype=bool), axis=1)
    if chunk is None:
        chunk = max(1, min(1024, 2**26 // max(1, packed.shape[0] * packed.shape[1])))
    for start in range(0, len(packed), chunk):
        block = packed[start:start + chunk]
        distances = np.bitwise_count(block[:, None, :] ^ packed[None, :, :]).sum(-1)
        yield np.arange(start, start + len(block)), distances


def _union_find_labels(n: int, pairs) -> np.ndarray:
    """Connected components of ``n`` items joined by ``pairs``: a label per item (0, 1, ...)."""
    parent = np.arange(n)

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    roots = np.array([root(i) for i in range(n)])
    return np.unique(roots, return_inverse=True)[1]


def duplicate_groups(images, max_distance: int = NEAR_DUPLICATE_BITS) -> np.ndarray:
    """A group label per image: exact and near-duplicate copies share one. See lesson 04.

    Two images are copies if their perceptual hashes differ in at most ``max_distance`` bits;
    copies of copies join the group. Hash photographs after the same preprocessing (cropped to
    the field of view, resized), so that framing differences do not hide a copy.
    """
    n = len(images)
    pairs = []
    if n > 1:
        hashes = np.array([perceptual_hash(im) for im in images])
        for rows, distances in hamming_distances(hashes):
            close = np.argwhere(distances <= max_distance)
            pairs.extend((rows[r], c) for r, c in close if rows[r] < c)
    return _union_find_labels(n, pairs)


def leak_groups(images=None, ids=None, max_distance: int = NEAR_DUPLICATE_BITS,
                copies=None) -> np.ndarray:
    """A group label per image: one patient's eyes (from ``ids``) and near-duplicate images.

    See lesson 04.

    Two images share a group if their ids name the same patient (:func:`patient_of`) or they
    are copies (:func:`duplicate_groups`, or its labels passed as ``copies``); groups are joined
    transitively. Either of ``images`` and ``ids`` may be ``None``.
    """
    if images is None and ids is None and copies is None:
        raise ValueError("leak_groups needs images, ids or both")
    if copies is None and images is not None:
        copies = duplicate_groups(images, max_distance)
    n = len(copies) if copies is not None else len(ids)
    if ids is not None and len(ids) != n:
        raise ValueError(f"{n} images but {len(ids)} ids")
    pairs = []
    for labels in ([patient_of(i) for i in ids] if ids is not None else None, copies):
        if labels is not None:
            first = {}
            pairs.extend((first.setdefault(label, i), i) for i, label in enumerate(labels))
    return _union_find_labels(n, pairs)


def conflicting_groups(grades, groups, ids=None) -> list:
    """Groups whose images carry different grades: ``[(ids or indices, grades), ...]``.

    Use it on :func:`duplicate_groups`: copies of one photograph must have one grade, while a
    patient's two eyes may differ.
    """
    grades, groups = grade_array(grades), np.asarray(groups)
    if len(groups) != len(grades):
        raise ValueError(f"{len(grades)} grades but {len(groups)} group labels; give one group "
                         "label per image")
    if ids is not None and len(ids) != len(grades):
        raise ValueError(f"{len(grades)} grades but {len(ids)} ids; give one id per image")
    found = []
    for label in np.unique(groups):
        members = np.flatnonzero(groups == label)
        if len(set(grades[members].tolist())) > 1:
            names = [ids[i] for i in members] if ids is not None else members.tolist()
            found.append((names, grades[members].tolist()))
    return found


def grouped_split(grades, groups, val_fraction: float = 0.15, test_fraction: float = 0.15,
                  seed: int = 0):
    """Disjoint shuffled (train, val, test) index arrays that never split a group.

    See lesson 04.

    Like :func:`stratified_split`, but the units are groups (one patient, or copies of one
    photograph; see :func:`leak_groups`): each group is stratified by its worst grade, shuffled
    within that grade, and sent whole to the split whose share of the grade's images is
    furthest below its target. A present grade needs at least 3 groups.
    """
    grades, groups = grade_array(grades), np.asarray(groups)
    if len(groups) != len(grades):
        raise ValueError(f"{len(grades)} grades but {len(groups)} group labels")
    labels, inverse = np.unique(groups, return_inverse=True)
    worst = np.zeros(len(labels), dtype=np.int64)
    np.maximum.at(worst, inverse, grades)
    sizes = np.bincount(inverse)
    try:
        group_parts = stratified_split(worst, val_fraction, test_fraction, seed)
    except ValueError as error:
        if "image(s)" not in str(error):
            raise
        raise ValueError(str(error).replace("image(s)", "group(s) (patients or copies)")
                         .replace("3 are required", "3 groups are required")) from None
    rng = np.random.default_rng(seed)
    parts = [[], [], []]
    fractions = np.array([1 - val_fraction - test_fraction, val_fraction, test_fraction])
    for g in range(NUM_GRADES):
        of_grade = [p[worst[p] == g] for p in group_parts]
        if not any(len(p) for p in of_grade):
            continue
        # the first group of each split is fixed (every split gets the grade); the rest go
        # where the split's share of images is furthest below its target
        assigned = [list(p[:1]) for p in of_grade]
        filled = np.array([sizes[a].sum() for a in assigned], dtype=float)
        rest = rng.permutation(np.concatenate([p[1:] for p in of_grade]))
        for label in sorted(rest, key=lambda k: -sizes[k]):
            target = fractions * (filled.sum() + sizes[label])
            k = int(np.argmax(target - filled))
            assigned[k].append(label)
            filled[k] += sizes[label]
        for k in range(3):
            parts[k].extend(assigned[k])
    index = [np.flatnonzero(np.isin(inverse, np.array(p, dtype=np.int64))) for p in parts]
    return tuple(rng.permutation(i) for i in index)
