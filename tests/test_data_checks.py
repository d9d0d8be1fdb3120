"""Lesson 04's exercise checks accept right answers and reject the seed's bugs with a helpful
message.
"""

import numpy as np
from scipy.ndimage import gaussian_filter

from qdr_course.checks import check_ben_graham, check_label_map, check_qwk, check_stratified_split
from qdr_course.retina.metrics import confusion, qwk_from_confusion
from qdr_course.retina.splits import stratified_split

ICDR = ["No_DR", "Mild", "Moderate", "Severe", "Proliferate_DR"]


def test_label_map(capsys):
    assert check_label_map(lambda names: {n: ICDR.index(n) for n in names})
    assert not check_label_map(lambda names: {n: i for i, n in enumerate(sorted(names))})
    assert "alphabetical" in capsys.readouterr().out
    assert not check_label_map(lambda names: {n: i for i, n in enumerate(names)})


def test_stratified_split(capsys):
    assert check_stratified_split(lambda g, f, seed: stratified_split(g, f / 2, f / 2, seed)[:1]
                                  + (np.concatenate(stratified_split(g, f / 2, f / 2, seed)[1:]),))
    cut = lambda g, f, seed: (np.arange(int(len(g) * (1 - f))),
                              np.arange(int(len(g) * (1 - f)), len(g)))  # noqa
    assert not check_stratified_split(cut)
    assert "unshuffled" in capsys.readouterr().out

    def leak(g, f, seed):
        tr, va = cut(g, f, seed)
        return np.arange(len(g)), va

    assert not check_stratified_split(leak)
    assert "leak" in capsys.readouterr().out


def test_qwk(capsys):
    assert check_qwk(lambda a, b: qwk_from_confusion(confusion(a, b)))
    assert not check_qwk(lambda a, b: float(np.mean(a == b)))  # accuracy is not QWK

    def linear(a, b):
        O = confusion(a, b).astype(float)
        W = np.abs(np.subtract.outer(np.arange(5), np.arange(5))) / 4
        E = np.outer(O.sum(1), O.sum(0)) / O.sum()
        return 1 - (W * O).sum() / (W * E).sum()

    assert not check_qwk(linear)

    def todo(a, b):
        raise NotImplementedError

    assert not check_qwk(todo)
    assert "⏳ Not attempted yet" in capsys.readouterr().out


def test_ben_graham(capsys):
    def right(image, sigma):
        x = image.astype(np.float64)
        blurred = gaussian_filter(x, (sigma, sigma, 0))
        return np.clip(np.rint(4 * x - 4 * blurred + 128), 0, 255).astype(np.uint8)

    def overflow(image, sigma):
        blurred = gaussian_filter(image, (sigma, sigma, 0))
        return np.clip(4 * image - 4 * blurred + 128, 0, 255).astype(np.uint8)

    assert check_ben_graham(right)
    assert not check_ben_graham(overflow)
    assert "wraps around" in capsys.readouterr().out


def test_qwk_prediction_judges_against_the_measured_kappas(capsys):
    from qdr_course.checks import check_qwk_prediction

    assert check_qwk_prediction(lambda: (0.8, 0.45))   # measured 0.795 and 0.453
    assert not check_qwk_prediction(lambda: (0.13, 0.87))  # the accuracies, not the kappas
    assert "wrong way round" in capsys.readouterr().out
    assert not check_qwk_prediction(lambda: (0.99, 0.1))
    out = capsys.readouterr().out
    assert "more than 0.15 away" in out and "0.79" not in out and "0.45" not in out
    assert not check_qwk_prediction(lambda: 0.5)


def test_copy_prediction_names_the_largest_median(capsys):
    from qdr_course.checks import check_copy_prediction

    assert check_copy_prediction(lambda: "c")
    for wrong in "abd":
        assert not check_copy_prediction(lambda w=wrong: w)
    assert not check_copy_prediction(lambda: "e")
