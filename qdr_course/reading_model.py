"""How long a careful beginner needs for a lesson: a reading model of its source.

The instructor guide's schedules are built from the minutes each lesson's header states; this
model keeps those statements honest (``tests/test_reading_model.py`` holds each header within
20 % of it). ``qdr-course minutes`` prints it for every lesson.

Teaching time is the lesson's prose read slowly, its formulas worked through, and each code cell
run and read (its code, its output, its figures). Exercise time goes by the exercise's kind, the
tag every exercise cell carries next to ``exercise``:

- ``predict``: commit to a prediction, run, compare (5-8 min);
- ``implement``: write code until the check passes (10-20 min);
- ``concept``: a multiple-choice concept check (a few minutes);
- ``discuss``: a discussion question answered in writing.

Older exercise cells tagged only ``exercise`` are read as ``concept`` when they call a
``check_concept_*`` and as ``implement`` otherwise. The rates below were chosen inside the
ranges of the lesson standard (technical prose at 100-130 words a minute) and calibrated so that
the lessons as written on 2026-12-06 model close to what careful learners were observed to need
(issue 23 item 7 and issue 25 item 4: 00 15, 01 75, 02 75, 03 60-70, 04 95, 05 115, 06 95,
07 115, 08 100, 09 45 minutes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import jupytext

#: Words a minute of technical prose with formulas, read by a careful beginner.
WORDS_PER_MINUTE = 110
#: Minutes to work through one display formula ($$ ... $$) beyond reading its words.
DISPLAY_FORMULA_MIN = 0.75
#: Minutes to run one code cell and read its output.
CODE_CELL_MIN = 0.8
#: Minutes to read one line of code (comments included).
CODE_LINE_MIN = 0.08
#: Minutes to read one figure: axes, legend, the message.
FIGURE_MIN = 1.5
#: Minutes per exercise, by kind (``implement`` is the least an implementation takes).
EXERCISE_MIN = {"predict": 6.5, "implement": 5.0, "concept": 3.0, "discuss": 6.0}
#: An implementation's minutes grow with its solution: this many per line of solution code, up
#: to IMPLEMENT_MAX_MIN. A one-line completion takes about 5 minutes (issue 23 item 7 measured
#: 31 minutes for lesson 01's four small implementations and two concept checks); a real one of
#: 8-20 lines takes the lesson standard's 10-20 minutes.
IMPLEMENT_MIN_PER_LINE = 0.75
IMPLEMENT_MAX_MIN = 20.0
KINDS = tuple(EXERCISE_MIN)
#: How far a header's stated minutes may be from the model (a fraction of the model's).
TOLERANCE = 0.20
_SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)

_DISPLAY = re.compile(r"\$\$.+?\$\$", re.S)
_INLINE = re.compile(r"\$[^$\n]+\$")


@dataclass
class LessonMinutes:
    """A lesson's modelled minutes and what they are made of."""

    number: str
    teaching: float
    exercises: float
    parts: dict = field(default_factory=dict)

    @property
    def total(self) -> float:
        return self.teaching + self.exercises


def exercise_kind(cell) -> str | None:
    """The kind of an exercise cell (see the module docstring), or None for other cells."""
    tags = cell.get("metadata", {}).get("tags", [])
    if "exercise" not in tags:
        return None
    for kind in KINDS:
        if kind in tags:
            return kind
    if cell.cell_type == "markdown":
        return "discuss"
    return "concept" if "check_concept_" in cell.source else "implement"


def exercise_minutes(cell, kind: str) -> float:
    """The model's minutes for one exercise cell of ``kind``."""
    if kind != "implement":
        return EXERCISE_MIN[kind]
    solution_lines = sum(1 for block in _SOLUTION.findall(cell.source)
                         for line in block.splitlines()
                         if line.strip() and not line.strip().startswith("#"))
    return min(IMPLEMENT_MAX_MIN,
               EXERCISE_MIN["implement"] + IMPLEMENT_MIN_PER_LINE * max(0, solution_lines - 1))


def prose_words(text: str) -> int:
    """Words of a markdown cell, a formula counting as the words its symbols read as."""
    text = _DISPLAY.sub(" ", text)
    inline = _INLINE.findall(text)
    text = _INLINE.sub(" ", text)
    words = len(re.findall(r"[A-Za-z0-9][\w'’-]*", text))
    return words + sum(max(1, len(re.findall(r"[A-Za-z0-9]+|\\\w+", m)) // 2) for m in inline)


def code_figures(source: str) -> int:
    """How many figures a code cell shows: its ``# alt:`` lines, else its show calls."""
    alts = len(re.findall(r"^\s*# alt:", source, re.M))
    return alts or len(re.findall(r"plt\.subplots\(|plt\.figure\(", source))


def lesson_minutes(source: Path | str) -> LessonMinutes:
    """The reading model's minutes of one solution source ``solutions/NN_topic.py``."""
    source = Path(source)
    nb = jupytext.read(source)
    number = source.name[:2]
    words = formulas = cells = lines = figures = 0
    kinds = dict.fromkeys(KINDS, 0)
    exercises = 0.0
    for cell in nb.cells:
        kind = exercise_kind(cell)
        if kind is not None:
            kinds[kind] += 1
            exercises += exercise_minutes(cell, kind)
            continue
        if cell.cell_type == "markdown":
            words += prose_words(cell.source)
            formulas += len(_DISPLAY.findall(cell.source))
        elif cell.cell_type == "code" and cell.source.strip():
            cells += 1
            lines += sum(1 for line in cell.source.splitlines() if line.strip())
            figures += code_figures(cell.source)
    teaching = (words / WORDS_PER_MINUTE + formulas * DISPLAY_FORMULA_MIN
                + cells * CODE_CELL_MIN + lines * CODE_LINE_MIN + figures * FIGURE_MIN)
    parts = {"words": words, "display formulas": formulas, "code cells": cells,
             "code lines": lines, "figures": figures, **kinds}
    return LessonMinutes(number, teaching, exercises, parts)


def minutes_report(sources: list[Path], stated: dict | None = None) -> str:
    """A table of every lesson's modelled minutes (and the header's, when ``stated`` is given)."""
    head = "lesson  model: teaching + exercises = total"
    out = [head + ("   header   header/model" if stated else "")]
    for path in sources:
        model = lesson_minutes(path)
        row = (f"{model.number}      {model.teaching:5.0f} + {model.exercises:3.0f} = "
               f"{model.total:4.0f} min")
        if stated and model.number in stated:
            said = stated[model.number]
            row += f"   {said:4d} min   {said / model.total:5.2f}"
        parts = model.parts
        row += (f"   ({parts['words']} words, {parts['display formulas']} formulas, "
                f"{parts['code cells']} cells, {parts['figures']} figures; exercises "
                + ", ".join(f"{parts[k]} {k}" for k in KINDS) + ")")
        out.append(row)
    return "\n".join(out)
