"""The paper's data: two digit classes, labels +-1, standardised to unit-norm images.

See lesson 06.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qdr_course.validate import digit_pair

#: Digit pairs of the paper: (8, 9) for the fully connected network, (1, 0) for the CNN.
PAPER_DIGITS_FC = (8, 9)
PAPER_DIGITS_CNN = (1, 0)


@dataclass
class DigitPair:
    """Training and test images of two digit classes, labels +1 / -1."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    digits: tuple[int, int]
    source: str
    index_train: np.ndarray  # rows of the source data set, for tracing an image back
    index_test: np.ndarray

    @property
    def n(self) -> int:
        """Number of training examples."""
        return len(self.y_train)


#: scikit-learn's copy of the 8x8 digits, relative to its package folder.
BUNDLED_DIGITS_FILE = Path("datasets", "data", "digits.csv.gz")


def _bundled_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 digits (flattened, float64) and labels, without importing it.

    ``sklearn.datasets.load_digits`` reads :data:`BUNDLED_DIGITS_FILE` with ``np.loadtxt``;
    reading the same file the same way gives the same arrays without importing scikit-learn
    (about 65 MB of memory in a lesson that never uses the rest of it). If a scikit-learn release
    moves the file, ``load_digits`` is used (tests/test_bundled_digits.py then fails).
    """
    spec = importlib.util.find_spec("sklearn")  # finds the package without importing it
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / BUNDLED_DIGITS_FILE
        if path.is_file():
            with gzip.open(path, mode="rt", encoding="utf-8") as file:
                table = np.loadtxt(file, delimiter=",")
            return np.ascontiguousarray(table[:, :-1]), table[:, -1].astype(int)
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.data.astype(np.float64), bunch.target.astype(int)


#: The MNIST subset shipped with the course: every 8 and 9 of the 10,000 MNIST test images.
MNIST_SUBSET_FILE = Path(__file__).parent / "stored" / "mnist_t10k_8_9.npz"
#: Its SHA-256 (data/MNIST-LICENSE.md says where it comes from and its licence, CC BY-SA 3.0).
MNIST_SUBSET_SHA256 = "ccbf2c2c9c0489f5e31edc497a59f8421989d2df94a9103f7af5456d7afc53f4"
#: Digits the shipped subset holds.
MNIST_SUBSET_DIGITS = (8, 9)


def load_mnist_subset(path: Path | str = MNIST_SUBSET_FILE,
                      sha256: str = MNIST_SUBSET_SHA256) -> tuple[np.ndarray, np.ndarray]:
    """The shipped 28x28 MNIST 8s and 9s (flattened, float64) and labels, checksum verified.

    See lesson 07. Licence and provenance: ``qdr_course/ntk/stored/MNIST-LICENSE.md``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: reinstall qdr-course (the MNIST subset ships "
                                "inside the package) or use source='digits'")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        raise ValueError(f"{path} has SHA-256 {digest}, expected {sha256}: the file is damaged "
                         "or was replaced; reinstall qdr-course")
    with np.load(path) as archive:
        images, labels = archive["images"], archive["labels"]
    return images.reshape(len(images), -1).astype(np.float64), labels.astype(int)


def _load_images(source: str, data_home: str | None) -> tuple[np.ndarray, np.ndarray]:
    """All images (flattened, float64) and integer labels of a data source."""
    if source == "digits":
        return _bundled_digits()
    if source == "mnist-subset":
        return load_mnist_subset()
    if source == "mnist":
        from sklearn.datasets import fetch_openml

        try:
            x, y = fetch_openml("mnist_784", version=1, as_frame=False, return_X_y=True,
                                data_home=data_home, parser="liac-arff")
        except OSError as error:  # URLError, socket errors: no network and no cached copy
            raise ConnectionError(
                "could not download MNIST from OpenML and no cached copy was found "
                f"({error}). Connect to the internet once (the copy is then cached), or use "
                "source='digits' (scikit-learn's bundled 8x8 digits, works offline)."
            ) from error
        return np.asarray(x, dtype=np.float64), np.asarray(y).astype(int)
    raise ValueError("source must be 'digits' (offline, 8x8), 'mnist-subset' (offline, 28x28 "
                     f"8s and 9s) or 'mnist' (28x28, online), got {source!r}")


def standardise_images(x_train: np.ndarray, x_test: np.ndarray,
                       statistics: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """One global mean and std, then unit L2 norm per image. See lesson 07.

    ``statistics="train"``: both splits use the training set's mean and std; ``"split"``: each
    split uses its own, as the original's ``process_data`` did (after the unit-norm step only
    the subtracted mean differs).
    """
    if statistics not in ("train", "split"):
        raise ValueError(f"statistics must be 'train' or 'split', got {statistics!r}")
    x_train = np.asarray(x_train, dtype=np.float64)
    x_test = np.asarray(x_test, dtype=np.float64)
    out = []
    for x in (x_train, x_test):
        ref = x_train if statistics == "train" else x
        mean, std = ref.mean(), ref.std()
        if std == 0:
            raise ValueError("the images are all equal (std 0): cannot standardise them")
        z = (x - mean) / std
        norms = np.linalg.norm(z, axis=1, keepdims=True)
        if np.any(norms == 0):
            raise ValueError("an image equals the mean image exactly and cannot be scaled to unit "
                             "norm")
        out.append(z / norms)
    return out[0], out[1]


def load_digit_pair(n: int, digits: Sequence[int] = PAPER_DIGITS_FC, n_test: int | None = None,
                    seed: int = 0, source: str = "digits",
                    data_home: str | None = None, statistics: str = "train") -> DigitPair:
    """n training images (n/2 per digit, +1 for the first digit) and a balanced test set.

    See lesson 06.

    ``n_test`` defaults to the paper's 256 test images, or fewer (balanced) when a class of the
    8x8 digits has too few images left. Sampling without replacement, seeded by ``seed``.

    >>> data = load_digit_pair(16, digits=(8, 9), n_test=32, seed=0)
    >>> data.x_train.shape, data.y_train[:3], round(float(np.linalg.norm(data.x_test[0])), 6)
    ((16, 64), array([-1.,  1., -1.]), 1.0)
    """
    digits = digit_pair(digits)
    if not isinstance(n, (int, np.integer)) or n < 2 or n % 2:
        raise ValueError(f"n must be an even integer >= 2 (n/2 examples per class), got {n!r}")
    if source == "mnist-subset" and not set(digits) <= set(MNIST_SUBSET_DIGITS):
        raise ValueError(f"the shipped MNIST subset holds only the digits {MNIST_SUBSET_DIGITS}, "
                         f"got {digits}; use source='mnist' (online) for other digits")
    x_all, labels = _load_images(source, data_home)
    pools = [np.flatnonzero(labels == d) for d in digits]
    available = min(len(p) for p in pools)
    if n // 2 > available - 1:
        raise ValueError(
            f"n = {n} needs {n // 2} training images per class (and at least one test image), but "
            f"the {source!r} data have only {available} images of the rarer digit of {digits}. "
            f"Use n <= {2 * (available - 1)}" + (" or source='mnist' when "
                                                 "online." if source == "digits" else ".")
        )
    if n_test is None:
        n_test = min(256, 2 * (available - n // 2))
    if not isinstance(n_test, (int, np.integer)) or n_test < 2 or n_test % 2:
        raise ValueError(f"n_test must be an even integer >= 2 (balanced test set), got {n_test!r}")
    if n // 2 + n_test // 2 > available:
        raise ValueError(
            f"n = {n} and n_test = {n_test} need {n // 2 + n_test // 2} images per class, but only "
            f"{available} exist for the rarer digit of {digits}; lower n_test to <= "
            f"{2 * (available - n // 2)}."
        )
    rng = np.random.default_rng(seed)
    train_idx, test_idx = [], []
    for pool in pools:
        chosen = rng.permutation(pool)
        train_idx.append(chosen[: n // 2])
        test_idx.append(chosen[n // 2: n // 2 + n_test // 2])
    y_train = np.repeat([1.0, -1.0], n // 2)
    y_test = np.repeat([1.0, -1.0], n_test // 2)
    order = rng.permutation(n)  # mix the classes so that the first examples are not all +1
    train_idx, test_idx = np.concatenate(train_idx)[order], np.concatenate(test_idx)
    x_train, x_test = standardise_images(x_all[train_idx], x_all[test_idx], statistics)
    return DigitPair(x_train, y_train[order], x_test, y_test, digits, source,
                     train_idx, test_idx)
