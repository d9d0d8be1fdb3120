#!/usr/bin/env python3
"""Set up the course in ./.venv (once), then open JupyterLab or run the tests.

    python3 scripts/bootstrap.py lab     # set up, then open JupyterLab on lessons/00_welcome.ipynb
    python3 scripts/bootstrap.py test    # set up with the test packages, then run the test suite
    python3 scripts/bootstrap.py setup   # set up only (what `lab` installs)

`lab` and `setup` install exactly the Binder environment: torch first, then every other package
at the version pinned in binder/requirements.txt, then neural-tangents without its
TensorFlow-only requirements (binder/requirements-no-deps.txt, with --no-deps), then this course
in editable mode, then `pip check` (which must report nothing but the requirements
requirements-no-deps.txt leaves out on purpose). `test` installs binder/requirements-test.txt
instead of requirements.txt: the same pins plus the test packages (pytest, nbval, playwright,
ruff ...). The three files are written by scripts/lock.py.

    python3 scripts/bootstrap.py pip-check         # that `pip check`, for this interpreter's env
    python3 scripts/bootstrap.py neural-tangents-hook  # plain `import neural_tangents` without
                                                   # TensorFlow, in this interpreter's env

Where torch comes from: on Linux and Windows PyTorch's small CPU-only index
(https://download.pytorch.org/whl/cpu), as on Binder; on macOS pip's default index (its torch is
CPU-only there). TORCH_INDEX_URL overrides that (an empty value means pip's default index). If
the index cannot be reached, the script says so in one line and takes torch from pip's default
index instead, with its dependencies (on Linux that is the larger CUDA build). Only the standard
library is used here.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
LOCK = ROOT / "binder" / "requirements.txt"  # what the course needs (Binder installs this)
TEST_LOCK = ROOT / "binder" / "requirements-test.txt"  # LOCK's pins plus the test packages
LOCKS = {"learner": LOCK, "test": TEST_LOCK}  # the package sets, smallest first
NO_DEPS_LOCK = ROOT / "binder" / "requirements-no-deps.txt"  # neural-tangents, after either lock
TORCH = (ROOT / "binder" / "torch-version.txt").read_text().split("#")[0].strip()
STAMP = VENV / ".qdr-course-installed"  # fingerprint of the install, its torch index, package set
TORCH_MARK = VENV / ".qdr-course-torch-index"  # the index the installed torch came from
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PROBE_TIMEOUT_S = 5.0
DEFAULT_INDEX = "pip's default index"
SERVER_CONFIG = ROOT / "binder" / "jupyter_server_config.json"  # installed into the env


def run(*command: str | os.PathLike) -> None:
    print("+", " ".join(map(str, command)), flush=True)
    subprocess.run([str(c) for c in command], check=True, cwd=ROOT)


def venv_bin(name: str) -> Path:
    folder = "Scripts" if os.name == "nt" else "bin"
    return VENV / folder / (name + (".exe" if os.name == "nt" else ""))


def requested_torch_index(environ=os.environ, platform: str = sys.platform) -> str:
    """The index torch should come from ("" = pip's default): TORCH_INDEX_URL, else by platform."""
    if "TORCH_INDEX_URL" in environ:
        return environ["TORCH_INDEX_URL"].strip()
    return "" if platform == "darwin" else CPU_INDEX


def probe_index(index: str, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """Why ``index`` cannot serve torch (a short phrase), or None when its torch page answers."""
    scheme = urllib.parse.urlparse(index).scheme
    if scheme not in ("http", "https"):
        return None  # a local folder or file:// index: pip itself says what is wrong
    page = index.rstrip("/") + "/torch/"
    try:
        with urllib.request.urlopen(page, timeout=timeout) as response:
            response.read(1)
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code} for {page}"
    except urllib.error.URLError as error:
        return str(error.reason)
    except (OSError, ValueError) as error:  # timeouts, resets, a malformed URL
        return str(error) or type(error).__name__
    return None


def torch_source(requested: str, probe=probe_index) -> tuple[str, str | None]:
    """The index to install torch from and, when ``requested`` is unreachable, the reason."""
    if not requested:
        return "", None
    reason = probe(requested)
    return (requested, None) if reason is None else ("", reason)


def fallback_message(requested: str, reason: str) -> str:
    """The one line said when the requested torch index cannot be reached."""
    return (f"note: cannot reach the torch index {requested} ({reason}); installing torch from "
            f"{DEFAULT_INDEX} with its dependencies instead (on Linux the larger CUDA build).")


def install_commands(python: os.PathLike, index: str, reinstall_torch: bool,
                     lock: Path = LOCK) -> list[list]:
    """The pip commands that install torch from ``index`` ("" = default), ``lock``,
    NO_DEPS_LOCK (without dependencies), the course.

    From a torch index, torch goes in alone (--no-deps): its dependencies are pinned in the
    lock. From pip's default index torch is resolved together with the lock, dependencies
    included: on Linux that torch is a CUDA build needing nvidia-* packages the lock leaves out.
    """
    pip = [python, "-m", "pip", "install", "--disable-pip-version-check"]
    torch = f"torch=={TORCH}"
    force = ["--force-reinstall"] if reinstall_torch else []
    after = [[*pip, "--no-deps", "-r", NO_DEPS_LOCK], [*pip, "--no-deps", "-e", ROOT]]
    if index:
        alone = [*pip, "--no-deps", *force, torch, "--index-url", index]
        return [alone, [*pip, "-r", lock], *after]
    replace = [[*pip, "--no-deps", "--force-reinstall", torch]] if reinstall_torch else []
    return [*replace, [*pip, torch, "-r", lock], *after]


def canonical(name: str) -> str:
    """A package name as pip prints it (PEP 503): lower case, runs of -_. as one -."""
    return re.sub(r"[-_.]+", "-", name).lower()


def expected_pip_check_lines(no_deps_lock: Path = NO_DEPS_LOCK) -> list[str]:
    """What `pip check` says about the pins of ``no_deps_lock``: each requirement that its
    '# not installed: a, b' comment names, as missing."""
    lines = []
    for line in no_deps_lock.read_text().splitlines():
        pin, _, comment = line.partition("#")
        if "==" not in pin or "not installed:" not in comment:
            continue
        name, version = (part.strip() for part in pin.split("=="))
        for missing in comment.split("not installed:")[1].split(","):
            lines.append(f"{canonical(name)} {version} requires {canonical(missing.strip())}, "
                         "which is not installed.")
    return lines


def pip_check_problems(output: str, expected: list[str]) -> list[str]:
    """The lines of `pip check` ``output`` that report a problem not in ``expected``."""
    return [line for line in output.splitlines()
            if line.strip() and line.strip() != "No broken requirements found."
            and line.strip() not in expected]


def check_dependencies(python: os.PathLike, no_deps_lock: Path = NO_DEPS_LOCK) -> str | None:
    """`pip check` in ``python``'s environment: None when it reports nothing, or nothing but the
    requirements ``no_deps_lock`` leaves out on purpose; else the error to print."""
    print("+", python, "-m pip check", flush=True)
    result = subprocess.run([str(python), "-m", "pip", "check"], capture_output=True, text=True)
    expected = expected_pip_check_lines(no_deps_lock)
    problems = pip_check_problems(result.stdout, expected)
    if result.returncode != 0 and not result.stdout.strip():
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        problems = [f"pip check failed (exit {result.returncode}): {tail}"]
    if problems:
        allowed = (f"The only lines allowed ({no_deps_lock.name} installs these packages "
                   "with --no-deps, on purpose):\n  " + "\n  ".join(expected)) if expected \
            else "No line is allowed."
        return ("error: pip check found broken requirements:\n  " + "\n  ".join(problems) +
                f"\n{allowed}\nFix the packages named above, or install the environment again "
                "(python3 scripts/bootstrap.py setup).")
    left_out = [line.split(" requires ")[1].split(",")[0] for line in expected
                if line in result.stdout.splitlines()]
    note = f" ({', '.join(left_out)}: left out on purpose, see {no_deps_lock.name})"
    print("pip check: ok" + (note if left_out else ""))
    return None


def fingerprint(requested: str, used: str) -> str:
    """What the environment was installed from: locks, torch pin, metadata, torch's index."""
    digest = hashlib.sha256()
    for path in (LOCK, TEST_LOCK, NO_DEPS_LOCK, ROOT / "binder" / "torch-version.txt",
                 ROOT / "pyproject.toml"):
        digest.update(path.read_bytes())
    digest.update(f"\0requested={requested}\0used={used}".encode())
    return digest.hexdigest()


def stamp_text(requested: str, used: str, packages: str = "learner") -> str:
    """The stamp: the fingerprint, the index torch actually came from, the package set."""
    return (f"{fingerprint(requested, used)}\ntorch index: {used or DEFAULT_INDEX}\n"
            f"packages: {packages}\n")


def up_to_date(requested: str, stamp: Path = STAMP, packages: str = "learner") -> str | None:
    """The torch index of an up-to-date environment ("" = default), or None when out of date.

    Up to date means: installed from these files, and with ``packages`` or a larger set (the
    test set holds the learner one).
    """
    if not stamp.exists():
        return None
    lines = stamp.read_text().splitlines()
    if len(lines) < 3 or not lines[1].startswith("torch index: "):
        return None  # a stamp from an older version of this script
    used = lines[1].removeprefix("torch index: ")
    used = "" if used == DEFAULT_INDEX else used
    installed = lines[2].removeprefix("packages: ")
    sets = list(LOCKS)
    if installed not in sets or sets.index(installed) < sets.index(packages):
        return None
    return used if lines[0] == fingerprint(requested, used) else None


def torch_needs_replacing(index: str) -> bool:
    """True when the venv holds a torch taken from another index than ``index``."""
    site = [*VENV.glob("lib/python*/site-packages"), VENV / "Lib" / "site-packages"]
    installed = any(any(folder.glob("torch-*.dist-info")) for folder in site if folder.is_dir())
    if not installed:
        return False
    return not TORCH_MARK.exists() or TORCH_MARK.read_text() != index


def set_up(packages: str = "learner") -> None:
    """Install the ``packages`` set ("learner" or "test") into ./.venv unless it is there."""
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"error: the course is tested on Python 3.11, this is {sys.version.split()[0]}. "
                 "Run this script with python3.11 (e.g. `python3.11 scripts/bootstrap.py lab`).")
    requested = requested_torch_index()
    used = up_to_date(requested, packages=packages)
    if used is not None:
        note = ("" if used == requested else f"; {requested} was unreachable at set-up: "
                f"delete {STAMP.relative_to(ROOT)} to retry it")
        print(f"environment {VENV} is up to date (torch from {used or DEFAULT_INDEX}{note})")
        run(venv_bin("python"), Path(__file__).resolve(), "neural-tangents-hook")  # older venvs
        return
    index, reason = torch_source(requested)
    if reason:
        print(fallback_message(requested, reason), flush=True)
    if not venv_bin("python").exists():
        print(f"creating {VENV}")
        venv.create(VENV, with_pip=True)
    torch_step, *rest = install_commands(venv_bin("python"), index, torch_needs_replacing(index),
                                         LOCKS[packages])
    run(*torch_step)
    TORCH_MARK.write_text(index)
    for command in rest:
        run(*command)
    error = check_dependencies(venv_bin("python"))
    if error:
        sys.exit(error)
    run(venv_bin("python"), Path(__file__).resolve(), "neural-tangents-hook")
    install_jupyter_settings(VENV)
    STAMP.write_text(stamp_text(requested, index, packages))


def install_jupyter_settings(prefix: Path) -> None:
    """JupyterLab settings of the course, for the environment at ``prefix`` only (Binder too)."""
    # Double-clicking a .py file opens it as a notebook (jupytext).
    settings = prefix / "share" / "jupyter" / "lab" / "settings"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "overrides.json").write_bytes((ROOT / "binder" / "overrides.json").read_bytes())
    # The file browser lists each lesson once: its .ipynb, not the paired .py twin. Merged into
    # the environment's server config, so settings someone else put there are kept.
    config = prefix / "etc" / "jupyter" / "jupyter_server_config.json"
    ours = json.loads(SERVER_CONFIG.read_text())
    try:
        theirs = json.loads(config.read_text()) if config.exists() else {}
    except json.JSONDecodeError as error:
        sys.exit(f"error: {config} is not valid JSON ({error}): fix or delete it and run again.")
    for section, values in ours.items():
        merged = theirs.setdefault(section, {})
        for key, value in values.items():
            old = merged.get(key)
            is_list = isinstance(old, list)
            merged[key] = old + [v for v in value if v not in old] if is_list else value
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps(theirs, indent=2) + "\n")


def install_neural_tangents_hook() -> Path:
    """Let a plain `import neural_tangents` work without TensorFlow in this interpreter's env.

    Writes qdr_course/ntk/_neural_tangents.py's start-up file into site-packages; run with the
    environment's python, after qdr-course is installed there.
    """
    import sysconfig

    sys.path.insert(0, str(ROOT))
    from qdr_course.ntk._neural_tangents import install_hook

    target = install_hook(sysconfig.get_paths()["purelib"])
    print(f"neural-tangents without TensorFlow: {target}")
    return target


def main(argv: list[str]) -> int:
    if argv == ["jupyter-settings"]:  # binder/postBuild: this interpreter's environment
        install_jupyter_settings(Path(sys.prefix))
        return 0
    if argv == ["neural-tangents-hook"]:  # set_up, binder/postBuild, deploy/tljh/setup.sh
        install_neural_tangents_hook()
        return 0
    if argv == ["pip-check"]:  # binder/postBuild, deploy/tljh/setup.sh: this interpreter's env
        error = check_dependencies(sys.executable)
        if error:
            print(error, file=sys.stderr)
        return 1 if error else 0
    if len(argv) < 1 or argv[0] not in ("lab", "test", "setup"):
        print(__doc__)
        return 2
    try:
        set_up("test" if argv[0] == "test" else "learner")
    except subprocess.CalledProcessError as error:
        print(f"error: set-up step failed (exit {error.returncode}): "
              f"{' '.join(map(str, error.cmd))}\nFix what it printed above and run this command "
              "again (installed packages are kept).", file=sys.stderr)
        return 1
    command, extra = argv[0], argv[1:]
    if command == "lab":
        lab = str(venv_bin("qdr-course"))
        os.execv(lab, [lab, "lab", "--root", str(ROOT), *extra])
    if command == "test":
        pytest = [str(venv_bin("python")), "-m", "pytest", "-n", "2", *extra]
        return subprocess.run(pytest, cwd=ROOT).returncode
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
