"""Issue 25 item 7: the widget lessons run headless, under CPU load, without waiting on a widget.

Once, under load, lesson 01 run headless sat out the whole 600 s cell timeout after its
Bloch-sphere cell and then finished without error. That is nbclient's wait for the cell's reply
missing its wake-up while a live widget sent its burst of comm messages; pyzmq's poller re-polls
at the deadline and finds the reply, hence "exactly the timeout, then no error". A headless
kernel (no session name from a frontend) now draws the static figures: no widget, no burst.
These tests run the learner copies of the three widget lessons (01, 02, 06) in a fresh kernel
the way a headless runner does - without the course's QDR_STATIC_WIDGETS - next to a busy-loop
process, with a short cell timeout, and check that every explorer cell drew its figure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from qdr_course import widgets

ROOT = Path(__file__).resolve().parent.parent
CELL_TIMEOUT = 120  # seconds: far below the 600 s of the stall, far above a cell's run time
EXPLORERS = ("explore_bloch(", "explore_shots(", "explore_depth_factor(")


@pytest.fixture
def headless_environment(monkeypatch):
    """The environment a headless runner gives its kernel: none of the course's settings."""
    for name in (widgets.STATIC_ENV, *widgets.LIVE_FRONTEND_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))


@pytest.fixture
def cpu_load():
    """One busy-loop process for the length of the test."""
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        busy.kill()
        busy.wait()


@pytest.mark.parametrize("lesson", ["01_circuits", "02_parameter_shift",
                                    "06_neural_tangent_kernel"])
def test_a_widget_lesson_runs_headless_under_load(lesson, headless_environment, cpu_load):
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "lessons" / f"{lesson}.ipynb", as_version=4)
    explorer_cells = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
                      and any(name in cell.source for name in EXPLORERS)]
    assert explorer_cells, f"lesson {lesson} has no explorer cell"
    start = time.perf_counter()
    NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "lessons")}}).execute()
    seconds = time.perf_counter() - start
    for index in explorer_cells:
        outputs = nb.cells[index].outputs
        kinds = [set(o.get("data", {})) for o in outputs if o.output_type == "display_data"]
        assert any("image/png" in k for k in kinds), f"cell {index} drew no static figure"
        assert not any("application/vnd.jupyter.widget-view+json" in k for k in kinds), (
            f"cell {index} made a live widget in a headless run")
    assert seconds < 4 * CELL_TIMEOUT, f"{lesson} took {seconds:.0f} s"


def test_only_a_live_frontend_gets_sliders(monkeypatch):
    for name in (widgets.STATIC_ENV, *widgets.LIVE_FRONTEND_ENV):
        monkeypatch.delenv(name, raising=False)
    assert not widgets.live_frontend()
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/learner/lessons/01_circuits.ipynb")
    assert widgets.live_frontend()
    # a live frontend still needs a Jupyter kernel: pytest is none
    assert not widgets.widgets_available()
    monkeypatch.setattr("IPython.get_ipython", lambda: type("ZMQInteractiveShell", (), {})())
    pytest.importorskip("ipywidgets")
    assert widgets.widgets_available()
    monkeypatch.setenv(widgets.STATIC_ENV, "1")
    assert not widgets.widgets_available()
    monkeypatch.delenv(widgets.STATIC_ENV)
    monkeypatch.delenv("JPY_SESSION_NAME")
    assert not widgets.widgets_available()  # the same kernel, started headless
