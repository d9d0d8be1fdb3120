"""The command line: help, doctor, lab."""

import subprocess
import sys

import pytest

from qdr_course import doctor
from qdr_course.cli import build_parser, main
from qdr_course.utils import REPO_ROOT


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in ("build", "doctor", "lab"):
        assert command in out


def test_unknown_arguments_are_rejected(capsys):
    with pytest.raises(SystemExit):
        main(["doctor", "--no-such-flag"])
    assert "unrecognized arguments: --no-such-flag" in capsys.readouterr().err


def test_doctor_names_what_is_missing_or_broken(monkeypatch, capsys):
    monkeypatch.setattr(doctor, "REQUIREMENTS", [
        ("numpy", "numpy", ">=1.26", "arrays"),
        ("definitely-not-installed-pkg", "nope", ">=1", "nothing"),
        ("scipy", "scipy", "<1.0", "an impossible range"),
    ])
    assert main(["doctor", "--fast"]) == 1
    out = capsys.readouterr().out
    assert "numpy" in out and "ok" in out
    assert "definitely-not-installed-pkg" in out and "not installed" in out
    assert "untested version, the course wants <1.0" in out
    assert "not ready: definitely-not-installed-pkg, scipy" in out


def test_doctor_says_what_it_checks_while_it_checks(monkeypatch, capsys):
    """doctor was silent for about 10 s (issue 25 item 6): it names each package as it goes."""
    monkeypatch.setattr(doctor, "REQUIREMENTS", [("numpy", "numpy", ">=1.26", "arrays"),
                                                 ("scipy", "scipy", ">=1.0", "solvers")])
    seen = []
    monkeypatch.setattr(doctor, "inspect_package",
                        lambda *row: seen.append(capsys.readouterr().err) or
                        doctor.Finding(row[0], "1", True, ""))
    assert main(["doctor", "--fast"]) == 0
    err = "".join(seen) + capsys.readouterr().err
    assert seen[0].startswith("checking that every key package imports (in this process): numpy")
    assert seen[1].endswith(" scipy")  # named before its import starts
    assert err.endswith(" done\n")


def test_doctor_reports_a_broken_import(monkeypatch):
    finding = doctor.inspect_package("numpy", "numpy.no_such_module", ">=1", "arrays")
    assert not finding.ok and "fails to import: ModuleNotFoundError" in finding.note


def test_doctor_passes_on_this_machine():
    """The real check, as a learner runs it, in a fresh interpreter."""
    result = subprocess.run([sys.executable, "-m", "qdr_course.cli", "doctor"], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ready: every package imports" in result.stdout


def test_lab_opens_jupyterlab_on_the_lessons(capsys):
    assert main(["lab", "--dry-run", "--root", str(REPO_ROOT), "--no-browser"]) == 0
    command = capsys.readouterr().out
    assert "-m jupyterlab" in command and f"--ServerApp.root_dir={REPO_ROOT / 'lessons'}" in command
    assert command.strip().endswith("--no-browser")


def test_lab_without_lessons_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["lab", "--dry-run", "--root", str(tmp_path)]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_parser_builds():
    assert build_parser().prog == "qdr-course"


def test_evaluate_help_prints_a_plain_percent_sign(capsys):
    """An argparse description is not %-formatted: '95%%' showed as is (issue 25 item 6)."""
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    out = capsys.readouterr().out
    assert "95%%" not in out and "95% interval" in " ".join(out.split())
