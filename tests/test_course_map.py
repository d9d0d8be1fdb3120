"""Lesson 00's course map and doctor's lesson numbers come from the lessons (issue 23 item 5)."""

from pathlib import Path

import pytest

from qdr_course import doctor
from qdr_course.authoring import build
from qdr_course.course_map import (
    MAP_BEGIN,
    MAP_END,
    lesson_span,
    lessons_needing,
    map_block,
    packages_used,
)
from qdr_course.lesson_source import lesson_summary

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.py"))


def _map_text() -> str:
    text = (ROOT / "solutions" / "00_welcome.py").read_text(encoding="utf-8")
    return MAP_BEGIN + text.split(MAP_BEGIN, 1)[1].split(MAP_END, 1)[0] + MAP_END


def test_the_map_lists_every_lesson_with_its_header():
    text = _map_text()
    lessons = [lesson_summary(source) for source in SOURCES]
    assert len(lessons) >= 10
    for lesson in lessons:
        entry = (f"# - **[{lesson.number} · {lesson.title}]({lesson.stem}.ipynb)** "
                 f"({lesson.teaching} + {lesson.exercises} min)")
        assert entry in text, f"lesson {lesson.number} is missing from the map"
        for objective in lesson.objectives:
            assert f"#   - {objective}" in text
    total = sum(lesson.minutes for lesson in lessons)
    assert f"All {len(lessons)} lessons: {total} minutes" in text
    assert text == map_block(lessons)


def test_a_changed_header_reaches_the_map_and_check_says_stale(tmp_path):
    import shutil

    for folder in ("solutions", "lessons"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    source = tmp_path / "solutions" / "09_real_quantum_computer.py"
    text = source.read_text(encoding="utf-8")
    source.write_text(text.replace("# # 09 · ", "# # 09 · Renamed: ", 1), encoding="utf-8")
    problems = build(tmp_path, check=True, log=lambda *_: None)
    assert any("course map is out of date" in p for p in problems), problems
    build(tmp_path, log=lambda *_: None)  # a markdown change: no re-execution needed
    assert "09 · Renamed: " in (tmp_path / "solutions" / "00_welcome.py").read_text()
    assert "09 · Renamed: " in (tmp_path / "lessons" / "00_welcome.ipynb").read_text()
    assert "09 · Renamed: " in (tmp_path / "solutions" / "00_welcome.ipynb").read_text()
    assert build(tmp_path, check=True, log=lambda *_: None) == []


def test_a_changed_code_cell_still_needs_execution(tmp_path):
    import shutil

    for folder in ("solutions", "lessons"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    source = tmp_path / "solutions" / "00_welcome.py"
    source.write_text(source.read_text().replace("first = rng.normal(size=3)",
                                                 "first = rng.normal(size=3)  # changed"))
    problems = build(tmp_path, check=True, log=lambda *_: None)
    assert any("00_welcome.ipynb is out of date (its cells differ" in p for p in problems)


def test_lesson_span():
    assert lesson_span(["01", "02", "03", "07"]) == "lessons 01-03, 07"
    assert lesson_span(["05"]) == "lesson 05"
    assert lesson_span(["04", "06"]) == "lessons 04, 06"
    assert lesson_span([]) == ""


def test_packages_follow_the_course_modules_a_lesson_calls():
    needing = lessons_needing(ROOT)
    # imported by the lesson itself
    assert "02" in needing["torch"] and "06" in needing["jax"]
    # only through the course: lesson 07 calls qdr_course.ntk, which imports neural-tangents
    assert "neural_tangents" not in {line.split()[1].split(".")[0] for line in
                                     (ROOT / "solutions" / "07_sparsified_ntk.py").read_text()
                                     .splitlines() if line.startswith(("import ", "from "))}
    assert "07" in needing["neural_tangents"] and "07" in needing["jax"]
    # lesson 00 imports qiskit itself; neither it nor lesson 01 needs jax or neural-tangents
    assert "00" in needing["qiskit"]
    assert not {"00", "01", "02", "03"} & set(needing["jax"] + needing["neural_tangents"])
    # qiskit's simulators and IBM devices: never in the NTK lessons 06-07
    assert not {"06", "07"} & set(needing["qiskit_aer"])
    assert "scipy" in packages_used(ROOT, ROOT / "solutions" / "06_neural_tangent_kernel.py")


@pytest.mark.parametrize("module,why", [(m, w) for _, m, _, w in doctor.REQUIREMENTS])
def test_doctor_names_the_lessons_that_import_each_package(module, why):
    needing = lessons_needing(ROOT)
    note = doctor.why_needed(module, why, needing)
    if module in needing:
        assert note == f"{why} ({lesson_span(needing[module])})"
    else:
        assert note == why
    import re

    assert not re.search(r"lessons? \d", why), "a hand-written lesson number can drift"


def test_doctor_report_carries_the_lesson_numbers():
    findings = {f.name: f for f in doctor.diagnose(isolated=False)}
    needing = lessons_needing(ROOT)
    assert findings["scipy"].note.endswith(f"({lesson_span(needing['scipy'])})")
    assert "lesson 07)" not in findings["scipy"].note or needing["scipy"] == ["07"]
