"""Issue 12, item 8: the explorers' figures, their static fallback, and a slider that redraws."""

import math

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from qdr_course import widgets  # noqa: E402


def test_without_a_frontend_the_explorers_draw_static_figures(monkeypatch):
    monkeypatch.delenv(widgets.STATIC_ENV, raising=False)
    assert not widgets.widgets_available()  # pytest is no Jupyter kernel
    import matplotlib.pyplot as plt
    plt.close("all")
    assert widgets.explore_bloch(start=0.8) is None  # shown, not returned: no second copy
    fig = plt.gcf()
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == 4 and titles[2].startswith("θ = 0.80: <Z> = cos θ = +0.70")
    assert "P(1) = sin²(θ/2) = 1.00" in titles[3]  # theta = pi
    monkeypatch.setenv(widgets.STATIC_ENV, "1")
    assert not widgets.widgets_available()


def test_shot_noise_samples_have_the_predicted_spread():
    rng = np.random.default_rng(1)
    for shots in (100, 1000):
        shift = widgets._gradient_samples(shots, math.pi / 2, rng, 0.5, 4000)
        fd = widgets._gradient_samples(shots, 0.1, rng, 0.5, 4000)
        var = (2 - math.cos(0.5 + math.pi / 2) ** 2 - math.cos(0.5 - math.pi / 2) ** 2) / 4
        assert shift.std() == pytest.approx(math.sqrt(var / shots), rel=0.05)
        assert abs(shift.mean() + math.sin(0.5)) < 4 * math.sqrt(var / shots / 4000)
        assert fd.std() > 4 * shift.std()  # h = 0.1: about five times noisier here
    fig = widgets.shots_gradient_figure([100, 1000])
    assert len(fig.axes) == 3 and fig.axes[1].get_title() == "N = 1000 shots per run"
    with pytest.raises(ValueError, match="shots must be positive"):
        widgets.shots_gradient_figure([0])
    with pytest.raises(ValueError, match="start must be one of"):
        widgets.explore_shots(start=50)


def test_deeper_networks_have_a_more_diagonal_ntk():
    x = np.random.default_rng(0).normal(size=(12, 5))
    with pytest.raises(ValueError, match="unit norm"):
        widgets.depth_decay_figure([0.1], x)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    fig = widgets.depth_decay_figure([0.05, 0.5], x)
    heat_titles = [fig.axes[0].get_title(), fig.axes[1].get_title()]
    kappas = [float(t.split("κ = ")[1]) for t in heat_titles]
    assert kappas[1] < kappas[0]
    curve = [ax for ax in fig.axes if ax.get_title().startswith("off-diagonal decay")][0]
    off = curve.lines[0].get_ydata()
    assert off[-1] < off[0] and np.all(np.diff(off) <= 1e-12)
    with pytest.raises(ValueError, match="depth factors must be positive"):
        widgets.depth_decay_figure([0.0], x)
    with pytest.raises(ValueError, match="x_train must be a"):
        widgets.depth_decay_figure([0.1], x[0])


def test_with_widgets_moving_the_slider_redraws(monkeypatch):
    pytest.importorskip("ipywidgets")
    import ipywidgets

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    drawn = []

    def draw(values):
        drawn.append(list(values))
        return matplotlib.figure.Figure()

    slider = ipywidgets.FloatSlider(value=0.5, min=0, max=1, step=0.1)
    assert widgets._explore(draw, slider, (0.0, 1.0), "a test") is None
    box = shown[-1]
    assert drawn == [[0.5]]
    slider.value = 0.7
    assert drawn == [[0.5], [0.7]]
    bundle = box._repr_mimebundle_()
    assert bundle["text/plain"].startswith("a test: move the slider")
    assert "application/vnd.jupyter.widget-view+json" in bundle
