"""Issue 27, lost work: a full disk or a second training never costs the epochs already trained.

The full disk is real: a tmpfs of a few hundred kB mounted for the test (CI runs as root; a
developer without the right to mount skips these tests, CI does not).
"""

import contextlib
import fcntl
import os
import subprocess

import pytest

from qdr_course.cli import main

TINY = ["--n", "120", "--size", "28", "--no-progress"]


@contextlib.contextmanager
def small_disk(folder, size: str):
    """A real file system of ``size`` (e.g. "500k") at ``folder``; yields a function that
    grows it."""
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"CI must be able to mount a small tmpfs: {done.stderr.strip()}")
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()})")

    def grow(new_size: str) -> None:
        subprocess.run(["mount", "-o", f"remount,size={new_size}", str(folder)], check=True)

    try:
        yield grow
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_disk_that_fills_at_epoch_2_keeps_epoch_1_and_resume_finishes(tmp_path, capsys):
    with small_disk(tmp_path / "disk", "500k") as grow:  # one checkpoint fits, not two
        run = tmp_path / "disk" / "r1"
        assert main(["train", "--epochs", "3", "--out", str(run), *TINY]) == 2
        err = capsys.readouterr().err
        assert "the disk is full" in err and f"train --resume {run}" in err, err
        assert "no space left on the disk" in err and "Traceback" not in err, err
        assert sorted(p.name for p in run.iterdir()) == ["checkpoint.pt", "settings.json"]

        # a second training of the same run waits its turn instead of sharing its files
        fd = os.open(run, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            assert main(["train", "--resume", str(run), "--no-progress"]) == 2
            err = capsys.readouterr().err
            assert "is being trained by another qdr-course train" in err, err
        finally:
            os.close(fd)
        assert sorted(p.name for p in run.iterdir()) == ["checkpoint.pt", "settings.json"]

        grow("8m")
        assert main(["train", "--resume", str(run), "--no-progress"]) == 0
        out = capsys.readouterr().out
        assert "trained 3 epochs" in out, out
        assert main(["evaluate", str(run)]) == 0  # the checkpoint's SHA-256 matches
        assert "reproduced" in capsys.readouterr().out.lower()


def test_a_disk_that_fills_after_testing_keeps_the_report_and_the_checkpoint(tmp_path, capsys):
    with small_disk(tmp_path / "disk", "310k") as grow:  # the checkpoint fits, the figures not
        run = tmp_path / "disk" / "r2"
        assert main(["train", "--epochs", "1", "--out", str(run), *TINY]) == 2
        captured = capsys.readouterr()
        assert "QWK" in captured.out and "test (" in captured.out, captured.out  # printed first
        assert "the disk is full" in captured.err and "--resume" in captured.err, captured.err
        kept = {p.name for p in run.iterdir()}
        assert {"checkpoint.pt", "settings.json"} <= kept and "metrics.json" not in kept
        assert not [name for name in kept if name.endswith(".tmp")]
        grow("8m")
        assert main(["train", "--resume", str(run), "--no-progress"]) == 0
        assert main(["evaluate", str(run)]) == 0
