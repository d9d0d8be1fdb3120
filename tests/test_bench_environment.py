"""benchmarks/bench_environment.py: sizes on disk, the results file and its README sentence.

The install itself (minutes, the network) is not run here: run the script for that.
"""

from __future__ import annotations

import importlib.util
import json
import os

import pytest

from qdr_course.utils import REPO_ROOT

_spec = importlib.util.spec_from_file_location(
    "bench_environment", REPO_ROOT / "benchmarks" / "bench_environment.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def write(path, size: int):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(size))  # random: no sparse or compressed blocks


def test_disk_usage_counts_blocks_and_hard_links_once(tmp_path):
    write(tmp_path / "a" / "big.bin", 64 * 1024)
    write(tmp_path / "small.bin", 10)
    empty = bench.disk_usage(tmp_path)
    assert 64 * 1024 + 10 <= empty <= 64 * 1024 + 10 + 16 * 4096 + 3 * 4096
    os.link(tmp_path / "a" / "big.bin", tmp_path / "link.bin")
    assert bench.disk_usage(tmp_path) == empty  # the same blocks, counted once


def test_largest_entries_are_sorted_and_skip_metadata(tmp_path):
    write(tmp_path / "torch" / "lib.so", 200_000)
    write(tmp_path / "numpy" / "core.so", 50_000)
    write(tmp_path / "six.py", 30_000)
    write(tmp_path / "torch-2.13.0.dist-info" / "RECORD", 900_000)
    names = [name for name, _ in bench.largest_entries(tmp_path, count=2)]
    assert names == ["torch", "numpy"]


def test_the_record_has_the_shared_benchmark_fields(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    data = bench.record({"size": {}}, (1.0, 0.5, 0.2), (2.0, 1.0, 0.4))
    assert data["name"] == "environment" and data["date"].endswith("+00:00")
    assert len(data["commit"].split("+")[0]) == 40
    machine = data["machine"]
    assert machine["cores"] == os.cpu_count() and machine["cpu_model"]
    assert machine["load_before"] == [1.0, 0.5, 0.2] and machine["load_after"][0] == 2.0
    assert data["threads"]["OMP_NUM_THREADS"] == "1" and data["size"] == {}
    json.dumps(data)  # the file is JSON


RESULTS = {"date": "2026-12-01T05:00:00+00:00", "machine": {"cores": 2},
           "install": {"seconds": 431.2}, "first_lesson": {"lab_serves_it_s": 9.6,
                                                           "first_code_cell_s": 4.1},
           "time_to_first_lesson_s": 444.9,
           "size": {"learner_bytes": 4_012_000_000, "test_bytes": 4_205_000_000}}


def test_the_readme_sentence_quotes_the_numbers():
    sentence = bench.markdown(RESULTS)
    assert "3.7 GB on disk (the tests add 184 MB)" in sentence
    assert "setup` takes 431 s, longer on a busy machine (431 s measured by " in sentence
    assert "the first lesson is open about 14 s later" in sentence
    assert "2-core machine" in sentence and "on 2026-12-01" in sentence


def test_the_readme_sentence_gives_the_range_of_every_set_up_on_record():
    """One time reads as a promise (issue 25 item 6): with earlier runs kept, a range."""
    results = {**RESULTS, "earlier_installs": [
        {"seconds": 197.0, "where": "on a busy machine"}, {"seconds": 90.4, "where": "elsewhere"}]}
    sentence = bench.markdown(results)
    assert "setup` takes 90-431 s, longer on a busy machine (431 s measured by" in sentence
    assert "; 197 s on a busy machine; 90 s elsewhere)" in sentence
    assert [run["seconds"] for run in bench.install_runs(results)] == [
        RESULTS["install"]["seconds"], 197.0, 90.4]


def test_markdown_without_results_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "RESULTS", tmp_path / "environment.json")
    monkeypatch.setattr(bench, "ROOT", tmp_path)
    with pytest.raises(SystemExit, match="run python3 benchmarks/bench_environment.py first"):
        bench.main(["--markdown"])


def test_the_clean_environment_has_no_cache_and_no_user_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    env = bench.clean_environment(tmp_path, tmp_path / "venv")
    assert "PYTHONPATH" not in env and env["PIP_NO_CACHE_DIR"] == "1"
    assert env["PATH"].startswith(str(tmp_path / "venv" / "bin"))
    assert all(env[k].startswith(str(tmp_path)) for k in ("JUPYTER_CONFIG_DIR", "IPYTHONDIR"))


def test_the_readme_quotes_the_results_file():
    """The README's set-up paragraph says what benchmarks/results/environment.json measured."""
    sentence = bench.markdown(json.loads(bench.RESULTS.read_text()))
    readme = " ".join((REPO_ROOT / "README.md").read_text().split())
    assert sentence in readme, ("README.md does not quote benchmarks/results/environment.json: "
                                f"put this sentence in it: {sentence}")
