"""Drawing primitives of the synthetic fundus: layers, smooth random paths, the vessel tree.

See lesson 04.

Coordinates are normalised: -1..1 across the image, y pointing down.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

_MASK_THRESHOLD = 0.25  # a pixel belongs to a lesion when the lesion covers >= 1/4 of it


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

    def layer(self) -> tuple[_Layer, _Layer]:
        """A blank layer (made on first drawing), as (layer, its drawing interface)."""
        layer = _Layer(self.big)
        return layer, layer

    def coverage(self, layer: _Layer, blur: float = 0.0) -> np.ndarray | None:
        """Fraction (0..1) of each output pixel that the layer covers; ``None`` for an empty layer.
        """
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


def _blend(img: np.ndarray, alpha: np.ndarray | None, colour: np.ndarray,
           strength: float = 1.0) -> None:
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
    """A smooth random path: heading theta(s) = theta0 + int k(s) ds + noise, k = curvature
    e^(-s/decay).
    """
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


def _walks(rng, x0, y0, theta0, length, curvature, wiggle, ds, decay=None):
    """Many smooth random paths at once (arrays of starts, headings, lengths, curvatures): see
    :func:`_walk`.
    """
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
    return [(xs[i, : c + 1], ys[i, : c + 1], theta[i, : c + 1])
            for i, c in enumerate(counts.tolist())]


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


class _Vessel:
    __slots__ = ("xs", "ys", "theta", "width", "is_vein", "depth")

    def __init__(self, xs, ys, theta, width, is_vein, depth):
        self.xs, self.ys, self.theta = xs, ys, theta
        self.width, self.is_vein, self.depth = width, is_vein, depth


def _vessel_tree(rng, disc, side, max_depth, n_branches=2, ds=0.02) -> list[_Vessel]:
    """Four arcades (artery + vein each) from the disc, with recursive branches."""
    dx, dy = disc
    t = -side  # temporal direction along x (towards the macula)
    # (initial heading in the right-eye frame, curvature, length) of the four arcades,
    # vein then artery
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
                starts.append((parent,
                               int(n_pts // 5 + 1 + rng.random() * max(1, n_pts - 4 - n_pts // 5))))
        if not starts:
            break
        m = len(starts)
        sign = np.where(rng.random(m) < 0.5, 1.0, -1.0)
        angle = np.array([p.theta[i] for p, i in starts]) + sign * (0.5 + 0.5 * rng.random(m))
        length = np.array([len(p.xs) * ds for p, _ in starts]) * rng.uniform(0.3, 0.55, m)
        paths = _walks(rng, [p.xs[i] for p, i in starts], [p.ys[i] for p, i in starts], angle,
                       length, rng.normal(0, 1.0, m), 0.45, ds)
        children = [_Vessel(*path, p.width * 0.62, p.is_vein, depth)
                    for path, (p, _) in zip(paths, starts)]
        vessels.extend(children)
        frontier = children
    return vessels
