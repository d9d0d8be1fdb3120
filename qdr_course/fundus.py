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
>>> from qdr_course.fundus import synthetic_fundus, synthetic_fundus_dataset
>>> img, grade, masks = synthetic_fundus(grade=4, size=64, seed=0)
>>> img.shape, img.dtype, grade, bool(masks["neovascularisation"].any())
((64, 64, 3), dtype('uint8'), 4, True)
>>> images, grades = synthetic_fundus_dataset(n=10, size=32, seed=0)
>>> images.shape, grades.tolist()
((10, 32, 32, 3), [4, 0, 0, 3, 2, 2, 0, 1, 0, 2])
"""

from __future__ import annotations

import functools
import math
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

__all__ = [
    "APTOS_COUNTS",
    "GRADE_NAMES",
    "LESION_COLOURS",
    "LESION_TYPES",
    "class_prior",
    "overlay_lesions",
    "synthetic_fundus",
    "synthetic_fundus_dataset",
]

#: ICDR grade names, index = grade.
GRADE_NAMES = ("No DR", "Mild NPDR", "Moderate NPDR", "Severe NPDR", "Proliferative DR")

#: Class counts of APTOS 2019 (3,662 training images), index = grade.
APTOS_COUNTS = (1805, 370, 999, 193, 295)

#: Lesion types, the keys of every mask dictionary.
LESION_TYPES = (
    "microaneurysms",
    "hemorrhages",
    "hard_exudates",
    "cotton_wool_spots",
    "venous_beading",
    "irma",
    "neovascularisation",
    "preretinal_hemorrhage",
    "vitreous_hemorrhage",
)

#: Overlay colour (RGB 0-255) of each lesion type in :func:`overlay_lesions`.
LESION_COLOURS = {
    "microaneurysms": (255, 0, 255),
    "hemorrhages": (0, 90, 255),
    "hard_exudates": (255, 230, 0),
    "cotton_wool_spots": (0, 255, 255),
    "venous_beading": (255, 128, 0),
    "irma": (0, 255, 0),
    "neovascularisation": (255, 0, 0),
    "preretinal_hemorrhage": (140, 0, 255),
    "vitreous_hemorrhage": (150, 190, 255),
}

_MIN_SIZE, _MAX_SIZE = 28, 512
_MASK_THRESHOLD = 0.25  # a pixel belongs to a lesion when the lesion covers >= 1/4 of it

# colours (linear RGB in 0..1)
_VEIN = np.array([0.42, 0.06, 0.07], np.float32)
_ARTERY = np.array([0.72, 0.16, 0.10], np.float32)
_MA = np.array([0.45, 0.03, 0.04], np.float32)
_HEM = np.array([0.40, 0.03, 0.03], np.float32)
_EXUDATE = np.array([0.98, 0.88, 0.38], np.float32)
_CWS = np.array([0.96, 0.92, 0.82], np.float32)
_NV = np.array([0.62, 0.06, 0.08], np.float32)
_FIBROUS = np.array([0.90, 0.86, 0.80], np.float32)
_PRERETINAL = np.array([0.30, 0.01, 0.01], np.float32)
_VITREOUS = np.array([0.36, 0.08, 0.05], np.float32)
_DISC = np.array([1.00, 0.80, 0.52], np.float32)
_CUP = np.array([1.00, 0.94, 0.78], np.float32)


def class_prior(prior: str | Sequence[float] = "aptos") -> np.ndarray:
    """Grade probabilities: ``"aptos"`` (APTOS 2019 counts), ``"balanced"`` or 5 numbers. See lesson 04."""
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
            raise ValueError(f"prior must be 5 non-negative numbers with a positive sum, got {prior!r}")
    return p / p.sum()


def _grade_counts(n: int, p: np.ndarray) -> np.ndarray:
    """Counts per grade closest to ``n * p`` (largest remainder), at least 1 for each grade with p>0 when n allows."""
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


def _check_size(size) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise TypeError(f"size must be an integer number of pixels, got {size!r}")
    if not _MIN_SIZE <= size <= _MAX_SIZE:
        raise ValueError(f"size must be between {_MIN_SIZE} and {_MAX_SIZE} pixels, got {size}")
    return int(size)


def _check_grade(grade) -> int:
    if isinstance(grade, bool) or not isinstance(grade, (int, np.integer)):
        raise TypeError(f"grade must be an integer 0-4 (ICDR scale), got {grade!r}")
    if not 0 <= grade <= 4:
        raise ValueError(f"grade must be 0-4 on the ICDR scale (0 = no DR, 4 = proliferative), got {grade}")
    return int(grade)


class _Layer:
    """A supersampled 8-bit layer whose image is only allocated when something is drawn."""

    def __init__(self, big: int):
        self.big, self.image, self._draw = big, None, None

    def __getattr__(self, name):  # ImageDraw methods (line, ellipse, polygon, chord)
        if self._draw is None:
            self.image = Image.new("L", (self.big, self.big), 0)
            self._draw = ImageDraw.Draw(self.image)
        return getattr(self._draw, name)


class _Canvas:
    """Supersampled drawing layers whose coverage is averaged down to the output size."""

    def __init__(self, size: int, rng: np.random.Generator):
        self.size = size
        self.ss = 4 if size <= 96 else 2
        self.big = size * self.ss
        self.rng = rng

    def px(self, x: float, y: float) -> tuple[float, float]:
        """Normalised coordinates (-1..1, y down) to supersampled pixels."""
        return ((x + 1) * 0.5 * self.big, (y + 1) * 0.5 * self.big)

    def width(self, w: float) -> int:
        """A normalised full width to a supersampled line width (at least one pixel)."""
        return max(1, int(round(w * 0.5 * self.big)))

    def radius(self, r: float, min_px: float = 0.7) -> float:
        """A normalised radius in supersampled pixels, never below ``min_px`` output pixels."""
        return max(r * 0.5 * self.big, min_px * self.ss)

    def layer(self) -> tuple["_Layer", "_Layer"]:
        """A blank layer (made on first drawing), as (layer, its drawing interface)."""
        layer = _Layer(self.big)
        return layer, layer

    def coverage(self, layer: "_Layer", blur: float = 0.0) -> np.ndarray | None:
        """Fraction (0..1) of each output pixel that the layer covers; ``None`` for an empty layer."""
        image = layer.image
        if image is None or image.getbbox() is None:
            return None
        small = image.resize((self.size, self.size), Image.Resampling.BOX)
        if blur > 0:  # soft edges, in output pixels
            small = small.filter(ImageFilter.GaussianBlur(blur))
        return np.asarray(small, np.float32) * (1 / 255)

    def line(self, draw, xs, ys, width):
        """A polyline through normalised points."""
        pts = np.empty(2 * len(xs))
        pts[0::2] = (np.asarray(xs) + 1) * (0.5 * self.big)
        pts[1::2] = (np.asarray(ys) + 1) * (0.5 * self.big)
        draw.line(pts.tolist(), fill=255, width=width, joint="curve" if width >= 6 else None)

    def blob(self, draw, x, y, r, min_px=0.7):
        cx, cy = self.px(x, y)
        rr = self.radius(r, min_px)
        draw.ellipse((cx - rr, cy - rr, cx + rr, cy + rr), fill=255)

    def ellipse(self, draw, x, y, a, b, angle, min_px=0.7):
        """A rotated ellipse (semi-axes a along ``angle``, b across) as a polygon."""
        cx, cy = self.px(x, y)
        aa, bb = self.radius(a, min_px), self.radius(b, min_px * 0.7)
        t = np.linspace(0, 2 * np.pi, 14, endpoint=False)
        c, s = math.cos(angle), math.sin(angle)
        xs = cx + aa * np.cos(t) * c - bb * np.sin(t) * s
        ys = cy + aa * np.cos(t) * s + bb * np.sin(t) * c
        draw.polygon(list(zip(xs.tolist(), ys.tolist())), fill=255)


def _blend(img: np.ndarray, alpha: np.ndarray | None, colour: np.ndarray, strength: float = 1.0) -> None:
    """In place: ``img <- img (1 - a) + colour a`` with ``a = strength * alpha``."""
    if alpha is None:
        return
    a = alpha * strength if strength != 1.0 else alpha
    for c in range(3):  # channel-first image: contiguous, no broadcasting temporaries
        img[c] += a * (colour[c] - img[c])


def _mask(cov: np.ndarray | None, size: int) -> np.ndarray:
    """Pixels at least a quarter covered by a lesion layer."""
    return np.zeros((size, size), bool) if cov is None else cov >= _MASK_THRESHOLD


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function without overflow warnings."""
    return 0.5 * (1 + np.tanh(0.5 * z))


def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Low-frequency noise (about ``cells`` bumps across) with unit-ish amplitude."""
    small = Image.fromarray(rng.standard_normal((cells, cells)).astype(np.float32), mode="F")
    return np.asarray(small.resize((size, size), Image.Resampling.BICUBIC), np.float32)


def _walk(rng, x0, y0, theta0, length, curvature, wiggle, ds=0.02, decay=None):
    """A smooth random path: heading theta(s) = theta0 + int k(s) ds + noise, k = curvature e^(-s/decay)."""
    n = max(2, int(length / ds))
    theta = np.empty(n + 1)
    theta[0] = theta0
    dtheta = rng.standard_normal(n)
    dtheta *= wiggle * math.sqrt(ds)
    dtheta += (curvature * ds) if decay is None else (curvature * ds) * _decay(n, ds / decay)
    np.cumsum(dtheta, out=theta[1:])
    theta[1:] += theta0
    xs, ys = np.empty(n + 1), np.empty(n + 1)
    xs[0], ys[0] = 0.0, 0.0
    np.cumsum(np.cos(theta[1:]), out=xs[1:])
    np.cumsum(np.sin(theta[1:]), out=ys[1:])
    xs *= ds
    ys *= ds
    xs += x0
    ys += y0
    return xs, ys, theta


@functools.lru_cache(maxsize=64)
def _decay(n: int, rate: float) -> np.ndarray:
    return np.exp(-np.arange(n) * rate)


@functools.lru_cache(maxsize=16)
def _grid(size: int):
    """Pixel-centre coordinates X, Y (-1..1, y down) and R^2 for a size x size image."""
    lin = np.linspace(-1 + 1 / size, 1 - 1 / size, size, dtype=np.float32)
    X, Y = np.meshgrid(lin, lin)
    for a in (X, Y):
        a.flags.writeable = False
    return X, Y


class _Vessel:
    __slots__ = ("xs", "ys", "theta", "width", "is_vein", "depth")

    def __init__(self, xs, ys, theta, width, is_vein, depth):
        self.xs, self.ys, self.theta, self.width, self.is_vein, self.depth = xs, ys, theta, width, is_vein, depth


def _walks(rng, x0, y0, theta0, length, curvature, wiggle, ds, decay=None):
    """Many smooth random paths at once (arrays of starts, headings, lengths, curvatures): see :func:`_walk`."""
    x0, y0, theta0, curvature = (np.asarray(a, float) for a in (x0, y0, theta0, curvature))
    counts = np.maximum(2, (np.asarray(length) / ds).astype(int))
    m, n = len(counts), int(counts.max())
    dtheta = rng.standard_normal((m, n)) * (wiggle * math.sqrt(ds))
    k = (curvature * ds)[:, None]
    dtheta += k if decay is None else k * _decay(n, ds / decay)[None, :]
    theta = np.empty((m, n + 1))
    theta[:, 0] = theta0
    np.cumsum(dtheta, axis=1, out=theta[:, 1:])
    theta[:, 1:] += theta0[:, None]
    xs, ys = np.zeros((m, n + 1)), np.zeros((m, n + 1))
    np.cumsum(np.cos(theta[:, 1:]), axis=1, out=xs[:, 1:])
    np.cumsum(np.sin(theta[:, 1:]), axis=1, out=ys[:, 1:])
    xs = xs * ds + x0[:, None]
    ys = ys * ds + y0[:, None]
    return [(xs[i, : c + 1], ys[i, : c + 1], theta[i, : c + 1]) for i, c in enumerate(counts.tolist())]


def _vessel_tree(rng, disc, side, max_depth, n_branches=2, ds=0.02) -> list[_Vessel]:
    """Four arcades (artery + vein each) from the disc, with recursive branches."""
    dx, dy = disc
    t = -side  # temporal direction along x (towards the macula)
    # (initial heading in the right-eye frame, curvature, length) for the four arcades, vein then artery
    arcades = [(-100, -3.6, 1.3), (100, 3.6, 1.3), (-60, 1.6, 0.8), (60, -1.6, 0.8)]
    deg = np.repeat([a[0] for a in arcades], 2).astype(float)
    is_vein = np.tile([True, False], 4)
    theta0 = np.radians(deg + rng.normal(0, 6, 8) + np.where(is_vein, 7.0, -7.0) * np.sign(deg))
    k = np.repeat([a[1] for a in arcades], 2) * rng.uniform(0.85, 1.15, 8)
    if t > 0:  # mirror the right-eye frame for a left eye
        theta0, k = math.pi - theta0, -k
    length = np.repeat([a[2] for a in arcades], 2) * rng.uniform(0.9, 1.1, 8)
    width = np.where(is_vein, 0.026, 0.018) * rng.uniform(0.9, 1.1, 8)
    paths = _walks(rng, np.full(8, dx), np.full(8, dy), theta0, length, k, 0.3, ds, decay=0.45)
    vessels = [_Vessel(*p, w, v, 0) for p, w, v in zip(paths, width.tolist(), is_vein.tolist())]
    # small macular branches heading temporally
    theta0 = np.arctan2([-0.25, 0.25], t) + rng.normal(0, 0.1, 2)
    paths = _walks(rng, [dx, dx], [dy, dy], theta0, [0.35, 0.35], [0.0, 0.0], 0.8, ds)
    vessels += [_Vessel(*p, 0.01, v, 1) for p, v in zip(paths, (False, True))]
    frontier = list(vessels[:8])
    for depth in range(1, max_depth + 1):
        starts = []  # (parent, index along it)
        for parent in frontier:
            n_pts = len(parent.xs)
            for _ in range(n_branches + (rng.random() < 0.5)):
                starts.append((parent, int(n_pts // 5 + 1 + rng.random() * max(1, n_pts - 4 - n_pts // 5))))
        if not starts:
            break
        m = len(starts)
        sign = np.where(rng.random(m) < 0.5, 1.0, -1.0)
        angle = np.array([p.theta[i] for p, i in starts]) + sign * (0.5 + 0.5 * rng.random(m))
        length = np.array([len(p.xs) * ds for p, _ in starts]) * rng.uniform(0.3, 0.55, m)
        paths = _walks(rng, [p.xs[i] for p, i in starts], [p.ys[i] for p, i in starts], angle, length,
                       rng.normal(0, 1.0, m), 0.45, ds)
        children = [_Vessel(*path, p.width * 0.62, p.is_vein, depth) for path, (p, _) in zip(paths, starts)]
        vessels.extend(children)
        frontier = children
    return vessels


def _random_points(rng, n, fov_r, disc, avoid_r, centre=(0.0, 0.0), spread=None, quadrant=None):
    """``n`` points inside the field of view, away from the disc; optionally near ``centre``."""
    pts = []
    tries = 0
    while len(pts) < n and tries < 50 * n + 50:
        tries += 1
        if spread is None:
            r = fov_r * 0.9 * math.sqrt(rng.uniform())
            a = rng.uniform(0, 2 * math.pi)
            if quadrant is not None:  # quadrants around the disc-fovea axis centre
                a = (quadrant + rng.uniform()) * math.pi / 2
            x, y = centre[0] + r * math.cos(a), centre[1] + r * math.sin(a)
        else:
            x, y = centre[0] + rng.normal(0, spread), centre[1] + rng.normal(0, spread)
        if x * x + y * y > (fov_r * 0.92) ** 2:
            continue
        if (x - disc[0]) ** 2 + (y - disc[1]) ** 2 < avoid_r**2:
            continue
        pts.append((x, y))
    return pts


def _lesion_plan(grade: int, rng: np.random.Generator) -> dict:
    """How many of each lesion to draw for a grade (ICDR definitions)."""
    z = dict(ma=0, dot=0, flame=0, exudate_clusters=0, cws=0, all_quadrants=False,
             beading=0, irma=0, nvd=False, nve=0, fibrous=False, preretinal=0, vitreous=False)
    if grade == 1:
        z.update(ma=int(rng.integers(2, 8)))
    elif grade == 2:
        z.update(ma=int(rng.integers(5, 16)), dot=int(rng.integers(2, 8)), flame=int(rng.integers(0, 4)),
                 exudate_clusters=int(rng.integers(1, 4)) if rng.uniform() < 0.75 else 0,
                 cws=int(rng.integers(1, 4)) if rng.uniform() < 0.5 else 0)
    elif grade == 3:
        z.update(ma=int(rng.integers(10, 26)), dot=int(rng.integers(20, 40)), flame=int(rng.integers(3, 9)),
                 all_quadrants=True,
                 exudate_clusters=int(rng.integers(1, 5)) if rng.uniform() < 0.8 else 0,
                 cws=int(rng.integers(2, 7)) if rng.uniform() < 0.8 else 0,
                 beading=int(rng.integers(2, 4)) if rng.uniform() < 0.6 else 0,
                 irma=int(rng.integers(2, 6)) if rng.uniform() < 0.7 else 0)
    elif grade == 4:
        nvd = rng.uniform() < 0.65
        z.update(ma=int(rng.integers(5, 20)), dot=int(rng.integers(5, 25)), flame=int(rng.integers(0, 6)),
                 exudate_clusters=int(rng.integers(1, 4)) if rng.uniform() < 0.5 else 0,
                 cws=int(rng.integers(1, 4)) if rng.uniform() < 0.4 else 0,
                 beading=int(rng.integers(1, 3)) if rng.uniform() < 0.3 else 0,
                 irma=int(rng.integers(1, 4)) if rng.uniform() < 0.4 else 0,
                 nvd=nvd, nve=int(rng.integers(1, 3)) if (not nvd or rng.uniform() < 0.4) else 0,
                 fibrous=rng.uniform() < 0.5,
                 preretinal=int(rng.integers(1, 3)) if rng.uniform() < 0.7 else 0,
                 vitreous=rng.uniform() < 0.35)
    return z


def _render(grade: int, size: int, rng: np.random.Generator, eye: str):
    """Draw one fundus photograph; return (uint8 image, masks, info)."""
    cv = _Canvas(size, rng)
    side = 1.0 if eye == "right" else -1.0  # right eye: disc on the right of the image
    fov_r = rng.uniform(0.90, 0.97)
    disc = (side * rng.uniform(0.38, 0.46), rng.normal(0, 0.04))
    macula = (disc[0] - side * rng.uniform(0.48, 0.55), disc[1] + rng.normal(0, 0.03))
    disc_r = rng.uniform(0.11, 0.13)

    X, Y = _grid(size)

    # background: pigmentation, choroidal texture
    pig = rng.uniform()
    base = (1 - pig) * np.array([0.86, 0.46, 0.22]) + pig * np.array([0.58, 0.22, 0.10])
    base = (base * rng.normal(1, 0.04, 3)).astype(np.float32)
    texture = 1 + 0.07 * _smooth_noise(rng, size, 7) + 0.03 * _smooth_noise(rng, size, 19)
    img = base[:, None, None] * texture[None]  # channel-first while drawing

    # macula (darker, pigmented) and fovea with a light reflex
    dm2 = (X - macula[0]) ** 2 + (Y - macula[1]) ** 2
    img *= (1 - 0.35 * np.exp(-dm2 / (2 * 0.13**2)) - 0.2 * np.exp(-dm2 / (2 * 0.035**2)))[None]
    reflex = np.exp(-dm2 / (2 * max(0.008, 0.7 / size) ** 2))
    _blend(img, reflex, np.array([0.95, 0.75, 0.55], np.float32), 0.35)

    # optic disc and cup (soft edges), slightly oval
    dd2 = ((X - disc[0]) / 0.92) ** 2 + (Y - disc[1]) ** 2
    edge = max(0.012, 1.5 / size)
    disc_a = _sigmoid((disc_r - np.sqrt(dd2)) / edge)
    cup_r = disc_r * rng.uniform(0.3, 0.55)
    cup_a = _sigmoid((cup_r - np.sqrt(dd2)) / edge)
    _blend(img, disc_a, _DISC, 0.9)
    _blend(img, cup_a, _CUP, 0.7)

    masks = {name: None for name in LESION_TYPES}
    plan = _lesion_plan(grade, rng)
    max_depth = 1 if size <= 64 else (2 if size <= 160 else 3)
    vessels = _vessel_tree(rng, disc, side, max_depth, n_branches=1 if size <= 64 else 2,
                           ds=0.03 if size <= 64 else 0.02)

    # veins, with venous beading on some main veins
    veins, vdraw = cv.layer()
    beads, bdraw = cv.layer()
    main_veins = [v for v in vessels if v.is_vein and v.depth == 0]
    beaded = set(rng.choice(len(main_veins), size=min(plan["beading"], len(main_veins)), replace=False).tolist())
    for v in vessels:
        if v.is_vein:
            cv.line(vdraw, v.xs, v.ys, cv.width(v.width))
    for j, v in enumerate(main_veins):
        if j in beaded:
            n = len(v.xs)
            for i in range(n // 4, n - n // 4, 2):
                cv.blob(bdraw, v.xs[i], v.ys[i], v.width * rng.uniform(0.9, 1.3), min_px=0.6)
    cov_v = cv.coverage(veins)
    cov_b = cv.coverage(beads)
    _blend(img, cov_v if cov_b is None else np.maximum(cov_v, cov_b), _VEIN, 0.85)
    masks["venous_beading"] = _mask(cov_b, size)
    arts, adraw = cv.layer()
    for v in vessels:
        if not v.is_vein:
            cv.line(adraw, v.xs, v.ys, cv.width(v.width))
    _blend(img, cv.coverage(arts), _ARTERY, 0.75)

    # IRMA: short, thin, tortuous vessels inside the retina
    irma, idraw = cv.layer()
    for x, y in _random_points(rng, plan["irma"], fov_r, disc, 0.25, centre=macula, spread=0.35):
        xs, ys, _ = _walk(rng, x, y, rng.uniform(0, 2 * math.pi), rng.uniform(0.06, 0.12), 0, 9.0, ds=0.01)
        cv.line(idraw, xs, ys, cv.width(0.008))
    cov = cv.coverage(irma)
    _blend(img, cov, _NV, 0.85)
    masks["irma"] = _mask(cov, size)

    # microaneurysms: small round red dots, mostly around the macula
    mas, mdraw = cv.layer()
    for x, y in _random_points(rng, plan["ma"], fov_r, disc, 1.5 * disc_r, centre=macula, spread=0.3):
        cv.blob(mdraw, x, y, rng.uniform(0.007, 0.012), min_px=0.75)
    cov = cv.coverage(mas)
    _blend(img, cov, _MA, 0.9)
    masks["microaneurysms"] = _mask(cov, size)

    # hemorrhages: dot/blot (round, irregular) and flame (along the nerve fibres, radial to the disc)
    hem, hdraw = cv.layer()
    pts = []
    if plan["all_quadrants"]:
        per = [plan["dot"] // 4 + (q < plan["dot"] % 4) for q in range(4)]
        for q in range(4):
            pts += _random_points(rng, per[q], fov_r, disc, 1.5 * disc_r, centre=macula, quadrant=q)
    else:
        pts = _random_points(rng, plan["dot"], fov_r, disc, 1.5 * disc_r, centre=macula, spread=0.35)
    for x, y in pts:
        r = rng.uniform(0.012, 0.03)
        cv.blob(hdraw, x, y, r, min_px=0.9)
        for _ in range(int(rng.integers(0, 3))):  # blot: a few overlapping lobes
            cv.blob(hdraw, x + rng.normal(0, r * 0.7), y + rng.normal(0, r * 0.7), r * rng.uniform(0.5, 0.9), 0.7)
    for x, y in _random_points(rng, plan["flame"], fov_r, disc, 1.6 * disc_r, centre=disc, spread=0.35):
        angle = math.atan2(y - disc[1], x - disc[0])
        cv.ellipse(hdraw, x, y, rng.uniform(0.03, 0.055), rng.uniform(0.01, 0.016), angle, min_px=1.0)
    cov = cv.coverage(hem)
    _blend(img, cov, _HEM, 0.9)
    masks["hemorrhages"] = _mask(cov, size)

    # hard exudates: sharp yellow deposits in clusters / partial rings near the macula
    exu, edraw = cv.layer()
    for cx, cy in _random_points(rng, plan["exudate_clusters"], fov_r, disc, 2 * disc_r, centre=macula, spread=0.22):
        ring = rng.uniform() < 0.4
        ring_r = rng.uniform(0.05, 0.1)
        for _ in range(int(rng.integers(4, 14))):
            if ring:
                a = rng.uniform(0, 2 * math.pi)
                x, y = cx + ring_r * math.cos(a), cy + ring_r * math.sin(a)
            else:
                x, y = cx + rng.normal(0, 0.035), cy + rng.normal(0, 0.035)
            if x * x + y * y < (fov_r * 0.92) ** 2:
                cv.blob(edraw, x, y, rng.uniform(0.006, 0.014), min_px=0.6)
    cov = cv.coverage(exu)
    _blend(img, cov, _EXUDATE, 0.9)
    masks["hard_exudates"] = _mask(cov, size)

    # cotton-wool spots: fluffy white patches near the arcades
    cws, cdraw = cv.layer()
    for x, y in _random_points(rng, plan["cws"], fov_r, disc, 1.8 * disc_r, centre=disc, spread=0.35):
        cv.ellipse(cdraw, x, y, rng.uniform(0.025, 0.045), rng.uniform(0.018, 0.03), rng.uniform(0, math.pi), 1.2)
    cov = cv.coverage(cws, blur=0.01 * size)
    _blend(img, cov, _CWS, 0.85)
    masks["cotton_wool_spots"] = _mask(cov, size)

    # neovascularisation: tangles of fine loops at the disc (NVD) or along the arcades (NVE)
    nv, ndraw = cv.layer()
    centres = []
    if plan["nvd"]:
        centres.append((disc[0], disc[1], disc_r * 1.3, 18))
    if plan["nve"]:
        arcade_pts = [(v.xs[len(v.xs) // 2], v.ys[len(v.ys) // 2]) for v in main_veins if len(v.xs) > 4]
        for k in rng.choice(len(arcade_pts), size=min(plan["nve"], len(arcade_pts)), replace=False):
            x, y = arcade_pts[int(k)]
            if x * x + y * y < (fov_r * 0.85) ** 2:
                centres.append((x, y, 0.07, 12))
            else:
                centres.append((0.6 * x, 0.6 * y, 0.07, 12))
    nv_width = max(cv.width(0.007), int(0.6 * cv.ss))
    for cx, cy, spread, loops in centres:
        for _ in range(loops):
            lx, ly = cx + rng.normal(0, spread * 0.45), cy + rng.normal(0, spread * 0.45)
            lr = rng.uniform(0.015, 0.04)
            t = np.linspace(0, 2 * np.pi, 12)
            rad = lr * (1 + 0.35 * rng.standard_normal(12))
            ring = [cv.px(lx + a * math.cos(b), ly + a * math.sin(b)) for a, b in zip(rad.tolist(), t.tolist())]
            ndraw.line(ring, fill=255, width=nv_width, joint="curve")
    cov = cv.coverage(nv)
    if plan["fibrous"] and centres:
        fib, fdraw = cv.layer()
        cx, cy, spread, _ = centres[0]
        cv.ellipse(fdraw, cx, cy, spread * 1.2, spread * 0.8, rng.uniform(0, math.pi))
        _blend(img, cv.coverage(fib, blur=0.015 * size), _FIBROUS, 0.45)
    _blend(img, cov, _NV, 0.9)
    masks["neovascularisation"] = _mask(cov, size)

    # pre-retinal hemorrhage: boat shaped (flat upper level: blood settles under gravity)
    pre, pdraw = cv.layer()
    for x, y in _random_points(rng, plan["preretinal"], fov_r * 0.8, disc, 0.0, centre=disc, spread=0.3):
        r = rng.uniform(0.07, 0.13)
        cx, cy = cv.px(x, y)
        rr = cv.radius(r)
        pdraw.chord((cx - rr, cy - rr, cx + rr, cy + rr), 0, 180, fill=255)
    cov = cv.coverage(pre)
    _blend(img, cov, _PRERETINAL, 0.95)
    masks["preretinal_hemorrhage"] = _mask(cov, size)

    # vitreous hemorrhage: a diffuse red haze that hides the retina behind it
    if plan["vitreous"]:
        haze = np.clip(0.5 + 0.6 * _smooth_noise(rng, size, 3), 0, 1) * rng.uniform(0.5, 0.8)
        _blend(img, haze, _VITREOUS, 1.0)
        masks["vitreous_hemorrhage"] = haze >= 0.45  # where the retina is mostly hidden
    else:
        masks["vitreous_hemorrhage"] = np.zeros((size, size), bool)

    # illumination: gain, gradient, vignetting; field of view; colour cast; blur; sensor noise
    c = (rng.normal(0, 0.02), rng.normal(0, 0.02))
    r2 = ((X - c[0]) ** 2 + (Y - c[1]) ** 2) / fov_r**2
    gain = rng.uniform(0.75, 1.15) * (1 + rng.normal(0, 0.12) * X + rng.normal(0, 0.12) * Y)
    vignette = 1 - rng.uniform(0.35, 0.6) * r2 * np.sqrt(r2)
    fov = _sigmoid((1 - np.sqrt(r2)) * fov_r * size / 1.2)
    img *= (gain * vignette * fov)[None]
    img *= rng.normal(1, 0.05, 3).astype(np.float32)[:, None, None]
    img += (1 - fov)[None] * rng.uniform(0.0, 0.015)
    img += (0.012 * (0.3 + 0.7 * fov))[None] * rng.standard_normal(img.shape, dtype=np.float32)
    out = Image.fromarray((np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8).transpose(1, 2, 0))
    sigma = rng.uniform(0.0, 0.5) * size / 64  # focus blur, in pixels
    if sigma > 0.3:
        out = out.filter(ImageFilter.GaussianBlur(sigma))
    in_fov = fov > 0.5
    for name in LESION_TYPES:
        masks[name] &= in_fov
    info = {"eye": eye, "plan": plan, "disc": disc, "macula": macula, "disc_radius": disc_r}
    return np.array(out), masks, info  # a writable copy


def synthetic_fundus(grade: int | None = None, *, size: int = 224, seed=None, eye: str | None = None,
                     prior: str | Sequence[float] = "aptos", return_info: bool = False):
    """One synthetic fundus photograph: ``(image uint8 (size, size, 3), grade, masks)``. See lesson 04.

    ``grade`` 0-4 (ICDR) or ``None`` to draw it from ``prior``; ``seed`` an int or a
    ``numpy.random.Generator``; ``eye`` ``"left"``, ``"right"`` or ``None`` (random).
    ``masks[lesion_type]`` is a boolean (size, size) array for every name in :data:`LESION_TYPES`
    (all False for lesions absent from the image). With ``return_info=True`` a fourth item, a
    dict with the eye and the lesion plan, is returned.

    >>> img, grade, masks = synthetic_fundus(grade=2, size=64, seed=1)
    >>> img.shape, grade, sorted(k for k, m in masks.items() if m.any())
    ((64, 64, 3), 2, ['cotton_wool_spots', 'hard_exudates', 'hemorrhages', 'microaneurysms'])
    """
    size = _check_size(size)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if grade is None:
        grade = int(rng.choice(5, p=class_prior(prior)))
    grade = _check_grade(grade)
    if eye is None:
        eye = "right" if rng.uniform() < 0.5 else "left"
    if eye not in ("left", "right"):
        raise ValueError(f"eye must be 'left', 'right' or None, got {eye!r}")
    out, masks, info = _render(grade, size, rng, eye)
    return (out, grade, masks, info) if return_info else (out, grade, masks)


def synthetic_fundus_dataset(n: int = 2000, size: int = 64, seed: int = 0,
                             prior: str | Sequence[float] = "aptos", progress: bool = False):
    """``n`` synthetic photographs and grades: ``(uint8 (n, size, size, 3), int64 (n,))``. See lesson 04.

    Grade counts follow ``prior`` as closely as ``n`` allows (every grade with a positive
    probability appears at least once when ``n >= 5``), in a seeded random order; the set is
    the same for the same ``(n, size, seed, prior)``.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    size = _check_size(size)
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
        images[i] = synthetic_fundus(int(grades[i]), size=size, seed=np.random.default_rng(children[i]))[0]
    return images, grades.astype(np.int64)


def overlay_lesions(image: np.ndarray, masks: dict, alpha: float = 0.6) -> np.ndarray:
    """The image with each lesion mask painted in its :data:`LESION_COLOURS` colour. See lesson 04."""
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
