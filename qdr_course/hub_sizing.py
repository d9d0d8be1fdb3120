"""Per-learner CPU and memory on JupyterHub, from the lessons' measured peaks, and node sizing.

The README's lesson table measures each lesson's peak memory on one core. The rule, stated once:

- memory limit = the largest lesson peak + 0.5 GB (JupyterLab's server, a restarted kernel's
  overlap, headroom), rounded up to 0.25 GB: no lesson is ever killed for memory;
- memory guarantee = the median lesson peak + 0.25 GB (the server), rounded up to 0.25 GB:
  what a learner typically holds, so a node is packed by typical, not worst, use;
- CPU limit = 1 core (the lessons are measured on one core), guarantee = 0.25 core: learners
  read and think far longer than their cells run (the table's "runs in" against its minutes).

See ``docs/jupyterhub.md``.
"""

from __future__ import annotations

import math
import re
import statistics
from pathlib import Path

from qdr_course.validate import positive_number

SERVER_GB = 0.25
HEADROOM_GB = 0.5
STEP_GB = 0.25
CPU_LIMIT, CPU_GUARANTEE = 1.0, 0.25
#: What a node keeps for its system, the hub and the proxy: (cores, GB).
NODE_RESERVE = (1.0, 2.0)
NODE_SIZES = [(4, 16), (8, 32), (16, 64), (32, 128)]
PEAK = re.compile(r"^\| (\d\d) \|.*\| ([\d.]+) GB \|\s*$")


def lesson_peaks(readme: Path) -> dict[str, float]:
    """Peak memory of each lesson (GB) from the README's lesson table."""
    peaks = {m.group(1): float(m.group(2)) for line in readme.read_text("utf-8").splitlines()
             if (m := PEAK.match(line))}
    if not peaks:
        raise ValueError(f"no lesson table with a peak-memory column in {readme}")
    return peaks


def _round_up(gb: float) -> float:
    return math.ceil(round(gb / STEP_GB, 6)) * STEP_GB


def per_user(peaks: dict[str, float]) -> dict[str, float]:
    """Memory (GB) and CPU guarantees and limits for one learner's server."""
    if not peaks:
        raise ValueError("peaks is empty: give each lesson's peak memory in GB, e.g. "
                         "{'01': 0.5}")
    values = [positive_number(f"the peak memory of lesson {k}", v) for k, v in peaks.items()]
    return {"mem_limit_gb": _round_up(max(values) + HEADROOM_GB),
            "mem_guarantee_gb": _round_up(statistics.median(values) + SERVER_GB),
            "cpu_limit": CPU_LIMIT, "cpu_guarantee": CPU_GUARANTEE}


def learners_per_node(cores: float, gb: float, user: dict[str, float]) -> int:
    """How many learners' guarantees fit on a node once its reserve is set aside."""
    positive_number("cores", cores)
    positive_number("gb", gb)
    for key in ("cpu_guarantee", "mem_guarantee_gb"):
        positive_number(f"user[{key!r}]", user[key])
    by_cpu = (cores - NODE_RESERVE[0]) / user["cpu_guarantee"]
    by_memory = (gb - NODE_RESERVE[1]) / user["mem_guarantee_gb"]
    return max(0, int(math.floor(min(by_cpu, by_memory) + 1e-9)))  # a node below its reserve: 0


def sizing_table(user: dict[str, float]) -> str:
    """The Markdown sizing table of docs/jupyterhub.md."""
    rows = ["| node | learners per node | all at their memory limit would need |",
            "|---|---|---|"]
    for cores, gb in NODE_SIZES:
        n = learners_per_node(cores, gb, user)
        rows.append(f"| {cores} cores, {gb} GB | {n} | {n * user['mem_limit_gb']:g} GB |")
    return "\n".join(rows)
