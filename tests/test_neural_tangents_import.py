"""neural-tangents' stax kernels without TensorFlow (issue 16): qdr_course/ntk/_neural_tangents.py.

If a neural-tangents release imports TensorFlow from another module than
``neural_tangents.experimental``, the first test fails and names the file: the stand-in module
must then follow it (or TensorFlow is imported again, 3 s and 600 MB per lesson 06 kernel).
The course's environment does not even install TensorFlow (binder/requirements-no-deps.txt):
the probe runs again in an interpreter that refuses to import ``tensorflow`` and ``tf2jax`` and
must compute the same kernels.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
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


#: Prepended to PROBE: the environment the locks install, where tensorflow and tf2jax are absent
#: (here they are installed, so importing them is refused instead; nothing is uninstalled).
WITHOUT_TENSORFLOW = """
import sys


class RefuseTensorFlow:
    \"\"\"A meta-path finder under which tensorflow and tf2jax are not installed.\"\"\"

    tried = []

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("tensorflow", "tf2jax"):
            RefuseTensorFlow.tried.append(name)
            raise ModuleNotFoundError(f"No module named {name!r} (refused by the test)", name=name)
        return None


sys.meta_path.insert(0, RefuseTensorFlow())
"""

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
y = np.sign(x[:, :1])
predict = nt.predict.gradient_descent_mse(stax_kernel[:4, :4], y[:4], learning_rate=1.0)
prediction = np.asarray(predict(10.0, np.zeros((4, 1)), np.zeros((2, 1)), stax_kernel[4:, :4])[1])
try:
    from neural_tangents.experimental import empirical_ntk_fn_tf  # noqa: F401
    message = None
except ImportError as error:
    message = str(error)
print(json.dumps({
    "loaded": [m for m in TENSORFLOW_MODULES if m in sys.modules],
    "tried": getattr(sys.meta_path[0], "tried", None),
    "kernel": stax_kernel.tolist(), "prediction": prediction.tolist(),
    "doctor_ok": finding.ok, "rss_mb": psutil.Process().memory_info().rss / 2**20,
    "stax_vs_closed_form": float(np.abs(stax_kernel - ntk.erf_ntk(x, None, 3)).max()),
    "has_stax": hasattr(nt.stax, "serial") and hasattr(nt.predict, "gradient_descent_mse"),
    "message": message}))
"""


def run_probe(prelude: str = "") -> dict:
    """What a fresh interpreter loads for the doctor, a stax kernel and the stand-in."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run([sys.executable, "-c", prelude + PROBE], capture_output=True,
                            text=True, env=env, cwd=REPO_ROOT, timeout=300)
    assert result.returncode == 0, (
        "qdr_course.ntk failed" + (" without TensorFlow" if prelude else "") + ": if "
        "neural-tangents now imports tensorflow or tf2jax elsewhere than "
        f"{_neural_tangents.SKIPPED_MODULE}, update qdr_course/ntk/_neural_tangents.py (or put "
        f"TensorFlow back in binder/requirements-no-deps.txt's place).\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def probe() -> dict:
    return run_probe()


@pytest.fixture(scope="module")
def probe_without_tensorflow() -> dict:
    """The same, where importing tensorflow or tf2jax fails (the environment the locks make)."""
    return run_probe(WITHOUT_TENSORFLOW)


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


def test_without_tensorflow_installed_the_kernels_are_the_same(probe, probe_without_tensorflow):
    """The TF-free environment: nothing even tries to import TensorFlow, and the stax kernel and
    the gradient-descent prediction lessons 06-08 build on are bit for bit the normal ones."""
    blocked = probe_without_tensorflow
    assert blocked["tried"] == [], f"neural-tangents tried to import {blocked['tried']}"
    assert blocked["loaded"] == [] and blocked["has_stax"] and blocked["doctor_ok"]
    assert probe["tried"] is None  # the normal run has no refusing finder
    assert blocked["kernel"] == probe["kernel"] and blocked["prediction"] == probe["prediction"]
    assert blocked["stax_vs_closed_form"] < 1e-10
    assert "TensorFlow converters" in blocked["message"]
    assert len(blocked["kernel"]) == 6 and len(blocked["prediction"]) == 2


def without_site_hooks(code: str) -> list[str]:
    """A command running ``code`` with this sys.path but no .pth start-up file (python -S)."""
    return [sys.executable, "-S", "-c", f"import sys; sys.path[:] = {sys.path!r}\n{code}"]


def test_the_refusing_finder_really_refuses():
    """The simulation is real: under it, a plain ``import neural_tangents`` (no stand-in, no
    start-up hook) fails the way a release importing TensorFlow from another module would make
    the probe fail."""
    code = WITHOUT_TENSORFLOW + "import neural_tangents\n"
    result = subprocess.run(without_site_hooks(code), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 1
    assert "neural_tangents/experimental" in result.stderr  # the converters' import chain
    # with TensorFlow installed (a developer's venv) the finder refuses it; in the course's
    # environment absl-py, which jax2tf imports first and only TensorFlow pulled in, is missing
    missing = re.search(r"ModuleNotFoundError: No module named '([\w.]+)'", result.stderr)
    assert missing and missing.group(1) in {"tensorflow", "tf2jax", "absl"}, result.stderr[-500:]
    if missing.group(1) == "tensorflow":
        assert "(refused by the test)" in result.stderr


PLAIN_IMPORT = """
import json, sys
import numpy as np
import neural_tangents as nt
init_fn, apply_fn, kernel_fn = nt.stax.serial(nt.stax.Dense(1), nt.stax.Erf(), nt.stax.Dense(1))
x = np.random.default_rng(0).normal(size=(3, 5))
try:
    from neural_tangents.experimental import empirical_ntk_fn_tf  # noqa: F401
    message = None
except ImportError as error:
    message = str(error)
print(json.dumps({"loaded": [m for m in ("tensorflow", "tf2jax", "jax.experimental.jax2tf")
                             if m in sys.modules],
                  "kernel": np.asarray(kernel_fn(x, None, "ntk")).tolist(), "message": message,
                  "tried": getattr(sys.meta_path[0], "tried", None)}))
"""


def test_the_course_environment_carries_the_current_hook():
    """The start-up file the bootstrap, Binder and TLJH install is in this environment and is
    the one qdr_course/ntk/_neural_tangents.py writes today."""
    import sysconfig

    installed = Path(sysconfig.get_paths()["purelib"]) / _neural_tangents.PTH_NAME
    assert installed.exists(), (f"{installed} is missing: run `python scripts/bootstrap.py "
                                "neural-tangents-hook` with this environment's python")
    assert installed.read_text(encoding="utf-8") == _neural_tangents.pth_text(), (
        f"{installed} is out of date: run `python scripts/bootstrap.py neural-tangents-hook`")
    for installer in ("binder/postBuild", "deploy/tljh/setup.sh"):
        assert "bootstrap.py\" neural-tangents-hook" in (REPO_ROOT / installer).read_text() or \
            "bootstrap.py neural-tangents-hook" in (REPO_ROOT / installer).read_text(), installer


@pytest.mark.parametrize("prelude", ["", WITHOUT_TENSORFLOW], ids=["env", "without-tensorflow"])
def test_a_plain_import_works_in_a_fresh_interpreter(prelude, tmp_path):
    """`import neural_tangents as nt` in a fresh interpreter of the course's environment (no
    qdr_course import first): stax works, no TensorFlow module is loaded or even tried, and the
    converters say why they are missing. Without the hook the same code fails (the control)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", prelude + PLAIN_IMPORT], capture_output=True,
                            text=True, env=env, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-800:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    # the hook only asks whether tensorflow exists (find_spec), once; it loads nothing
    assert found["loaded"] == [] and found["tried"] in (None, ["tensorflow"])
    assert len(found["kernel"]) == 3 and found["kernel"][0][0] > 0
    assert "TensorFlow is not installed" in found["message"]
    control = subprocess.run(without_site_hooks(prelude + "import neural_tangents\n"),
                             capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert control.returncode == 1 and "neural_tangents/experimental" in control.stderr


def test_the_hook_defers_to_an_installed_tensorflow(tmp_path):
    """Where `tensorflow` can be found, the finder steps aside (neural-tangents as published)."""
    (tmp_path / "tensorflow").mkdir()
    (tmp_path / "tensorflow" / "__init__.py").write_text("")
    namespace: dict = {}
    exec(_neural_tangents.HOOK_SOURCE, namespace)  # noqa: S102
    finder = namespace["QdrNeuralTangentsFinder"]()
    assert finder.find_spec("neural_tangents.stax") is None
    assert finder.find_spec("neural_tangents.experimental") is not None
    sys.path.insert(0, str(tmp_path))
    try:
        assert finder.find_spec("neural_tangents.experimental") is None
    finally:
        sys.path.remove(str(tmp_path))


def test_install_hook_refuses_a_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="site-packages"):
        _neural_tangents.install_hook(tmp_path / "nowhere")
    assert _neural_tangents.install_hook(tmp_path).read_text() == _neural_tangents.pth_text()
