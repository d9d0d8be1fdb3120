"""Splits of retinopathy data: the containers every source returns, stratified and disjoint.

See lesson 04.

Splits are stratified and disjoint, with every grade in each split (:func:`stratified_split`):
never an unshuffled cut that puts a whole grade in validation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from qdr_course.retina.grades import NUM_GRADES, grade_array, grade_counts

__all__ = ["GradingData", "Split", "stratified_split"]



@dataclass
class Split:
    """Images ``uint8 (N, H, W, 3)`` and ICDR grades ``int64 (N,)`` of one split. See lesson 04."""

    images: np.ndarray
    grades: np.ndarray
    ids: list = field(default_factory=list)

    def __post_init__(self):
        _validate_images(self.images)
        self.grades = grade_array(self.grades)
        if len(self.images) != len(self.grades):
            raise ValueError(f"{len(self.images)} images but {len(self.grades)} grades")

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

    def counts(self) -> dict:
        """Images per grade in each split."""
        return {name: grade_counts(getattr(self, name).grades) for name in ("train", "val", "test")}

    def summary(self) -> str:
        """A small table of images per grade and split."""
        lines = [self.source, f"{'split':6s} " + " ".join(f"g{g:<5d}" for g in range(5)) + " total"]
        for name, c in self.counts().items():
            lines.append(f"{name:6s} " + " ".join(f"{v:<6d}" for v in c) + f" {c.sum()}")
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


def _split_data(images, grades, source, seed, val_fraction, test_fraction, ids=None, skipped=()):
    tr, va, te = stratified_split(grades, val_fraction, test_fraction, seed)
    ids = list(ids) if ids is not None else None

    def part(index):
        return Split(images[index], grades[index],
                     [ids[i] for i in index] if ids is not None else [])

    return GradingData(part(tr), part(va), part(te), source, list(skipped))
