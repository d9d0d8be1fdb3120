"""Sliders where moving a value teaches more than a paragraph; static figures without a frontend.

See lesson 01.

Each explorer draws with a figure function that takes a list of slider values and returns one
matplotlib figure with a panel per value. In a live Jupyter frontend with ipywidgets the
explorer shows a slider and redraws the figure for its value; without ipywidgets, outside
IPython (a plain Python run), in a kernel no live frontend started (a headless run:
:func:`live_frontend`) or when ``QDR_STATIC_WIDGETS`` is set (``qdr-course build --execute``
and nbval set it: nobody can move a slider there) it shows the figure for a few fixed values
instead, so the same cell teaches in both cases.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence

import numpy as np

from qdr_course.utils import OKABE_ITO

__all__ = [
    "widgets_available",
    "bloch_figure",
    "shots_gradient_figure",
    "depth_decay_figure",
    "explore_bloch",
    "explore_shots",
    "explore_depth_factor",
]

STATIC_ENV = "QDR_STATIC_WIDGETS"
SHOTS_CHOICES = (10, 30, 100, 300, 1000, 3000, 10000)


#: Set in a kernel's environment by a live frontend: jupyter_server (JupyterLab, Notebook 7,
#: JupyterHub, Binder) names the notebook's session; VS Code runs its kernels under its own PID.
#: ``QDR_LIVE_WIDGETS=1`` asks for sliders anywhere else.
LIVE_FRONTEND_ENV = ("JPY_SESSION_NAME", "VSCODE_PID", "QDR_LIVE_WIDGETS")


def live_frontend() -> bool:
    """True when a person's frontend started this kernel, not a headless runner.

    A headless run (nbclient, ``jupyter nbconvert --execute``, papermill) starts its kernel without
    a session name. There nobody can move a slider, and a live widget only adds a burst of comm
    messages around the cell's reply: under load that burst once let nbclient's wait for the
    reply miss its wake-up and sit out the whole cell timeout (pyzmq's poller then re-polls at
    the deadline and finds the reply), so a headless run draws the static figures instead.
    """
    return any(os.environ.get(name) for name in LIVE_FRONTEND_ENV)


def widgets_available() -> bool:
    """True in a live Jupyter frontend's kernel with ipywidgets installed, unless
    QDR_STATIC_WIDGETS is set."""
    if os.environ.get(STATIC_ENV) or not live_frontend():
        return False
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


#: Okabe-Ito colours of the two gradient estimates (lesson 02), each also drawn its own way.
SHIFT_VS_FD = {"shift": OKABE_ITO[4], "fd": OKABE_ITO[5]}


def _plt():
    import matplotlib.pyplot as plt
    return plt


# -- lesson 01: theta on the Bloch sphere ------------------------------------------------------
def bloch_figure(thetas: Sequence[float]):
    """R_Y(theta)|0> on the Bloch sphere, one sphere per angle, with <Z> = cos theta. See lesson 01.
    """
    from qiskit.visualization import plot_bloch_vector

    thetas = [float(t) for t in thetas]
    if not thetas or not all(math.isfinite(t) for t in thetas):
        raise ValueError(f"give one or more finite angles, got {thetas!r}")
    plt = _plt()
    fig = plt.figure(figsize=(3.2 * len(thetas), 3.6))
    for k, theta in enumerate(thetas):
        ax = fig.add_subplot(1, len(thetas), k + 1, projection="3d")
        plot_bloch_vector([math.sin(theta), 0.0, math.cos(theta)], ax=ax, font_size=11)
        ax.set_title(f"θ = {theta:.2f}: <Z> = cos θ = {math.cos(theta):+.2f}\n"
                     f"P(1) = sin²(θ/2) = {math.sin(theta / 2) ** 2:.2f}", fontsize=10, y=1.08)
    fig.suptitle("R_Y(θ)|0> on the Bloch sphere: θ is the angle from the north pole |0>",
                 fontsize=11)
    return fig


# -- lesson 02: shots against the gradient's error ----------------------------------------------
def _gradient_samples(shots: int, h: float, rng, theta: float, repeats: int) -> np.ndarray:
    """Repeated estimates of d<Z>/dtheta (<Z> = cos theta) from shots: shift rule or FD with h."""
    e_plus, e_minus = math.cos(theta + h), math.cos(theta - h)
    z_plus = 1 - 2 * rng.binomial(shots, (1 - e_plus) / 2, size=repeats) / shots
    z_minus = 1 - 2 * rng.binomial(shots, (1 - e_minus) / 2, size=repeats) / shots
    scale = 2 * math.sin(h) if math.isclose(h, math.pi / 2) else 2 * h
    return (z_plus - z_minus) / scale


def shots_gradient_figure(shots_values: Sequence[int], theta: float = 0.5, h: float = 0.1,
                          repeats: int = 400, seed: int = 0):
    """Histograms of shift-rule and finite-difference gradients from shots, and their spreads.

    Binomial shots of <Z> = cos(theta); :func:`explore_shots` draws it in lesson 02.
    """
    shots_values = [int(s) for s in shots_values]
    if not shots_values or min(shots_values) < 1:
        raise ValueError(f"shots must be positive whole numbers, got {shots_values!r}")
    if not h > 0:
        raise ValueError(f"h must be positive, got {h}")
    plt = _plt()
    rng = np.random.default_rng(seed)
    exact = -math.sin(theta)
    panels = len(shots_values) + 1
    fig, axes = plt.subplots(1, panels, figsize=(3.6 * panels, 3.2))
    for ax, shots in zip(axes, shots_values):
        shift = _gradient_samples(shots, math.pi / 2, rng, theta, repeats)
        fd = _gradient_samples(shots, h, rng, theta, repeats)
        bins = np.linspace(exact - 4 * max(fd.std(), 1e-3), exact + 4 * max(fd.std(), 1e-3), 41)
        # told apart by fill and hatching as well as by colour (Okabe-Ito)
        ax.hist(np.clip(fd, bins[0], bins[-1]), bins, histtype="stepfilled", alpha=0.5,
                color=SHIFT_VS_FD["fd"], hatch="///", edgecolor=SHIFT_VS_FD["fd"],
                label=f"finite diff. h = {h}")
        ax.hist(np.clip(shift, bins[0], bins[-1]), bins, histtype="step", linewidth=2,
                color=SHIFT_VS_FD["shift"], label="parameter shift")
        ax.axvline(exact, color="k", lw=1, ls="-.", label="exact")
        ax.set(title=f"N = {shots} shots per run", xlabel="gradient estimate",
               ylabel=f"count of {repeats} runs")
    axes[0].legend(fontsize=8)
    grid = np.array(SHOTS_CHOICES)
    var = (2 - math.cos(theta + math.pi / 2) ** 2 - math.cos(theta - math.pi / 2) ** 2) / 4
    var_fd = (2 - math.cos(theta + h) ** 2 - math.cos(theta - h) ** 2) / (4 * h**2)
    axes[-1].loglog(grid, np.sqrt(var / grid), marker="o", ls="-", color=SHIFT_VS_FD["shift"],
                    label="parameter shift")
    axes[-1].loglog(grid, np.sqrt(var_fd / grid), marker="s", ls="--", color=SHIFT_VS_FD["fd"],
                    label=f"finite diff. h = {h}")
    for shots in shots_values:
        axes[-1].axvline(shots, color="grey", ls=":")
    axes[-1].set(title="standard deviation of the gradient", xlabel="shots per run N",
                 ylabel="std (predicted)")
    axes[-1].legend(fontsize=8)
    fig.tight_layout()
    return fig


# -- lesson 06: the depth factor against the NTK's off-diagonal decay ---------------------------
def depth_decay_figure(depth_factors: Sequence[float], x_train: np.ndarray, get: str = "ntk"):
    """The normalised NTK at depth round(factor L_conv), per factor, and its off-diagonal decay.

    For lesson 06 (through :func:`explore_depth_factor`): the deeper the erf network, the
    closer its normalised kernel is to the identity (mean |off-diagonal| falls) and the
    smaller its condition number kappa.
    """
    from qdr_course.ntk.kernels import erf_ntk
    from qdr_course.ntk.networks import MAX_STABLE_DEPTH, convergence_depth, min_margin

    factors = [float(f) for f in depth_factors]
    if not factors or not all(f > 0 and math.isfinite(f) for f in factors):
        raise ValueError(f"depth factors must be positive numbers, got {factors!r}")
    x = np.asarray(x_train, dtype=float)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"x_train must be a (n, d) array with n >= 2, got shape {x.shape}")
    if not np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-6):
        raise ValueError("x_train's rows must have unit norm, as lesson 06's data has: divide "
                         "each row by np.linalg.norm(x, axis=1, keepdims=True)")
    l_conv = convergence_depth(len(x), min_margin(x))
    depth_of = lambda f: min(MAX_STABLE_DEPTH, max(1, int(round(f * l_conv))))  # noqa: E731

    def normalised(depth):
        k = erf_ntk(x, depth=depth, get=get)
        d = np.sqrt(np.diag(k))
        return k / np.outer(d, d), np.linalg.cond(k)

    plt = _plt()
    fig, axes = plt.subplots(1, len(factors) + 1, figsize=(3.6 * (len(factors) + 1), 3.3))
    for ax, f in zip(axes, factors):
        k, kappa = normalised(depth_of(f))
        image = ax.imshow(k, vmin=0, vmax=1, cmap="viridis")
        ax.set(title=f"factor {f:.2f}: depth {depth_of(f)}, κ = {kappa:.1f}",
               xlabel="training point j", ylabel="training point i")
        fig.colorbar(image, ax=ax, fraction=0.046, label="K_ij / sqrt(K_ii K_jj)")
    grid = np.unique([depth_of(f) for f in np.linspace(0.02, 1.0, 25)])
    off = [np.abs(normalised(int(d))[0][~np.eye(len(x), dtype=bool)]).mean() for d in grid]
    axes[-1].semilogy(grid, off, marker=".")
    for f in factors:
        axes[-1].axvline(depth_of(f), color="grey", ls=":")
    axes[-1].set(title=f"off-diagonal decay (L_conv = {l_conv:.0f})", xlabel="depth",
                 ylabel="mean |normalised off-diagonal|")
    fig.tight_layout()
    return fig


# -- the explorers --------------------------------------------------------------------------------
def _explore(draw: Callable, slider, static_values: Sequence, what: str):
    """A slider that redraws ``draw([value])``, or ``draw(static_values)`` shown once.

    Returns None (the figure or the slider is already on screen: a cell ending with the call
    shows it once).
    """
    plt = _plt()
    if slider is None:
        draw(list(static_values))
        plt.show()
        return None
    import ipywidgets
    from IPython.display import display

    out = ipywidgets.Output()

    def redraw(change=None):
        with out:
            out.clear_output(wait=True)
            fig = draw([slider.value])
            display(fig)
            plt.close(fig)

    slider.observe(redraw, names="value")
    redraw()
    box = _Explorer([slider, out])
    box.summary = f"{what}: move the slider to redraw (needs a live Jupyter frontend)"
    display(box)
    return None


def _explorer_class():
    import ipywidgets

    class Explorer(ipywidgets.VBox):
        """A VBox whose plain-text form is a fixed sentence (its model id is random)."""

        summary = "an interactive figure"

        def _repr_mimebundle_(self, **kwargs):
            bundle = super()._repr_mimebundle_(**kwargs)
            bundle["text/plain"] = self.summary
            return bundle

    return Explorer


def _Explorer(children):  # noqa: N802 - built lazily so ipywidgets stays optional
    return _explorer_class()(children)


def explore_bloch(start: float = 0.8):
    """A slider for theta with R_Y(theta)|0> on the Bloch sphere. See lesson 01."""
    slider = None
    if widgets_available():
        import ipywidgets
        slider = ipywidgets.FloatSlider(value=start, min=0.0, max=round(2 * math.pi, 2),
                                        step=0.1, description="θ", continuous_update=False)
    return _explore(bloch_figure, slider, (0.0, math.pi / 2, start, math.pi),
                    "θ on the Bloch sphere")


def explore_shots(start: int = 100, theta: float = 0.5, h: float = 0.1):
    """A slider for the shots per run against the gradient's spread. See lesson 02."""
    if start not in SHOTS_CHOICES:
        raise ValueError(f"start must be one of {SHOTS_CHOICES}, got {start!r}")
    draw = lambda values: shots_gradient_figure(values, theta=theta, h=h)  # noqa: E731
    slider = None
    if widgets_available():
        import ipywidgets
        slider = ipywidgets.SelectionSlider(options=list(SHOTS_CHOICES), value=start,
                                            description="shots", continuous_update=False)
    return _explore(draw, slider, (100, 10000), "shots against the gradient's error")


def explore_depth_factor(x_train: np.ndarray, start: float = 0.1):
    """A slider for the depth factor against the NTK's off-diagonal decay. See lesson 06."""
    draw = lambda values: depth_decay_figure(values, x_train)  # noqa: E731
    slider = None
    if widgets_available():
        import ipywidgets
        slider = ipywidgets.FloatSlider(value=start, min=0.05, max=1.0, step=0.05,
                                        description="depth factor", continuous_update=False)
    return _explore(draw, slider, (0.05, start, 0.5), "the depth factor against the NTK")
