"""neural-tangents without TensorFlow: its stax kernels, never its TensorFlow converters.

neural-tangents 0.6.5 (its last release) imports ``neural_tangents.experimental`` from its own
``__init__``. That module holds only the converters for TensorFlow models
(``empirical_ntk_fn_tf``) and imports ``jax.experimental.jax2tf`` -> ``tensorflow`` and
``tf2jax``: on our machine about 3 s and 600 MB of RSS for code the course never runs.
:func:`import_neural_tangents` puts a stand-in module under that name in ``sys.modules`` before
importing neural_tangents, so Python's import system takes the stand-in and never reads the
real file. Nothing installed is changed.

TensorFlow is not installed either: neural-tangents 0.6.5 requires ``tensorflow`` and ``tf2jax``
in its metadata only for that module, so the course's environment installs it with
``pip install --no-deps -r binder/requirements-no-deps.txt`` after the lock, and the locks hold
neither TensorFlow nor anything only it needs (scripts/lock.py cuts those two requirements from
the dependency graph: 1.9 GB less). ``pip check`` then reports exactly those two requirements as
missing, which ``python3 scripts/bootstrap.py pip-check`` allows and nothing else. A plain
``pip install qdr-course`` still installs them. tests/test_neural_tangents_import.py fails if a
new neural-tangents imports TensorFlow from anywhere else, or needs it to compute a kernel.

A plain ``import neural_tangents as nt`` (the first line of every neural-tangents tutorial) would
still fail there, at ``No module named 'absl'`` (jax2tf imports absl-py, then TensorFlow: absl-py
alone is not enough). So the course's environment carries one more file, :data:`PTH_NAME` in
site-packages, written by ``python scripts/bootstrap.py neural-tangents-hook`` (run by the
bootstrap and by binder/postBuild). Python runs a ``.pth`` file's ``import`` line at start-up;
ours registers :data:`HOOK_SOURCE`'s finder, which hands out the stand-in for
``neural_tangents.experimental`` only while ``tensorflow`` cannot be found. With TensorFlow
installed, neural-tangents is imported as published.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

#: The neural-tangents module that imports TensorFlow and that the course never uses.
SKIPPED_MODULE = "neural_tangents.experimental"
#: What importing SKIPPED_MODULE would load.
TENSORFLOW_MODULES = ("tensorflow", "tf2jax", "jax.experimental.jax2tf")


class SkippedModule(types.ModuleType):
    """Stands in for :data:`SKIPPED_MODULE`; any name asked of it raises a clear ImportError."""

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        raise ImportError(
            f"{SKIPPED_MODULE}.{name} is not loaded: qdr_course imports neural-tangents without "
            "its TensorFlow converters (see qdr_course/ntk/_neural_tangents.py). To use them, "
            f"import {SKIPPED_MODULE} in a fresh Python session before qdr_course.ntk.")


#: The start-up file that makes a plain ``import neural_tangents`` work without TensorFlow.
PTH_NAME = "qdr_course_neural_tangents.pth"

#: What that file runs at every start-up: a meta-path finder (a few microseconds per import),
#: self-contained because it runs before qdr_course can be imported.
HOOK_SOURCE = '''
import importlib.util, sys, types

class _QdrSkippedModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise ImportError(f"neural_tangents.experimental.{name} is not loaded: TensorFlow is not "
                          "installed in the course's environment, and that module only holds "
                          "neural-tangents' TensorFlow converters (see "
                          "qdr_course/ntk/_neural_tangents.py).")

class _QdrStandInLoader:
    def create_module(self, spec):
        return _QdrSkippedModule(spec.name, "neural-tangents' TensorFlow converters, not loaded")

    def exec_module(self, module):
        pass

class QdrNeuralTangentsFinder:
    """Hands out a stand-in for neural_tangents.experimental while TensorFlow is missing."""

    def find_spec(self, name, path=None, target=None):
        if name != "neural_tangents.experimental":
            return None
        try:
            if importlib.util.find_spec("tensorflow") is not None:
                return None
        except ImportError:  # a finder that refuses tensorflow: not installed either
            pass
        return importlib.util.spec_from_loader(name, _QdrStandInLoader())

if not any(type(f).__name__ == "QdrNeuralTangentsFinder" for f in sys.meta_path):
    sys.meta_path.insert(0, QdrNeuralTangentsFinder())
'''


def pth_text() -> str:
    """The content of :data:`PTH_NAME`: one ``import`` line that runs :data:`HOOK_SOURCE`.

    A failing hook prints one line and leaves start-up alone (CONTRIBUTING.md, Dependencies).
    """
    body = "".join(f" {line}\n" for line in HOOK_SOURCE.strip().splitlines())
    guarded = ("import sys\ntry:\n" + body
               + "except Exception as error:\n print(f'qdr-course neural-tangents hook: {error}',"
               " file=sys.stderr)\n")
    return f"import sys; exec({guarded!r}, {{'__name__': 'qdr_course_neural_tangents_hook'}})\n"


def install_hook(site_packages) -> Path:
    """Write :data:`PTH_NAME` into ``site_packages`` (an existing folder); see CONTRIBUTING.md."""
    folder = Path(site_packages)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder: pass the environment's site-packages "
                         "(sysconfig.get_paths()['purelib'])")
    target = folder / PTH_NAME
    target.write_text(pth_text(), encoding="utf-8")
    return target


def import_neural_tangents():
    """``import neural_tangents`` without TensorFlow (3 s, 600 MB), for the ntk modules.

    If neural_tangents is already imported, that module is returned as it is.
    """
    if "neural_tangents" in sys.modules:
        return sys.modules["neural_tangents"]
    sys.modules.setdefault(SKIPPED_MODULE, SkippedModule(SKIPPED_MODULE, __doc__.splitlines()[0]))
    import neural_tangents

    return neural_tangents
