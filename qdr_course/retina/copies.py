"""Realistic copies of a photograph, and how far their perceptual hashes move. See lesson 04.

A near-duplicate threshold (:data:`~qdr_course.retina.splits.NEAR_DUPLICATE_BITS`) is chosen
from two distributions measured on real photographs: the pHash distance between *different*
eyes (it should be large: a pair within the threshold is a false merge) and between a photograph
and an ordinary copy of it (recompressed, shrunk, turned 2 degrees, brighter, a gamma curve, the
field of view clipped: it should be small, a copy beyond the threshold is missed).
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageEnhance

from qdr_course.retina.preprocessing import fov_box
from qdr_course.retina.splits import perceptual_hash

__all__ = ["COPY_KINDS", "copy_distances", "error_rates", "hash_distance", "hashes_of",
           "pairwise_distances", "realistic_copy"]

#: The ordinary copies of a photograph measured: what a second upload of it may have undergone.
COPY_KINDS = ("jpeg 50", "jpeg 70", "jpeg 90", "half resolution", "rotated 2 deg",
              "brighter 15 %", "gamma 0.8", "sides clipped 8 %", "top, bottom clipped 8 %")


def realistic_copy(image: np.ndarray, kind: str) -> np.ndarray:
    """One ordinary copy (``kind`` from :data:`COPY_KINDS`) of an RGB photograph. See lesson 04."""
    pil = Image.fromarray(np.asarray(image))
    if kind.startswith("jpeg "):
        buffer = io.BytesIO()
        pil.save(buffer, "JPEG", quality=int(kind.split()[1]))
        return np.asarray(Image.open(buffer).convert("RGB"))
    if kind == "half resolution":
        w, h = pil.size
        return np.asarray(pil.resize((w // 2, h // 2), Image.Resampling.BILINEAR))
    if kind == "rotated 2 deg":
        return np.asarray(pil.rotate(2.0, resample=Image.Resampling.BILINEAR))
    if kind == "brighter 15 %":
        return np.asarray(ImageEnhance.Brightness(pil).enhance(1.15))
    if kind == "gamma 0.8":
        table = np.round(255 * (np.arange(256) / 255) ** 0.8).astype(np.uint8)
        return table[np.asarray(image)]
    if kind == "sides clipped 8 %":
        top, bottom, left, right = fov_box(np.asarray(image))
        cut = int(round(0.08 * (right - left)))
        return np.asarray(image)[:, left + cut:right - cut]
    if kind == "top, bottom clipped 8 %":
        top, bottom, left, right = fov_box(np.asarray(image))
        cut = int(round(0.08 * (bottom - top)))
        return np.asarray(image)[top + cut:bottom - cut]
    raise ValueError(f"unknown copy kind {kind!r}; use one of {COPY_KINDS}")


def hashes_of(images) -> np.ndarray:
    """Perceptual-hash bits ``(N, 255)`` of photographs, one row each."""
    return np.array([perceptual_hash(np.asarray(im)) for im in images])


def hash_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bits in which hashes ``a`` and ``b`` (same shape, last axis the bits) differ."""
    return np.count_nonzero(np.asarray(a) != np.asarray(b), axis=-1)


def pairwise_distances(hashes: np.ndarray) -> np.ndarray:
    """Distances of every pair of different photographs ``i < j`` (flat)."""
    hashes = np.asarray(hashes, dtype=np.int16)
    d = (hashes[:, None, :] != hashes[None, :, :]).sum(-1)
    return d[np.triu_indices(len(hashes), 1)]


def copy_distances(images, kinds=COPY_KINDS) -> dict[str, np.ndarray]:
    """``{kind: distances}``: how far each photograph's hash moves under each copy kind."""
    originals = hashes_of(images)
    return {kind: hash_distance(originals, hashes_of([realistic_copy(im, kind) for im in images]))
            for kind in kinds}


def error_rates(different: np.ndarray, copies: dict, threshold: int) -> tuple[float, dict]:
    """``(false-merge rate, {kind: missed-copy rate})`` at ``threshold`` bits (merge if <=)."""
    return (float(np.mean(np.asarray(different) <= threshold)),
            {kind: float(np.mean(np.asarray(d) > threshold)) for kind, d in copies.items()})
