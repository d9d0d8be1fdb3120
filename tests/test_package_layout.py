"""The package's folders are its architecture (issue 15): no import cycle, no part importing a
part above it, one home per name, and a lesson index that cannot drift."""

from __future__ import annotations

import ast
import importlib
import shutil
from pathlib import Path

import pytest

from qdr_course import lesson_index
from qdr_course.utils import REPO_ROOT

PACKAGE = REPO_ROOT / "qdr_course"
#: The order of the parts: a module may import from its own part and the parts ranked below it.
RANK = {"foundation": 0, "quantum": 1, "retina": 2, "ntk": 2, "machinery": 3}
FOUNDATION = {"qdr_course", "qdr_course.utils", "qdr_course.validate", "qdr_course.progress",
              "qdr_course.threads"}
TOP_LEVEL = {"__init__", "utils", "validate", "progress", "cli", "doctor", "authoring", "schedule",
             "widgets", "lesson_source", "lesson_index", "course_map", "site", "hub_sizing",
             "threads"}


def part(module: str) -> str:
    """foundation, quantum, retina, ntk or machinery (authoring, checks, commands, doctor)."""
    if module in FOUNDATION:
        return "foundation"
    name = module.split(".")[1]
    return name if name in ("quantum", "retina", "ntk") else "machinery"


def modules() -> dict[str, Path]:
    return {lesson_index.module_name(REPO_ROOT, path): path
            for path in lesson_index.package_files(REPO_ROOT)}


def targets(module_from: str, node: ast.ImportFrom, known: dict[str, Path]) -> set[str]:
    """The modules a ``from X import a, b`` really reaches (a sub-package's lazy names resolved)."""
    base = node.module
    out = set()
    for alias in node.names:
        if f"{base}.{alias.name}" in known:
            out.add(f"{base}.{alias.name}")
            continue
        lazy = getattr(importlib.import_module(base), "__getattr__", None)
        out.add(getattr(lazy, "exports", {}).get(alias.name, base))
    return out


def import_graph() -> dict[str, set[str]]:
    """module -> the package modules it imports, at the top or inside a function."""
    known = modules()
    graph = {}
    for name, path in known.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("qdr_course"):
                edges |= targets(name, node, known)
            elif isinstance(node, ast.Import):
                edges |= {a.name for a in node.names if a.name.startswith("qdr_course")}
        graph[name] = {e for e in edges if e != name and e in known}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle found by a depth-first search (empty when the graph is a DAG)."""
    found, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_the_import_graph_is_read_with_its_real_edges():
    graph = import_graph()
    assert "qdr_course.quantum.parameter_shift" in graph["qdr_course.quantum.layer"]
    assert "qdr_course.quantum.layer" in graph["qdr_course.retina.models"]
    assert "qdr_course.ntk.kernels" in graph["qdr_course.checks.ntk"]  # lazy name resolved
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def test_the_import_graph_has_no_cycle():
    assert cycles(import_graph()) == []


def test_no_module_imports_from_a_part_above_it():
    wrong = [f"{a} ({part(a)}) imports {b} ({part(b)})"
             for a, edges in import_graph().items() for b in edges
             if RANK[part(b)] > RANK[part(a)] or {part(a), part(b)} == {"retina", "ntk"}]
    assert wrong == []


def test_the_top_level_holds_only_the_foundation_and_the_machinery():
    flat = {p.stem for p in PACKAGE.glob("*.py")}
    assert flat == TOP_LEVEL, f"modules outside the parts: {sorted(flat - TOP_LEVEL)}"
    assert {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()} == \
        {"quantum", "retina", "ntk", "checks", "commands"}


@pytest.mark.parametrize("package", ["qdr_course.quantum", "qdr_course.retina", "qdr_course.ntk"])
def test_each_part_exports_the_names_of_its_lessons_from_one_place(package):
    module = importlib.import_module(package)
    for name in module.__all__:
        value = getattr(module, name)
        home = module.__getattr__.exports[name]
        assert getattr(importlib.import_module(home), name) is value
    assert not set(module.__all__) & {p.stem for p in Path(module.__file__).parent.glob("*.py")}


def test_no_name_is_defined_twice_across_the_parts():
    homes = {}
    for name, path in modules().items():
        if part(name) == "machinery":
            continue
        for defined in lesson_index.public_names(ast.parse(path.read_text(encoding="utf-8"))):
            homes.setdefault(defined, []).append(name)
    assert {k: v for k, v in homes.items() if len(v) > 1} == {}


# ----------------------------------------------------------------------------- lesson index
def test_every_see_lesson_pointer_names_a_lesson_that_uses_it():
    assert len(lesson_index.pointers(REPO_ROOT)) > 80
    assert lesson_index.stale_pointers(REPO_ROOT) == []


def test_a_wrong_pointer_is_reported(tmp_path):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "01_x.py").write_text("from qdr_course.m import used\nused()\n")
    (tmp_path / "qdr_course").mkdir()
    (tmp_path / "qdr_course" / "m.py").write_text(
        'def used():\n    """Used. See lesson 01."""\n\n\n'
        'def unused():\n    """Not used. See lessons 01 and 02."""\n')
    problems = lesson_index.stale_pointers(tmp_path)
    assert len(problems) == 1
    assert "unused points to lesson(s) ['01', '02']" in problems[0]
    assert "named in no lesson" in problems[0]


def test_pointer_lists_read_and_write_alike():
    assert lesson_index.lessons_in("04") == ["04"]
    assert lesson_index.lessons_in("06-07") == ["06", "07"]
    assert lesson_index.lessons_in("03, 05 and 07") == ["03", "05", "07"]
    assert lesson_index.pointer_text(["03", "05", "07"]) == "See lessons 03, 05 and 07."


def test_readme_package_table_is_the_generated_one():
    assert lesson_index.refresh_readme(REPO_ROOT, check=True) == []
    table = lesson_index.package_table(REPO_ROOT)
    assert "| `qdr_course.quantum.layer` | 03, 09 |" in table  # lesson 09 runs it on IBM hardware
    assert "| `qdr_course.ntk.qlsa_cost` | 08 |" in table
    assert len(table.splitlines()) == 2 + sum(
        1 for p in lesson_index.package_files(REPO_ROOT) if p.name != "__init__.py")


def test_a_stale_readme_table_is_reported_then_rewritten(tmp_path):
    for name in ("solutions", "qdr_course"):
        shutil.copytree(REPO_ROOT / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("*.ipynb", "__pycache__"))
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{lesson_index.TABLE_BEGIN}\nold\n{lesson_index.TABLE_END}\n\nend\n")
    assert "out of date" in lesson_index.refresh_readme(tmp_path, check=True)[0]
    assert lesson_index.refresh_readme(tmp_path, check=False, log=lambda _: None) == []
    assert lesson_index.refresh_readme(tmp_path, check=True) == []
    assert readme.read_text().endswith(f"{lesson_index.TABLE_END}\n\nend\n")
    readme.write_text("# no markers\n")
    assert "no package table block" in lesson_index.refresh_readme(tmp_path, check=True)[0]
