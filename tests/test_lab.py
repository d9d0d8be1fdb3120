"""``qdr-course lab``: one entry per lesson, lesson 00 open, pairing kept, root and PATH handled.

The server tests start a real JupyterLab (as tests/test_browser.py does: a free localhost port,
a token, private config folders, the course's server config) on a copy of ``lessons/`` and talk
to it through its REST API; no browser is needed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from test_browser import LESSONS, jupyterlab

from qdr_course.cli import main
from qdr_course.commands import lab

REPO_ROOT = Path(__file__).resolve().parent.parent
LESSON_STEMS = sorted({p.stem for p in LESSONS.glob("[0-9][0-9]_*.py")})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _request(url: str, method: str = "GET", body: dict | None = None):
    """(status, headers, parsed JSON or None) of a request to the local server, no redirects."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with opener.open(request, timeout=30) as response:
            text = response.read().decode()
            return response.status, response.headers, json.loads(text) if text else None
    except urllib.error.HTTPError as error:  # a 302 arrives here when redirects are off
        return error.code, error.headers, None


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """JupyterLab, started as the lab command starts it, on a copy of lessons/."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "lessons"
    shutil.copytree(LESSONS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    with jupyterlab(base / "jupyter", root, base / "jupyterlab.log") as (url, token):
        yield url, token, root


def test_there_are_lessons_with_py_twins():
    sources = sorted(p.stem for p in (LESSONS.parent / "solutions").glob("[0-9][0-9]_*.py"))
    assert len(LESSON_STEMS) >= 8 and LESSON_STEMS == sources, LESSON_STEMS
    assert all((LESSONS / f"{stem}.ipynb").is_file() for stem in LESSON_STEMS)


def test_the_file_browser_lists_one_entry_per_lesson(server):
    url, token, root = server
    status, _, listing = _request(f"{url}/api/contents/?token={token}")
    assert status == 200
    names = sorted(item["name"] for item in listing["content"])
    assert names == [f"{stem}.ipynb" for stem in LESSON_STEMS], (
        f"the file browser of lessons/ shows {names}: one .ipynb per lesson expected "
        "(binder/jupyter_server_config.json hides the .py twins)")
    assert {p.name for p in root.iterdir()} >= {f"{s}.py" for s in LESSON_STEMS}, "twins on disk"


def test_the_root_url_opens_lesson_00_as_the_binder_link_does(server):
    url, token, _ = server
    status, headers, _ = _request(f"{url}/?token={token}")
    assert status in (301, 302), status
    location = headers["Location"]
    assert location.split("?")[0].endswith("/lab/tree/00_welcome.ipynb"), location


def test_saving_the_notebook_still_writes_its_py_twin(server):
    """Hiding the .py twin must not break jupytext's pairing: a save writes both files."""
    url, token, root = server
    path = "00_welcome.ipynb"
    status, _, model = _request(f"{url}/api/contents/{path}?content=1&token={token}")
    assert status == 200 and model["type"] == "notebook"
    notebook = model["content"]
    marker = "A line the pairing test added."
    notebook["cells"].append({"cell_type": "markdown", "metadata": {}, "source": marker})
    status, _, saved = _request(f"{url}/api/contents/{path}?token={token}", "PUT",
                                {"type": "notebook", "format": "json", "content": notebook})
    assert status == 200, saved
    assert marker in (root / "00_welcome.py").read_text(), "the .py twin was not updated"
    assert marker in (root / "00_welcome.ipynb").read_text()
    # The hidden twin can still be opened by its path.
    status, _, twin = _request(f"{url}/api/contents/00_welcome.py?content=0&token={token}")
    assert status == 200 and twin["name"] == "00_welcome.py"


def test_qdr_course_is_found_in_a_jupyterlab_terminal(server):
    """Lesson 00 tells learners to run `qdr-course doctor` in a JupyterLab terminal."""
    import websocket

    url, token, _ = server
    status, _, terminal = _request(f"{url}/api/terminals?token={token}", "POST", {})
    assert status == 200, terminal
    socket_url = f"ws{url[4:]}/terminals/websocket/{terminal['name']}?token={token}"
    ws = websocket.create_connection(socket_url, timeout=30, http_no_proxy=["127.0.0.1"])
    try:
        ws.send(json.dumps(["stdin", "echo FOUND=$(command -v qdr-course) END\r"]))
        out, deadline = "", time.monotonic() + 30
        while time.monotonic() < deadline and not re.search(r"FOUND=\S* END", out):
            message = json.loads(ws.recv())
            out += message[1] if message[0] == "stdout" else ""
    finally:
        ws.close()
        _request(f"{url}/api/terminals/{terminal['name']}?token={token}", "DELETE")
    found = re.search(r"FOUND=(\S*) END", out)
    assert found, f"no answer from the terminal: {out[-500:]!r}"
    expected = Path(sysconfig.get_path("scripts"), "qdr-course")
    assert found.group(1) == str(expected), f"the terminal's qdr-course: {found.group(1)!r}"


# --------------------------------------------------------------------------- the command itself
def test_arguments_open_lesson_00_and_add_allow_root_only_for_root(tmp_path):
    (tmp_path / "00_welcome.ipynb").write_text("{}")
    as_user = lab.jupyterlab_arguments(tmp_path, ["--no-browser"], as_root=False)
    assert as_user[:2] == [f"--ServerApp.root_dir={tmp_path}",
                           "--LabApp.default_url=/lab/tree/00_welcome.ipynb"]
    assert as_user[-1] == "--no-browser" and "--allow-root" not in as_user
    as_root = lab.jupyterlab_arguments(tmp_path, ["--no-browser"], as_root=True)
    assert as_root.count("--allow-root") == 1 and as_root[-1] == "--no-browser"
    given = lab.jupyterlab_arguments(tmp_path, ["--allow-root"], as_root=True)
    assert given.count("--allow-root") == 1
    (tmp_path / "00_welcome.ipynb").unlink()  # no lesson 00: JupyterLab's own start page
    assert not any("default_url" in a for a in lab.jupyterlab_arguments(tmp_path, [], False))


def test_server_environment_puts_this_environments_bin_first():
    scripts = sysconfig.get_path("scripts")
    env = lab.server_environment({"PATH": os.pathsep.join(["/usr/bin", scripts, "/bin"]), "X": "1"})
    assert env["PATH"].split(os.pathsep) == [scripts, "/usr/bin", "/bin"] and env["X"] == "1"
    assert lab.server_environment({})["PATH"] == scripts
    assert Path(scripts, "qdr-course").exists() or os.name == "nt", f"no qdr-course in {scripts}"


def test_lab_as_root_says_so_in_one_line_and_adds_the_flag(monkeypatch, capsys):
    monkeypatch.setattr(lab, "running_as_root", lambda: True)
    assert main(["lab", "--dry-run", "--root", str(REPO_ROOT), "--no-browser"]) == 0
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and "running as root" in err and "--allow-root" in err
    assert "--allow-root" in out.split()
    assert "--LabApp.default_url=/lab/tree/00_welcome.ipynb" in out.split()
    monkeypatch.setattr(lab, "running_as_root", lambda: False)
    assert main(["lab", "--dry-run", "--root", str(REPO_ROOT)]) == 0
    out, err = capsys.readouterr()
    assert err == "" and "--allow-root" not in out
