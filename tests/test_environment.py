"""The environment files agree: pyproject ranges, the Binder lock, CI and the README."""

import importlib.metadata as metadata
import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from qdr_course.utils import REPO_ROOT

BINDER = REPO_ROOT / "binder"


def lock() -> dict[str, str]:
    pins = {}
    for line in (BINDER / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert "==" in line and not line.startswith("-"), f"not an exact pin: {line!r}"
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    return pins


def torch_version() -> str:
    return (BINDER / "torch-version.txt").read_text().split("#")[0].strip()


def test_every_dependency_is_pinned_within_its_range():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + project["optional-dependencies"]["test"]
    requirements = [Requirement(r) for r in names]
    pins = lock()
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        version = torch_version() if name == "torch" else pins.get(name)
        assert version, f"{name} is not pinned in binder/requirements.txt"
        assert version in requirement.specifier, \
            f"{name}=={version} is outside {requirement.specifier}"


def test_the_neural_tangents_combination_that_imports_is_pinned():
    pins = lock()
    assert (pins["jax"], pins["jaxlib"], pins["tf2jax"], pins["neural-tangents"]) == \
        ("0.5.3", "0.5.3", "0.3.7", "0.6.5")


def test_lock_has_no_torch_no_index_and_no_cuda():
    text = (BINDER / "requirements.txt").read_text()
    assert "torch" not in lock() and "torchvision" not in lock()
    assert "index-url" not in text and "find-links" not in text
    assert not any(name.startswith("nvidia-") for name in lock()), \
        "a CUDA package slipped into the lock"


def test_installed_environment_matches_the_lock():
    """CI and Binder install the lock; a drift here means the lock is stale (scripts/lock.py)."""
    mismatched = {}
    for name, version in lock().items():
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
    ci = [line for line in (REPO_ROOT / ".ci" / "run").read_text().splitlines()
          if line and not line.startswith(("#", "set ", "cd "))]
    assert ci == [commands[1]]
