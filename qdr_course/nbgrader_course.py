"""An nbgrader course made from the solution sources, for instructors who grade a class.

``qdr-course nbgrader DIR`` writes ``DIR/nbgrader_config.py`` and one source notebook per
lesson, ``DIR/source/NN_topic/NN_topic.ipynb``. In it every exercise cell is an nbgrader
*autograded answer* (nbgrader understands the course's ``### BEGIN SOLUTION`` markers), followed
by a locked *autograded test* cell that asserts the exercise's own check, and every written
answer (a markdown solution) is a *manually graded answer*. nbgrader then does the rest:

    cd DIR
    nbgrader generate_assignment 01_circuits      # release/: the learners' copy
    nbgrader collect 01_circuits                   # or copy submissions to submitted/STUDENT/
    nbgrader autograde 01_circuits                 # runs each submission, scores the tests
    nbgrader export                                # grades.csv

See the instructor guide, "Grading a class with nbgrader".
"""

from __future__ import annotations

import ast
from pathlib import Path

import jupytext
import nbformat

from qdr_course.authoring import BEGIN

POINTS = 1  # each autograded exercise and each written answer
CODE_STUB = ('raise NotImplementedError("Exercise: complete this; the check call at the end of '
             'this cell tells you if it is right.")')
CONFIG = '''# The qdr-course nbgrader course's configuration (written by `qdr-course nbgrader`).
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "qdr-course"
# The learners' stub, as in lessons/: the course's checks answer "Not attempted yet" to it.
c.ClearSolutions.code_stub = {{"python": {stub!r}}}
c.ClearSolutions.text_stub = "Write your answer here."
# A lesson runs in under 3 minutes on one core (the course's own limit); leave room.
c.ExecutePreprocessor.timeout = 600
'''


class NbgraderCourseError(ValueError):
    """A lesson cannot become an nbgrader assignment, or the output would overwrite a file."""


def check_calls(source: str, where: str) -> list[str]:
    """The top-level ``check_*(...)`` calls of an exercise cell, as source text."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise NbgraderCourseError(f"{where}: the exercise cell does not parse ({error.msg}, "
                                  f"line {error.lineno}): fix the solution source.") from error
    calls = [ast.get_source_segment(source, node.value) for node in tree.body
             if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
             and isinstance(node.value.func, ast.Name)
             and node.value.func.id.startswith("check_")]
    if not calls:
        raise NbgraderCourseError(f"{where}: the exercise cell calls no check_*(...) at its top "
                                  "level, so nbgrader has nothing to grade: add the call.")
    return calls


def _nbgrader(grade_id: str, *, solution: bool, grade: bool, locked: bool,
              points: int | None = None) -> dict:
    """The nbgrader cell metadata (schema 3)."""
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return meta


def assignment_notebook(source: Path) -> nbformat.NotebookNode:
    """The nbgrader source notebook of one solution source ``solutions/NN_topic.py``."""
    nb = jupytext.read(source)
    cells, exercise = [], 0
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if BEGIN not in cell.source:
            cells.append(cell)
            continue
        exercise += 1
        name = f"{source.stem[:2]}-exercise-{exercise}"
        if cell.cell_type == "markdown":
            cell.metadata["nbgrader"] = _nbgrader(name, solution=True, grade=True, locked=False,
                                                  points=POINTS)
            cells.append(cell)
            continue
        calls = check_calls(cell.source, f"{source.name} exercise {exercise}")
        cell.metadata["nbgrader"] = _nbgrader(name, solution=True, grade=False, locked=False)
        cells.append(cell)
        test = nbformat.v4.new_code_cell(
            "# Autograded: the exercise's own check must pass.\n"
            + "\n".join(f"assert {call}, 'not yet: see the check above'" for call in calls))
        test.metadata["nbgrader"] = _nbgrader(f"{name}-test", solution=False, grade=True,
                                              locked=True, points=POINTS)
        test.metadata["tags"] = ["nbgrader-test"]
        cells.append(test)
    if not exercise:
        raise NbgraderCourseError(f"{source.name} has no exercise: nothing to grade.")
    for index, cell in enumerate(cells):
        cell.id = f"{source.stem[:2]}-cell-{index:03d}"  # the same notebook at every run
    nb.cells = cells
    nb.metadata.pop("jupytext", None)
    return nb


def write_course(root: Path, out: Path, lessons: list[str] | None = None,
                 log=print) -> list[Path]:
    """Write the nbgrader course of ``lessons`` (numbers; default all) under ``out``.

    Refuses, naming the file, to replace a file that differs from what it would write."""
    sources = sorted((Path(root) / "solutions").glob("[0-9][0-9]_*.py"))
    if lessons:
        unknown = sorted(set(lessons) - {path.name[:2] for path in sources})
        if unknown:
            raise NbgraderCourseError(f"no lesson {', '.join(unknown)} in "
                                      f"{Path(root) / 'solutions'}: name lessons by number, "
                                      f"e.g. 01 02.")
        sources = [path for path in sources if path.name[:2] in lessons]
    if not sources:
        raise NbgraderCourseError(f"no lesson sources solutions/NN_*.py under {root}: run this "
                                  "in the course's folder or pass --root.")
    planned = {Path(out) / "nbgrader_config.py": CONFIG.format(stub=CODE_STUB)}
    for path in sources:
        text = nbformat.writes(assignment_notebook(path))
        planned[Path(out) / "source" / path.stem / f"{path.stem}.ipynb"] = text + "\n"
    clashes = [str(path) for path, text in planned.items()
               if path.exists() and path.read_text(encoding="utf-8") != text]
    if clashes:
        raise NbgraderCourseError(f"would overwrite {', '.join(clashes)}, which differ from "
                                  "what this writes: move them away or choose another --out.")
    for path, text in planned.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        log(f"wrote {path}")
    return list(planned)
