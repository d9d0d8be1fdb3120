"""What a lesson's source must look like, and what its header says. See ``CONTRIBUTING.md``.

A solution source ``solutions/NN_topic.py`` opens with the title line ``# NN · Title``, the
minutes line and an ``## Objectives`` section, and closes with ``## Key points``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat

TITLE = re.compile(r"^# (\d\d) · \S")
MINUTES = re.compile(r"\*\*Teaching:\*\*\s*(\d+)\s*min\s*·\s*\*\*Exercises:\*\*\s*(\d+)\s*min")


class AuthoringError(ValueError):
    """A solution source breaks the authoring convention; says where and how to fix it."""

    def __init__(self, path: Path | str, line: int | None, message: str):
        self.path, self.line = Path(path), line
        where = f"{self.path}:{line}" if line else str(self.path)
        super().__init__(f"{where}: {message}")


def validate_lesson_shape(nb: nbformat.NotebookNode, path: Path) -> tuple[int, int]:
    """Check title, minutes, objectives and key points; return (teaching, exercise) minutes."""
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    if not markdown or not TITLE.match(markdown[0].splitlines()[0] if markdown[0] else ""):
        raise AuthoringError(path, None, "the first cell must be markdown starting with the title "
                             "line '# NN · Title' (NN is the lesson number).")
    minutes = MINUTES.search(markdown[0])
    if not minutes:
        raise AuthoringError(path, None, "the first markdown cell needs the line "
                             "'**Teaching:** N min · **Exercises:** M min'.")
    if "## Objectives" not in markdown[0]:
        raise AuthoringError(path, None,
                             "the first markdown cell needs an '## Objectives' section.")
    if "## Key points" not in markdown[-1]:
        raise AuthoringError(path, None,
                             "the last markdown cell must be the '## Key points' section.")
    return int(minutes.group(1)), int(minutes.group(2))


@dataclass
class LessonSummary:
    """What the instructor guide needs to know of a lesson."""

    number: str
    title: str
    teaching: int
    exercises: int
    objectives: list[str]
    stem: str = ""  # the source's file name without .py, e.g. "01_circuits"

    @property
    def minutes(self) -> int:
        return self.teaching + self.exercises


def lesson_summary(source: Path) -> LessonSummary:
    """Number, title, minutes and objectives of one solution source."""
    nb = jupytext.read(source)
    teaching, exercises = validate_lesson_shape(nb, source)
    first = nb.cells[0].source
    number, title = re.match(r"^# (\d\d) · (.+)$", first.splitlines()[0]).groups()
    objectives: list[str] = []
    for line in first.split("## Objectives", 1)[1].splitlines():
        if line.startswith("- "):
            objectives.append(line[2:].strip())
        elif line.startswith("  ") and objectives:  # a wrapped bullet
            objectives[-1] += " " + line.strip()
    return LessonSummary(number, title.strip(), teaching, exercises, objectives, Path(source).stem)
