"""The IBM Quantum path (quantum/ibm.py), offline in qiskit-ibm-runtime's local testing mode.

A fake device (FakeManilaV2) as the backend runs the same client-side estimator, batch, ISA
transpilation, TREX and cost estimate as a real backend, on Aer with the device's noise.
"""

import sys

import numpy as np
import pytest
import torch

from qdr_course.cli import main
from qdr_course.quantum import QuantumLayer, fake_device, ibm, retinopathy_circuit

SHOTS = 1000


@pytest.fixture(scope="module")
def manila():
    return fake_device("FakeManilaV2")


@pytest.fixture
def no_account(tmp_path, monkeypatch):
    """No QISKIT_IBM_TOKEN and an empty place for saved accounts."""
    from qiskit_ibm_runtime.accounts import management

    monkeypatch.delenv(ibm.TOKEN_VARIABLE, raising=False)
    monkeypatch.setattr(management, "_DEFAULT_ACCOUNT_CONFIG_JSON_FILE",
                        str(tmp_path / "qiskit-ibm.json"))
    return tmp_path / "qiskit-ibm.json"


def small_layer(n_qubits=3, n_layers=1, seed=0):
    torch.manual_seed(seed)
    return QuantumLayer(retinopathy_circuit(n_qubits=n_qubits, n_layers=n_layers))


# -- forward and backward through QuantumLayer ------------------------------------------------
def test_layer_forward_and_backward_on_the_fake_device(manila):
    exact = small_layer()
    layer = ibm.ibm_quantum_layer(exact, manila, confirm=True, n_inputs=2, shots=SHOTS, seed=0)
    assert isinstance(layer.backend, ibm.BudgetedEstimator)
    assert torch.equal(layer.weights.detach(), exact.weights.detach())  # trained weights kept
    # the ISA circuit uses only the device's gates
    names = {i.operation.name for i in layer.executed_circuit.data} - {"barrier"}
    assert names <= set(manila.operation_names)
    x = torch.tensor([[0.3, -0.5, 1.0], [-1.2, 0.4, 0.2]], dtype=torch.float64)
    out = layer(x)
    want = exact(x)
    # shot noise (1/sqrt(1000) ~ 0.03) and the device's gate noise TREX does not remove
    assert out.shape == (2, 3) and float((out - want).abs().max().detach()) < 0.2
    out.sum().backward()
    want.sum().backward()
    grad, grad_exact = layer.weights.grad, exact.weights.grad
    assert grad.shape == grad_exact.shape and torch.isfinite(grad).all()
    cosine = float(grad @ grad_exact / (grad.norm() * grad_exact.norm()))
    assert cosine > 0.9, cosine
    # one job for the forward pass, one for all parameter shifts, within the approved budget
    estimator = layer.backend
    assert len(estimator.jobs) == 2
    assert estimator.estimated_seconds == pytest.approx(
        ibm.estimate_layer_cost(layer, 2).qpu_seconds, rel=1e-12)
    assert estimator.estimated_seconds <= estimator.max_qpu_seconds
    estimator.close()


def test_layer_needs_an_explicit_confirmation_and_a_budget(manila):
    exact = small_layer()
    with pytest.raises(ValueError, match=r"nothing submitted: this needs about \d+ QPU seconds "
                       r".*pass confirm=True") as refused:
        ibm.ibm_quantum_layer(exact, manila, n_inputs=2, shots=SHOTS)
    assert "\n" not in str(refused.value)
    with pytest.raises(ValueError, match="exceeds max_qpu_seconds=1"):
        ibm.ibm_quantum_layer(exact, manila, n_inputs=2, confirm=True, max_qpu_seconds=1)


def test_budgeted_estimator_refuses_a_job_over_budget_before_submitting(manila):
    layer = ibm.ibm_quantum_layer(small_layer(), manila, confirm=True, n_inputs=1, shots=SHOTS,
                                  max_qpu_seconds=10)
    with pytest.raises(ValueError, match=r"not submitted: .* above the approved "
                       r"max_qpu_seconds=10"):
        layer(torch.zeros(40, 3, dtype=torch.float64))  # 40 rows: ~40 000 executions, ~13 s
    assert layer.backend.jobs == [] and layer.backend.estimated_seconds == 0


# -- the cost estimate --------------------------------------------------------------------------
def test_cost_without_mitigation_is_rows_times_shots(manila):
    layer = ibm.ibm_quantum_layer(small_layer(), manila, confirm=True, mitigation="none",
                                  shots=SHOTS)
    pubs = ibm.layer_pubs(layer, 3)
    cost = ibm.estimate_cost(pubs, manila, layer.backend.options)
    assert cost.jobs == 1 and cost.executions == 3 * SHOTS
    duration = layer.executed_circuit.estimate_duration(manila.target, unit="s")
    assert cost.seconds_per_execution == pytest.approx(manila.default_rep_delay + duration)
    assert cost.qpu_seconds == pytest.approx(ibm.JOB_OVERHEAD_SECONDS
                                             + 3 * SHOTS * cost.seconds_per_execution)
    # backward: two shifted bindings per gate angle and row
    angles = len(layer.runner.angles.angles)
    backward = ibm.estimate_cost(ibm.layer_pubs(layer, 3, backward=True), manila,
                                 layer.backend.options)
    assert backward.executions == 3 * 2 * angles * SHOTS
    assert "local testing mode: nothing is billed" in str(cost)


def test_mitigation_costs_more_executions(manila):
    layer = ibm.ibm_quantum_layer(small_layer(), manila, confirm=True, mitigation="none",
                                  shots=SHOTS)
    pubs = ibm.layer_pubs(layer, 4)
    executions = {m: ibm.estimate_cost(pubs, manila, ibm.estimator_options(m, SHOTS)).executions
                  for m in ibm.MITIGATIONS}
    # TREX adds its calibration circuits (twirled shots round up), ZNE its amplified copies
    assert executions["none"] == 4 * SHOTS < executions["trex"] < executions["zne"]
    with pytest.raises(ValueError, match="mitigation must be one of"):
        ibm.estimator_options("pec")


# -- refusals -----------------------------------------------------------------------------------
def test_no_credentials_is_refused(no_account):
    assert not ibm.has_ibm_credentials()
    with pytest.raises(ValueError, match=r"no IBM Quantum account found: .*save_account.*"
                       "QISKIT_IBM_TOKEN"):
        ibm.ibm_backend("ibm_torino")


def test_environment_variable_counts_as_credentials(no_account, monkeypatch):
    monkeypatch.setenv(ibm.TOKEN_VARIABLE, "not-a-real-key")
    assert ibm.has_ibm_credentials()
    assert not no_account.exists()  # the course wrote nothing


class _Service:
    """A QiskitRuntimeService stand-in that knows two backends (no network)."""

    def backend(self, name):
        from qiskit.providers.exceptions import QiskitBackendNotFoundError
        raise QiskitBackendNotFoundError("No backend matches the criteria.")

    def backends(self, **_):
        return [type("B", (), {"name": n})() for n in ("ibm_torino", "ibm_fez")]


def test_unknown_backend_is_refused_with_the_account_s_backends():
    with pytest.raises(ValueError, match=r"unknown IBM backend 'ibm_nowhere': your account sees "
                       r"ibm_fez, ibm_torino"):
        ibm.ibm_backend("ibm_nowhere", service=_Service())
    with pytest.raises(ValueError, match="unknown fake device 'FakeNowhere'"):
        ibm.ibm_backend("FakeNowhere")


def test_too_few_qubits_is_refused(manila):
    with pytest.raises(ValueError, match=r"backend FakeManilaV2 has 5 qubits, too few for this "
                       r"6-qubit circuit"):
        ibm.ibm_quantum_layer(small_layer(n_qubits=6), manila, confirm=True)


def test_expected_fidelity_is_the_product_of_reported_successes(manila):
    from qiskit import QuantumCircuit

    target = manila.target
    gate = ibm.two_qubit_gate(target)  # cx on this Falcon snapshot
    circuit = QuantumCircuit(2)
    circuit.sx(0)
    circuit.append(target.operation_from_name(gate), [0, 1])
    circuit.measure_all()
    want = ((1 - target["sx"][(0,)].error) * (1 - target[gate][(0, 1)].error)
            * (1 - target["measure"][(0,)].error) * (1 - target["measure"][(1,)].error))
    assert ibm.expected_fidelity(circuit, manila) == pytest.approx(want, rel=1e-12)


def test_too_deep_circuit_is_refused(manila):
    with pytest.raises(ValueError, match=r"circuit too deep for FakeManilaV2: \d+ two-qubit gates "
                       r"and depth \d+ give an expected fidelity of 0\.\d\d .* below 0.5"):
        ibm.ibm_quantum_layer(small_layer(n_layers=30), manila, confirm=True)
    shallow = ibm.ibm_quantum_layer(small_layer(n_layers=1), manila, confirm=True, n_inputs=1)
    assert ibm.expected_fidelity(shallow.executed_circuit, manila) > 0.8


# -- the grader's evaluation ------------------------------------------------------------------
@pytest.fixture(scope="module")
def hybrid_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "hybrid"
    tiny = ["--n", "100", "--size", "32", "--epochs", "1", "--no-progress"]
    assert main(["train", "--model", "hybrid", "--out", str(out), *tiny]) == 0
    return out


def test_grader_evaluates_all_images_in_one_job(hybrid_run, manila):
    from qdr_course.retina.datasets import load_grading_data
    from qdr_course.retina.training import load_checkpoint, predict_grades

    model = load_checkpoint(hybrid_run / "checkpoint.pt")
    with pytest.raises(ValueError, match="pass confirm=True"):
        ibm.ibm_grader(model, manila, 6, shots=SHOTS)
    on_ibm = ibm.ibm_grader(model, manila, 6, confirm=True, shots=SHOTS, seed=0)
    data = load_grading_data("synthetic", size=32, n=100, seed=0)
    images, grades = data.test.images[:6], data.test.grades[:6]
    predicted, probs = predict_grades(on_ibm, (images, grades), batch_size=6)
    assert len(on_ibm.quantum.backend.jobs) == 1
    assert probs.shape == (6, 5) and np.allclose(probs.sum(1), 1)
    exact, _ = predict_grades(model, (images, grades))
    assert (predicted == exact).mean() >= 0.5  # the fake device's noise may flip a close call
    cost = ibm.grader_cost(model, manila, 6, shots=SHOTS)
    assert on_ibm.quantum.backend.estimated_seconds == pytest.approx(cost.qpu_seconds)


def test_evaluate_command_on_the_fake_backend(hybrid_run, capsys):
    args = ["evaluate", str(hybrid_run), "--ibm-backend", "FakeManilaV2", "--limit", "4",
            "--shots", "200"]
    assert main([*args, "--yes"]) == 0
    out = capsys.readouterr().out
    assert "local testing mode" in out
    assert "estimate for 4 images at 200 shots with trex: about" in out
    assert "FakeManilaV2 via IBM Runtime, 200 shots, trex" in out and "QWK" in out


def test_evaluate_command_asks_before_submitting(hybrid_run, capsys, monkeypatch):
    args = ["evaluate", str(hybrid_run), "--ibm-backend", "FakeManilaV2", "--limit", "4"]
    monkeypatch.setattr(sys, "stdin", type("NoTty", (), {"isatty": lambda self: False})())
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "nothing submitted: no terminal to ask" in err and "--yes" in err
    assert err.count("\n") == 1
    monkeypatch.setattr(sys, "stdin", type("Tty", (), {"isatty": lambda self: True})())
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "estimate for 4 images" in out and "nothing submitted" in out and "QWK" not in out


def test_evaluate_command_refusals(hybrid_run, no_account, tmp_path, capsys):
    def error(*extra):
        assert main(["evaluate", str(hybrid_run), *extra]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        return err

    assert "no IBM Quantum account found" in error("--ibm-backend", "ibm_torino")
    assert "not both" in error("--ibm-backend", "FakeManilaV2", "--device", "FakeManilaV2")
    assert "unknown fake device" in error("--ibm-backend", "FakeNowhere")
    assert "has 1 qubits, too few" in error("--ibm-backend", "FakeArmonkV2", "--yes")
    classical = tmp_path / "classical"
    tiny = ["--n", "100", "--size", "32", "--epochs", "1", "--no-progress"]
    assert main(["train", "--model", "classical", "--out", str(classical), *tiny]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(classical), "--ibm-backend", "FakeManilaV2"]) == 2
    assert "--ibm-backend needs a hybrid grader" in capsys.readouterr().err



# -- lesson 09's exercise checks -----------------------------------------------------------------
def _depth(f1, f2, threshold):
    return ibm.depth_limit(f1, f2, threshold)


@pytest.mark.parametrize("answer, words", [
    (_depth, "Correct"),
    (lambda f1, f2, t: _depth(f1, f2, t) + 1, "first one BELOW"),
    (lambda f1, f2, t: 1 + int((f1 - t) // (f1 - f2)) if f1 >= t else 0, "same AMOUNT"),
    (lambda f1, f2, t: int(np.floor(np.log(t) / np.log(f2))), "not the factor per layer"),
    (lambda f1, f2, t: _depth(f1, f2, t) + 0.5, "whole number"),
    (lambda f1, f2, t: None, "forget `return`"),
])
def test_depth_limit_exercise_check(answer, words, capsys):
    from qdr_course.checks import check_depth_limit

    assert bool(check_depth_limit(answer)) == (words == "Correct")
    assert words in capsys.readouterr().out


def test_depth_limit_matches_the_transpiled_curve(manila):
    """The geometric model of exercise 9.2 against real transpilation on FakeManilaV2."""
    fidelity = {n: ibm.isa_pass_manager(retinopathy_circuit(n_qubits=3, n_layers=n).circuit,
                                        manila)[1] for n in (1, 2, 23, 24, 25, 26, 27, 28, 29)}
    predicted = ibm.depth_limit(fidelity[1], fidelity[2], 0.5)
    deepest = max(n for n in fidelity if fidelity[n] >= 0.5)
    assert abs(predicted - deepest) <= 2, (predicted, deepest)
    assert ibm.depth_limit(0.9, 0.8, 0.5) == 5  # 0.9 * (8/9)**4 = 0.562, ** 5 = 0.499
    assert ibm.depth_limit(0.45, 0.4, 0.5) == 0
    with pytest.raises(ValueError, match="need 0 < fidelity_2 < fidelity_1"):
        ibm.depth_limit(0.8, 0.9, 0.5)


E0, E1 = 0.012, 0.0316  # FakeManilaV2's qubit 1


@pytest.mark.parametrize("answer, words", [
    (lambda: (-1 + 2 * E1, E1 - E0, -(1 - E0 - E1)), "Correct"),
    (lambda: (-(1 - E0 - E1), E1 - E0, -(1 - E0 - E1)), "does not only shrink"),
    (lambda: (-1 + 2 * E1, 0.0, -(1 - E0 - E1)), "not equally likely"),
    (lambda: (-1 + 2 * E1, E1 - E0, -1 + 2 * E1), "half the shots"),
    (lambda: (-1 + 2 * E1, E1 - E0, -1.0), "does not undo"),
    (lambda: (-1 + 2 * E1, E1 - E0), "return three numbers"),
    (lambda: None, "returns None"),
])
def test_readout_prediction_check(answer, words, capsys):
    from qdr_course.checks import check_readout_prediction

    assert bool(check_readout_prediction(answer, E0, E1)) == (words == "Correct")
    out = capsys.readouterr().out
    assert words in out and f"{-(1 - E0 - E1):+.4f}" not in out


def test_twirled_readout_is_a_pure_shrink_in_simulation():
    """The formula of lesson 09 (and 05) against Aer with an asymmetric readout error."""
    from qiskit import QuantumCircuit
    from qiskit_aer import AerSimulator
    from qiskit_aer.noise import NoiseModel, ReadoutError

    noise = NoiseModel()
    noise.add_all_qubit_readout_error(ReadoutError([[1 - E0, E0], [E1, 1 - E1]]))
    simulator = AerSimulator(noise_model=noise, seed_simulator=1)
    shots = 200_000

    def z(prepare_one, flip):
        circuit = QuantumCircuit(1, 1)
        if prepare_one:
            circuit.x(0)
        if flip:
            circuit.x(0)
        circuit.measure(0, 0)
        counts = simulator.run(circuit, shots=shots).result().get_counts()
        value = (counts.get("0", 0) - counts.get("1", 0)) / shots
        return -value if flip else value

    tolerance = 4 / np.sqrt(shots)
    assert z(True, False) == pytest.approx(-(1 - E0 - E1) + (E1 - E0), abs=tolerance)
    assert z(False, False) == pytest.approx((1 - E0 - E1) + (E1 - E0), abs=tolerance)
    twirled_one = (z(True, False) + z(True, True)) / 2
    twirled_zero = (z(False, False) + z(False, True)) / 2
    assert twirled_one == pytest.approx(-(1 - E0 - E1), abs=tolerance)
    assert twirled_zero == pytest.approx(1 - E0 - E1, abs=tolerance)
