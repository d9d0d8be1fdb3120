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
"""

from __future__ import annotations

import sys
import types

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


def import_neural_tangents():
    """``import neural_tangents``, without importing TensorFlow (3 s, 600 MB). See lesson 06.

    If neural_tangents is already imported, that module is returned as it is.
    """
    if "neural_tangents" in sys.modules:
        return sys.modules["neural_tangents"]
    sys.modules.setdefault(SKIPPED_MODULE, SkippedModule(SKIPPED_MODULE, __doc__.splitlines()[0]))
    import neural_tangents

    return neural_tangents
