"""Build the course: student lessons and notebooks from the instructor's solution sources.

``solutions/NN_topic.py`` (a jupytext percent script) is the single source of truth. From it
:func:`build` writes ``lessons/NN_topic.py`` with every exercise solution replaced by a stub,
and the paired ``.ipynb`` of both folders; ``--execute`` re-runs the solution notebooks so
their stored outputs can be checked by nbval. See ``CONTRIBUTING.md`` and lesson 00.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import nbformat
from jupytext.config import JupytextConfiguration

from qdr_course.course_map import refresh_map
from qdr_course.lesson_index import refresh_readme
from qdr_course.lesson_source import AuthoringError, lesson_summary, validate_lesson_shape
from qdr_course.schedule import refresh_guide

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
EXERCISE_TAG = "exercise"
MARKDOWN_STUB = "*Write your answer here.*"
CHECK_CALL = re.compile(r"(?<!def )\b(check_\w+)\s*\(")
MALFORMED = re.compile(r"^#+\s*(BEGIN|END)\s*SOLUTION", re.IGNORECASE)
CELL_MARKER = re.compile(r"^# %%")
NBVAL_TAG_PREFIX = "nbval-"  # e.g. nbval-ignore-output: a solution cell's output is not compared
NBVAL_COMMENT = re.compile(r"^\s*# NBVAL_[A-Z_]+\s*$")

#: Environment under which notebooks are executed, by the build and by the tests alike, so
#: stored outputs match: no progress bars, one thread (as on Binder), quiet TensorFlow.
NOTEBOOK_ENV = {
    "TQDM_DISABLE": "1",
    "PYTHONHASHSEED": "0",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "QDR_STATIC_WIDGETS": "1",  # nobody moves a slider here: qdr_course.widgets draws figures
}

#: Another machine, as far as rounding goes. Each setting changes the bits of some computation
#: the lessons do, on an AVX2 or AVX-512 machine (tests/test_host_sensitivity.py checks
#: this). The tests run every solution notebook under it too (conftest.py).
OTHER_CPU_ENV = {
    # torch's plain C++ kernels instead of its AVX2/AVX-512 ones: element-wise maths and
    # reductions (the statevector simulator) round differently.
    "ATEN_CPU_CAPABILITY": "default",
    # oneDNN's SSE4.1 convolutions (torch's conv2d) instead of AVX2/AVX-512 ones.
    "ONEDNN_MAX_CPU_ISA": "SSE41",
    # MKL's conditional-numerical-reproducibility mode (torch's matrix products).
    "MKL_CBWR": "COMPATIBLE",
    # NumPy's baseline SIMD only: its exp, tanh, arcsin, log take other code paths.
    "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",
    # Two threads instead of one: OpenBLAS (NumPy's matrix products, eigenvalues) and torch's
    # reductions split their sums differently.
    "OMP_NUM_THREADS": "2",
    "MKL_NUM_THREADS": "2",
}

JUPYTEXT_CONFIG = JupytextConfiguration(
    notebook_metadata_filter="kernelspec,jupytext,-jupytext.text_representation",
    cell_metadata_filter="tags,-all",
)
JUPYTEXT_METADATA = {
    "formats": "ipynb,py:percent",
    "notebook_metadata_filter": JUPYTEXT_CONFIG.notebook_metadata_filter,
    "cell_metadata_filter": JUPYTEXT_CONFIG.cell_metadata_filter,
}


@dataclass
class Region:
    """One solution region: the lines between the markers (1-based, inclusive of markers)."""

    begin: int
    end: int
    indent: str
    markdown: bool
    lines: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- parsing

def find_regions(text: str, path: Path | str = "<source>") -> list[Region]:
    """Validate the solution markers of a percent script and return its regions."""
    regions: list[Region] = []
    current: Region | None = None
    cell_kind, cell_start, cell_has_region, cell_has_check = "code", 1, False, False

    def close_cell(next_line: int) -> None:
        if current is not None:
            raise AuthoringError(path, current.begin, f"'{BEGIN}' has no matching '{END}' before "
                                 f"the cell ends at line {next_line}: add '{END}' at the end of "
                                 "the solution.")
        if cell_has_region and cell_kind == "code" and not cell_has_check:
            raise AuthoringError(path, cell_start, "this exercise cell has a solution but calls no "
                                 "check_*(...) function: add the check call after the solution so "
                                 "learners can test their answer.")

    for number, line in enumerate(text.splitlines(), start=1):
        if CELL_MARKER.match(line):
            close_cell(number)
            cell_kind = "markdown" if "[markdown]" in line or "[md]" in line else "code"
            cell_start, cell_has_region, cell_has_check = number, False, False
            continue
        body = line[2:] if cell_kind == "markdown" and line.startswith("# ") else line
        stripped = body.strip()
        if stripped == BEGIN:
            if current is not None:
                raise AuthoringError(path, number, f"nested '{BEGIN}' (the region opened at line "
                                     f"{current.begin} is still open): close it with '{END}' "
                                     "first.")
            indent = body[: len(body) - len(body.lstrip())]
            current = Region(begin=number, end=number, indent=indent,
                             markdown=cell_kind == "markdown")
            cell_has_region = True
        elif stripped == END:
            if current is None:
                raise AuthoringError(path, number,
                                     f"'{END}' without a '{BEGIN}' before it in this cell.")
            current.end = number
            if not current.lines or not any(s.strip() for s in current.lines):
                raise AuthoringError(path, current.begin, "empty solution region: put the solution "
                                     "between the markers or remove them.")
            regions.append(current)
            current = None
        elif MALFORMED.match(stripped):
            raise AuthoringError(path, number, f"malformed solution marker {stripped!r}: write "
                                 f"exactly '{BEGIN}' or '{END}' on a line of its own.")
        elif current is not None:
            current.lines.append(body)
        elif cell_kind == "code" and CHECK_CALL.search(line):
            cell_has_check = True
    close_cell(len(text.splitlines()) + 1)
    return regions


def cell_start_lines(text: str) -> list[int]:
    """1-based line numbers of the ``# %%`` cell markers of a percent script."""
    return [n for n, line in enumerate(text.splitlines(), start=1) if CELL_MARKER.match(line)]


# --------------------------------------------------------------------------- transforming

def stub_line(indent: str, check: str | None) -> str:
    """The line that replaces a code solution in the student lesson."""
    hint = f"{check}(...) tells you if it is right" if check else "then run the checks below"
    return f'{indent}raise NotImplementedError("Exercise: complete this; {hint}.")'


def strip_solutions(source: str, markdown: bool) -> str:
    """Replace each solution region of one cell's source by its stub."""
    out: list[str] = []
    inside = False
    check = next(iter(CHECK_CALL.findall(source)), None)
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(indent + MARKDOWN_STUB if markdown else stub_line(indent, check))
        elif stripped == END:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def stable_ids(nb: nbformat.NotebookNode, stem: str) -> None:
    """Give cells ids derived from the lesson name and position, so builds are reproducible."""
    for index, cell in enumerate(nb.cells):
        cell["id"] = hashlib.sha1(f"{stem}:{index}".encode()).hexdigest()[:8]


def read_solution(path: Path) -> tuple[nbformat.NotebookNode, list[Region], str]:
    """Read and validate a solution source; return (notebook, regions, text)."""
    text = path.read_text(encoding="utf-8")
    regions = find_regions(text, path)
    nb = jupytext.reads(text, fmt="py:percent")
    validate_lesson_shape(nb, path)
    nb.metadata["jupytext"] = dict(JUPYTEXT_METADATA)
    nb.metadata.setdefault("kernelspec", {"display_name": "Python 3 (ipykernel)",
                                          "language": "python", "name": "python3"})
    nb.metadata.setdefault("language_info", {"name": "python"})
    stable_ids(nb, path.stem)
    return nb, regions, text


def student_notebook(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The learner's copy: solutions replaced by stubs, exercise cells tagged, no outputs."""
    nb = copy.deepcopy(solution)
    for cell in nb.cells:
        if BEGIN not in cell.source:
            continue
        cell.source = strip_solutions(cell.source, cell.cell_type == "markdown")
        if cell.cell_type == "code":
            tags = cell.metadata.setdefault("tags", [])
            if EXERCISE_TAG not in tags:
                tags.append(EXERCISE_TAG)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        drop_test_markers(cell)
    return nb


def drop_test_markers(cell: nbformat.NotebookNode) -> None:
    """Remove nbval's tags and comment markers: learners need not read the test machinery."""
    tags = [t for t in cell.metadata.get("tags", []) if not t.startswith(NBVAL_TAG_PREFIX)]
    if tags:
        cell.metadata["tags"] = tags
    else:
        cell.metadata.pop("tags", None)
    if cell.cell_type == "code":
        cell.source = "\n".join(line for line in cell.source.splitlines()
                                if not NBVAL_COMMENT.match(line))


def to_py(nb: nbformat.NotebookNode) -> str:
    """Percent-script text of a notebook, with the course's jupytext settings."""
    return jupytext.writes(nb, fmt="py:percent", config=JUPYTEXT_CONFIG)


def to_ipynb(nb: nbformat.NotebookNode) -> str:
    """Notebook JSON text, deterministic for the same notebook."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.metadata.pop("execution", None)
    nbformat.validate(nb)
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _norm(line: str) -> str:
    return line.strip().lstrip("#").strip()


def find_leaks(regions: list[Region], solution_text: str, lesson_text: str,
               min_chars: int = 12) -> list[str]:
    """Solution lines (of at least ``min_chars``) found in a lesson but nowhere outside the regions.
    """
    inside = {n for region in regions for n in range(region.begin, region.end + 1)}
    numbered = enumerate(solution_text.splitlines(), start=1)
    outside = {_norm(line) for n, line in numbered if n not in inside}
    lesson_lines = {_norm(line) for line in lesson_text.splitlines()}
    solution_lines = [_norm(line) for region in regions for line in region.lines]
    leaks = [line for line in solution_lines
             if len(line) >= min_chars and line not in outside and line in lesson_lines]
    if BEGIN in lesson_text or END in lesson_text:
        leaks.append(f"a '{BEGIN}'/'{END}' marker")
    return leaks


# --------------------------------------------------------------------------- executing

def execute(nb: nbformat.NotebookNode, cwd: Path, path: Path, source_text: str,
            timeout: int = 900) -> float:
    """Execute a notebook in a fresh kernel (in place); return the wall time in seconds."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    os.environ.update(NOTEBOOK_ENV)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(cwd)}})
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as error:
        index = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code" and
                      any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
        starts = cell_start_lines(source_text)
        line = starts[index] if index is not None and len(starts) == len(nb.cells) else None
        cell = f"cell {index}" if index is not None else "a cell"
        raise AuthoringError(path, line, f"{cell} failed while executing the notebook; fix the "
                             f"source and run the build again.\n{error}") from None
    return time.perf_counter() - start


# --------------------------------------------------------------------------- the build

@dataclass
class Course:
    """Where a course lives: its solution sources and the generated lessons."""

    root: Path

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"

    @property
    def lessons(self) -> Path:
        return self.root / "lessons"

    def sources(self) -> list[Path]:
        """The solution sources, in lesson order."""
        return sorted(self.solutions.glob("[0-9][0-9]_*.py"))


def stale_solution_notebook(stored: nbformat.NotebookNode | None,
                            expected: nbformat.NotebookNode) -> str | None:
    """Why a stored, executed solution notebook no longer matches its source (or None)."""
    if stored is None:
        return "missing"
    def cells(nb):
        return [(c.cell_type, c.source) for c in nb.cells]

    if cells(stored) != cells(expected):
        # Only code makes outputs: a changed markdown cell (a generated course map, a corrected
        # sentence) is copied into the stored notebook without executing it again.
        code = [(c.cell_type, c.source if c.cell_type == "code" else "") for c in expected.cells]
        if [(c.cell_type, c.source if c.cell_type == "code" else "") for c in stored.cells] != code:
            return "its cells differ from the source"
    if any(c.cell_type == "code" and c.source.strip() and c.execution_count is None
           for c in stored.cells):
        return "it is not executed"
    return None


def with_outputs(expected: nbformat.NotebookNode,
                 stored: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The expected notebook carrying the outputs of the ``stored`` one."""
    nb = copy.deepcopy(expected)
    nb.metadata["language_info"] = stored.metadata.get("language_info",
                                                       nb.metadata.get("language_info"))
    for cell, old in zip(nb.cells, stored.cells):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = old.get("outputs", []), old.get("execution_count")
    return nb


def build_one(course: Course, source: Path, execute_notebook: bool = False,
              check: bool = False, log=print) -> list[str]:
    """Build (or, with ``check``, verify) one lesson; return the problems found."""
    problems: list[str] = []
    solution, regions, text = read_solution(source)
    lesson = student_notebook(solution)
    lesson_py, lesson_nb = course.lessons / source.name, course.lessons / f"{source.stem}.ipynb"
    solution_nb = source.with_suffix(".ipynb")
    wanted = {lesson_py: to_py(lesson), lesson_nb: to_ipynb(lesson)}
    leaks = find_leaks(regions, text, wanted[lesson_py])
    if leaks:
        raise AuthoringError(source, None, "solution text would reach the lesson: "
                             + "; ".join(repr(leak) for leak in leaks)
                             + ". Keep solution lines inside the markers only.")

    if execute_notebook and not check:
        log(f"executing {solution_nb.relative_to(course.root)} ...")
        seconds = execute(solution, source.parent, source, text)
        log(f"  done in {seconds:.1f} s")
        wanted[solution_nb] = to_ipynb(solution)
    else:
        stored = nbformat.read(solution_nb, as_version=4) if solution_nb.exists() else None
        why = stale_solution_notebook(stored, solution)
        if why is None:
            wanted[solution_nb] = to_ipynb(with_outputs(solution, stored))
        else:
            problems.append(f"{solution_nb.relative_to(course.root)} is out of date ({why}): run "
                            f"'qdr-course build --execute {source.relative_to(course.root)}'.")

    for path, content in wanted.items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == content:
            continue
        rel = path.relative_to(course.root)
        if check:
            hint = ("do not edit lessons/ by hand: edit the solution and run 'qdr-course build'"
                    if path.parent == course.lessons and current is not None else "run 'qdr-course "
                    "build'")
            problems.append(f"{rel} is {'missing' if current is None else 'out of date'}: {hint}.")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            log(f"wrote {rel}")
    return problems


def orphans(course: Course) -> list[str]:
    """Generated files without a solution source (a missing pair)."""
    stems = {p.stem for p in course.sources()}
    found = []
    for folder in (course.solutions, course.lessons):
        for path in sorted(folder.glob("[0-9][0-9]_*")):
            if path.suffix in (".py", ".ipynb") and path.stem not in stems:
                found.append(f"{path.relative_to(course.root)} has no source "
                             f"solutions/{path.stem}.py: restore the source or delete the file.")
    return found


def build(root: Path, only: list[Path] | None = None, execute_notebooks: bool = False,
          check: bool = False, log=print) -> list[str]:
    """Build or check the whole course (or the ``only`` sources); return the problems found."""
    course = Course(Path(root).resolve())
    if not course.solutions.is_dir():
        raise AuthoringError(course.solutions, None, "no solutions/ folder here: run the command "
                             "from the course's root folder or pass --root.")
    sources = course.sources()
    if only:
        wanted = {Path(p).resolve() for p in only}
        unknown = wanted - {s.resolve() for s in sources}
        if unknown:
            raise AuthoringError(sorted(unknown)[0], None, "not a solution source "
                                 "(expected solutions/NN_topic.py).")
        sources = [s for s in sources if s.resolve() in wanted]
    problems = orphans(course) if check else []
    if not check:  # lesson 00's map first, so that lesson 00 is built with it
        refresh_map(course.root, [lesson_summary(s) for s in course.sources()], check, log)
    for source in sources:
        problems += build_one(course, source, execute_notebook=execute_notebooks, check=check,
                              log=log)
    lessons = [lesson_summary(s) for s in course.sources()]
    problems += refresh_guide(course.root, lessons, check, log)
    problems += refresh_map(course.root, lessons, check, log)
    problems += refresh_readme(course.root, check, log)
    return problems
