"""The offline kit (issue 25, item 2): `bootstrap.py wheels DIR` downloads every wheel, then
`PIP_NO_INDEX=1 PIP_FIND_LINKS=DIR TORCH_INDEX_URL= bootstrap.py setup` installs the course
from that folder with the network refused (a network namespace with no interface, or, where
`unshare` is not allowed, proxies on a closed port).

To stay within a few minutes the kit holds a reduced lock: the real pins of numpy and of
torch's own dependencies, the real torch==<pin> wheel, and the course's package (editable, built
by setuptools from the folder; its copy declares only numpy and torch, so `pip check` holds).
Everything else is the real bootstrap.py path.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REDUCED = {"numpy", "filelock", "typing-extensions", "setuptools", "sympy", "mpmath", "networkx",
           "jinja2", "markupsafe", "fsspec"}


def canonical(name: str) -> str:
    """A package name as pip compares it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def reduced_lock() -> str:
    """The real lock's pins of REDUCED, with its header."""
    lines = (ROOT / "binder" / "requirements.txt").read_text().splitlines()
    pins = [line for line in lines if "==" in line
            and canonical(line.split("==")[0]) in REDUCED]
    assert {canonical(pin.split("==")[0]) for pin in pins} == REDUCED, "a pin left the lock"
    return "# reduced for tests/test_offline_kit.py\n" + "\n".join(pins) + "\n"


def course_copy(folder: Path) -> Path:
    """The course's package, bootstrap.py and binder files under ``folder``, with the reduced
    lock, no neural-tangents pin, and the package declaring only numpy and torch."""
    shutil.copytree(ROOT / "qdr_course", folder / "qdr_course",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "scripts/bootstrap.py",
                 "binder/torch-version.txt", "binder/overrides.json",
                 "binder/jupyter_server_config.json", "binder/requirements-test.txt"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, folder / name)
    (folder / "binder" / "requirements.txt").write_text(reduced_lock())
    pyproject = (folder / "pyproject.toml").read_text()
    dependencies = re.search(r"^dependencies = \[.*?^\]", pyproject, re.S | re.M)
    assert dependencies, "pyproject.toml's dependencies list moved"
    (folder / "pyproject.toml").write_text(pyproject.replace(
        dependencies.group(0), 'dependencies = ["numpy>=1.26,<3", "torch>=2.2"]'))
    (folder / "binder" / "requirements-no-deps.txt").write_text("# none in this test\n")
    return folder


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def offline_prefix() -> list[str]:
    """A command prefix that runs a program with no network: `unshare -rn` where allowed."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-rn", "true"], capture_output=True).returncode == 0:
        return [unshare, "-rn"]
    return []


def test_the_course_installs_from_a_wheel_folder_with_the_network_refused(tmp_path):
    course = course_copy(tmp_path / "course")
    kit = tmp_path / "kit"
    download = subprocess.run([sys.executable, "scripts/bootstrap.py", "wheels", str(kit)],
                              cwd=course, capture_output=True, text=True, timeout=900)
    assert download.returncode == 0, download.stdout[-3000:] + download.stderr[-3000:]
    wheels = sorted(path.name for path in kit.iterdir())
    torch_pin = (ROOT / "binder" / "torch-version.txt").read_text().split("#")[0].strip()
    assert any(name.startswith(f"torch-{torch_pin}") for name in wheels), wheels
    assert any(name.startswith("setuptools-") for name in wheels), wheels  # builds the course
    assert f"PIP_FIND_LINKS={kit}" in download.stdout  # it prints the offline command

    port = closed_port()
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith(("PIP_", "VIRTUAL_ENV", "PYTHONPATH"))}
    environ.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(kit), TORCH_INDEX_URL="",
                   PIP_CONFIG_FILE=os.devnull,  # no index or find-links from pip's config files
                   HTTP_PROXY=f"http://127.0.0.1:{port}", HTTPS_PROXY=f"http://127.0.0.1:{port}",
                   http_proxy=f"http://127.0.0.1:{port}", https_proxy=f"http://127.0.0.1:{port}")
    prefix = offline_prefix()
    if prefix:  # prove the namespace really has no network
        probe = subprocess.run([*prefix, sys.executable, "-c",
                                "import socket; socket.create_connection(('1.1.1.1', 443), 3)"],
                               capture_output=True, text=True)
        assert probe.returncode != 0 and "unreachable" in probe.stderr.lower()
    setup = subprocess.run([*prefix, sys.executable, "scripts/bootstrap.py", "setup"],
                           cwd=course, env=environ, capture_output=True, text=True, timeout=900)
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    python = course / ".venv" / "bin" / "python"
    probe = subprocess.run([str(python), "-c", "import qdr_course, torch; "
                            "print(qdr_course.__file__); print(torch.__version__)"],
                           capture_output=True, text=True, env=environ, cwd=tmp_path)
    where, version = probe.stdout.split()
    assert Path(where).parent == course / "qdr_course"  # the course, editable, from its folder
    assert version.startswith(torch_pin)
    assert (course / ".venv" / "share" / "jupyter" / "lab" / "settings" /
            "overrides.json").exists()  # the JupyterLab settings too
    again = subprocess.run([*prefix, sys.executable, "scripts/bootstrap.py", "setup"],
                           cwd=course, env=environ, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "is up to date" in again.stdout, again.stdout + again.stderr

    # Issue 27 item 9b, for real: a garbage stamp, then a valid stamp on an environment whose
    # qdr-course command is gone, are installed again (offline), not reported up to date.
    stamp = course / ".venv" / ".qdr-course-installed"
    stamp.write_bytes(b"\xff\xfe garbage \x80")
    garbage = subprocess.run([*prefix, sys.executable, "scripts/bootstrap.py", "setup"],
                             cwd=course, env=environ, capture_output=True, text=True, timeout=600)
    assert garbage.returncode == 0, garbage.stdout[-2000:] + garbage.stderr[-2000:]
    assert "up to date" not in garbage.stdout
    assert stamp.read_text().splitlines()[1:] == ["torch index: pip's default index",
                                                  "packages: learner"]  # a fresh stamp
    command = course / ".venv" / "bin" / "qdr-course"
    command.unlink()
    broken = subprocess.run([*prefix, sys.executable, "scripts/bootstrap.py", "setup"],
                            cwd=course, env=environ, capture_output=True, text=True, timeout=600)
    assert broken.returncode == 0, broken.stdout[-2000:] + broken.stderr[-2000:]
    assert "stamped as installed but its qdr-course command is missing" in broken.stdout
    assert command.exists()


def test_the_reduced_lock_keeps_the_real_pins():
    lock = reduced_lock()
    real = (ROOT / "binder" / "requirements.txt").read_text().splitlines()
    assert all(line in real for line in lock.splitlines()[1:])
