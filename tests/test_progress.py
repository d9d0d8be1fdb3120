"""Progress bars: the notebook widget with ipywidgets, plain text without, no warning either way."""

from __future__ import annotations

import importlib.util

import nbformat
import pytest
from nbclient import NotebookClient

from qdr_course import progress


def test_without_ipywidgets_the_bar_is_plain_text(monkeypatch):
    import tqdm.std

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "ipywidgets" else real(name, *a))
    assert progress.progress_bar() is tqdm.std.tqdm


def test_with_ipywidgets_the_bar_is_tqdm_auto(monkeypatch):
    import tqdm.auto

    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())
    assert progress.progress_bar() is tqdm.auto.tqdm


@pytest.mark.parametrize("value, off", [("1", True), ("True", True), ("0", False), ("", False)])
def test_tqdm_disable_chooses_plain_text(monkeypatch, value, off):
    monkeypatch.setenv("TQDM_DISABLE", value)
    assert progress.bars_disabled() is off


def test_in_a_notebook_with_bars_disabled_nothing_is_displayed(monkeypatch):
    """nbval compares outputs: a disabled bar must leave none (tqdm's widget would show one)."""
    monkeypatch.setenv("TQDM_DISABLE", "1")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from qdr_course.progress import progress_bar\n"
        "assert sum(progress_bar()(range(3), desc='demo')) == 3")])
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    assert notebook.cells[0].outputs == []


def _run_in_a_kernel(code: str) -> str:
    """Run ``code`` in a fresh notebook kernel; all its text output (stdout and stderr)."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    return "".join(o.get("text", "") for o in notebook.cells[0].outputs)


# In the kernel, ipywidgets is made unfindable (it may be installed): the learner without it.
HIDE_IPYWIDGETS = ("import importlib.util, sys\n"
                   "_find = importlib.util.find_spec\n"
                   "importlib.util.find_spec = lambda name, *a: None if name == 'ipywidgets' "
                   "else _find(name, *a)\n"
                   "sys.modules['ipywidgets'] = None\n")


def test_in_a_notebook_without_ipywidgets_no_warning_is_shown(monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)  # the suite switches bars off
    code = (HIDE_IPYWIDGETS + "import warnings; warnings.simplefilter('always')\n"
            "from qdr_course.progress import progress_bar\n"
            "bar = progress_bar()\n"
            "print('class:', bar.__module__)\n"
            "print('total:', sum(bar(range(3), desc='demo')))\n")
    out = _run_in_a_kernel(code)
    assert "class: tqdm.std" in out and "total: 3" in out and "demo: 100%" in out, out
    assert "Warning" not in out and "IProgress" not in out, out
    # What the course used before: tqdm.auto warns there (so this test can tell the difference).
    out = _run_in_a_kernel(HIDE_IPYWIDGETS + "import warnings; warnings.simplefilter('always')\n"
                           "from tqdm.auto import tqdm\n")
    assert "IProgress not found" in out, out
