"""The paper's CNN experiment at a CPU scale: a Myrtle-like CNN's NTK on 8x8 digits.

See lesson 07.

The original ran a depth-96 Myrtle CNN on 28x28 MNIST digits 1 and 0 (about 80 CPU-hours). Here
the same recipe runs on scikit-learn's 8x8 digits with one [Conv 3x3, ReLU] per pooling block
(three blocks, :data:`CNN_DEPTH` convolutions): neural-tangents' analytic NTK, computed in blocks
with ``nt.batch``, once for a pool of images; every trial then draws its training and test
images from that pool. Then the original's CNN recipe: test kernel divided by the largest
off-diagonal |K| on a 16-example subset (:func:`cnn_test_threshold`), clipped to [-1, 1]; the
sparsified NTK keeps only within-class entries above the 90th-percentile thresholds of a
16-example kernel (:func:`qdr_course.ntk.cnn_class_thresholds`) and adds f diag(K),
f = 0.76 (ln n)^0.9 (:func:`qdr_course.ntk.cnn_sparsify`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from qdr_course.ntk._neural_tangents import import_neural_tangents
from qdr_course.ntk.data import PAPER_DIGITS_CNN, _bundled_digits, standardise_images
from qdr_course.ntk.networks import myrtle_cnn
from qdr_course.ntk.qlsa_metrics import PAPER_TRIALS, metrics_from_kernels
from qdr_course.ntk.sparsification import cnn_class_thresholds, cnn_sparsify, sparsity_pattern

#: Convolutions of the course's CNN: one [Conv, ReLU] in each of three pooling blocks.
CNN_DEPTH = 3
#: Images of each digit in the pool whose kernel is computed once (n <= 128 with 32 test images).
POOL_PER_CLASS = 80
#: The same CNN at the paper's depth 96 (32 convolutions per block), computed once by
#: ``scripts/cnn_deep_kernel.py`` for 48 images of each digit (too slow for a lesson).
DEEP_CNN_FILE = Path(__file__).parent / "stored" / "cnn_depth96_pool96.npz"


def cnn_pool(per_class: int = POOL_PER_CLASS, digits: Sequence[int] = PAPER_DIGITS_CNN,
             seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` 8x8 images of each digit (NHWC, unit norm) and labels +1 / -1.

    See lesson 07.

    Standardised with the pool's global mean and std (the original used its training set's).
    """
    images, labels = _bundled_digits()
    rng = np.random.default_rng(seed)
    idx = []
    for d in digits:
        pool = np.flatnonzero(labels == d)
        if per_class > len(pool):
            raise ValueError(f"per_class = {per_class} but the 8x8 digits have only {len(pool)} "
                             f"images of a {d}; use per_class <= {len(pool)}")
        idx.append(rng.permutation(pool)[:per_class])
    x, _ = standardise_images(images[np.concatenate(idx)], images[:1])
    y = np.repeat([1.0, -1.0], per_class)
    return x.reshape(-1, 8, 8, 1), y


def load_deep_cnn(path: Path | str = DEEP_CNN_FILE) -> tuple[np.ndarray, np.ndarray, int, float]:
    """The stored deep CNN kernel: (kernel, labels, depth, CPU seconds it took). See lesson 07."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run scripts/cnn_deep_kernel.py --out {path}")
    with np.load(path) as archive:
        return (archive["kernel"], archive["labels"], 3 * int(archive["conv_per_block"]),
                float(archive["cpu_seconds"]))


def cnn_kernels(images: np.ndarray, conv_per_block: int = 1, batch_size: int = 32) -> np.ndarray:
    """The NTK of :func:`qdr_course.ntk.myrtle_cnn` on all pairs of ``images``, in batches.

    See lesson 07.
    """
    import jax

    images = np.asarray(images, np.float64)
    if images.ndim != 4 or len(images) % batch_size:
        raise ValueError(f"images must be NHWC with a multiple of batch_size = {batch_size} "
                         f"images, got shape {images.shape}")
    nt = import_neural_tangents()
    _, _, kernel_fn = myrtle_cnn(conv_per_block=conv_per_block, channels=1, n_pools=3)
    batched = nt.batch(jax.jit(kernel_fn, static_argnames="get"), batch_size=batch_size,
                       store_on_device=False)
    return np.asarray(batched(images, None, "ntk"), np.float64)


def cnn_test_threshold(k_train: np.ndarray, rng: np.random.Generator, subset: int = 16) -> float:
    """k_thresh = the largest off-diagonal |K| on a random ``subset`` of the training examples.

    See lesson 07.
    """
    k_train = np.asarray(k_train, np.float64)
    pick = rng.choice(len(k_train), size=min(subset, len(k_train)), replace=False)
    block = np.abs(k_train[np.ix_(pick, pick)])
    np.fill_diagonal(block, 0.0)
    if not block.max() > 0:
        raise ValueError("the subset's off-diagonal kernel is zero: cannot normalise by it")
    return float(block.max())


def _split(labels: np.ndarray, n: int, n_test: int, seed: int):
    """Training and test rows of the pool for one trial (n/2 and n_test/2 per class)."""
    rng = np.random.default_rng([seed, n, 2])
    train, test = [], []
    for label in (1.0, -1.0):
        pool = rng.permutation(np.flatnonzero(labels == label))
        if n // 2 + n_test // 2 > len(pool):
            raise ValueError(f"n = {n} and n_test = {n_test} need {n // 2 + n_test // 2} images "
                             f"per class; the pool has {len(pool)}")
        train.append(pool[: n // 2])
        test.append(pool[n // 2: n // 2 + n_test // 2])
    return rng, rng.permutation(np.concatenate(train)), np.concatenate(test)


def cnn_fixed_thresholds(kernel: np.ndarray, labels: np.ndarray, n_test: int = 32
                         ) -> tuple[float, dict[float, float]]:
    """k_thresh and the class thresholds, computed ONCE on an n = 16 training set, as the
    original. See lesson 07.

    The original computes its CNN k_thresh once (largest off-diagonal |K| of a 16-image training
    set) and its 90th-percentile class thresholds once (on the first n = 16 kernel), then uses
    both for every n. Here both come from the training images of trial 0 at n = 16.
    """
    kernel, labels = np.asarray(kernel, np.float64), np.asarray(labels)
    _, train, _ = _split(labels, 16, n_test, seed=0)
    k16 = kernel[np.ix_(train, train)]
    off = np.abs(k16[~np.eye(16, dtype=bool)])
    return float(off.max()), cnn_class_thresholds(k16, labels[train])


def cnn_trial_metrics(kernel: np.ndarray, labels: np.ndarray, n: int, n_test: int = 32,
                      seed: int = 0, fixed: tuple[float, dict] | None = None,
                      depth: int = CNN_DEPTH) -> dict:
    """One trial of the CNN experiment on a precomputed pool kernel. See lesson 07.

    ``fixed`` = (k_thresh, class thresholds) from :func:`cnn_fixed_thresholds` uses them for
    every trial, as the original; ``None`` recomputes both on a 16-image subset of each trial.
    Also returns the fraction of the test kernel clipped at 1 (``clipped``).
    """
    kernel, labels = np.asarray(kernel, np.float64), np.asarray(labels)
    rng, train, test = _split(labels, n, n_test, seed)
    k_train = kernel[np.ix_(train, train)]
    y_train, y_test = labels[train], labels[test]
    if fixed is None:
        k_thresh = cnn_test_threshold(k_train, rng)
        base = np.concatenate([np.flatnonzero(y_train == c)[:8] for c in (1.0, -1.0)])
        thresholds = cnn_class_thresholds(k_train[np.ix_(base, base)], y_train[base])
    else:
        k_thresh, thresholds = fixed
    scaled = kernel[np.ix_(test, train)] / k_thresh
    k_test = np.clip(scaled, -1.0, 1.0)
    k_sparse = cnn_sparsify(k_train, sparsity_pattern(y_train, rng), y_train, thresholds)
    return dict(n=n, seed=seed, depth=depth, clipped=float(np.mean(np.abs(scaled) > 1)),
                **metrics_from_kernels(k_train, k_sparse, k_test, y_train, y_test))


def cnn_sweep(kernel: np.ndarray, labels: np.ndarray, n_values: Iterable[int] = (16, 32, 64, 128),
              n_test: int = 32, thresholds_once: bool = True, depth: int = CNN_DEPTH) -> list[dict]:
    """:func:`cnn_trial_metrics` with the paper's trial counts for each n. See lesson 07.

    ``thresholds_once`` (the original's way): k_thresh and the class thresholds from
    :func:`cnn_fixed_thresholds`, used for every n.
    """
    fixed = cnn_fixed_thresholds(kernel, labels, n_test) if thresholds_once else None
    return [cnn_trial_metrics(kernel, labels, n, n_test, seed=t, fixed=fixed, depth=depth)
            for n in n_values for t in range(PAPER_TRIALS[n])]
