"""Every figure in the README's benchmark and lesson tables comes from a results file that a
benchmark script wrote (issue 17); these tests fail when the README disagrees with them."""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from qdr_course.utils import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT))

from benchmarks import make_readme_tables as tables  # noqa: E402
from benchmarks.benchlib import RESULTS, paired, summary  # noqa: E402

NAMES = ["quantum_layer", "layer_speed", "grader", "fundus", "ntk", "notebook_budgets"]


def test_the_readme_tables_are_the_generated_ones():
    problems = tables.refresh(REPO_ROOT, check=True)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("name", NAMES)
def test_every_results_file_records_the_machine_and_its_load(name):
    result = json.loads((RESULTS / f"{name}.json").read_text())
    assert result["benchmark"] == name and result["date"][:2] == "20" and result["commit"]
    machine = result["machine"]
    for key in ("cpu_model", "cores", "affinity", "cpus_available", "cpu_quota"):
        assert key in machine, f"{name}.json lacks machine fact {key}"
    assert len(result["load_before"]) == 3 and len(result["load_after"]) == 3


def summaries(node):
    """Every median/min/max summary inside a results table."""
    if isinstance(node, dict):
        if "median" in node and "n" in node:
            yield node
        else:
            for value in node.values():
                yield from summaries(value)
    elif isinstance(node, list):
        for value in node:
            yield from summaries(value)


@pytest.mark.parametrize("name", ["quantum_layer", "layer_speed", "grader", "fundus", "ntk"])
def test_timings_are_medians_of_at_least_five_runs(name):
    found = list(summaries(json.loads((RESULTS / f"{name}.json").read_text())["tables"]))
    assert found and all(s["n"] >= 5 and s["min"] <= s["median"] <= s["max"] for s in found)


def copy_of_the_repository(tmp_path):
    (tmp_path / "solutions").mkdir()
    for source in (REPO_ROOT / "solutions").glob("[0-9][0-9]_*.py"):
        shutil.copy(source, tmp_path / "solutions" / source.name)
    shutil.copy(REPO_ROOT / "README.md", tmp_path / "README.md")
    shutil.copytree(RESULTS, tmp_path / "results")
    return tmp_path


def test_a_changed_result_makes_the_readme_stale_until_regenerated(tmp_path):
    root = copy_of_the_repository(tmp_path)
    path = root / "results" / "fundus.json"
    result = json.loads(path.read_text())
    result["tables"]["rates"][0]["generated_per_cpu_second"]["median"] = 12345.0
    path.write_text(json.dumps(result))
    problems = tables.refresh(root, check=True, folder=root / "results")
    assert problems == ["README.md's benchmark table is out of date: run python "
                        "benchmarks/make_readme_tables.py."]
    assert tables.refresh(root, check=False, folder=root / "results", log=lambda _: None) == []
    assert "12345 at 64x64" in (root / "README.md").read_text()
    assert tables.refresh(root, check=True, folder=root / "results") == []


def test_lesson_rows_keep_their_description_and_take_the_measured_time(tmp_path):
    root = copy_of_the_repository(tmp_path)
    path = root / "results" / "notebook_budgets.json"
    result = json.loads(path.read_text())
    row = next(r for r in result["tables"]["notebooks"] if r["notebook"].startswith("lessons/00"))
    row["seconds"], row["peak_gb"] = 77.0, 0.99
    path.write_text(json.dumps(result))
    tables.refresh(root, check=False, folder=root / "results", log=lambda _: None)
    text = (root / "README.md").read_text()
    assert "| 00 | [Welcome](lessons/00_welcome.ipynb): how the course works" in text
    assert "| 77 s | 0.99 GB |" in text


def test_a_missing_results_file_says_which_script_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="run python benchmarks/bench_ntk.py first"):
        tables.read_results("ntk", tmp_path)


def test_paired_rounds_give_medians_and_ratios():
    out = paired({"a": lambda: None, "b": lambda: sum(range(2000))}, repeats=5,
                 min_seconds=0.001, reference="b")
    assert out["a"]["seconds"]["n"] == 5 and out["b"]["ratio_to_b"]["median"] == 1.0
    assert summary([3.0, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0, "n": 3}
