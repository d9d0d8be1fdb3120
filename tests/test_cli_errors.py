"""One error prefix everywhere (issue 25 item 6): every command's error is one line on stderr
starting with "error: ", whether argparse, the command or scripts/bootstrap.py finds it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from qdr_course.cli import ERROR_PREFIX, main

ROOT = Path(__file__).resolve().parent.parent


def run_cli(argv: list[str], capsys) -> tuple[int, str]:
    """Exit code and stderr of ``qdr-course argv`` run in this process."""
    try:
        code = main(argv)
    except SystemExit as stop:
        code = stop.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["no-such-command"],
    ["train", "--epochs", "1000000000"],
    ["train", "--no-such-option"],
    ["evaluate", "/no/such/run"],
    ["data", "synth", "--n", "0", "--out", "unused"],
    ["lab", "--root", "/no/such/course", "--dry-run"],
    ["minutes", "--root", "/no/such/course"],
    ["nbgrader", "--out", "unused", "42", "--root", str(ROOT)],
    ["site", "--solutions", "everything"],
    ["build", "--check", "--execute"],
], ids=lambda argv: " ".join(argv[:2]))
def test_every_command_error_is_one_line_with_the_one_prefix(argv, capsys):
    code, err = run_cli(argv, capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code not in (0, None), err
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(ERROR_PREFIX), lines[0]


def test_bootstrap_uses_the_same_prefix():
    result = subprocess.run([sys.executable, "scripts/bootstrap.py", "wheels"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr.startswith(ERROR_PREFIX)
