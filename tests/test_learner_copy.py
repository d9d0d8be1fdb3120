"""The learner's copy carries no test machinery: nbval's tags and comments stay in solutions/."""

import nbformat
import pytest

from qdr_course.authoring import drop_test_markers
from qdr_course.utils import REPO_ROOT

LESSONS = sorted((REPO_ROOT / "lessons").glob("[0-9][0-9]_*"))


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lessons_show_no_nbval_markers(path):
    text = path.read_text(encoding="utf-8")
    assert "nbval" not in text.lower(), f"{path.name} shows an nbval marker to learners"


def test_the_solutions_still_mark_machine_dependent_cells():
    """The marker is dropped from lessons only: solutions keep it, so nbval skips those outputs."""
    text = (REPO_ROOT / "solutions" / "05_hybrid_grader.py").read_text(encoding="utf-8")
    assert text.count('tags=["nbval-ignore-output"]') >= 5


def test_drop_test_markers_keeps_other_tags_and_code():
    cell = nbformat.v4.new_code_cell("# NBVAL_IGNORE_OUTPUT\nx = 1  # NBVAL_ not a "
                                     "marker\nprint(x)")
    cell.metadata["tags"] = ["exercise", "nbval-ignore-output"]
    drop_test_markers(cell)
    assert cell.metadata["tags"] == ["exercise"]
    assert cell.source == "x = 1  # NBVAL_ not a marker\nprint(x)"
    bare = nbformat.v4.new_code_cell("y = 2")
    bare.metadata["tags"] = ["nbval-skip"]
    drop_test_markers(bare)
    assert "tags" not in bare.metadata and bare.source == "y = 2"
