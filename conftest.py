"""pytest set-up shared by the unit tests and the notebook tests.

Notebooks in ``solutions/`` are executed and their stored outputs compared (nbval); notebooks
in ``lessons/`` are executed top to bottom without comparison (they are stored unexecuted).

Each solution notebook is compared a second time as ``NN_topic.ipynb[other-cpu]``: its kernel
runs under ``OTHER_CPU_ENV`` (qdr_course.authoring), settings that change floating-point
rounding the way another machine does (other SIMD code paths in torch and NumPy, another thread
count). A stored
output that only this machine reproduces fails there, before CI on another CPU finds it.
Run only that check with ``pytest -k other-cpu solutions``.
"""

import os
from contextlib import contextmanager

from qdr_course.authoring import NOTEBOOK_ENV, OTHER_CPU_ENV

# The same environment as `qdr-course build --execute`, so stored outputs match.
os.environ.update(NOTEBOOK_ENV)

OTHER_CPU_SUFFIX = "[other-cpu]"


@contextmanager
def environment(changes: dict[str, str]):
    """Set environment variables for the duration of a block (a kernel inherits them)."""
    saved = {key: os.environ.get(key) for key in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _nbval_file():
    from nbval.plugin import IPyNbFile

    return IPyNbFile


def _notebook_kind(file_path, config) -> str | None:
    """'solutions', 'lessons' or None (not a course notebook, or an explicit nbval run)."""
    option = config.option
    if file_path.suffix != ".ipynb" or option.nbval or option.nbval_lax:
        return None  # an explicit --nbval / --nbval-lax run is left to nbval itself
    kind = file_path.parent.name
    return kind if kind in ("lessons", "solutions") else None


def pytest_collect_file(file_path, parent):
    """Collect lesson and solution notebooks with nbval, strict for solutions only."""
    kind = _notebook_kind(file_path, parent.config)
    if kind is None:
        return None
    notebook = _nbval_file().from_parent(parent, path=file_path)
    notebook.compare_outputs = kind == "solutions"
    return notebook


class OtherCpuPlugin:
    """Collects each solution notebook once more, run under ``OTHER_CPU_ENV``."""

    @staticmethod
    def pytest_collect_file(file_path, parent):
        if _notebook_kind(file_path, parent.config) != "solutions":
            return None

        class OtherCpuNotebook(_nbval_file()):
            """A solution notebook whose kernel starts with ``OTHER_CPU_ENV`` rounding."""

            def setup(self):
                with environment(OTHER_CPU_ENV):
                    super().setup()

        rel = file_path.relative_to(parent.config.rootpath).as_posix()
        notebook = OtherCpuNotebook.from_parent(parent, path=file_path,
                                                name=file_path.name + OTHER_CPU_SUFFIX,
                                                nodeid=rel + OTHER_CPU_SUFFIX)
        notebook.compare_outputs = True
        return notebook


def pytest_configure(config):
    config.pluginmanager.register(OtherCpuPlugin(), "qdr-other-cpu")
