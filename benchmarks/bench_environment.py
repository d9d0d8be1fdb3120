#!/usr/bin/env python3
"""What a learner waits for: a cold install of the course, then the first lesson opening.

    python3 benchmarks/bench_environment.py             # measure; write results/environment.json
    python3 benchmarks/bench_environment.py --keep      # keep the temporary folder (path printed)
    python3 benchmarks/bench_environment.py --markdown  # print the README sentence of the results

In a temporary folder holding the committed HEAD (what Binder builds), with pip's cache off:

1. ``python3 scripts/bootstrap.py setup`` there: the README's first command up to opening
   JupyterLab (a venv, torch, binder/requirements.txt, the course, pip check), timed;
2. the first lesson opens: a headless ``jupyter lab`` of that environment, timed from its start
   until it serves lessons/00_welcome.ipynb, then that notebook's first code cell executed by
   nbclient in a fresh kernel, timed;
3. the environment's size on disk (what a learner installs), then ``pip install -r
   binder/requirements-test.txt`` on top (timed) and the size again (what the tests install).

Torch comes from where ``bootstrap.py`` takes it (TORCH_INDEX_URL, else PyTorch's CPU index,
falling back to pip's default index); the results say which. Needs python3.11, git and the
package registries; nothing is installed outside the temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "environment.json"
LESSON = "lessons/00_welcome.ipynb"
LAB_TIMEOUT_S = 300
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "XLA_FLAGS", "QDR_THREADS")
FIRST_CELL = """\
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
nb.cells = [next(cell for cell in nb.cells if cell.cell_type == "code")]
NotebookClient(nb, timeout=600, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[2]}}).execute()
"""


def disk_usage(folder: Path) -> int:
    """Bytes the files under ``folder`` take on disk (as du counts: blocks, hard links once).

    Shown in GB of 2**30 bytes, as ``du -h`` and benchmarks/notebook_budgets.py do.
    """
    seen, total = set(), 0
    for directory, _, files in os.walk(folder):
        for name in [*files, "."]:
            info = os.lstat(os.path.join(directory, name))
            if (info.st_dev, info.st_ino) not in seen:
                seen.add((info.st_dev, info.st_ino))
                total += info.st_blocks * 512
    return total


def largest_entries(site_packages: Path, count: int = 10) -> list[tuple[str, int]]:
    """The ``count`` largest top-level entries of a site-packages folder, with their bytes."""
    sizes = [(entry.name, disk_usage(entry) if entry.is_dir() else entry.lstat().st_blocks * 512)
             for entry in site_packages.iterdir() if not entry.name.endswith(".dist-info")]
    return sorted(sizes, key=lambda item: -item[1])[:count]


def pip_sources() -> dict:
    """Where pip takes packages from here (its index settings), as the results should say."""
    listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True,
                            text=True).stdout.splitlines()
    keys = ("index-url", "extra-index-url", "find-links")
    return {key: value.strip("'") for key, _, value in (line.partition("=") for line in listed)
            if key.rsplit(".", 1)[-1] in keys}


def machine_facts() -> dict:
    """CPU model, cores, memory, OS and Python of this machine."""
    model = platform.processor() or "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        model = names[0] if names else model
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") \
        else None
    return {"cpu_model": model, "cores": os.cpu_count(), "memory_gb": memory and memory / 2**30,
            "os": platform.platform(), "python": platform.python_version()}


def thread_settings(environ=os.environ) -> dict:
    """The thread variables in force (None: unset)."""
    return {name: environ.get(name) for name in THREAD_VARIABLES}


def commit(root: Path = ROOT) -> str:
    """HEAD's hash, with '+dirty' when the working tree has uncommitted changes."""
    head = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, check=True).stdout.strip()
    return head + ("+dirty" if dirty else "")


def clean_environment(work: Path, venv: Path | None = None) -> dict:
    """This process's environment, cleaned as a fresh learner's: no cache, no user settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    home = work / "home"
    env.update(PIP_NO_CACHE_DIR="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONNOUSERSITE="1",
               JUPYTER_CONFIG_DIR=str(home / "jupyter-config"), JUPYTER_PLATFORM_DIRS="1",
               JUPYTER_DATA_DIR=str(home / "jupyter-data"), IPYTHONDIR=str(home / "ipython"),
               JUPYTER_RUNTIME_DIR=str(home / "jupyter-runtime"),
               MPLCONFIGDIR=str(home / "matplotlib"))
    if venv is not None:
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def timed(command: list, cwd: Path, env: dict) -> float:
    """Run ``command`` (its output shown), stop on failure, return its wall time in seconds."""
    print("+", " ".join(map(str, command)), flush=True)
    start = time.perf_counter()
    subprocess.run([str(c) for c in command], cwd=cwd, env=env, check=True)
    return time.perf_counter() - start


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lab_serves_lesson(venv: Path, repo: Path, env: dict) -> float:
    """Seconds from starting a headless ``jupyter lab`` until it serves the first lesson."""
    port, token = free_port(), secrets.token_hex(16)
    url = f"http://127.0.0.1:{port}"
    command = [venv / "bin" / "jupyter", "lab", "--no-browser", f"--port={port}",
               "--ip=127.0.0.1", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={repo}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # a container: Jupyter refuses root else
        command.append("--allow-root")
    log_path = repo.parent / "lab.log"
    log = open(log_path, "w")
    start = time.perf_counter()
    server = subprocess.Popen([str(c) for c in command], cwd=repo, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        while time.perf_counter() - start < LAB_TIMEOUT_S:
            if server.poll() is not None:
                tail = "\n".join(log_path.read_text().splitlines()[-5:])
                sys.exit(f"error: jupyter lab stopped (exit {server.returncode}); its log ends:\n"
                         f"{tail}")
            try:
                for path in (f"/api/contents/{LESSON}", f"/lab/tree/{LESSON}"):
                    with urllib.request.urlopen(f"{url}{path}?token={token}", timeout=5) as page:
                        page.read()
                return time.perf_counter() - start
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        sys.exit(f"error: jupyter lab did not serve {LESSON} within {LAB_TIMEOUT_S} s; see "
                 f"{log_path} (run with --keep to keep it)")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def torch_index_used(venv: Path) -> str:
    """The torch index bootstrap.py recorded in the environment's stamp."""
    stamp = venv / ".qdr-course-installed"
    lines = stamp.read_text().splitlines() if stamp.exists() else []
    return lines[1].removeprefix("torch index: ") if len(lines) > 1 else "unknown"


def measure(work: Path) -> dict:
    """Every number of this benchmark, measured in the empty folder ``work``."""
    repo = work / "repo"
    repo.mkdir()
    archive = subprocess.run(["git", "-C", ROOT, "archive", "--format=tar", "HEAD"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", repo], input=archive, check=True)
    venv = repo / ".venv"
    env = clean_environment(work)
    install_s = timed([sys.executable, "scripts/bootstrap.py", "setup"], repo, env)
    venv_env = clean_environment(work, venv)
    lab_s = lab_serves_lesson(venv, repo, venv_env)
    first_cell_s = timed([venv / "bin" / "python", "-c", FIRST_CELL, LESSON, "lessons"], repo,
                         venv_env)
    site = next(venv.glob("lib/python*/site-packages"))
    learner_bytes, largest = disk_usage(venv), largest_entries(site)
    test_s = timed([venv / "bin" / "python", "-m", "pip", "install", "-q", "-r",
                    "binder/requirements-test.txt"], repo, venv_env)
    test_bytes = disk_usage(venv)
    return {
        "install": {"command": "python3 scripts/bootstrap.py setup", "seconds": install_s,
                    "pip_cache": "off", "torch_index": torch_index_used(venv),
                    "pip_sources": pip_sources()},
        "first_lesson": {"lesson": LESSON, "lab_serves_it_s": lab_s,
                         "first_code_cell_s": first_cell_s},
        "time_to_first_lesson_s": install_s + lab_s + first_cell_s,
        "size": {"learner_bytes": learner_bytes, "test_bytes": test_bytes,
                 "largest_learner_entries": largest},
        "test_extra_install_s": test_s,
    }


def record(results: dict, load_before: tuple, load_after: tuple) -> dict:
    """The results file's content: name, date, commit, machine, threads, then the numbers."""
    return {"name": "environment", "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": commit(), "machine": {**machine_facts(), "load_before": list(load_before),
                                            "load_after": list(load_after)},
            "threads": thread_settings(), **results}


def install_runs(data: dict) -> list[dict]:
    """Every cold set-up time on record: this file's run and the earlier ones it keeps."""
    load = (data["machine"].get("load_before") or [None])[0]
    this = {"seconds": data["install"]["seconds"],
            "where": (f"at load {load:.1f}, " if load is not None else "") + "measured by "
                     f"`benchmarks/bench_environment.py` on {data['date'][:10]}"}
    return [this, *data.get("earlier_installs", [])]


def markdown(data: dict) -> str:
    """The README sentence of a results file: a range of set-up times, never one promise."""
    size, first = data["size"], data["first_lesson"]
    runs = install_runs(data)
    low, high = min(run["seconds"] for run in runs), max(run["seconds"] for run in runs)
    span = f"{low:.0f}-{high:.0f} s" if len(runs) > 1 else f"{low:.0f} s"
    return (f"A learner's environment takes {size['learner_bytes'] / 2**30:.1f} GB on disk "
            f"(the tests add {(size['test_bytes'] - size['learner_bytes']) / 2**20:.0f} MB); "
            f"on a {data['machine']['cores']}-core machine a cold `python3 scripts/bootstrap.py "
            f"setup` takes {span}, longer on a busy machine ("
            + "; ".join(f"{run['seconds']:.0f} s {run['where']}" for run in runs)
            + f"), and the first lesson is open about "
            f"{first['lab_serves_it_s'] + first['first_code_cell_s']:.0f} s later.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--markdown", action="store_true",
                        help=f"print the README sentence of {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    if args.markdown:
        if not RESULTS.exists():
            sys.exit(f"error: {RESULTS.relative_to(ROOT)} does not exist yet: run "
                     "python3 benchmarks/bench_environment.py first.")
        print(markdown(json.loads(RESULTS.read_text())))
        return 0
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"error: run this with python3.11 (the course's Python), not "
                 f"{platform.python_version()}.")
    work = Path(tempfile.mkdtemp(prefix="qdr-bench-environment-"))
    try:
        load_before = os.getloadavg()
        data = record(measure(work), load_before, os.getloadavg())
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if RESULTS.exists():  # keep every earlier set-up time: the README quotes their range
        data["earlier_installs"] = install_runs(json.loads(RESULTS.read_text()))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    print(json.dumps(data, indent=2))
    print(markdown(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
