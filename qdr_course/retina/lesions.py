"""The retina and its lesions, drawn step by step for one ICDR grade. See lesson 04.

:func:`_render` draws one photograph in the order light meets it: background, macula and
disc, vessels, then each lesion type on its own layer (so each gets its own mask), and
finally the camera (illumination, field of view, colour cast, blur, noise).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from qdr_course.retina.drawing import (
    _blend,
    _Canvas,
    _grid,
    _mask,
    _random_points,
    _sigmoid,
    _smooth_noise,
    _Vessel,
    _vessel_tree,
    _walk,
)

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


def _lesion_plan(grade: int, rng: np.random.Generator) -> dict:
    """How many of each lesion to draw for a grade (ICDR definitions)."""
    z = dict(ma=0, dot=0, flame=0, exudate_clusters=0, cws=0, all_quadrants=False,
             beading=0, irma=0, nvd=False, nve=0, fibrous=False, preretinal=0, vitreous=False)
    if grade == 1:
        z.update(ma=int(rng.integers(2, 8)))
    elif grade == 2:
        z.update(ma=int(rng.integers(5, 16)), dot=int(rng.integers(2, 8)),
                 flame=int(rng.integers(0, 4)),
                 exudate_clusters=int(rng.integers(1, 4)) if rng.uniform() < 0.75 else 0,
                 cws=int(rng.integers(1, 4)) if rng.uniform() < 0.5 else 0)
    elif grade == 3:
        z.update(ma=int(rng.integers(10, 26)), dot=int(rng.integers(20, 40)),
                 flame=int(rng.integers(3, 9)), all_quadrants=True,
                 exudate_clusters=int(rng.integers(1, 5)) if rng.uniform() < 0.8 else 0,
                 cws=int(rng.integers(2, 7)) if rng.uniform() < 0.8 else 0,
                 beading=int(rng.integers(2, 4)) if rng.uniform() < 0.6 else 0,
                 irma=int(rng.integers(2, 6)) if rng.uniform() < 0.7 else 0)
        if not z["beading"] and not z["irma"]:
            # severe NPDR needs one criterion of the 4-2-1 rule that a photograph of this
            # generator can show: beaded veins in 2+ quadrants, or prominent IRMA (no new draw,
            # so every other image stays as it was)
            z["irma"] = 2 + z["ma"] % 3
    elif grade == 4:
        nvd = rng.uniform() < 0.65
        z.update(ma=int(rng.integers(5, 20)), dot=int(rng.integers(5, 25)),
                 flame=int(rng.integers(0, 6)),
                 exudate_clusters=int(rng.integers(1, 4)) if rng.uniform() < 0.5 else 0,
                 cws=int(rng.integers(1, 4)) if rng.uniform() < 0.4 else 0,
                 beading=int(rng.integers(1, 3)) if rng.uniform() < 0.3 else 0,
                 irma=int(rng.integers(1, 4)) if rng.uniform() < 0.4 else 0, nvd=nvd,
                 nve=int(rng.integers(1, 3)) if (not nvd or rng.uniform() < 0.4) else 0,
                 fibrous=rng.uniform() < 0.5,
                 preretinal=int(rng.integers(1, 3)) if rng.uniform() < 0.7 else 0,
                 vitreous=rng.uniform() < 0.35)
    return z


@dataclass
class _Scene:
    """One photograph being drawn: its geometry, its lesion plan, the image and the masks."""

    cv: _Canvas
    rng: np.random.Generator
    size: int
    side: float
    fov_r: float
    disc: tuple
    macula: tuple
    disc_r: float
    plan: dict
    img: np.ndarray | None = None
    masks: dict | None = None


def _scene(grade: int, size: int, rng: np.random.Generator, eye: str) -> _Scene:
    """Where the field of view, the disc and the macula lie (right eye: disc on the right)."""
    cv = _Canvas(size, rng)
    side = 1.0 if eye == "right" else -1.0
    fov_r = rng.uniform(0.90, 0.97)
    disc = (side * rng.uniform(0.38, 0.46), rng.normal(0, 0.04))
    macula = (disc[0] - side * rng.uniform(0.48, 0.55), disc[1] + rng.normal(0, 0.03))
    disc_r = rng.uniform(0.11, 0.13)
    return _Scene(cv, rng, size, side, fov_r, disc, macula, disc_r, plan={})


def _draw_background(s: _Scene) -> None:
    """Pigmentation and choroidal texture, the macula with its foveal reflex, the disc and cup."""
    rng, size, macula, disc, disc_r = s.rng, s.size, s.macula, s.disc, s.disc_r
    X, Y = _grid(size)
    pig = rng.uniform()
    base = (1 - pig) * np.array([0.86, 0.46, 0.22]) + pig * np.array([0.58, 0.22, 0.10])
    base = (base * rng.normal(1, 0.04, 3)).astype(np.float32)
    texture = 1 + 0.07 * _smooth_noise(rng, size, 7) + 0.03 * _smooth_noise(rng, size, 19)
    img = s.img = base[:, None, None] * texture[None]  # channel-first while drawing

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


def _draw_vessels(s: _Scene, vessels: list[_Vessel]) -> list[_Vessel]:
    """Veins (venous beading on some main veins), then arteries; return the main veins."""
    cv, rng = s.cv, s.rng
    veins, vdraw = cv.layer()
    beads, bdraw = cv.layer()
    main_veins = [v for v in vessels if v.is_vein and v.depth == 0]
    beaded = set(rng.choice(len(main_veins), size=min(s.plan["beading"], len(main_veins)),
                            replace=False).tolist())
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
    _blend(s.img, cov_v if cov_b is None else np.maximum(cov_v, cov_b), _VEIN, 0.85)
    s.masks["venous_beading"] = _mask(cov_b, s.size)
    arts, adraw = cv.layer()
    for v in vessels:
        if not v.is_vein:
            cv.line(adraw, v.xs, v.ys, cv.width(v.width))
    _blend(s.img, cv.coverage(arts), _ARTERY, 0.75)
    return main_veins


def _draw_irma(s: _Scene) -> None:
    """IRMA: short, thin, tortuous vessels inside the retina."""
    cv, rng = s.cv, s.rng
    irma, idraw = cv.layer()
    for x, y in _random_points(rng, s.plan["irma"], s.fov_r, s.disc, 0.25, centre=s.macula,
                               spread=0.35):
        xs, ys, _ = _walk(rng, x, y, rng.uniform(0, 2 * math.pi), rng.uniform(0.06, 0.12), 0, 9.0,
                          ds=0.01)
        cv.line(idraw, xs, ys, cv.width(0.008))
    cov = cv.coverage(irma)
    _blend(s.img, cov, _NV, 0.85)
    s.masks["irma"] = _mask(cov, s.size)


def _draw_microaneurysms(s: _Scene) -> None:
    """Microaneurysms: small round red dots, mostly around the macula."""
    cv, rng = s.cv, s.rng
    mas, mdraw = cv.layer()
    for x, y in _random_points(rng, s.plan["ma"], s.fov_r, s.disc, 1.5 * s.disc_r, centre=s.macula,
                               spread=0.3):
        cv.blob(mdraw, x, y, rng.uniform(0.007, 0.012), min_px=0.75)
    cov = cv.coverage(mas)
    _blend(s.img, cov, _MA, 0.9)
    s.masks["microaneurysms"] = _mask(cov, s.size)


def _draw_hemorrhages(s: _Scene) -> None:
    """Dot/blot hemorrhages (round, irregular) and flame ones (radial to the disc)."""
    cv, rng, plan, fov_r, disc, disc_r = s.cv, s.rng, s.plan, s.fov_r, s.disc, s.disc_r
    hem, hdraw = cv.layer()
    pts = []
    if plan["all_quadrants"]:
        per = [plan["dot"] // 4 + (q < plan["dot"] % 4) for q in range(4)]
        for q in range(4):
            pts += _random_points(rng, per[q], fov_r, disc, 1.5 * disc_r, centre=s.macula,
                                  quadrant=q)
    else:
        pts = _random_points(rng, plan["dot"], fov_r, disc, 1.5 * disc_r, centre=s.macula,
                             spread=0.35)
    for x, y in pts:
        r = rng.uniform(0.012, 0.03)
        cv.blob(hdraw, x, y, r, min_px=0.9)
        for _ in range(int(rng.integers(0, 3))):  # blot: a few overlapping lobes
            cv.blob(hdraw, x + rng.normal(0, r * 0.7), y + rng.normal(0, r * 0.7),
                    r * rng.uniform(0.5, 0.9), 0.7)
    for x, y in _random_points(rng, plan["flame"], fov_r, disc, 1.6 * disc_r, centre=disc,
                               spread=0.35):
        angle = math.atan2(y - disc[1], x - disc[0])
        cv.ellipse(hdraw, x, y, rng.uniform(0.03, 0.055), rng.uniform(0.01, 0.016), angle,
                   min_px=1.0)
    cov = cv.coverage(hem)
    _blend(s.img, cov, _HEM, 0.9)
    s.masks["hemorrhages"] = _mask(cov, s.size)


def _draw_exudates(s: _Scene) -> None:
    """Hard exudates: sharp yellow deposits in clusters / partial rings near the macula."""
    cv, rng, fov_r = s.cv, s.rng, s.fov_r
    exu, edraw = cv.layer()
    for cx, cy in _random_points(rng, s.plan["exudate_clusters"], fov_r, s.disc, 2 * s.disc_r,
                                 centre=s.macula, spread=0.22):
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
    _blend(s.img, cov, _EXUDATE, 0.9)
    s.masks["hard_exudates"] = _mask(cov, s.size)


def _draw_cotton_wool(s: _Scene) -> None:
    """Cotton-wool spots: fluffy white patches near the arcades."""
    cv, rng = s.cv, s.rng
    cws, cdraw = cv.layer()
    for x, y in _random_points(rng, s.plan["cws"], s.fov_r, s.disc, 1.8 * s.disc_r, centre=s.disc,
                               spread=0.35):
        cv.ellipse(cdraw, x, y, rng.uniform(0.025, 0.045), rng.uniform(0.018, 0.03),
                   rng.uniform(0, math.pi), 1.2)
    cov = cv.coverage(cws, blur=0.01 * s.size)
    _blend(s.img, cov, _CWS, 0.85)
    s.masks["cotton_wool_spots"] = _mask(cov, s.size)


def _neovascular_centres(s: _Scene, main_veins: list[_Vessel]) -> list[tuple]:
    """Where new vessels grow: at the disc (NVD) and / or along the arcades (NVE)."""
    rng, plan, fov_r = s.rng, s.plan, s.fov_r
    centres = []
    if plan["nvd"]:
        centres.append((s.disc[0], s.disc[1], s.disc_r * 1.3, 18))
    if plan["nve"]:
        arcade_pts = [(v.xs[len(v.xs) // 2], v.ys[len(v.ys) // 2]) for v in main_veins
                      if len(v.xs) > 4]
        for k in rng.choice(len(arcade_pts), size=min(plan["nve"], len(arcade_pts)), replace=False):
            x, y = arcade_pts[int(k)]
            if x * x + y * y < (fov_r * 0.85) ** 2:
                centres.append((x, y, 0.07, 12))
            else:
                centres.append((0.6 * x, 0.6 * y, 0.07, 12))
    return centres


def _draw_neovascularisation(s: _Scene, main_veins: list[_Vessel]) -> None:
    """Neovascularisation: tangles of fine loops, with fibrous tissue over some."""
    cv, rng = s.cv, s.rng
    nv, ndraw = cv.layer()
    centres = _neovascular_centres(s, main_veins)
    nv_width = max(cv.width(0.007), int(0.6 * cv.ss))
    for cx, cy, spread, loops in centres:
        for _ in range(loops):
            lx, ly = cx + rng.normal(0, spread * 0.45), cy + rng.normal(0, spread * 0.45)
            lr = rng.uniform(0.015, 0.04)
            t = np.linspace(0, 2 * np.pi, 12)
            rad = lr * (1 + 0.35 * rng.standard_normal(12))
            ring = [cv.px(lx + a * math.cos(b), ly + a * math.sin(b))
                    for a, b in zip(rad.tolist(), t.tolist())]
            ndraw.line(ring, fill=255, width=nv_width, joint="curve")
    cov = cv.coverage(nv)
    if s.plan["fibrous"] and centres:
        fib, fdraw = cv.layer()
        cx, cy, spread, _ = centres[0]
        cv.ellipse(fdraw, cx, cy, spread * 1.2, spread * 0.8, rng.uniform(0, math.pi))
        _blend(s.img, cv.coverage(fib, blur=0.015 * s.size), _FIBROUS, 0.45)
    _blend(s.img, cov, _NV, 0.9)
    s.masks["neovascularisation"] = _mask(cov, s.size)


def _draw_vitreoretinal_blood(s: _Scene) -> None:
    """Pre-retinal hemorrhage (boat shaped) and vitreous hemorrhage (a haze hiding the retina)."""
    cv, rng, size = s.cv, s.rng, s.size
    pre, pdraw = cv.layer()
    for x, y in _random_points(rng, s.plan["preretinal"], s.fov_r * 0.8, s.disc, 0.0, centre=s.disc,
                               spread=0.3):
        r = rng.uniform(0.07, 0.13)
        cx, cy = cv.px(x, y)
        rr = cv.radius(r)
        # flat upper level: blood settles under gravity
        pdraw.chord((cx - rr, cy - rr, cx + rr, cy + rr), 0, 180, fill=255)
    cov = cv.coverage(pre)
    _blend(s.img, cov, _PRERETINAL, 0.95)
    s.masks["preretinal_hemorrhage"] = _mask(cov, size)
    if s.plan["vitreous"]:
        haze = np.clip(0.5 + 0.6 * _smooth_noise(rng, size, 3), 0, 1) * rng.uniform(0.5, 0.8)
        _blend(s.img, haze, _VITREOUS, 1.0)
        s.masks["vitreous_hemorrhage"] = haze >= 0.45  # where the retina is mostly hidden
    else:
        s.masks["vitreous_hemorrhage"] = np.zeros((size, size), bool)


def _photograph(s: _Scene) -> tuple[np.ndarray, np.ndarray]:
    """The camera: gain, gradient, vignetting, field of view, colour cast, blur, sensor noise.

    Returns the uint8 image (H, W, 3) and the field-of-view mask.
    """
    rng, size, fov_r, img = s.rng, s.size, s.fov_r, s.img
    X, Y = _grid(size)
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
    return np.array(out), fov > 0.5  # a writable copy


def _render(grade: int, size: int, rng: np.random.Generator, eye: str):
    """Draw one fundus photograph; return (uint8 image, masks, info)."""
    s = _scene(grade, size, rng, eye)
    _draw_background(s)
    s.masks = {name: None for name in LESION_TYPES}
    s.plan = _lesion_plan(grade, rng)
    max_depth = 1 if size <= 64 else (2 if size <= 160 else 3)
    vessels = _vessel_tree(rng, s.disc, s.side, max_depth, n_branches=1 if size <= 64 else 2,
                           ds=0.03 if size <= 64 else 0.02)
    main_veins = _draw_vessels(s, vessels)
    _draw_irma(s)
    _draw_microaneurysms(s)
    _draw_hemorrhages(s)
    _draw_exudates(s)
    _draw_cotton_wool(s)
    _draw_neovascularisation(s, main_veins)
    _draw_vitreoretinal_blood(s)
    out, in_fov = _photograph(s)
    for name in LESION_TYPES:
        s.masks[name] &= in_fov
    info = {"eye": eye, "plan": s.plan, "disc": s.disc, "macula": s.macula,
            "disc_radius": s.disc_r}
    return out, s.masks, info
