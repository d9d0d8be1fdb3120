"""Lesson 09 run top to bottom on other backends than its stored FakeManilaV2 (issue 23.1, 23.2).

- On a Heron fake device (FakeTorino, CZ, 133 qubits) in local testing mode, to the end.
- On a "real" backend of a runtime-service stand-in (FakeTorino's target under another name,
  an account in the environment) with ``CONFIRM = False``: every estimate prints, Run-All never
  stops, and nothing is submitted (the stand-in records what would have been).
"""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "solutions" / "09_real_quantum_computer.py"

STAND_IN = textwrap.dedent('''
    import json, sys
    from qiskit.providers import BackendV2, Options
    from qiskit_ibm_runtime.fake_provider import FakeTorino
    from qdr_course.quantum import ibm

    class StandInBackend(BackendV2):
        """A device of the stand-in account: FakeTorino's target, not a fake name."""
        def __init__(self):
            super().__init__(name="ibm_standin")
            self._device = FakeTorino()
            self.default_rep_delay = self._device.default_rep_delay
        @property
        def target(self):
            return self._device.target
        @property
        def max_circuits(self):
            return None
        @classmethod
        def _default_options(cls):
            return Options()
        def properties(self):
            return self._device.properties()
        def run(self, *args, **kwargs):
            raise AssertionError("nothing may run on the stand-in backend")

    class StandInService:
        def backend(self, name):
            assert name == "ibm_standin", name
            return StandInBackend()
        def backends(self, **_):
            return [StandInBackend()]

    submitted = []

    def record(self, pubs):
        submitted.append(len(pubs))
        raise AssertionError("submitted with CONFIRM = False")

    ibm.ibm_service = lambda accounts_file=None: StandInService()
    ibm.BudgetedEstimator._submit = record
    ibm._open_mode = lambda *a, **k: (_ for _ in ()).throw(AssertionError("opened a batch"))
''')


def run_lesson(tmp_path, backend: str, prelude: str = "", epilogue: str = "",
               env_extra: dict | None = None):
    """Run the lesson's code as a script with BACKEND replaced; return (returncode, output)."""
    source = LESSON.read_text()
    pattern = r'^BACKEND = None  #.*$'
    assert re.search(pattern, source, flags=re.M), "the lesson's BACKEND line changed"
    source = re.sub(pattern, f"BACKEND = {backend!r}", source, count=1, flags=re.M)
    script = tmp_path / "lesson_09.py"
    script.write_text(prelude + "\n" + source + "\n" + epilogue)
    env = {**os.environ, "MPLBACKEND": "Agg", "TQDM_DISABLE": "1", "PYTHONPATH": str(ROOT),
           "OMP_NUM_THREADS": "1", **(env_extra or {})}
    if not env_extra:
        env.pop("QISKIT_IBM_TOKEN", None)
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    return done.returncode, done.stdout + done.stderr


def test_lesson_09_runs_to_the_end_on_a_heron_fake_device(tmp_path):
    code, out = run_lesson(tmp_path, "FakeTorino")
    assert code == 0, out[-3000:]
    assert "FakeTorino: 133 qubits" in out and "two-qubit gate cz" in out
    # the numbers lesson 09's prose quotes for FakeTorino
    assert "1 layer 0.964, 2 layers 0.954" in out
    assert "deepest accepted depth: 100 layers (the geometric model predicts 67)" in out
    assert "no mitigation  mean |error|" in out and "TREX" in out
    assert "jobs sent: 3" in out and "1 job; the device gives the exact grade" in out
    assert "not submitted" not in out


def test_lesson_09_with_confirm_false_on_a_real_backend_submits_nothing(tmp_path):
    epilogue = "print('SUBMITTED', json.dumps(submitted))"
    code, out = run_lesson(tmp_path, "ibm_standin", prelude=STAND_IN, epilogue=epilogue,
                           env_extra={"QISKIT_IBM_TOKEN": "stand-in, never sent"})
    assert code == 0, out[-3000:]
    assert "ibm_standin: 133 qubits" in out and "two-qubit gate cz" in out
    # every estimate printed, without "local testing mode" (this is a billed device)
    assert re.search(r"forward pass of 8 inputs: +about \d+ QPU seconds on ibm_standin: 1 job",
                     out)
    assert re.search(r"about \d+\.\d QPU hours on ibm_standin", out)
    assert re.search(r"about \d+ QPU seconds on ibm_standin: 1 job, [\d,]+ circuit", out)
    assert "nothing is billed" not in out
    assert out.count("not submitted") == 3  # the forward, gradient and grader cells
    assert "SUBMITTED []" in out


def test_lesson_09_trains_as_lesson_03_does():
    """The training-cost cell's epochs are lesson 03's (issue 23.9: once 5 x 20 by hand)."""
    lesson_03 = (ROOT / "solutions" / "03_hybrid_layer.py").read_text()
    lesson_09 = LESSON.read_text()
    trained = re.search(r"history_h = fit\(hybrid, x_train, y_train, x_test, y_test, "
                        r"epochs=(\d+)", lesson_03)
    assert trained, "lesson 03's training call changed: update lesson 09's cost cell"
    assert re.search(r"x_train, y_train, x_test, y_test = load_digit_tensors\(\(0, 1\), seed=0\)",
                     lesson_03)
    assert f"DIGIT_EPOCHS = {trained.group(1)}  #" in lesson_09
    assert "batch_size=" not in trained.group(0)  # fit's default batch size, read by lesson 09


def test_no_hard_coded_cx_target():
    """Issue 23.1: the two-qubit gate is read from the target, never assumed."""
    for path in [LESSON, *sorted((ROOT / "qdr_course").rglob("*.py"))]:
        assert 'target["cx"]' not in path.read_text(), path


@pytest.mark.parametrize("kind", ["predict", "implement", "concept", "discuss"])
def test_lesson_09_has_each_exercise_kind(kind):
    assert f'tags=["exercise", "{kind}"]' in LESSON.read_text()

