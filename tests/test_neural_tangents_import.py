"""neural-tangents' stax kernels without TensorFlow (issue 16): qdr_course/ntk/_neural_tangents.py.

If a neural-tangents release imports TensorFlow from another module than
``neural_tangents.experimental``, the first test fails and names the file: the stand-in module
must then follow it (or TensorFlow is imported again, 3 s and 600 MB per lesson 06 kernel).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qdr_course.ntk import _neural_tangents
from qdr_course.utils import REPO_ROOT

TENSORFLOW_ROOTS = ("tensorflow", "tf2jax", "jax.experimental.jax2tf")


def imported_modules(source: str) -> set[str]:
    """Every absolute module name an ``import`` or ``from ... import`` statement names."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def reaches_tensorflow(names: set[str]) -> bool:
    return any(n == root or n.startswith(root + ".") for n in names for root in TENSORFLOW_ROOTS)


def test_only_the_skipped_module_imports_tensorflow():
    package = Path(importlib.util.find_spec("neural_tangents").submodule_search_locations[0])
    skipped = package / "experimental"
    offenders = sorted(str(path.relative_to(package)) for path in package.rglob("*.py")
                       if reaches_tensorflow(imported_modules(path.read_text(encoding="utf-8")))
                       and not path.is_relative_to(skipped))
    assert not offenders, (
        f"neural-tangents now imports TensorFlow from {offenders}, not only from "
        f"{_neural_tangents.SKIPPED_MODULE}: update qdr_course/ntk/_neural_tangents.py")
    inside = [path for path in skipped.rglob("*.py")
              if reaches_tensorflow(imported_modules(path.read_text(encoding="utf-8")))]
    assert inside, "neural_tangents.experimental no longer imports TensorFlow: drop the stand-in"
    init = ast.parse((package / "__init__.py").read_text(encoding="utf-8"))
    relative = {alias.name for node in ast.walk(init) if isinstance(node, ast.ImportFrom)
                and node.level == 1 and node.module is None for alias in node.names}
    assert {"experimental", "stax", "predict"} <= relative


PROBE = """
import json, sys
import numpy as np
import psutil
from qdr_course import doctor, ntk
from qdr_course.ntk._neural_tangents import TENSORFLOW_MODULES
row = next(r for r in doctor.REQUIREMENTS if r[0] == "neural-tangents")
finding = doctor.inspect_package(*row)
nt = ntk.import_neural_tangents()
x = np.random.default_rng(0).normal(size=(6, 10))
x /= np.linalg.norm(x, axis=1, keepdims=True)
stax_kernel = np.asarray(ntk.fc_erf_network(3)[2](x, None, "ntk"))
try:
    from neural_tangents.experimental import empirical_ntk_fn_tf  # noqa: F401
    message = None
except ImportError as error:
    message = str(error)
print(json.dumps({
    "loaded": [m for m in TENSORFLOW_MODULES if m in sys.modules],
    "doctor_ok": finding.ok, "rss_mb": psutil.Process().memory_info().rss / 2**20,
    "stax_vs_closed_form": float(np.abs(stax_kernel - ntk.erf_ntk(x, None, 3)).max()),
    "has_stax": hasattr(nt.stax, "serial") and hasattr(nt.predict, "gradient_descent_mse"),
    "message": message}))
"""


@pytest.fixture(scope="module")
def probe() -> dict:
    """What a fresh interpreter loads for the doctor, a stax kernel and the stand-in."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                            env=env, cwd=REPO_ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_kernels_need_no_tensorflow(probe):
    assert probe["loaded"] == [], f"TensorFlow modules imported: {probe['loaded']}"
    assert probe["has_stax"] and probe["doctor_ok"]
    assert probe["stax_vs_closed_form"] < 1e-10  # the kernel the lessons compare, unchanged
    assert probe["rss_mb"] < 500, f"{probe['rss_mb']:.0f} MB after importing neural-tangents"


def test_the_converters_say_why_they_are_missing(probe):
    assert "TensorFlow converters" in probe["message"]
    assert "qdr_course/ntk/_neural_tangents.py" in probe["message"]
    stand_in = _neural_tangents.SkippedModule("neural_tangents.experimental")
    with pytest.raises(ImportError, match="empirical_ntk_fn_tf is not loaded"):
        getattr(stand_in, "empirical_ntk_fn_tf")  # noqa: B009
    with pytest.raises(AttributeError):
        getattr(stand_in, "__wrapped__")  # noqa: B009


def test_an_already_imported_neural_tangents_is_returned_as_is(monkeypatch):
    sentinel = object()
    monkeypatch.setitem(sys.modules, "neural_tangents", sentinel)
    assert _neural_tangents.import_neural_tangents() is sentinel
