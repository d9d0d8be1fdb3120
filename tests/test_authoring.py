"""The build tool: markers, stubs, leak check, up-to-date check, clear errors."""

import json
import textwrap
from pathlib import Path

import nbformat
import pytest

from qdr_course import authoring
from qdr_course.authoring import AuthoringError, build, find_leaks, find_regions, strip_solutions
from qdr_course.cli import main
from qdr_course.lesson_source import LessonSummary
from qdr_course.schedule import SCHEDULE_BEGIN, SCHEDULE_END, schedule_markdown
from qdr_course.utils import REPO_ROOT

HEADER = textwrap.dedent("""\
    # ---
    # jupyter:
    #   jupytext:
    #     formats: ipynb,py:percent
    #   kernelspec:
    #     display_name: Python 3 (ipykernel)
    #     language: python
    #     name: python3
    # ---

    # %% [markdown]
    # # 01 · A tiny lesson
    #
    # **Teaching:** 5 min · **Exercises:** 5 min
    #
    # ## Objectives
    # - Square numbers.

    """)

EXERCISE = textwrap.dedent("""\
    # %% tags=["exercise"]
    def check_square(fn):
        return fn(3) == 9


    def square(x):
        ### BEGIN SOLUTION
        result = x * x  # the secret sauce
        return result
        ### END SOLUTION


    check_square(square)

    # %% [markdown]
    # Why does squaring never give a negative number?
    #
    # ### BEGIN SOLUTION
    # Because a real number times itself has the sign plus twice.
    # ### END SOLUTION

    """)

FOOTER = textwrap.dedent("""\
    # %%
    print(square.__name__)

    # %% [markdown]
    # ## Key points
    # - Squares are easy.
    """)


def write_course(root: Path, body: str = EXERCISE) -> Path:
    (root / "solutions").mkdir(parents=True, exist_ok=True)
    (root / "lessons").mkdir(exist_ok=True)
    source = root / "solutions" / "01_tiny.py"
    source.write_text(HEADER + body + FOOTER, encoding="utf-8")
    return source


def markers_error(body: str) -> AuthoringError:
    with pytest.raises(AuthoringError) as info:
        find_regions(HEADER + body + FOOTER, "solutions/01_tiny.py")
    return info.value


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return lines[occurrence - 1]


def test_regions_are_found_with_their_lines_and_kind():
    text = HEADER + EXERCISE + FOOTER
    code, markdown = find_regions(text)
    assert (code.begin, code.end) == (line_of(text, "BEGIN SOLUTION"),
                                      line_of(text, "END SOLUTION"))
    assert code.indent == "    " and not code.markdown
    assert [line.strip() for line in code.lines] == ["result = x * x  # the secret sauce",
                                                     "return result"]
    assert markdown.markdown and markdown.lines == ["Because a real number times itself has the "
                                                    "sign plus twice."]


def test_unclosed_region_names_file_and_line():
    body = EXERCISE.replace("    ### END SOLUTION\n", "", 1)
    error = markers_error(body)
    assert error.line == line_of(HEADER + body + FOOTER, "BEGIN SOLUTION")
    assert "solutions/01_tiny.py:" in str(error) and "no matching" in str(error)


def test_end_without_begin_is_an_error():
    body = EXERCISE.replace("    ### BEGIN SOLUTION\n", "", 1)
    error = markers_error(body)
    assert error.line == line_of(HEADER + body + FOOTER, "END SOLUTION") and "without" in str(error)


def test_nested_regions_are_an_error():
    body = EXERCISE.replace("    return result\n", "    ### BEGIN SOLUTION\n    return result\n", 1)
    error = markers_error(body)
    assert "nested" in str(error)
    assert error.line == line_of(HEADER + body + FOOTER, "BEGIN SOLUTION", 2)


def test_exercise_without_a_check_call_is_an_error():
    body = EXERCISE.replace("check_square(square)", "square(2)")
    error = markers_error(body)
    assert "check_" in str(error) and error.line == line_of(HEADER + body + FOOTER,
                                                            '# %% tags=["exercise"]')


def test_empty_and_malformed_markers_are_errors():
    empty = EXERCISE.replace("    result = x * x  # the secret sauce\n    return result\n", "")
    assert "empty" in str(markers_error(empty))
    malformed = EXERCISE.replace("### END SOLUTION", "### END SOLUTIONS", 1)
    assert "malformed" in str(markers_error(malformed))


def test_stub_is_valid_python_and_names_the_check():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n\ncheck_f(f)"
    stub = strip_solutions(source, markdown=False)
    compile(stub, "<stub>", "exec")
    assert "return x" not in stub and "check_f(...)" in stub
    namespace = {"check_f": lambda fn: fn}
    exec(stub, namespace)
    with pytest.raises(NotImplementedError, match="check_f"):
        namespace["f"](1)


def test_build_writes_lessons_and_check_detects_every_kind_of_drift(tmp_path):
    source = write_course(tmp_path)
    assert build(tmp_path, log=lambda *_: None) == [
        "solutions/01_tiny.ipynb is out of date (missing): run 'qdr-course build --execute "
        "solutions/01_tiny.py'."]
    lesson = (tmp_path / "lessons" / "01_tiny.py").read_text()
    assert "raise NotImplementedError" in lesson and "secret sauce" not in lesson
    assert "*Write your answer here.*" in lesson and "sign plus twice" not in lesson
    notebook = nbformat.read(tmp_path / "lessons" / "01_tiny.ipynb", as_version=4)
    exercise = next(c for c in notebook.cells if "NotImplementedError" in c.source)
    assert "exercise" in exercise.metadata["tags"]
    # a stored solution notebook with outputs makes the course up to date
    solution_nb = nbformat.read(tmp_path / "lessons" / "01_tiny.ipynb", as_version=4)
    solved = authoring.read_solution(source)[0]
    for count, cell in enumerate(c for c in solved.cells if c.cell_type == "code"):
        cell.execution_count = count + 1
    (tmp_path / "solutions" / "01_tiny.ipynb").write_text(authoring.to_ipynb(solved))
    assert build(tmp_path, check=True) == []
    assert solution_nb.cells  # lessons stay unexecuted
    # an edited solution source: lesson and solution notebook are stale
    source.write_text(source.read_text().replace("print(square.__name__)", "print(square.__doc__)"))
    problems = build(tmp_path, check=True)
    assert any("lessons/01_tiny.py is out of date" in p for p in problems)
    assert any("solutions/01_tiny.ipynb is out of date (its cells differ" in p for p in problems)
    # a lesson edited by hand
    source.write_text(source.read_text().replace("print(square.__doc__)", "print(square.__name__)"))
    build(tmp_path, log=lambda *_: None)
    lesson_path = tmp_path / "lessons" / "01_tiny.py"
    lesson_path.write_text(lesson_path.read_text() + "\n# my own note\n")
    assert build(tmp_path, check=True) == [
        "lessons/01_tiny.py is out of date: do not edit lessons/ by hand: edit the solution and "
        "run 'qdr-course build'."]


def test_missing_pair_is_reported(tmp_path):
    write_course(tmp_path)
    build(tmp_path, log=lambda *_: None)
    (tmp_path / "lessons" / "02_orphan.ipynb").write_text("{}")
    problems = build(tmp_path, check=True)
    assert any(p.startswith("lessons/02_orphan.ipynb has no source "
                            "solutions/02_orphan.py") for p in problems)


def test_lesson_shape_is_enforced(tmp_path):
    source = write_course(tmp_path)
    source.write_text(source.read_text().replace("## Key points", "## Summary"))
    with pytest.raises(AuthoringError, match="Key points"):
        build(tmp_path)
    source.write_text(source.read_text().replace("**Teaching:** 5 min", "Teaching: 5 min"))
    with pytest.raises(AuthoringError, match=r"\*\*Teaching:\*\*"):
        build(tmp_path)


def test_leaks_are_found():
    text = HEADER + EXERCISE + FOOTER
    regions = find_regions(text)
    assert find_leaks(regions, text, "result = x * x  # the secret "
                      "sauce") == ["result = x * x  # the secret sauce"]
    assert find_leaks(regions, text, "raise NotImplementedError()") == []
    # a line that also stands outside the markers is not a leak
    assert find_leaks(regions, text, "print(square.__name__)") == []


def test_build_refuses_a_leaking_solution(tmp_path):
    body = EXERCISE.replace("check_square(square)",
                            "check_square(square)\nresult = x * x  # the secret sauce")
    write_course(tmp_path, body)
    # the duplicated line stands outside the markers too, so it is not a leak; a true leak cannot
    # be produced by the build itself, which is what this guards
    build(tmp_path, log=lambda *_: None)
    lesson = (tmp_path / "lessons" / "01_tiny.py").read_text()
    assert "### BEGIN SOLUTION" not in lesson


def test_failing_notebook_names_file_cell_and_line(tmp_path):
    source = write_course(tmp_path, EXERCISE.replace("check_square(square)",
                                                     "check_square(square)\n1 / 0"))
    with pytest.raises(AuthoringError) as info:
        build(tmp_path, execute_notebooks=True, log=lambda *_: None)
    text = source.read_text()
    assert info.value.path == source and info.value.line == line_of(text, '# %% tags=["exercise"]')
    assert "ZeroDivisionError" in str(info.value) and "cell 1 failed" in str(info.value)


def test_cli_check_exit_codes(tmp_path, capsys):
    write_course(tmp_path)
    assert main(["build", "--check", "--root", str(tmp_path)]) == 1
    assert "lessons/01_tiny.py is missing" in capsys.readouterr().err
    assert main(["build", "--root", str(tmp_path / "nowhere")]) == 1
    assert "no solutions/ folder" in capsys.readouterr().err


# ---------------------------------------------------------------- the real course

SOURCES = sorted((REPO_ROOT / "solutions").glob("[0-9][0-9]_*.py"))


def test_course_is_up_to_date():
    """`qdr-course build --check` passes on main."""
    assert build(REPO_ROOT, check=True) == []


@pytest.mark.parametrize("source", SOURCES, ids=[s.stem for s in SOURCES])
def test_no_solution_text_reaches_lessons(source):
    text = source.read_text(encoding="utf-8")
    regions = find_regions(text, source)
    lesson_py = (REPO_ROOT / "lessons" / source.name).read_text(encoding="utf-8")
    lesson_path = REPO_ROOT / "lessons" / f"{source.stem}.ipynb"
    lesson_nb = json.loads(lesson_path.read_text(encoding="utf-8"))
    nb_text = "\n".join("".join(cell["source"]) for cell in lesson_nb["cells"])
    assert find_leaks(regions, text, lesson_py) == []
    assert find_leaks(regions, text, nb_text) == []
    assert all(not cell.get("outputs") for cell in lesson_nb["cells"]), \
        "lessons are stored unexecuted"


@pytest.mark.parametrize("source", SOURCES, ids=[s.stem for s in SOURCES])
def test_every_exercise_cell_is_tagged_and_keeps_its_tags(source):
    lesson_nb = nbformat.read(REPO_ROOT / "lessons" / f"{source.stem}.ipynb", as_version=4)
    stubs = [c for c in lesson_nb.cells
             if c.cell_type == "code" and "NotImplementedError(\"Exercise" in c.source]
    assert all("exercise" in c.metadata.get("tags", []) for c in stubs)
    assert len(stubs) == sum(not r.markdown for r in find_regions(source.read_text(), source))


# ---------------------------------------------------------------- the schedule

def test_schedule_is_computed_from_minutes_with_breaks():
    lessons = [LessonSummary(f"{i:02d}", f"L{i}", 30, 20, [f"goal {i}"]) for i in range(8)]
    lessons[0] = LessonSummary("00", "Welcome", 10, 5, ["start"])
    text = schedule_markdown(lessons)
    assert "| **all** | 220 min | 145 min | **365 min** |" in text
    half_day = text.split("**Half day, hybrid track**")[1].split("**Half day, NTK")[0]
    # 00 before the day; 01-05 need 250 min + a break: 04 goes to self-study, 05 is reached
    assert "Before the day, learners do 00 (15 min); 04 (50 min) is self-study" in half_day
    assert "| 09:00 | 01 L1 (30 + 20 min) |" in half_day
    assert "| 10:40 | break (15 min) |" in half_day
    assert "| 11:45 | 05 L5 (30 + 20 min) |" in half_day
    assert "this timetable runs 3 h 35 min with breaks" in half_day
    assert "| 12:35 | end (3 h 35 min with breaks) |" in half_day
    two_days = text.split("days, the whole course**")[1]
    assert "07 L7" in two_days and "*Day 2*" in two_days
    assert "  - goal 3" in text


def test_guide_schedule_block_is_refreshed_and_checked(tmp_path):
    source = write_course(tmp_path)
    guide = tmp_path / "docs" / "instructor-guide.md"
    guide.parent.mkdir()
    guide.write_text(f"# Guide\n\n{SCHEDULE_BEGIN}\nold\n{SCHEDULE_END}\n\nmore\n")
    build(tmp_path, log=lambda *_: None)
    text = guide.read_text()
    assert "| 01 A tiny lesson | 5 min | 5 min | 10 min |" in text and text.endswith("\n\nmore\n")
    source.write_text(source.read_text().replace("**Exercises:** 5 min", "**Exercises:** 7 min"))
    assert any("schedule is out of date" in p for p in build(tmp_path, check=True))
    guide.write_text("# Guide without markers\n")
    assert any("no schedule block" in p for p in build(tmp_path, check=True))
