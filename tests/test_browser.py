"""A real browser: the lab command's JupyterLab opens lesson 00 as a notebook and it runs cleanly.

JupyterLab is started on a free localhost port, with a token and its own temporary config,
settings, workspace and runtime folders (so the developer's setup does not matter), the
project's ``binder/overrides.json`` as its app settings (the ``.py`` -> "Jupytext Notebook"
default viewer that Binder and the bootstrap script install) and ``lessons/`` as its root.
With ``QDR_BROWSER_SETTINGS=installed`` JupyterLab reads the overrides installed in
``<sys.prefix>/share/jupyter/lab/settings/`` instead (scripts/binder_rehearsal.sh uses this to
test the environment that binder/postBuild made).
JupyterLab gets the options ``qdr-course lab`` gives it (lesson 00 as the default URL,
--allow-root for root, the environment's bin first on PATH) and the course's server config
(``binder/jupyter_server_config.json``: the ``.py`` twins hidden).
Debian's Chromium, driven headless by Playwright, opens the server's root URL, as a learner's
browser does, and must land on ``00_welcome.ipynb`` (the ``.py`` lesson is opened by its path:
it too must open as a notebook); the test checks that it opened as a notebook through jupytext
(same cells as jupytext reads), runs all cells from the *Run* menu, waits until every code cell
has run and the kernel is idle, and asserts that no cell has an error output. The check's
verdict must be visible text on the page, its symbol beside its words ("⏳ Not attempted yet"),
and the check symbols must render as colour emoji, not as empty boxes. Screenshots and the
JupyterLab log are saved under ``test-artifacts/browser/`` whatever happens.

Chromium: ``QDR_CHROMIUM`` (default ``/usr/bin/chromium``); the emoji font: Debian's
``fonts-noto-color-emoji``. When either is missing and ``CI`` is set, the test installs the
Debian packages (as root, with time limits); otherwise, or when that fails, or when Playwright
is not installed, the test is skipped and says why.
Only localhost is contacted: in the browser every other host name fails to resolve, and the
test fails if the page tried one. Autosave is off and nothing is saved: the test checks that
the lesson files are byte-for-byte unchanged afterwards, and JupyterLab's checkpoints go to a
temporary folder, not ``lessons/.ipynb_checkpoints``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

from qdr_course.commands import lab

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = Path(os.environ.get("QDR_CHROMIUM", "/usr/bin/chromium"))
# Flags that work as root in a container; the user-data-dir is a new empty folder per run.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-proxy-server", "--disable-dev-shm-usage",
                  # Only localhost: every other host name fails to resolve inside the browser.
                  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}

SERVER_START_S = 60  # JupyterLab answering /api/status
PAGE_TIMEOUT_MS = 60_000  # any single browser wait (page load, a selector)
RUN_ALL_TIMEOUT_MS = 150_000  # the whole lesson, kernel start included
APT_UPDATE_S, APT_INSTALL_S = 300, 900

# What the lesson must print when it really ran (lesson 00's own outputs).
LESSON_00 = ["same numbers after re-seeding: True", "theta = 0.5 pi: P(1) = 0.500",
             "⏳ Not attempted yet - Exercise 0.1"]
EXPECTED_OUTPUT = {
    "00_welcome.ipynb": LESSON_00,
    "00_welcome.py": LESSON_00,
}


# --------------------------------------------------------------------------- the browser
EMOJI_FONT_PACKAGE = "fonts-noto-color-emoji"  # Debian's colour emoji font (✅ ❌ ⏳)


def emoji_font_present() -> bool:
    """True when fontconfig knows a colour emoji font covering the check symbols."""
    if shutil.which("fc-list") is None:
        return False
    done = subprocess.run(["fc-list", ":charset=2705 274c 23f3", "family"], capture_output=True,
                          text=True, timeout=60)
    return "emoji" in done.stdout.lower()


def _apt_install_chromium() -> str | None:
    """Install Debian's chromium and emoji font (CI only); return why that failed, or None."""
    if os.geteuid() != 0:
        return "not running as root, so apt-get cannot install chromium"
    if shutil.which("apt-get") is None:
        return "apt-get not found (not a Debian-like system)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command, limit in ((["apt-get", "update"], APT_UPDATE_S),
                           (["apt-get", "install", "-y", "chromium", EMOJI_FONT_PACKAGE],
                            APT_INSTALL_S)):
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=limit,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return f"'{' '.join(command)}' did not finish within {limit} s"
        if done.returncode != 0:
            tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            return f"'{' '.join(command)}' failed ({done.returncode}): {tail}"
    return None


def chromium_or_skip() -> Path:
    """Chromium, with an emoji font; in CI install them when missing; else skip with the reason."""
    if CHROMIUM.exists() and emoji_font_present():
        return CHROMIUM
    if not os.environ.get("CI"):
        pytest.skip(f"no Chromium at {CHROMIUM} or no colour emoji font: install Debian's "
                    f"packages (apt-get install chromium {EMOJI_FONT_PACKAGE}) or set "
                    "QDR_CHROMIUM to a Chromium executable")
    reason = _apt_install_chromium()
    if reason is None and not CHROMIUM.exists():
        reason = f"apt-get installed chromium but {CHROMIUM} does not exist"
    if reason is None and not emoji_font_present():
        reason = f"apt-get installed {EMOJI_FONT_PACKAGE} but fontconfig does not list it"
    if reason:
        pytest.skip(f"no Chromium or emoji font and it could not be installed: {reason}")
    return CHROMIUM


# --------------------------------------------------------------------------- JupyterLab
def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, timeout: float = 2.0) -> int:
    """HTTP status of a GET to a localhost URL, never through a proxy."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=timeout) as response:
        return response.status


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))


@contextlib.contextmanager
def jupyterlab(folder: Path, root_dir: Path, log_path: Path):
    """Run JupyterLab on ``root_dir`` with private settings; yield its URL and token; stop it."""
    import psutil

    port, token = free_port(), secrets.token_hex(16)
    dirs = {name: folder / name for name in ("config", "data", "runtime", "settings", "workspaces",
                                             "app-settings", "ipython", "checkpoints",
                                             "course-config")}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    lab_config = {
        "expose_app_in_browser": True,  # window.jupyterapp: read the notebook model
        "news_url": None,  # no announcement feed from the internet
        "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
        "extension_manager": "readonly",  # no PyPI queries from the extension manager
    }
    course_config: dict[str, str] = {}
    if os.environ.get("QDR_BROWSER_SETTINGS") == "installed":
        prefix = Path(sys.prefix)
        for installed in (prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json",
                          prefix / "etc" / "jupyter" / "jupyter_server_config.json"):
            assert installed.exists(), f"{installed} is missing: binder/postBuild installs it"
    else:  # the project's own settings, exactly as binder/postBuild and the bootstrap install them
        shutil.copy(ROOT / "binder" / "overrides.json", dirs["app-settings"] / "overrides.json")
        lab_config["app_settings_dir"] = str(dirs["app-settings"])
        # The server config (one entry per lesson) from a config folder of its own, as it
        # would be read from <environment>/etc/jupyter/.
        dirs["course-config"].mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "binder" / "jupyter_server_config.json",
                    dirs["course-config"] / "jupyter_server_config.json")
        course_config["JUPYTER_CONFIG_PATH"] = str(dirs["course-config"])
    _write_json(dirs["config"] / "jupyter_lab_config.json", {"LabApp": lab_config})
    # JupyterLab checkpoints a file when it opens it: keep that out of the repository.
    _write_json(dirs["config"] / "jupyter_server_config.json",
                {"FileCheckpoints": {"checkpoint_dir": str(dirs["checkpoints"])}})
    # Never write the lesson: autosave off (and the test never saves). No news pop-up either.
    user = dirs["settings"] / "@jupyterlab"
    _write_json(user / "docmanager-extension" / "plugin.jupyterlab-settings", {"autosave": False})
    _write_json(user / "apputils-extension" / "notification.jupyterlab-settings",
                {"fetchNews": "false", "checkForUpdates": False})
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(dirs["config"]),
           "JUPYTER_DATA_DIR": str(dirs["data"]), "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
           "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]),
           "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]), "IPYTHONDIR": str(dirs["ipython"]),
           "JUPYTER_PLATFORM_DIRS": "1", "NO_PROXY": "127.0.0.1,localhost",
           "no_proxy": "127.0.0.1,localhost", **course_config}
    # Started as `qdr-course lab` starts it (lesson 00 as the default URL, --allow-root for
    # root, the environment's bin first on PATH), on a private port with a token.
    private = ["--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}"]
    command = [sys.executable, "-m", "jupyterlab",
               *lab.jupyterlab_arguments(root_dir, private, lab.running_as_root())]
    env = lab.server_environment(env)
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, env=env, cwd=folder,
                                  start_new_session=True)
        try:
            deadline = time.monotonic() + SERVER_START_S
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"JupyterLab exited with code {server.returncode} "
                                       f"while starting; see {log_path}")
                try:
                    if _get(f"{base}/api/status?token={token}") == 200:
                        break
                except (urllib.error.URLError, OSError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not answer within {SERVER_START_S} s; "
                                       f"see {log_path}")
                time.sleep(0.25)
            yield base, token
        finally:
            _stop(server, psutil)


def _stop(server: subprocess.Popen, psutil) -> None:
    """Stop JupyterLab and its kernels (they run in sessions of their own): TERM, then KILL."""
    try:
        children = psutil.Process(server.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    server.terminate()  # a clean shutdown also shuts its kernels down
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, 9)
        server.wait(timeout=10)
    _, alive = psutil.wait_procs(children, timeout=5)
    for child in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    psutil.wait_procs(alive, timeout=5)


# --------------------------------------------------------------------------- the page
# The open notebook, read from JupyterLab's own model (window.jupyterapp).
NOTEBOOK_STATE_JS = """() => {
  const widget = window.jupyterapp.shell.currentWidget;
  if (!widget) return null;
  const isNotebook = widget.node.classList.contains('jp-NotebookPanel');
  const path = widget.context ? widget.context.path : null;
  if (!isNotebook) return {path, isNotebook, widget: widget.node.className, cells: []};
  const cells = [];
  for (const cell of widget.content.model.cells) {
    cells.push({type: cell.type, count: cell.type === 'code' ? cell.executionCount : null,
                outputs: cell.type === 'code' ? cell.outputs.toJSON() : []});
  }
  const kernel = widget.sessionContext.session && widget.sessionContext.session.kernel;
  return {path, isNotebook, widget: widget.node.className, cells,
          kernelName: kernel ? kernel.name : null, kernelStatus: kernel ? kernel.status : null};
}"""

DOCUMENT_READY_JS = """() => {
  const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  return !!(widget && widget.context && widget.context.isReady && widget.isRevealed);
}"""

KERNEL_IDLE_JS = """() => {
  const session = window.jupyterapp.shell.currentWidget.sessionContext.session;
  return !!(session && session.kernel && session.kernel.status === 'idle');
}"""

# True when the run is over: the kernel is idle and every code cell has run, or a cell failed
# (Run All stops at the first error, leaving later cells unrun).
RUN_FINISHED_JS = """() => {
  const widget = window.jupyterapp.shell.currentWidget;
  const kernel = widget.sessionContext.session && widget.sessionContext.session.kernel;
  if (!kernel || kernel.status !== 'idle') return false;
  let allRan = true, failed = false;
  for (const cell of widget.content.model.cells) {
    if (cell.type !== 'code') continue;
    if (cell.executionCount === null) allRan = false;
    for (const output of cell.outputs.toJSON()) if (output.output_type === 'error') failed = true;
  }
  return allRan || failed;
}"""


# How many clearly coloured pixels each symbol has when drawn in the output area's font: a
# colour emoji has hundreds; an empty box or a black-and-white glyph has none.
SYMBOL_COLOUR_JS = """(symbols) => {
  const pre = document.querySelector('.jp-OutputArea-output pre');
  const family = getComputedStyle(pre).fontFamily;
  const counts = {};
  for (const symbol of symbols) {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 64;
    const g = canvas.getContext('2d');
    g.font = `48px ${family}`; g.textBaseline = 'top'; g.fillStyle = '#000';
    g.fillText(symbol, 4, 4);
    const d = g.getImageData(0, 0, 64, 64).data;
    let coloured = 0;
    for (let i = 0; i < d.length; i += 4) {
      const hi = Math.max(d[i], d[i + 1], d[i + 2]), lo = Math.min(d[i], d[i + 1], d[i + 2]);
      if (d[i + 3] > 128 && hi - lo > 60) coloured++;
    }
    counts[symbol] = coloured;
  }
  return counts;
}"""
MIN_COLOURED_PIXELS = 50


def output_text(output: dict) -> str:
    """The human-readable text of one nbformat output."""
    if output["output_type"] == "stream":
        text = output.get("text", "")
    elif output["output_type"] == "error":
        text = f"{output.get('ename')}: {output.get('evalue')}"
    else:
        text = output.get("data", {}).get("text/plain", "")
    return "".join(text) if isinstance(text, list) else text


def digest(paths: list[Path]) -> dict[str, str]:
    """SHA-256 of each file, by name."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


# --------------------------------------------------------------------------- the test
@pytest.mark.parametrize("lesson", ["00_welcome.ipynb", "00_welcome.py"])
def test_lesson_opens_as_notebook_and_runs_in_a_real_browser(lesson, tmp_path):
    """JupyterLab + Chromium: lesson 00 opens as a notebook, Run All ends without error, and the
    check's verdict is visible text beside a symbol that renders."""
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="Playwright is not installed (pip install playwright; no browser download needed: "
               "the test uses Debian's chromium)")
    chromium = chromium_or_skip()
    import jupytext

    lesson_path = LESSONS / lesson
    expected_cells = jupytext.read(lesson_path).cells
    expected_code = sum(cell.cell_type == "code" for cell in expected_cells)
    watched = sorted(LESSONS.glob(f"{lesson_path.stem}.*"))
    before = digest(watched)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = lesson.replace(".", "-")  # artifacts of each parametrisation apart
    for old in ARTIFACTS.glob(f"{stem}-*"):  # no stale screenshot from an earlier run
        old.unlink()
    checkpoints_before = set((LESSONS / ".ipynb_checkpoints").glob("*"))
    outside: list[str] = []  # requests the page made to anything but localhost
    marks = {"start": time.monotonic()}

    def record_outside(request):
        url = urlparse(request.url)
        if url.scheme not in ("data", "blob") and url.hostname not in LOCAL_HOSTS:
            outside.append(request.url)

    log = ARTIFACTS / f"{stem}-jupyterlab.log"
    with jupyterlab(tmp_path / "jupyter", LESSONS, log) as (base, token), \
            sync_api.sync_playwright() as playwright:
        marks["JupyterLab up"] = time.monotonic()
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(chromium), headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1400, "height": 1000}, timeout=PAGE_TIMEOUT_MS)
        page = context.pages[0] if context.pages else context.new_page()
        try:
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            context.on("request", record_outside)
            # Lesson 00's notebook: the server's root URL, where the lab command's browser goes
            # (its default URL, as the Binder link); the .py twin: by its path.
            start = "/" if lesson == lab.FIRST_LESSON else f"/lab/tree/{lesson}"
            page.goto(f"{base}{start}?reset&token={token}", wait_until="domcontentloaded")

            # 1. It opens as a notebook (the Jupytext Notebook viewer), not in the text editor.
            page.wait_for_function(DOCUMENT_READY_JS)
            marks["notebook open"] = time.monotonic()
            state = page.evaluate(NOTEBOOK_STATE_JS)
            page.screenshot(path=str(ARTIFACTS / f"{stem}-opened.png"))
            assert state and state["isNotebook"], (
                f"{lesson} did not open as a notebook but in {state and state['widget']!r}: is the "
                "default viewer for python files 'Jupytext Notebook' (binder/overrides.json)?")
            page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell")
            assert state["path"] == lesson, f"the open document is {state['path']!r}"
            assert page.locator(".jp-FileEditor").count() == 0, f"{lesson} opened as text too"
            assert len(state["cells"]) == len(expected_cells), (
                f"JupyterLab shows {len(state['cells'])} cells, jupytext {len(expected_cells)}")
            assert [c["type"] for c in state["cells"]] == [c.cell_type for c in expected_cells]

            # 2. Run all cells from the menu, as a learner would, once the kernel is up.
            counts = [c["count"] for c in state["cells"] if c["type"] == "code"]
            assert counts == [None] * len(counts), (
                f"lessons/ notebooks are stored unexecuted (CONTRIBUTING.md); {lesson}: {counts}")
            page.wait_for_function(KERNEL_IDLE_JS, timeout=RUN_ALL_TIMEOUT_MS)
            marks["kernel idle"] = time.monotonic()
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
            page.wait_for_function(RUN_FINISHED_JS, timeout=RUN_ALL_TIMEOUT_MS, polling=500)
            marks["Run All done"] = time.monotonic()
            state = page.evaluate(NOTEBOOK_STATE_JS)
            # Show the exercise's check (or else the end of the lesson) in the screenshot.
            shown = page.locator(".jp-Notebook .jp-OutputArea-output", has_text="⏳")
            (shown.first if shown.count() else page.locator(".jp-Notebook .jp-Cell").last
             ).scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / f"{stem}-ran.png"))
            # 3. The verdict is on the page as visible text, its words beside its symbol, and
            # the symbols render in colour.
            verdict = page.locator(".jp-Notebook .jp-OutputArea-output",
                                   has_text="⏳ Not attempted yet")
            # one per exercise of lesson 00: exercise 0.1 and concept checks 0.1 and 0.2
            assert verdict.count() == 3 and verdict.first.is_visible(), (
                f"{verdict.count()} '⏳ Not attempted yet' verdicts in the page, 3 expected, "
                "the first visible")
            shown_text = verdict.first.inner_text()
            colours = page.evaluate(SYMBOL_COLOUR_JS, ["✅", "❌", "⏳"])
        except Exception:
            with contextlib.suppress(Exception):
                page.screenshot(path=str(ARTIFACTS / f"{stem}-failed.png"))
            raise
        finally:
            context.close()

    # 4. Every code cell ran, in order, with no error output.
    code = [c for c in state["cells"] if c["type"] == "code"]
    errors = [f"cell {i}: {output_text(o)}" for i, c in enumerate(state["cells"])
              for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, "error output in the browser:\n" + "\n".join(errors)
    assert state["kernelName"] == "python3" and state["kernelStatus"] == "idle"
    assert len(code) == expected_code
    counts = [c["count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), f"not every code cell ran, in order: {counts}"
    text = "\n".join(output_text(o) for c in code for o in c["outputs"])
    assert "Traceback" not in text and "❌" not in text, text
    for expected in EXPECTED_OUTPUT.get(lesson, []):
        assert expected in text, f"{expected!r} missing from the outputs:\n{text}"
    assert "⏳ Not attempted yet - Exercise 0.1" in shown_text, shown_text
    faint = {s: n for s, n in colours.items() if n < MIN_COLOURED_PIXELS}
    assert not faint, (f"check symbols do not render as colour emoji (coloured pixels {colours}): "
                       f"is {EMOJI_FONT_PACKAGE} installed?")
    assert not outside, f"the page tried to reach beyond localhost: {outside}"
    assert digest(watched) == before, f"the browser session changed {[p.name for p in watched]}"
    checkpoints = set((LESSONS / ".ipynb_checkpoints").glob("*"))
    assert checkpoints == checkpoints_before, "a checkpoint was written in lessons/"
    steps = list(marks.items())
    phases = ", ".join(f"{name} +{t - prev:.1f} s"
                       for (_, prev), (name, t) in zip(steps, steps[1:]))
    print(f"{lesson} in the browser: {phases}; coloured pixels of the check symbols {colours}; "
          f"screenshots in {ARTIFACTS}")
