"""Synthetic colour fundus photographs with lesions graded on the ICDR scale. See lesson 04.

Real fundus datasets cannot be downloaded on every machine (and a Binder user should not wait
for one), so the course draws its own retina photographs: a dark circular field of view with
vignetting, optic disc and cup, macula and fovea, a branching vessel tree (arteries thinner and
brighter than veins), left or right eye, varied pigmentation, illumination, blur and colour cast.
Lesions follow the International Clinical Diabetic Retinopathy (ICDR) scale:

====== ============================== ====================================================
grade  name                           lesions drawn
====== ============================== ====================================================
0      No DR                          none
1      Mild NPDR                      microaneurysms only
2      Moderate NPDR                  more microaneurysms, dot/blot and flame hemorrhages,
                                      hard exudates, cotton-wool spots
3      Severe NPDR                    many hemorrhages in all four quadrants, venous
                                      beading, intraretinal microvascular abnormalities
4      Proliferative DR               neovascularisation (at the disc or elsewhere),
                                      pre-retinal / vitreous hemorrhage
====== ============================== ====================================================

Lesions are drawn a little larger than life at small sizes (at least ~0.7 pixel in radius) so
that a 64-pixel image still shows them, as a downsampled real photograph would not.

Example
-------
>>> from qdr_course.retina.fundus import synthetic_fundus, synthetic_fundus_dataset
>>> img, grade, masks = synthetic_fundus(grade=4, size=64, seed=0)
>>> img.shape, img.dtype, grade, bool(masks["neovascularisation"].any())
((64, 64, 3), dtype('uint8'), 4, True)
>>> images, grades = synthetic_fundus_dataset(n=10, size=32, seed=0)
>>> images.shape, grades.tolist()
((10, 32, 32, 3), [4, 0, 0, 3, 2, 2, 0, 1, 0, 2])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qdr_course.retina.grades import one_grade
from qdr_course.retina.lesions import LESION_COLOURS, LESION_TYPES, _render
from qdr_course.validate import non_negative_int, positive_int

__all__ = [
    "APTOS_COUNTS",
    "LESION_COLOURS",
    "LESION_TYPES",
    "exudates_near_fovea",
    "class_prior",
    "overlay_lesions",
    "synthetic_fundus",
    "synthetic_fundus_dataset",
]

#: Class counts of APTOS 2019 (3,662 training images), index = grade.
APTOS_COUNTS = (1805, 370, 999, 193, 295)
_MIN_SIZE, _MAX_SIZE = 28, 512  # image sizes the generator draws well


def class_prior(prior: str | Sequence[float] = "aptos") -> np.ndarray:
    """Grade probabilities: ``"aptos"`` (APTOS 2019 counts), ``"balanced"`` or 5 numbers."""
    if isinstance(prior, str):
        if prior == "aptos":
            p = np.asarray(APTOS_COUNTS, float)
        elif prior == "balanced":
            p = np.ones(5)
        else:
            raise ValueError(f"prior must be 'aptos', 'balanced' or 5 probabilities, got {prior!r}")
    else:
        p = np.asarray(prior, float)
        if p.shape != (5,) or not np.all(np.isfinite(p)) or np.any(p < 0) or p.sum() <= 0:
            raise ValueError("prior must be 5 non-negative numbers with a positive sum, got "
                             f"{prior!r}")
    return p / p.sum()


def _grade_counts(n: int, p: np.ndarray) -> np.ndarray:
    """Counts per grade closest to ``n * p`` (largest remainder), at least 1 for each grade with p>0
    when n allows.
    """
    raw = n * p
    counts = np.floor(raw).astype(int)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    need = (p > 0) & (counts == 0)
    while need.any() and n >= int((p > 0).sum()):
        donor = int(np.argmax(counts))
        counts[donor] -= 1
        counts[int(np.argmax(need))] += 1
        need = (p > 0) & (counts == 0)
    return counts


def _validate_size(size) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise TypeError(f"size must be an integer number of pixels, got {size!r}")
    if not _MIN_SIZE <= size <= _MAX_SIZE:
        raise ValueError(f"size must be between {_MIN_SIZE} and {_MAX_SIZE} pixels, got {size}")
    return int(size)


def synthetic_fundus(grade: int | None = None, *, size: int = 224, seed=None,
                     eye: str | None = None, prior: str | Sequence[float] = "aptos",
                     return_info: bool = False):
    """One synthetic fundus photograph: ``(image uint8 (size, size, 3), grade, masks)``.

    See lesson 04.

    ``grade`` 0-4 (ICDR) or ``None`` to draw it from ``prior``; ``seed`` an int or a
    ``numpy.random.Generator``; ``eye`` ``"left"``, ``"right"`` or ``None`` (random).
    ``masks[lesion_type]`` is a boolean (size, size) array for every name in :data:`LESION_TYPES`
    (all False for lesions absent from the image). With ``return_info=True`` a fourth item, a
    dict with the eye and the lesion plan, is returned.

    >>> img, grade, masks = synthetic_fundus(grade=2, size=64, seed=1)
    >>> img.shape, grade, sorted(k for k, m in masks.items() if m.any())
    ((64, 64, 3), 2, ['cotton_wool_spots', 'hard_exudates', 'hemorrhages', 'microaneurysms'])
    """
    size = _validate_size(size)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if grade is None:
        grade = int(rng.choice(5, p=class_prior(prior)))
    grade = one_grade(grade)
    if eye is None:
        eye = "right" if rng.uniform() < 0.5 else "left"
    if eye not in ("left", "right"):
        raise ValueError(f"eye must be 'left', 'right' or None, got {eye!r}")
    out, masks, info = _render(grade, size, rng, eye)
    return (out, grade, masks, info) if return_info else (out, grade, masks)


def synthetic_fundus_dataset(n: int = 2000, size: int = 64, seed: int = 0,
                             prior: str | Sequence[float] = "aptos", progress: bool = False):
    """``n`` synthetic photographs and grades: ``(uint8 (n, size, size, 3), int64 (n,))``.

    Grade counts follow ``prior`` as closely as ``n`` allows (every grade with a positive
    probability appears at least once when ``n >= 5``), in a seeded random order; the set is
    the same for the same ``(n, size, seed, prior)``.
    """
    positive_int("n", n)
    non_negative_int("seed", seed)
    size = _validate_size(size)
    p = class_prior(prior)
    # the grade sequence: a permutation of exact counts (for n) -> drawn per index for stability
    order_rng = np.random.default_rng([int(seed), 1])
    grades = np.repeat(np.arange(5), _grade_counts(int(n), p))
    order_rng.shuffle(grades)
    images = np.empty((n, size, size, 3), np.uint8)
    children = np.random.SeedSequence([int(seed), 2]).spawn(int(n))
    iterator = range(n)
    if progress:
        from qdr_course.progress import progress_bar

        tqdm = progress_bar()

        iterator = tqdm(iterator, desc="synthetic fundus", unit="img")
    for i in iterator:
        rng = np.random.default_rng(children[i])
        images[i] = synthetic_fundus(int(grades[i]), size=size, seed=rng)[0]
    return images, grades.astype(np.int64)


def overlay_lesions(image: np.ndarray, masks: dict, alpha: float = 0.6) -> np.ndarray:
    """The image with each lesion mask painted in its :data:`LESION_COLOURS` colour.

    See lesson 04.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be uint8 (H, W, 3), got {image.dtype} {image.shape}")
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    out = image.astype(np.float32)
    for name, mask in masks.items():
        if name not in LESION_COLOURS:
            raise ValueError(f"unknown lesion type {name!r}; expected one of {LESION_TYPES}")
        mask = np.asarray(mask, bool)
        if mask.shape != image.shape[:2]:
            raise ValueError(f"mask {name!r} has shape {mask.shape}, the image {image.shape[:2]}")
        out[mask] = (1 - alpha) * out[mask] + alpha * np.array(LESION_COLOURS[name], np.float32)
    return (out + 0.5).astype(np.uint8)


def exudates_near_fovea(masks: dict, info: dict, disc_diameters: float = 1.0) -> bool:
    """Hard exudates within ``disc_diameters`` disc diameters of the fovea: DME's photo marker.

    See lesson 04.

    ``masks`` and ``info`` come from ``synthetic_fundus(..., return_info=True)``. Screening
    programmes (and Gulshan et al. 2016) grade referable diabetic macular edema from a photograph
    as hard exudates within one disc diameter of the fovea.
    """
    exudates = np.asarray(masks["hard_exudates"], dtype=bool)
    size = exudates.shape[0]
    if not exudates.any():
        return False
    rows, cols = np.nonzero(exudates)
    x = (cols + 0.5) / size * 2 - 1  # pixel centres back to the generator's -1..1 coordinates
    y = (rows + 0.5) / size * 2 - 1
    fx, fy = info["macula"]
    reach = disc_diameters * 2 * info["disc_radius"]
    return bool(np.min(np.hypot(x - fx, y - fy)) <= reach)
