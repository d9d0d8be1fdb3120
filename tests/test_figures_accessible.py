"""The package's figures and verdicts are readable without colour: colour-blind-safe palettes,
every series told apart by line style, marker or hatching, legible numbers on heat maps, and
check verdicts in words beside their symbols (issue 25.5)."""

import itertools

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402

from qdr_course.checks._core import FAIL, PASS, TODO, VERDICT  # noqa: E402
from qdr_course.retina.metrics import (  # noqa: E402
    contrast_ratio,
    legible_text_colour,
    plot_confusion,
    relative_luminance,
)
from qdr_course.retina.runs import plot_learning_curve  # noqa: E402
from qdr_course.widgets import depth_decay_figure, shots_gradient_figure  # noqa: E402

#: Perceptually uniform maps that colour-blind readers (and grey-scale prints) read in order.
SAFE_IMAGE_MAPS = {"viridis", "cividis", "magma", "inferno", "plasma", "gray", "Greys"}
WCAG_AA_TEXT = 4.5


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_contrast_ratio_matches_the_wcag_formula():
    assert contrast_ratio((0, 0, 0), (1, 1, 1)) == pytest.approx(21.0)
    assert contrast_ratio((0.3, 0.6, 0.1), (0.3, 0.6, 0.1)) == pytest.approx(1.0)
    # WCAG's own example: #767676 on white is the lightest grey that passes AA (4.54:1)
    assert contrast_ratio(to_rgb("#767676"), (1, 1, 1)) == pytest.approx(4.54, abs=0.01)
    assert relative_luminance(to_rgb("#808080")) == pytest.approx(0.2159, abs=1e-4)
    assert legible_text_colour((0.1, 0.1, 0.4)) == "white"
    assert legible_text_colour((0.99, 0.9, 0.15, 1.0)) == "black"  # viridis' yellow end


@pytest.mark.parametrize("normalize", [True, False])
def test_confusion_matrix_is_viridis_with_legible_numbers_and_a_colour_bar(normalize):
    counts = np.random.default_rng(0).integers(0, 40, size=(5, 5)) + np.diag([90] * 5)
    counts[4, :] = [0, 0, 0, 0, 0]  # an empty row: shown as zeros
    ax = plot_confusion(counts, normalize=normalize)
    image = ax.get_images()[0]
    assert image.cmap.name in SAFE_IMAGE_MAPS
    assert len(ax.figure.axes) == 2  # the colour bar
    texts = ax.texts
    assert len(texts) == 25  # every cell prints its number: colour is never the only cue
    values = image.get_array()
    for text in texts:
        j, i = (int(round(c)) for c in text.get_position())
        background = image.cmap(image.norm(values[i, j]))
        ratio = contrast_ratio(background, to_rgb(text.get_color()))
        assert ratio >= WCAG_AA_TEXT, f"cell ({i}, {j}): contrast {ratio:.2f}"


def _signature(artist) -> tuple:
    """How an artist looks apart from its colour."""
    if hasattr(artist, "get_marker"):
        return ("line", str(artist.get_linestyle()), str(artist.get_marker()))
    return ("patch", artist.get_hatch(), bool(artist.get_fill()), str(artist.get_linestyle()),
            artist.get_linewidth())


def _assert_told_apart_without_colour(axes) -> int:
    """Within each axes, the labelled series differ in more than colour; return how many."""
    compared = 0
    for ax in axes:
        handles, labels = ax.get_legend_handles_labels()
        for (h1, l1), (h2, l2) in itertools.combinations(zip(handles, labels), 2):
            compared += 1
            assert _signature(h1) != _signature(h2), f"{l1!r} and {l2!r} differ only in colour"
    return compared


def test_shots_figure_tells_the_two_estimates_apart_without_colour():
    fig = shots_gradient_figure([10, 1000], repeats=50)
    assert _assert_told_apart_without_colour(fig.axes) >= 4


def test_learning_curve_tells_its_curves_apart_without_colour():
    history = {"train_loss": [1.2, 0.9, 0.7], "val_loss": [1.3, 1.0, 0.9],
               "val_qwk": [0.1, 0.4, 0.5]}
    ax = plot_learning_curve(history)
    lines = [line for a in ax.figure.axes for line in a.get_lines()]
    assert len({_signature(line) for line in lines}) == len(lines) == 3


def test_depth_figure_uses_a_safe_map_with_colour_bars():
    x = np.random.default_rng(1).normal(size=(6, 3))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    fig = depth_decay_figure([0.1, 0.5], x)
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 2 and all(im.cmap.name in SAFE_IMAGE_MAPS for im in images)
    assert all(im.colorbar is not None for im in images)


def test_verdicts_are_words_not_only_symbols():
    assert set(VERDICT) == {PASS, FAIL, TODO}
    assert all(len(words.split()) >= 1 and words.isascii() for words in VERDICT.values())
    assert len(set(VERDICT.values())) == 3  # each verdict its own words
