"""Grading data from one entry point: synthetic, IDRiD, RetinaMNIST, APTOS, EyePACS. See lesson 04.

See lesson 04.

One entry point, :func:`load_grading_data`, returns the same :class:`GradingData` for every
source: ``train`` / ``val`` / ``test`` splits of ``uint8 (N, H, W, 3)`` images and ``int64 (N,)``
ICDR grades 0-4.

================================ =============================================================
``"synthetic"``                   :func:`~qdr_course.retina.fundus.synthetic_fundus_dataset`
``"idrid"``                       IDRiD's 516 graded photographs, shipped with the course
                                  (CC BY 4.0): its own train / test split, a stratified
                                  validation split carved from train, DME risk in ``.dme``
``"idrid:DIR"``                   the same from a copy written by ``qdr-course data idrid``
``"retinamnist"``                 MedMNIST's DR set (DeepDRiD), official splits; downloaded
                                  once with pooch, checked against its MD5, cached
``"retinamnist:PATH.npz"``        the same from a local file
``"aptos:DIR"``                   ``DIR/train.csv`` (``id_code,diagnosis``), ``DIR/train_images``
``"eyepacs:DIR"``                 ``DIR/trainLabels.csv`` (``image,level``) + ``DIR/train/*.jpeg``
================================ =============================================================

Splits other than RetinaMNIST's are stratified and disjoint, with every grade in each split
(:func:`~qdr_course.retina.splits.stratified_split`). The sources live in
:mod:`~qdr_course.retina.sources`, the torch side in :mod:`~qdr_course.retina.loaders`.

Example
-------
>>> from qdr_course.retina import FundusDataset, class_weights, load_grading_data
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

import os

import numpy as np

from qdr_course.retina.grades import NUM_GRADES
from qdr_course.retina.sources import _cache_dir, load_aptos, load_eyepacs, load_retinamnist
from qdr_course.retina.splits import GradingData, _split_data
from qdr_course.validate import positive_int

__all__ = ["load_grading_data", "min_synthetic_n", "validate_synthetic_n"]



def load_grading_data(source: str = "synthetic", size: int = 64, n: int = 2000, seed: int = 0,
                      val_fraction: float = 0.15, test_fraction: float = 0.15, prior="aptos",
                      on_error: str = "raise", cache_dir=None, cache: bool = False) -> GradingData:
    """Train / val / test fundus images and grades from ``source`` (see the module table).

    See lesson 04.

    ``n`` and ``prior`` apply to ``"synthetic"`` only; ``test_fraction`` does not apply to
    ``"idrid"`` (IDRiD's own test split is used); ``size`` must be 28, 64, 128 or 224 for
    RetinaMNIST (its published sizes); ``on_error`` applies to folders. ``cache=True`` keeps a
    generated synthetic set in ``cache_dir`` (default ``$QDR_COURSE_DATA`` or the user cache
    directory) and reloads it next time; the file name includes a hash of the generator's source,
    so a changed generator never serves stale images.
    """
    if not isinstance(source, str):
        raise TypeError("source must be a string such as 'synthetic' or 'aptos:/data/aptos', got "
                        f"{source!r}")
    kind, _, arg = source.partition(":")
    kind = kind.strip().lower()
    if kind == "synthetic":
        from qdr_course.retina.fundus import synthetic_fundus_dataset

        validate_synthetic_n(n, prior)
        if cache:
            images, grades = _cached_synthetic(n, size, seed, prior, cache_dir)
        else:
            images, grades = synthetic_fundus_dataset(n=n, size=size, seed=seed, prior=prior)
        name = prior if isinstance(prior, str) else "custom"
        return _split_data(images, grades,
                           f"synthetic fundus ({n} images, {size} px, {name} prior, seed {seed}; "
                           "stratified split)", seed, val_fraction, test_fraction)
    if kind == "idrid":
        from qdr_course.retina.idrid import load_idrid

        return load_idrid(size=size, seed=seed, val_fraction=val_fraction, root=arg or None)
    if kind == "retinamnist":
        return load_retinamnist(size, path=arg or None, cache_dir=cache_dir)
    if kind in ("aptos", "eyepacs"):
        if not arg:
            raise ValueError(f"give the folder: load_grading_data('{kind}:/path/to/folder')")
        loader = load_aptos if kind == "aptos" else load_eyepacs
        return loader(arg, size=size, seed=seed, val_fraction=val_fraction,
                      test_fraction=test_fraction, on_error=on_error)
    raise ValueError(f"unknown data source {source!r}; use 'synthetic', 'idrid', 'retinamnist', "
                     "'retinamnist:FILE.npz', 'aptos:DIR' or 'eyepacs:DIR'")


def _cached_synthetic(n, size, seed, prior, cache_dir):
    """The synthetic set from the cache, generated and stored (atomically) on a miss."""
    import hashlib
    import inspect

    import qdr_course.retina.drawing as drawing
    import qdr_course.retina.fundus as fundus
    import qdr_course.retina.lesions as lesions

    generator = "".join(inspect.getsource(module) for module in (fundus, lesions, drawing))
    key = hashlib.sha256(generator.encode()).hexdigest()[:12]
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
    """The smallest n from which on every synthetic set splits (3+ images a grade).

    51 for the APTOS prior, 15 for the balanced one.
    """
    from qdr_course.retina.fundus import _grade_counts, class_prior

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


def validate_synthetic_n(n, prior="aptos", balanced: str | None = "prior='balanced'") -> None:
    """ValueError (with the minimum) if ``n`` synthetic images cannot be split.

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
    from qdr_course.retina.fundus import _grade_counts, class_prior

    positive_int("n", n)
    return _grade_counts(int(n), class_prior(prior))
