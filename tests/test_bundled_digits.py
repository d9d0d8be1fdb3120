"""The 8x8 digits of lessons 06-08 are read without importing scikit-learn, and are its digits."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qdr_course.ntk import data as ntk_data

ROOT = Path(__file__).resolve().parent.parent


def test_bundled_digits_are_sklearns_load_digits_exactly():
    from sklearn.datasets import load_digits

    images, labels = ntk_data._bundled_digits()
    bunch = load_digits()
    assert images.shape == (1797, 64) and images.dtype == np.float64
    assert images.flags.c_contiguous
    np.testing.assert_array_equal(images, bunch.data)
    np.testing.assert_array_equal(labels, bunch.target)
    assert labels.dtype == bunch.target.dtype


def test_digit_pairs_and_the_cnn_pool_do_not_import_sklearn():
    # Fails if a scikit-learn release moves datasets/data/digits.csv.gz (the fallback then
    # imports sklearn: correct data, but 65 MB more in lessons 06-08): update
    # BUNDLED_DIGITS_FILE in qdr_course/ntk/data.py.
    code = ("import sys\n"
            "from qdr_course.ntk.data import load_digit_pair\n"
            "from qdr_course.ntk.cnn import cnn_pool\n"
            "load_digit_pair(32, (8, 9), n_test=64, seed=0)\n"
            "cnn_pool()\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


def test_a_moved_file_falls_back_to_load_digits(monkeypatch):
    expected_images, expected_labels = ntk_data._bundled_digits()
    monkeypatch.setattr(ntk_data, "BUNDLED_DIGITS_FILE", Path("no", "such", "digits.csv.gz"))
    images, labels = ntk_data._bundled_digits()
    np.testing.assert_array_equal(images, expected_images)
    np.testing.assert_array_equal(labels, expected_labels)


def test_without_sklearn_the_error_names_it(monkeypatch):
    monkeypatch.setattr(ntk_data.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # as if not installed
    with pytest.raises(ImportError, match="sklearn"):
        ntk_data._bundled_digits()
