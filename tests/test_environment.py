"""The environment files agree: pyproject ranges, the locks, CI and the README."""

import importlib.metadata as metadata
import importlib.util
import json
import re
import subprocess
import sys
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from qdr_course.utils import REPO_ROOT

BINDER = REPO_ROOT / "binder"
LEARNER, TEST = "requirements.txt", "requirements-test.txt"
NO_DEPS = "requirements-no-deps.txt"  # installed with --no-deps after either lock


def lock(name: str = LEARNER) -> dict[str, str]:
    """The pins of binder/<name>, by canonical package name."""
    pins = {}
    for line in (BINDER / name).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert "==" in line and not line.startswith("-"), f"not an exact pin: {line!r}"
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    return pins


def torch_version() -> str:
    return (BINDER / "torch-version.txt").read_text().split("#")[0].strip()


def project() -> dict:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]


def load_lock_script():
    spec = importlib.util.spec_from_file_location("lock", REPO_ROOT / "scripts" / "lock.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dev_extras() -> list[Requirement]:
    """What the `dev` extra adds to the course's dependencies (the test and site extras)."""
    return load_lock_script().project_requirements()[1]


@pytest.mark.parametrize("lock_name, with_extras", [(LEARNER, False), (TEST, True)])
def test_every_dependency_is_pinned_within_its_range(lock_name, with_extras):
    pins = lock(lock_name) | lock(NO_DEPS)
    requirements = [Requirement(r) for r in project()["dependencies"]]
    for requirement in requirements + (dev_extras() if with_extras else []):
        name = canonicalize_name(requirement.name)
        version = torch_version() if name == "torch" else pins.get(name)
        assert version, f"{name} is not pinned in binder/{lock_name}"
        assert version in requirement.specifier, \
            f"{name}=={version} is outside {requirement.specifier}"


def test_the_learner_set_is_a_subset_of_the_test_set_at_the_same_versions():
    learner, test = lock(LEARNER), lock(TEST)
    missing = sorted(set(learner) - set(test))
    assert not missing, f"in {LEARNER} but not in {TEST}: {missing} (run scripts/lock.py)"
    differ = {name: (v, test[name]) for name, v in learner.items() if test[name] != v}
    assert not differ, f"(learner, test) versions differ: {differ} (run scripts/lock.py)"
    assert len(test) > len(learner)


def test_binder_installs_no_test_package():
    """The test and site extras (pytest, nbval, playwright, ruff, Sphinx ...): test lock only."""
    test_extra = {canonicalize_name(r.name) for r in dev_extras()}
    assert {"pytest", "nbval", "playwright", "ruff", "sphinx"} <= test_extra
    assert test_extra <= set(lock(TEST))
    assert not test_extra & set(lock(LEARNER)), test_extra & set(lock(LEARNER))
    assert "requirements-test" not in (BINDER / "postBuild").read_text()


def test_each_lock_holds_exactly_what_its_set_needs():
    """Each pin is in the dependency closure of pyproject's requirements (test: + the test extra),
    and the closure is pinned whole: what scripts/lock.py writes from this environment."""
    # computed in a fresh interpreter, as scripts/lock.py runs: a package imported by an earlier
    # test (nbgrader brings the importlib_metadata backport) can change what this process sees
    script_path = str(REPO_ROOT / "scripts" / "lock.py")
    probe = (
        "import importlib.util, json, sys\n"
        "from importlib import metadata\n"
        "from packaging.utils import canonicalize_name\n"
        f"spec = importlib.util.spec_from_file_location('lock', {script_path!r})\n"
        "script = importlib.util.module_from_spec(spec); spec.loader.exec_module(script)\n"
        "installed = {canonicalize_name(d.metadata['Name']): d for d in metadata.distributions()}\n"
        "course, test_extra = script.project_requirements()\n"
        "out = {name: sorted(script.closure(roots, installed) - script.LEFT_OUT\n"
        "                    - set(script.NO_DEPS))\n"
        "       for name, roots in (('learner', course), ('test', course + test_extra))}\n"
        "print(json.dumps(out))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    closures = json.loads(done.stdout)
    for lock_name, key in ((LEARNER, "learner"), (TEST, "test")):
        needed = set(closures[key])
        pinned = set(lock(lock_name))
        assert pinned == needed, (f"binder/{lock_name}: not needed {sorted(pinned - needed)}, "
                                  f"needed but not pinned {sorted(needed - pinned)} "
                                  "(run scripts/lock.py)")
        assert "Generated by scripts/lock.py" in (BINDER / lock_name).read_text()


def test_the_neural_tangents_combination_that_imports_is_pinned():
    pins = lock() | lock(NO_DEPS)
    assert (pins["jax"], pins["jaxlib"], pins["neural-tangents"]) == ("0.5.3", "0.5.3", "0.6.5")
    assert "tf2jax" not in pins and "tensorflow" not in pins


@pytest.mark.parametrize("lock_name", [LEARNER, TEST])
def test_lock_has_no_torch_no_index_and_no_cuda(lock_name):
    text = (BINDER / lock_name).read_text()
    assert "torch" not in lock(lock_name) and "torchvision" not in lock(lock_name)
    assert "index-url" not in text and "find-links" not in text and "-r " not in text
    assert not any(name.startswith("nvidia-") for name in lock(lock_name)), \
        "a CUDA package slipped into the lock"


def test_installed_environment_matches_the_lock():
    """CI installs the test lock; a drift here means the locks are stale (scripts/lock.py)."""
    mismatched = {}
    for name, version in (lock(TEST) | lock(NO_DEPS)).items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            mismatched[name] = (version, installed)
    assert not mismatched, f"(locked, installed): {mismatched}"
    assert metadata.version("torch").split("+")[0] == torch_version()


def test_binder_files():
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    post_build = (BINDER / "postBuild").read_text()
    assert "TORCH_INDEX_URL=${TORCH_INDEX_URL-https://download.pytorch.org/whl/cpu}" in post_build
    assert "--no-deps" in post_build and "torch-version.txt" in post_build


def test_readme_test_command_is_what_ci_runs():
    readme = (REPO_ROOT / "README.md").read_text()
    commands = re.findall(r"```bash\n(.+?)\n```", readme)
    assert commands[:2] == ["python3 scripts/bootstrap.py lab", "python3 scripts/bootstrap.py test"]
    chromium = next(c for c in commands if "apt-get install" in c and "chromium" in c)
    ci = [line for line in (REPO_ROOT / ".ci" / "run").read_text().splitlines()
          if line and not line.startswith(("#", "set ", "cd ", "export DEBIAN_FRONTEND="))]
    assert ci == [chromium, commands[1]]
