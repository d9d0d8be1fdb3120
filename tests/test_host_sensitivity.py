"""The `[other-cpu]` notebook check really perturbs rounding, setting by setting.

conftest.py runs every solution notebook a second time with ``OTHER_CPU_ENV``, so a stored
output only this machine reproduces fails here and not first in CI on another CPU. That check
is only as good as its settings: each must change the bits of a computation the lessons do.
Here each setting runs alone in a fresh interpreter against the same computations without it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from qdr_course.authoring import OTHER_CPU_ENV as OTHER_CPU
from qdr_course.utils import REPO_ROOT

# Each computation is one the lessons do: the statevector finite difference of lesson 02 at
# h = 1e-11 (rounding-dominated), a CNN convolution and a linear layer (lesson 05), NumPy's
# transcendental functions (the closed-form NTK of lesson 06) and a NumPy matrix product.
PROBE = r"""
import hashlib, json
import numpy as np, torch
from qdr_course.quantum.circuits import retinopathy_circuit
from qdr_course.quantum.statevector import expectation_values

def digest(array):
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:16]

torch.set_num_threads(int(__import__("os").environ.get("OMP_NUM_THREADS", "1")))
rng = np.random.default_rng(0)
qc = retinopathy_circuit(3, 2)
x, w = rng.normal(size=3), rng.normal(size=6)
energy = lambda t: expectation_values(qc, x, np.concatenate([[t], w[1:]]))[0]
images = torch.from_numpy(rng.normal(size=(8, 16, 32, 32))).float()
kernels = torch.from_numpy(rng.normal(size=(32, 16, 3, 3))).float()
a, b = rng.normal(size=(300, 2000)), rng.normal(size=(2000, 300))
grid = np.linspace(-0.99, 0.99, 100001)
print(json.dumps({
    "statevector": digest(np.array([(energy(0.4 + 1e-11) - energy(0.4 - 1e-11)) / 2e-11])),
    "conv2d": digest(torch.nn.functional.conv2d(images, kernels).numpy()),
    "torch matmul": digest((torch.from_numpy(a) @ torch.from_numpy(b)).numpy()),
    "numpy transcendental": digest(np.concatenate([np.exp(grid), np.tanh(grid), np.arcsin(grid)])),
    "numpy matmul": digest(a @ b),
}))
"""

#: Which computation each setting must change (several settings share a library).
CHANGES = {
    "ATEN_CPU_CAPABILITY": "statevector",
    "ONEDNN_MAX_CPU_ISA": "conv2d",
    "MKL_CBWR": "torch matmul",
    "NPY_DISABLE_CPU_FEATURES": "numpy transcendental",
    "OMP_NUM_THREADS": "numpy matmul",
}


def run_probe(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in OTHER_CPU}
    env.update({"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **extra})
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          env=env, cwd=REPO_ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def baseline() -> dict[str, str]:
    return run_probe({})


def numpy_has_wider_simd() -> bool:
    """True when NumPy dispatches past its baseline (so disabling that can change results)."""
    import numpy as np

    found = np._core._multiarray_umath.__cpu_features__  # noqa: SLF001 - NumPy's own table
    return any(found.get(name) for name in ("AVX512F", "X86_V4", "AVX512_SKX"))


@pytest.mark.parametrize("setting", sorted(CHANGES))
def test_each_other_cpu_setting_changes_the_numbers(setting, baseline):
    if setting == "NPY_DISABLE_CPU_FEATURES" and not numpy_has_wider_simd():
        pytest.skip("NumPy has no AVX-512 kernels on this CPU: nothing for this setting to turn "
                    "off")
    extra = {setting: OTHER_CPU[setting]}
    if setting == "OMP_NUM_THREADS":
        extra["MKL_NUM_THREADS"] = OTHER_CPU["MKL_NUM_THREADS"]
    perturbed = run_probe(extra)
    computation = CHANGES[setting]
    assert perturbed[computation] != baseline[computation], (
        f"{setting}={OTHER_CPU[setting]} no longer changes the {computation} bits: the "
        "[other-cpu] notebook check has lost that part of its teeth; find a setting that does")


def test_the_probe_itself_is_deterministic(baseline):
    assert run_probe({}) == baseline


def test_every_solution_notebook_is_also_checked_as_on_another_cpu():
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                           "-p", "no:cacheprovider", "solutions"],
                          capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    files = {line.split("::")[0] for line in done.stdout.splitlines() if "::" in line}
    notebooks = sorted(p.relative_to(REPO_ROOT).as_posix()
                       for p in (REPO_ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
    assert notebooks and files == set(notebooks) | {n + "[other-cpu]" for n in notebooks}
