"""scripts/bootstrap.py: where torch comes from, the fallback when that index is unreachable,
the pip commands, the install stamp and the JupyterLab settings it installs."""

from __future__ import annotations

import http.server
import importlib.util
import json
import socket
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bootstrap", ROOT / "scripts" / "bootstrap.py")
bootstrap = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bootstrap)


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 whose port nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture
def index_server():
    """A local 'index' that serves /torch/ and answers 404 elsewhere; yields its URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            found = self.path == "/simple/torch/"
            self.send_response(200 if found else 404)
            self.end_headers()
            self.wfile.write(b"<a href='torch-2.13.0.whl'>torch</a>" if found else b"")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("platform, expected", [("linux", bootstrap.CPU_INDEX),
                                                ("win32", bootstrap.CPU_INDEX), ("darwin", "")])
def test_torch_comes_from_the_cpu_index_on_linux_and_windows(platform, expected):
    assert bootstrap.requested_torch_index({}, platform) == expected
    assert bootstrap.CPU_INDEX == "https://download.pytorch.org/whl/cpu"


def test_torch_index_url_overrides_and_empty_means_pips_default():
    url = "http://x/simple"
    assert bootstrap.requested_torch_index({"TORCH_INDEX_URL": url}, "linux") == url
    assert bootstrap.requested_torch_index({"TORCH_INDEX_URL": ""}, "linux") == ""
    assert bootstrap.requested_torch_index({"TORCH_INDEX_URL": " "}, "darwin") == ""


def test_the_fallback_is_decided_quickly_against_a_refused_connection():
    """The real decision, against a closed port on 127.0.0.1: pip's default index, and why."""
    url = closed_port_url()
    start = time.monotonic()
    index, reason = bootstrap.torch_source(url)
    assert time.monotonic() - start < bootstrap.PROBE_TIMEOUT_S
    assert index == "" and reason and "refused" in reason.lower(), reason
    message = bootstrap.fallback_message(url, reason)
    assert "\n" not in message and url in message and "pip's default index" in message
    assert "with its dependencies" in message


def test_a_reachable_index_is_used_and_a_404_is_a_reason(index_server):
    assert bootstrap.probe_index(f"{index_server}/simple/") is None
    assert bootstrap.torch_source(f"{index_server}/simple") == (f"{index_server}/simple", None)
    reason = bootstrap.probe_index(f"{index_server}/other")
    assert reason == f"HTTP 404 for {index_server}/other/torch/"


def test_pips_default_index_and_local_indexes_are_not_probed():
    assert bootstrap.torch_source("", probe=lambda url: pytest.fail("probed")) == ("", None)
    assert bootstrap.probe_index("file:///opt/wheels") is None


def test_from_a_torch_index_torch_goes_in_alone_then_the_lock():
    torch, lock, no_deps, course = bootstrap.install_commands("py", "https://idx",
                                                              reinstall_torch=False)
    assert torch[-4:] == ["--no-deps", f"torch=={bootstrap.TORCH}", "--index-url", "https://idx"]
    assert lock[-2:] == ["-r", bootstrap.LOCK] and "--no-deps" not in lock
    assert no_deps[-3:] == ["--no-deps", "-r", bootstrap.NO_DEPS_LOCK]
    assert course[-3:] == ["--no-deps", "-e", bootstrap.ROOT]


def test_from_pips_default_index_torch_is_resolved_with_its_dependencies():
    """PyPI's Linux torch is a CUDA build needing nvidia-* packages: never --no-deps there."""
    torch_and_lock, no_deps, course = bootstrap.install_commands("py", "", reinstall_torch=False)
    assert torch_and_lock[-3:] == [f"torch=={bootstrap.TORCH}", "-r", bootstrap.LOCK]
    assert "--no-deps" not in torch_and_lock and "--index-url" not in torch_and_lock
    assert no_deps[-3:] == ["--no-deps", "-r", bootstrap.NO_DEPS_LOCK]
    assert course[-3:] == ["--no-deps", "-e", bootstrap.ROOT]


def test_a_torch_from_another_index_is_replaced_not_kept():
    first = bootstrap.install_commands("py", "https://idx", reinstall_torch=True)[0]
    assert "--force-reinstall" in first and "--no-deps" in first
    replace, with_deps, _, _ = bootstrap.install_commands("py", "", reinstall_torch=True)
    assert "--force-reinstall" in replace and "--no-deps" in replace  # torch only
    assert "--force-reinstall" not in with_deps  # not every package of the lock


def test_the_stamp_records_the_index_torch_actually_came_from(tmp_path):
    stamp = tmp_path / "stamp"
    fell_back = bootstrap.fingerprint("https://idx", "")
    used = bootstrap.fingerprint("https://idx", "https://idx")
    assert fell_back != used
    stamp.write_text(bootstrap.stamp_text("https://idx", ""))  # fell back to the default index
    assert stamp.read_text().splitlines()[1] == "torch index: pip's default index"
    assert bootstrap.up_to_date("https://idx", stamp) == ""
    assert bootstrap.up_to_date("https://other", stamp) is None  # another index asked for
    stamp.write_text(bootstrap.stamp_text("https://idx", "https://idx"))
    assert bootstrap.up_to_date("https://idx", stamp) == "https://idx"
    stamp.write_text(bootstrap.fingerprint("https://idx", "https://idx"))  # an older script's stamp
    assert bootstrap.up_to_date("https://idx", stamp) is None
    assert bootstrap.up_to_date("https://idx", tmp_path / "missing") is None


def test_jupyter_settings_are_installed_and_merged_with_existing_ones(tmp_path):
    config = tmp_path / "etc" / "jupyter" / "jupyter_server_config.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"ServerApp": {"port": 9999},
                                  "ContentsManager": {"hide_globs": ["*.tmp"]}}))
    bootstrap.install_jupyter_settings(tmp_path)
    bootstrap.install_jupyter_settings(tmp_path)  # twice: nothing doubled
    merged = json.loads(config.read_text())
    assert merged["ServerApp"] == {"port": 9999}
    globs = merged["ContentsManager"]["hide_globs"]
    assert globs[0] == "*.tmp" and "[0-9][0-9]_*.py" in globs and len(globs) == len(set(globs))
    overrides = tmp_path / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    project = ROOT / "binder" / "overrides.json"
    assert json.loads(overrides.read_text()) == json.loads(project.read_text())


def test_invalid_existing_server_config_is_a_clear_error(tmp_path):
    config = tmp_path / "etc" / "jupyter" / "jupyter_server_config.json"
    config.parent.mkdir(parents=True)
    config.write_text("{not json")
    with pytest.raises(SystemExit, match="is not valid JSON") as error:
        bootstrap.install_jupyter_settings(tmp_path)
    assert "fix or delete it" in str(error.value) and config.read_text() == "{not json"


def test_the_hide_pattern_hides_exactly_the_lesson_twins():
    from fnmatch import fnmatch

    globs = json.loads((ROOT / "binder" / "jupyter_server_config.json").read_text())[
        "ContentsManager"]["hide_globs"]
    lessons = (ROOT / "lessons").iterdir()
    hidden = {p.name for p in lessons if any(fnmatch(p.name, g) for g in globs)}
    assert hidden == {p.name for p in (ROOT / "lessons").glob("*.py")}
    assert not any(fnmatch(name, g) for g in globs for name in ("helper.py", "my_answers.py"))


def test_postbuild_installs_the_same_settings():
    post_build = (ROOT / "binder" / "postBuild").read_text()
    assert "python scripts/bootstrap.py jupyter-settings" in post_build


def test_unknown_command_prints_usage():
    assert bootstrap.main(["frobnicate"]) == 2


def test_torch_is_replaced_only_when_it_came_from_another_index(tmp_path, monkeypatch):
    venv = tmp_path / ".venv"
    monkeypatch.setattr(bootstrap, "VENV", venv)
    monkeypatch.setattr(bootstrap, "TORCH_MARK", venv / ".qdr-course-torch-index")
    assert not bootstrap.torch_needs_replacing("https://idx")  # no torch yet
    (venv / "lib" / "python3.11" / "site-packages" / "torch-2.13.0.dist-info").mkdir(parents=True)
    assert bootstrap.torch_needs_replacing("https://idx")  # a torch of unknown origin
    bootstrap.TORCH_MARK.write_text("https://idx")
    assert not bootstrap.torch_needs_replacing("https://idx")
    assert bootstrap.torch_needs_replacing("")  # now pip's default index is asked for


def test_lab_installs_the_learner_lock_and_test_the_test_lock(monkeypatch):
    asked, ran = [], []
    monkeypatch.setattr(bootstrap, "set_up", asked.append)
    monkeypatch.setattr(bootstrap.subprocess, "run", lambda cmd, **kw: ran.append(cmd) or
                        type("Done", (), {"returncode": 0})())
    monkeypatch.setattr(bootstrap.os, "execv", lambda path, args: ran.append(args))
    assert bootstrap.main(["setup"]) == 0 and bootstrap.main(["test", "-k", "x"]) == 0
    bootstrap.main(["lab"])
    assert asked == ["learner", "test", "learner"]
    assert ran[0][-4:] == ["-n", "2", "-k", "x"] and ran[1][1] == "lab"
    assert bootstrap.LOCKS == {"learner": bootstrap.ROOT / "binder" / "requirements.txt",
                               "test": bootstrap.ROOT / "binder" / "requirements-test.txt"}
    _, lock, no_deps, _ = bootstrap.install_commands("py", "https://idx", False,
                                                     bootstrap.TEST_LOCK)
    assert lock[-2:] == ["-r", bootstrap.TEST_LOCK]
    assert no_deps[-2:] == ["-r", bootstrap.NO_DEPS_LOCK]  # after the test lock too
    torch_and_lock, _, _ = bootstrap.install_commands("py", "", False, bootstrap.TEST_LOCK)
    assert torch_and_lock[-2:] == ["-r", bootstrap.TEST_LOCK]


def test_the_test_set_covers_the_learner_one_but_not_the_reverse(tmp_path):
    stamp = tmp_path / "stamp"
    stamp.write_text(bootstrap.stamp_text("https://idx", "https://idx", "learner"))
    assert stamp.read_text().splitlines()[2] == "packages: learner"
    assert bootstrap.up_to_date("https://idx", stamp, "learner") == "https://idx"
    assert bootstrap.up_to_date("https://idx", stamp, "test") is None  # the tests need more
    stamp.write_text(bootstrap.stamp_text("https://idx", "https://idx", "test"))
    assert bootstrap.up_to_date("https://idx", stamp, "test") == "https://idx"
    assert bootstrap.up_to_date("https://idx", stamp, "learner") == "https://idx"
    stamp.write_text(bootstrap.stamp_text("https://idx", "https://idx", "everything"))
    assert bootstrap.up_to_date("https://idx", stamp, "learner") is None  # unknown set


@pytest.mark.parametrize("changed", ["requirements-test.txt", "requirements-no-deps.txt"])
def test_any_lock_changing_makes_the_environment_out_of_date(tmp_path, monkeypatch, changed):
    for name in ("requirements.txt", "requirements-test.txt", "requirements-no-deps.txt"):
        copy = tmp_path / name
        copy.write_text((ROOT / "binder" / name).read_text())
    monkeypatch.setattr(bootstrap, "LOCK", tmp_path / "requirements.txt")
    monkeypatch.setattr(bootstrap, "TEST_LOCK", tmp_path / "requirements-test.txt")
    monkeypatch.setattr(bootstrap, "NO_DEPS_LOCK", tmp_path / "requirements-no-deps.txt")
    before = bootstrap.fingerprint("https://idx", "https://idx")
    (tmp_path / changed).write_text("pytest==1.0\n")
    assert bootstrap.fingerprint("https://idx", "https://idx") != before


def test_neural_tangents_hook_command_writes_the_start_up_file(tmp_path, monkeypatch, capsys):
    """`bootstrap.py neural-tangents-hook` (run by the bootstrap, postBuild and TLJH) writes the
    course's .pth file into this interpreter's site-packages - here a temporary one."""
    import sysconfig

    from qdr_course.ntk import _neural_tangents

    monkeypatch.setattr(sysconfig, "get_paths", lambda: {"purelib": str(tmp_path)})
    assert bootstrap.main(["neural-tangents-hook"]) == 0
    written = tmp_path / _neural_tangents.PTH_NAME
    assert written.read_text() == _neural_tangents.pth_text()
    assert str(written) in capsys.readouterr().out
    source = (ROOT / "scripts" / "bootstrap.py").read_text()
    assert source.count('"neural-tangents-hook")') == 2  # fresh and up-to-date environments
