"""Issue 12, item 8: in a real browser, moving a slider of qdr_course.widgets redraws its figure.

JupyterLab (started as tests/test_browser.py starts it, with the course's settings) opens a
one-cell notebook in a temporary folder that calls ``explore_bloch``; Chromium runs it, the test
checks that a slider and the figure (a PNG inside the widget's output) are shown, presses the
right-arrow key on the slider's handle twice and waits until the figure's image changes and the
slider's readout says the new angle. Skipped, with the reason, where test_browser.py skips.
"""

from __future__ import annotations

import contextlib
import os

import nbformat
import pytest
from test_browser import (
    ARTIFACTS,
    CHROMIUM_FLAGS,
    DOCUMENT_READY_JS,
    KERNEL_IDLE_JS,
    PAGE_TIMEOUT_MS,
    ROOT,
    chromium_or_skip,
    jupyterlab,
)

pytest.importorskip("ipywidgets", reason="ipywidgets is not installed")

FIGURE_SRC_JS = """() => {
  const img = document.querySelector('.widget-output img');
  return img ? img.getAttribute('src') : null;
}"""
READOUT_JS = """() => {
  const r = document.querySelector('.widget-readout');
  return r ? (r.value !== undefined && r.value !== '' ? r.value : r.textContent).trim() : null;
}"""


def test_moving_the_bloch_slider_redraws_the_figure(tmp_path, monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    chromium = chromium_or_skip()
    monkeypatch.delenv("QDR_STATIC_WIDGETS", raising=False)  # conftest sets it for nbval
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    folder = tmp_path / "notebooks"
    folder.mkdir()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from qdr_course.widgets import explore_bloch\n\nexplore_bloch(start=0.8)")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbformat.write(notebook, folder / "widget.ipynb")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "widget-jupyterlab.log"
    with jupyterlab(tmp_path / "jupyter", folder, log) as (base, token), \
            sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(chromium), headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1400, "height": 1000}, timeout=PAGE_TIMEOUT_MS)
        page = context.pages[0] if context.pages else context.new_page()
        try:
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            page.goto(f"{base}/lab/tree/widget.ipynb?reset&token={token}",
                      wait_until="domcontentloaded")
            page.wait_for_function(DOCUMENT_READY_JS)
            page.wait_for_function(KERNEL_IDLE_JS, timeout=120_000)
            page.locator(".jp-Notebook .jp-Cell").first.click()
            page.keyboard.press("Shift+Enter")
            page.wait_for_selector(".widget-slider", timeout=120_000)
            page.wait_for_function(FIGURE_SRC_JS, timeout=PAGE_TIMEOUT_MS)
            before, readout_before = page.evaluate(FIGURE_SRC_JS), page.evaluate(READOUT_JS)
            page.screenshot(path=str(ARTIFACTS / "widget-before.png"))
            handle = page.locator(".widget-slider .noUi-handle").first
            handle.focus()
            handle.press("ArrowRight")
            handle.press("ArrowRight")
            page.wait_for_function(
                "(old) => { const img = document.querySelector('.widget-output img');"
                " return img && img.getAttribute('src') !== old; }", arg=before,
                timeout=PAGE_TIMEOUT_MS)
            after, readout_after = page.evaluate(FIGURE_SRC_JS), page.evaluate(READOUT_JS)
            page.screenshot(path=str(ARTIFACTS / "widget-after.png"))
        except Exception:
            with contextlib.suppress(Exception):
                page.screenshot(path=str(ARTIFACTS / "widget-failed.png"))
            raise
        finally:
            context.close()
    assert before.startswith("data:image/png") and after.startswith("data:image/png")
    assert after != before, "the figure did not change when the slider moved"
    assert readout_before == "0.80" and readout_after == "1.00", (readout_before, readout_after)
