"""Torch's thread count follows the CPUs a process may really use (issue 17): cgroup v2 and v1
quotas read from fake cgroup files, the affinity mask, and a user's own choice kept."""

from __future__ import annotations

import subprocess
import sys

import pytest

from qdr_course.threads import available_cpus, cgroup_cpu_quota, thread_choice
from qdr_course.utils import REPO_ROOT


def fake_cgroup(tmp_path, files: dict[str, str], proc: str = "0::/\n"):
    """A fake /sys/fs/cgroup tree and /proc/self/cgroup file; returns both paths."""
    root = tmp_path / "cgroup"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    root.mkdir(exist_ok=True)
    (tmp_path / "proc_cgroup").write_text(proc)
    return root, tmp_path / "proc_cgroup"


@pytest.mark.parametrize("text, cpus", [("max 100000\n", None), ("100000 100000\n", 1.0),
                                        ("150000 100000\n", 1.5), ("50000 100000", 0.5),
                                        ("200000\n", 2.0), ("garbage here\n", None), ("", None)])
def test_cgroup_v2_cpu_max_is_read(tmp_path, text, cpus):
    root, proc = fake_cgroup(tmp_path, {"cpu.max": text})
    assert cgroup_cpu_quota(root, proc) == cpus


def test_cgroup_v2_the_smallest_quota_on_the_way_up_counts(tmp_path):
    root, proc = fake_cgroup(tmp_path, {"cpu.max": "400000 100000", "user/cpu.max": "max 100000",
                                        "user/me/cpu.max": "120000 100000"},
                             proc="0::/user/me\n")
    assert cgroup_cpu_quota(root, proc) == pytest.approx(1.2)


@pytest.mark.parametrize("quota, period, cpus", [("-1", "100000", None), ("100000", "100000", 1.0),
                                                 ("250000", "100000", 2.5), ("50000", "0", None)])
def test_cgroup_v1_cfs_quota_is_read(tmp_path, quota, period, cpus):
    root, proc = fake_cgroup(tmp_path, {"cpu,cpuacct/cpu.cfs_quota_us": quota,
                                        "cpu,cpuacct/cpu.cfs_period_us": period},
                             proc="4:memory:/x\n2:cpu,cpuacct:/\n")
    assert cgroup_cpu_quota(root, proc) == cpus


def test_no_cgroup_files_means_no_quota(tmp_path):
    assert cgroup_cpu_quota(tmp_path / "nothing", tmp_path / "no_proc_file") is None


@pytest.mark.parametrize("affinity, quota, cpus", [(8, None, 8), (8, 1.0, 1), (8, 1.5, 1),
                                                   (8, 0.5, 1), (2, 4.0, 2), (4, 2.9999999999, 3)])
def test_available_cpus_is_the_affinity_capped_by_the_quota(affinity, quota, cpus):
    assert available_cpus(affinity, quota) == cpus


def test_torch_default_is_lowered_to_a_one_cpu_quota():
    choice = thread_choice(torch_threads=8, affinity=8, quota=1.0, environ={})
    assert (choice.before, choice.threads, choice.available) == (8, 1, 1)
    assert "lowered from torch's default 8" in choice.describe()
    assert "CPU quota 1" in choice.describe()


def test_torch_default_that_fits_is_kept():
    choice = thread_choice(torch_threads=2, affinity=2, quota=None, environ={})
    assert choice.threads == 2 and "fits" in choice.reason


def test_a_user_environment_variable_is_kept():
    choice = thread_choice(torch_threads=8, affinity=8, quota=1.0, environ={"OMP_NUM_THREADS": "8"})
    assert choice.threads == 8 and choice.reason == "OMP_NUM_THREADS=8 set: kept"


def test_a_user_set_num_threads_is_kept():
    choice = thread_choice(torch_threads=3, affinity=8, quota=1.0, environ={})
    assert choice.threads == 3 and "torch.set_num_threads" in choice.reason


def run_python(code: str, **env) -> str:
    import os

    environ = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS",
                                                               "MKL_NUM_THREADS")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO_ROOT, env={**environ, **env}, check=True)
    return result.stdout.strip()


def test_importing_the_layer_configures_torch_once_and_keeps_a_users_threads():
    code = ("import torch; torch.set_num_threads(3); "
            "import qdr_course.quantum.layer, qdr_course.retina.models; "
            "from qdr_course.threads import current_choice as c; "
            "print(torch.get_num_threads(), c().before, c().threads)")
    assert run_python(code) == "3 3 3"
