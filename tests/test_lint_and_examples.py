"""One lint and example contract (issue 15): the pinned ruff finds nothing, and every docstring
example in the package runs."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import subprocess
import sys
import tomllib

import pytest

import qdr_course
from qdr_course.utils import REPO_ROOT

MODULES = sorted(m.name for m in pkgutil.walk_packages(qdr_course.__path__, "qdr_course."))
LINTED = ["qdr_course", "tests", "scripts", "benchmarks", "conftest.py"]


def test_ruff_is_the_pinned_version():
    extra = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    pin = next(r for r in extra["optional-dependencies"]["test"] if r.startswith("ruff"))
    version = subprocess.run([sys.executable, "-m", "ruff", "--version"], capture_output=True,
                             text=True, check=True).stdout.split()[-1]
    assert pin == f"ruff=={version}"


def test_ruff_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", *LINTED],
                            cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    result = doctest.testmod(module, optionflags=flags, report=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


@pytest.mark.parametrize("name", ["qdr_course.quantum.circuits", "qdr_course.quantum.layer",
                                  "qdr_course.quantum.statevector", "qdr_course.retina.models"])
def test_the_promised_modules_have_examples(name):
    finder = doctest.DocTestFinder()
    examples = sum(len(t.examples) for t in finder.find(importlib.import_module(name)))
    assert examples >= 3
