"""pytest set-up shared by the unit tests and the notebook tests.

Notebooks in ``solutions/`` are executed and their stored outputs compared (nbval); notebooks
in ``lessons/`` are executed top to bottom without comparison (they are stored unexecuted).
"""

import os

from qdr_course.authoring import NOTEBOOK_ENV

# The same environment as `qdr-course build --execute`, so stored outputs match.
os.environ.update(NOTEBOOK_ENV)


def pytest_collect_file(file_path, parent):
    """Collect lesson and solution notebooks with nbval, strict for solutions only."""
    option = parent.config.option
    if file_path.suffix != ".ipynb" or option.nbval or option.nbval_lax:
        return None  # an explicit --nbval / --nbval-lax run is left to nbval itself
    if file_path.parent.name not in ("lessons", "solutions"):
        return None
    from nbval.plugin import IPyNbFile

    notebook = IPyNbFile.from_parent(parent, path=file_path)
    notebook.compare_outputs = file_path.parent.name == "solutions"
    return notebook
