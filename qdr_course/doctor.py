"""Is this machine ready for the course? Versions, resources, and what is broken. See lesson 00."""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import os
import platform
import subprocess
import sys
from dataclasses import dataclass

#: (distribution, import name, the version range the course is tested with, why it is needed)
#: (distribution, import name, the version range the course is tested with, why it is needed);
#: the lessons that need each one are read off the lessons' imports (see ``why_needed``).
REQUIREMENTS = [
    ("numpy", "numpy", ">=1.26", "arrays everywhere"),
    ("scipy", "scipy", ">=1.11", "linear algebra and statistics"),
    ("scikit-learn", "sklearn", ">=1.4", "metrics and the bundled digits"),
    ("matplotlib", "matplotlib", ">=3.8", "figures"),
    ("torch", "torch", ">=2.2", "the hybrid networks and the batched simulator"),
    ("qiskit", "qiskit", ">=2.0,<3", "circuits and V2 primitives"),
    ("qiskit-aer", "qiskit_aer", ">=0.17", "fast simulators and noise models"),
    ("qiskit-ibm-runtime", "qiskit_ibm_runtime", ">=0.40", "offline fake IBM devices"),
    ("jax", "jax", ">=0.4.30,<0.6", "neural tangent kernels"),
    ("neural-tangents", "neural_tangents", ">=0.6.5,<0.7", "infinite-width kernels"),
    ("jupyterlab", "jupyterlab", ">=4", "running the lessons"),
    ("jupytext", "jupytext", ">=1.16", "lessons stored as .py scripts"),
    ("tqdm", "tqdm", ">=4.66", "progress bars"),
    ("pooch", "pooch", ">=1.8", "hash-checked downloads of real data"),
    ("pillow", "PIL", ">=10", "reading fundus photographs"),
]


@dataclass
class Finding:
    """One line of the doctor's report."""

    name: str
    version: str
    ok: bool
    note: str


def inspect_package(dist: str, module: str, spec: str, why: str) -> Finding:
    """Import one package and compare its version with the tested range."""
    from packaging.specifiers import SpecifierSet

    try:
        version = metadata.version(dist)
    except metadata.PackageNotFoundError:
        return Finding(dist, "-", False, f"not installed ({why}): pip install '{dist}{spec}'")
    try:
        if module == "neural_tangents":  # as the lessons import it: without TensorFlow
            from qdr_course.ntk import import_neural_tangents

            import_neural_tangents()
        else:
            importlib.import_module(module)
    except Exception as error:  # a broken import is exactly what the doctor is for
        hint = ""
        if dist == "neural-tangents":
            hint = " (neural-tangents 0.6.5 needs jax==0.5.3, jaxlib==0.5.3, frozendict)"
        return Finding(dist, version, False,
                       f"fails to import: {type(error).__name__}: {error}{hint}")
    base = version.split("+")[0]
    if base not in SpecifierSet(spec):
        return Finding(dist, version, False, f"untested version, the course wants {spec}")
    return Finding(dist, version, True, why + (tensorflow_note() if module == "neural_tangents"
                                               else ""))


def tensorflow_note() -> str:
    """Said beside neural-tangents when TensorFlow, which it declares, is not installed."""
    try:
        metadata.version("tensorflow")
    except metadata.PackageNotFoundError:
        return "; TensorFlow not installed (not needed: see binder/requirements-no-deps.txt)"
    return ""


def on_binder() -> bool:
    """True inside a mybinder.org session."""
    return "BINDER_SERVICE_HOST" in os.environ or "BINDER_LAUNCH_HOST" in os.environ


def resources() -> list[tuple[str, str]]:
    """Python, platform, CPU count and memory, as (name, value) rows."""
    import psutil

    memory = psutil.virtual_memory()
    limit = _cgroup_memory_limit()
    rows = [
        ("python", f"{platform.python_version()} ({sys.executable})"),
        ("platform", platform.platform()),
        ("cpus", str(os.cpu_count())),
        ("cpus available", _cpus_available()),
        ("torch threads", _torch_threads()),
        ("memory",
         f"{memory.total / 2**30:.1f} GiB total, {memory.available / 2**30:.1f} GiB free"),
        ("binder", "yes" if on_binder() else "no"),
    ]
    if limit:
        rows.append(("memory limit", f"{limit / 2**30:.1f} GiB (container)"))
    return rows


def _cpus_available() -> str:
    """The CPUs this process may use: affinity mask and cgroup CPU quota."""
    from qdr_course.threads import _affinity, available_cpus, cgroup_cpu_quota

    affinity, quota = _affinity(), cgroup_cpu_quota()
    limit = "no CPU quota" if quota is None else f"CPU quota {quota:g}"
    return f"{available_cpus(affinity, quota)} ({affinity} in the affinity mask, {limit})"


def _torch_threads() -> str:
    """The intra-op threads the course gives torch, asked of a fresh interpreter."""
    code = ("from qdr_course.threads import configure_torch; c = configure_torch(); "
            "print(f'{c.threads} ({c.reason})')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return f"unknown: torch did not start ({tail})"
    return lines[-1]


def _cgroup_memory_limit() -> int | None:
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            value = open(path).read().strip()
        except OSError:
            continue
        if value.isdigit() and int(value) < 2**60:
            return int(value)
    return None


def why_needed(module: str, why: str, needing: dict[str, list[str]] | None = None) -> str:
    """``why`` followed by the lessons that import ``module`` (directly or through the course's
    own modules), read off the lessons' sources when they are there."""
    if needing is None:
        from qdr_course.course_map import lessons_needing

        needing = lessons_needing()
    from qdr_course.course_map import lesson_span

    span = lesson_span(needing.get(module.split(".")[0], []))
    return f"{why} ({span})" if span else why


def diagnose(isolated: bool = True) -> list[Finding]:
    """Check every key package; with ``isolated``, each import runs in a fresh interpreter."""
    from qdr_course.course_map import lessons_needing

    needing = lessons_needing()
    rows = [(dist, module, spec, why_needed(module, why, needing))
            for dist, module, spec, why in REQUIREMENTS]
    if not isolated:
        return [inspect_package(*row) for row in rows]
    findings = []
    for dist, module, spec, why in rows:
        code = ("import json, qdr_course.doctor as d; "
                f"f = d.inspect_package({dist!r}, {module!r}, {spec!r}, {why!r}); "
                "print(json.dumps(f.__dict__))")
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        if result.returncode == 0 and result.stdout.strip():
            import json

            findings.append(Finding(**json.loads(result.stdout.strip().splitlines()[-1])))
        else:
            tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
            findings.append(Finding(dist, "?", False, f"crashed the interpreter: {tail}"))
    return findings


def installed_versions() -> list[tuple[str, str]]:
    """(package, version) for every key package, without importing any of them."""
    rows = []
    for dist, *_ in REQUIREMENTS:
        try:
            rows.append((dist, metadata.version(dist)))
        except metadata.PackageNotFoundError:
            rows.append((dist, "NOT INSTALLED"))
    return rows
