"""A lesson that was only read is not "changed" (issue 25 item 6): JupyterLab writes the kernel's
language_info into a notebook when its kernel starts, which marked every lesson as modified and
asked to save it on closing. The build now stores the language_info of the kernel that executed
the solutions in each lesson notebook; on that Python, opening a lesson changes nothing.

Runs in JupyterLab + Chromium with the private settings of tests/test_browser.py.
"""

from __future__ import annotations

import json
import platform
import time

import pytest
import test_browser as browser  # the JupyterLab + Chromium harness of tests/test_browser.py

MODEL_JS = """() => { const w = window.jupyterapp.shell.currentWidget;
  const m = w && w.context && w.context.model;
  return m ? {dirty: m.dirty, path: w.context.path,
              language: m.toJSON().metadata.language_info} : null; }"""


def test_every_lesson_notebook_stores_the_executing_kernels_language_info():
    for lesson in sorted(browser.LESSONS.glob("[0-9][0-9]_*.ipynb")):
        solution = browser.ROOT / "solutions" / lesson.name
        stored = json.loads(lesson.read_text())["metadata"]["language_info"]
        executed = json.loads(solution.read_text())["metadata"]["language_info"]
        assert stored == executed and "version" in stored, lesson.name


def test_a_lesson_opened_and_only_read_is_not_modified(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    chromium = browser.chromium_or_skip()
    lesson = "00_welcome.ipynb"
    stored = json.loads((browser.LESSONS / lesson).read_text())["metadata"]["language_info"]
    if stored["version"] != platform.python_version():
        pytest.skip(f"the lessons were built with Python {stored['version']}, this kernel is "
                    f"{platform.python_version()}: JupyterLab updates the version there")
    log = tmp_path / "jupyterlab.log"
    with browser.jupyterlab(tmp_path / "jupyter", browser.LESSONS, log) as (base, token), \
            sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(chromium), headless=True,
            args=browser.CHROMIUM_FLAGS, timeout=browser.PAGE_TIMEOUT_MS)
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(browser.PAGE_TIMEOUT_MS)
            page.goto(f"{base}/lab/tree/{lesson}?reset&token={token}",
                      wait_until="domcontentloaded")
            page.wait_for_function(browser.DOCUMENT_READY_JS)
            page.wait_for_function(browser.KERNEL_IDLE_JS, timeout=browser.RUN_ALL_TIMEOUT_MS)
            time.sleep(2)  # the kernel's info has arrived and been applied
            state = page.evaluate(MODEL_JS)
        finally:
            context.close()
    assert state["path"] == lesson
    assert state["language"] == stored  # the kernel's language_info, as stored
    assert state["dirty"] is False, "opening the lesson marked it as modified"
