"""What every benchmark shares: paired timing in one process, machine facts, and results files.

A benchmark measures the ways it compares in turns (a, b, a, b, ...) so a change of load hits
them alike, reports the median and min-max of at least 5 samples, and ratios of the paired
samples. Its results file ``benchmarks/results/NAME.json`` records the date, commit, CPU model,
cores, affinity and quota, load average before and after, and thread settings, so a figure can
be traced to the machine state that produced it. ``make_readme_tables.py`` writes the README's
tables from these files.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (platform.processor() elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> list[float]:
    """The 1-, 5- and 15-minute load averages (empty where the OS has none)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return []


def git_commit() -> str:
    """The commit of the checkout measured, with '+changes' when the work tree differs."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout
    commit = git("rev-parse", "--short=12", "HEAD").strip() or "unknown"
    return commit + ("+changes" if git("status", "--porcelain", "--untracked-files=no").strip()
                     else "")


def machine_facts() -> dict:
    """CPU model, cores, the CPUs this process may use, and torch's threads."""
    from qdr_course.threads import _affinity, available_cpus, cgroup_cpu_quota

    facts = {"cpu_model": cpu_model(), "cores": os.cpu_count(), "affinity": _affinity(),
             "cpu_quota": cgroup_cpu_quota(), "python": platform.python_version(),
             "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")}
    facts["cpus_available"] = available_cpus(facts["affinity"], facts["cpu_quota"])
    if "torch" in sys.modules:
        import torch
        facts["torch"] = torch.__version__
        facts["torch_threads"] = torch.get_num_threads()
    return facts


def sample(fn: Callable[[], object], min_seconds: float) -> float:
    """Seconds per call of ``fn``, averaged over as many calls as fill ``min_seconds``."""
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / calls


def summary(values: list[float]) -> dict:
    """Median, min, max and count."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def paired(ways: dict[str, Callable[[], object]], repeats: int, min_seconds: float,
           reference: str | None = None, setup: dict[str, Callable[[], object]] | None = None
           ) -> dict:
    """Time every way in turns, ``repeats`` rounds; per way its seconds, and (with a reference)
    the ratio time / reference time of each round. ``setup[name]`` runs before each of that
    way's samples, untimed (e.g. setting torch's thread count)."""
    setup = setup or {}
    for name, fn in ways.items():  # warm-up: compilation, caches
        setup.get(name, lambda: None)()
        fn()
    seconds = {name: [] for name in ways}
    for _ in range(repeats):
        for name, fn in ways.items():
            setup.get(name, lambda: None)()
            seconds[name].append(sample(fn, min_seconds))
    out = {name: {"seconds": summary(values)} for name, values in seconds.items()}
    if reference is not None:
        for name, values in seconds.items():
            ratios = [v / r for v, r in zip(values, seconds[reference])]
            out[name]["ratio_to_" + reference] = summary(ratios)
    return out


def write_results(name: str, settings: dict, tables: dict, load_before: list[float],
                  path: Path | None = None) -> Path:
    """Write ``benchmarks/results/NAME.json`` with the run's facts and tables; return its path."""
    payload = {"benchmark": name,
               "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
               "commit": git_commit(), "machine": machine_facts(),
               "load_before": load_before, "load_after": load_average(),
               "settings": settings, "tables": tables}
    path = path or RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return path


#: The script that writes each results file.
SCRIPTS = {"quantum_layer": "bench_quantum_layer.py", "layer_speed": "bench_layer_speed.py",
           "grader": "bench_grader.py", "fundus": "bench_fundus.py", "ntk": "bench_ntk.py",
           "notebook_budgets": "notebook_budgets.py"}


def read_results(name: str, folder: Path = RESULTS) -> dict:
    """The stored results of one benchmark (a clear error when it has not been run)."""
    path = folder / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run python benchmarks/"
                                f"{SCRIPTS.get(name, name + '.py')} first (see "
                                "benchmarks/README.md)")
    return json.loads(path.read_text(encoding="utf-8"))
