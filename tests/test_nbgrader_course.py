"""The nbgrader course (issue 25 item 3): made from a solution source, released by
`nbgrader generate_assignment`, submitted by a learner who got everything right and by one who
got two exercises wrong (one left undone, one wrong concept answer), scored by
`nbgrader autograde`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook  # in the test extra: nbgrader 0.9.6

from qdr_course.nbgrader_course import (
    CODE_STUB,
    NbgraderCourseError,
    assignment_notebook,
    check_calls,
    write_course,
)

ROOT = Path(__file__).resolve().parent.parent
LESSON = "01_circuits"
MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*\n", re.M)


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the nbgrader command line in ``course``; fail the test with its output if it fails."""
    # nbgrader runs `alembic` by name: the environment's own bin folder comes first on PATH, as
    # in an activated environment (the tests run as .venv/bin/python, with no activation)
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course,
                          capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PATH": path})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def submission(course: Path, student: str, answers: dict[str, str]) -> None:
    """A learner's submission: the released notebook with ``answers`` (grade_id: source) in its
    answer cells, copied where `nbgrader autograde` looks for it."""
    nb = nbformat.read(course / "release" / LESSON / f"{LESSON}.ipynb", as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    folder = course / "submitted" / student / LESSON
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{LESSON}.ipynb")


def test_an_exercise_becomes_an_answer_cell_and_a_locked_test_of_its_check():
    nb = assignment_notebook(ROOT / "solutions" / f"{LESSON}.py")
    graded = [cell for cell in nb.cells if "nbgrader" in cell.metadata]
    answers = [cell for cell in graded if cell.metadata.nbgrader["solution"]]
    tests = [cell for cell in graded if cell.metadata.nbgrader["grade"]]
    exercises = (ROOT / "solutions" / f"{LESSON}.py").read_text().count("### BEGIN SOLUTION")
    assert len(answers) == len(tests) == exercises >= 2
    for answer, test in zip(answers, tests):
        assert "### BEGIN SOLUTION" in answer.source and not answer.metadata.nbgrader["locked"]
        assert test.metadata.nbgrader["locked"] and test.metadata.nbgrader["points"] == 1
        call = re.search(r"^(check_\w+\(.*\))$", answer.source, re.M)[1]
        assert f"assert {call}," in test.source
        assert "### BEGIN SOLUTION" not in test.source
    assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code")


def test_an_exercise_without_a_check_call_is_refused_in_one_line():
    with pytest.raises(NbgraderCourseError, match="calls no check_"):
        check_calls("def f():\n    return 1\n", "x exercise 1")
    assert check_calls("f = 1\ncheck_f(f,\n        2)\n", "x") == ["check_f(f,\n        2)"]


def test_the_course_never_overwrites_a_file_it_did_not_write(tmp_path):
    written = write_course(ROOT, tmp_path, ["00"], log=lambda *_: None)
    assert write_course(ROOT, tmp_path, ["00"], log=lambda *_: None) == written  # same: fine
    written[-1].write_text("my edits")
    with pytest.raises(NbgraderCourseError, match="would overwrite .*00_welcome.ipynb"):
        write_course(ROOT, tmp_path, ["00"], log=lambda *_: None)
    assert written[-1].read_text() == "my edits"
    with pytest.raises(NbgraderCourseError, match="no lesson 42"):
        write_course(ROOT, tmp_path, ["42"])


def test_generate_submit_and_autograde_score_a_right_and_a_wrong_submission(tmp_path):
    course = tmp_path / "course"
    write_course(ROOT, course, [LESSON[:2]], log=lambda *_: None)
    nbgrader(course, "generate_assignment", LESSON)
    released = (course / "release" / LESSON / f"{LESSON}.ipynb").read_text()
    assert "### BEGIN SOLUTION" not in released and CODE_STUB.split("(")[0] in released
    assert "### BEGIN SOLUTION" not in released  # no answer is given away

    source = nbformat.read(course / "source" / LESSON / f"{LESSON}.ipynb", as_version=4)
    right = {cell.metadata.nbgrader["grade_id"]: MARKERS.sub("", cell.source)
             for cell in source.cells
             if cell.metadata.get("nbgrader", {}).get("solution")}
    total = len(right)
    concept = next(grade_id for grade_id, answer in right.items()
                   if "check_concept_1_" in answer)
    letter = re.search(r'return "([a-d])"', right[concept])[1]
    wrong = dict(right)
    wrong[concept] = right[concept].replace(f'return "{letter}"',
                                            f'return "{"a" if letter != "a" else "b"}"')
    undone = "01-exercise-1"
    del wrong[undone]  # left as released: the stub raises NotImplementedError
    assert wrong[concept] != right[concept] and concept != undone
    submission(course, "right", right)
    submission(course, "wrong", wrong)

    nbgrader(course, "autograde", LESSON)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {student: gradebook.find_submission(LESSON, student)
                  for student in ("right", "wrong")}
        assert scores["right"].max_score == total
        assert scores["right"].score == total
        assert scores["wrong"].score == total - 2
        graded = {grade.name: grade.score for grade in
                  gradebook.find_submission_notebook(LESSON, LESSON, "wrong").grades}
    assert graded[f"{undone}-test"] == 0 and graded[f"{concept}-test"] == 0
    assert sum(graded.values()) == total - 2
    shutil.rmtree(course / "autograded")
