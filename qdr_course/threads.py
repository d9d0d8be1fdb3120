"""How many torch threads to use: the CPUs this process may really use, not the host's cores.

On Binder, JupyterHub and Kubernetes a learner gets about one CPU by a cgroup quota while torch
sees every core of the host; its default thread count then oversubscribes the quota and a small
layer runs up to 3x slower. :func:`configure_torch` lowers torch's intra-op threads to the CPUs
available (the affinity mask and the cgroup v2 / v1 CPU quota), once per process, unless the user
chose threads (``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` or ``torch.set_num_threads`` before).
``qdr-course doctor`` shows the choice.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ThreadChoice", "available_cpus", "cgroup_cpu_quota", "configure_torch",
           "current_choice", "thread_choice"]

#: Variables through which a user sets the thread count themselves (torch reads them itself).
USER_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class ThreadChoice:
    """What :func:`configure_torch` saw and did."""

    affinity: int  # CPUs in the affinity mask (os.sched_getaffinity)
    quota: float | None  # CPUs allowed by the cgroup CPU quota; None: no quota
    available: int  # the CPUs this process may really use
    before: int  # torch's intra-op threads before
    threads: int  # torch's intra-op threads after
    reason: str  # why: one line

    def describe(self) -> str:
        """One line for ``qdr-course doctor``."""
        quota = "no CPU quota" if self.quota is None else f"CPU quota {self.quota:g}"
        return (f"{self.available} CPU(s) available ({self.affinity} in the affinity mask, "
                f"{quota}); torch threads {self.threads} ({self.reason})")


def _read_quota_v2(path: Path) -> float | None:
    """CPUs allowed by a cgroup v2 ``cpu.max`` file ("max 100000" or "50000 100000")."""
    fields = path.read_text(encoding="utf-8").split()
    if not fields or fields[0] == "max":
        return None
    period = float(fields[1]) if len(fields) > 1 else 100000.0
    quota = float(fields[0])
    return quota / period if quota > 0 and period > 0 else None


def _read_quota_v1(folder: Path) -> float | None:
    """CPUs allowed by cgroup v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (-1: none)."""
    quota = float((folder / "cpu.cfs_quota_us").read_text(encoding="utf-8").strip())
    period = float((folder / "cpu.cfs_period_us").read_text(encoding="utf-8").strip())
    return quota / period if quota > 0 and period > 0 else None


def _own_cgroup_folders(root: Path, proc_cgroup: Path) -> list[Path]:
    """The folders of this process's cgroups and their ancestors (v2 path and v1 'cpu' path)."""
    folders = []
    try:
        lines = proc_cgroup.read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    for line in lines:
        _, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        if controllers == "":  # v2: 0::/path
            base = root
        elif "cpu" in controllers.split(","):  # v1: the cpu controller's own hierarchy
            base = next((root / name for name in ("cpu", "cpu,cpuacct", "cpuacct,cpu")
                         if (root / name).is_dir()), root / "cpu")
        else:
            continue
        parts = [p for p in path.strip().split("/") if p]
        for depth in range(len(parts), -1, -1):
            folders.append(base.joinpath(*parts[:depth]))
    # a container's namespace often shows "/" while the files sit at the root itself
    folders += [root, root / "cpu", root / "cpu,cpuacct"]
    return list(dict.fromkeys(folders))


def cgroup_cpu_quota(root: Path = CGROUP_ROOT,
                     proc_cgroup: Path = Path("/proc/self/cgroup")) -> float | None:
    """The smallest CPU quota (in CPUs) of this process's cgroups, v2 or v1; None if unlimited."""
    limits = []
    for folder in _own_cgroup_folders(Path(root), Path(proc_cgroup)):
        for read, name in ((_read_quota_v2, "cpu.max"), (_read_quota_v1, "cpu.cfs_quota_us")):
            target = folder / name
            if not target.is_file():
                continue
            try:
                limit = read(target if name == "cpu.max" else folder)
            except (OSError, ValueError, IndexError):
                continue  # unreadable or malformed: no limit known from this file
            if limit is not None:
                limits.append(limit)
    return min(limits) if limits else None


def _affinity() -> int:
    """CPUs in this process's affinity mask (os.cpu_count() where the call does not exist)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS, Windows
        return os.cpu_count() or 1


def available_cpus(affinity: int | None = None, quota: float | None = None) -> int:
    """Whole CPUs this process may use: the affinity mask, capped by the quota (at least 1)."""
    affinity = _affinity() if affinity is None else affinity
    if quota is None:
        return max(1, affinity)
    return max(1, min(affinity, math.floor(quota + 1e-9)))


def _torch_defaults(affinity: int) -> set[int]:
    """Thread counts torch picks by itself: the affinity mask, all logical or physical cores."""
    logical = os.cpu_count() or 1
    return {affinity, logical, affinity // 2 or 1, logical // 2 or 1}  # halves: hyperthreading


def thread_choice(torch_threads: int, affinity: int, quota: float | None,
                  environ=os.environ) -> ThreadChoice:
    """Decide torch's thread count (pure: no side effects; :func:`configure_torch` applies it)."""
    available = available_cpus(affinity, quota)

    def choice(threads: int, reason: str) -> ThreadChoice:
        return ThreadChoice(affinity, quota, available, torch_threads, threads, reason)

    named = [name for name in USER_VARIABLES if environ.get(name, "").strip()]
    if named:
        return choice(torch_threads, f"{named[0]}={environ[named[0]].strip()} set: kept")
    if torch_threads not in _torch_defaults(affinity):
        return choice(torch_threads, "set by torch.set_num_threads before: kept")
    if torch_threads <= available:
        return choice(torch_threads, "torch's default fits the CPUs available")
    return choice(available, f"lowered from torch's default {torch_threads}")


_CHOICE: ThreadChoice | None = None


def configure_torch() -> ThreadChoice:
    """Set torch's intra-op threads to the CPUs available, once per process; return the choice.

    Called where the package's quantum and retina parts import torch; a user's own choice of
    threads (environment variable or an earlier ``torch.set_num_threads``) is kept.
    """
    global _CHOICE
    if _CHOICE is not None:
        return _CHOICE
    import torch

    choice = thread_choice(torch.get_num_threads(), _affinity(), cgroup_cpu_quota())
    if choice.threads != choice.before:
        torch.set_num_threads(choice.threads)
    _CHOICE = choice
    return choice


def current_choice() -> ThreadChoice | None:
    """The choice made in this process so far (None before torch was configured)."""
    return _CHOICE if "torch" in sys.modules else None
