"""Lesson 09's IBM path on one fake device of each IBM processor family (issue 23.1, 27.5b).

Heron (FakeTorino, 133 qubits) uses CZ, Eagle (FakeSherbrooke, 127 qubits) ECR, the retired
Falcon snapshot FakeManilaV2 (5 qubits) CX. Everything is read from the device's target; local
testing mode simulates only the qubits a circuit uses, so the large devices run too.
"""

import math
import sys

import numpy as np
import pytest
import torch

from qdr_course.cli import main
from qdr_course.quantum import QuantumLayer, fake_device, ibm, retinopathy_circuit
from qdr_course.quantum.compiled import gate_angles

FAMILIES = {"FakeTorino": "cz", "FakeSherbrooke": "ecr", "FakeManilaV2": "cx"}
SHOTS = 500


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def device(request):
    return fake_device(request.param)


def small_layer(n_layers=1, seed=0):
    torch.manual_seed(seed)
    return QuantumLayer(retinopathy_circuit(n_qubits=3, n_layers=n_layers))


def test_two_qubit_gate_and_error_table_come_from_the_target(device):
    name = type(device).__name__
    gate = ibm.two_qubit_gate(device.target)
    assert gate == FAMILIES[name]
    table = ibm.error_table(device)
    assert set(table) == {"sx", gate, "measure"}
    assert len(table["sx"]) == len(table["measure"]) == device.num_qubits
    # (Eagle snapshots report a few couplers at error 1: broken, the transpiler avoids them)
    assert len(table[gate]) == len(device.target[gate]) and all(0 < e <= 1 for e in table[gate])
    # the median two-qubit gate fails more often than the median single-qubit gate
    assert np.median(table[gate]) > 3 * np.median(table["sx"])


def test_isa_circuit_uses_only_native_gates_and_the_best_qubits(device):
    circuit = retinopathy_circuit(n_qubits=3, n_layers=2).circuit
    manager, fidelity = ibm.isa_pass_manager(circuit, device)
    isa = manager.run(circuit)
    names = {inst.operation.name for inst in isa.data} - {"barrier"}
    assert names <= set(device.operation_names)
    two = {inst.operation.name for inst in isa.data if inst.operation.num_qubits == 2}
    assert two == {FAMILIES[type(device).__name__]}
    assert fidelity == pytest.approx(ibm.expected_fidelity(isa, device), rel=1e-12)
    # the chosen placement is at least as good as each preset level's own
    from qdr_course.quantum import transpile_for
    for level in (1, 2, 3):
        assert fidelity >= ibm.expected_fidelity(transpile_for(circuit, device, level), device) \
            - 1e-12
    assert len(ibm.used_qubits(isa)) == 3


def test_expected_fidelity_is_the_product_over_the_family_s_gates(device):
    from qiskit import QuantumCircuit

    target = device.target
    gate = ibm.two_qubit_gate(target)
    pair = next(iter(target[gate]))
    circuit = QuantumCircuit(device.num_qubits, 2)
    circuit.sx(pair[0])
    circuit.append(target.operation_from_name(gate), list(pair))
    circuit.measure(list(pair), [0, 1])  # idle qubits are neither run nor read
    want = ((1 - target["sx"][(pair[0],)].error) * (1 - target[gate][pair].error)
            * (1 - target["measure"][(pair[0],)].error)
            * (1 - target["measure"][(pair[1],)].error))
    assert ibm.expected_fidelity(circuit, device) == pytest.approx(want, rel=1e-12)


def test_too_deep_circuit_is_refused_on_every_family(device):
    deep = QuantumLayer(retinopathy_circuit(n_qubits=3, n_layers=200))
    with pytest.raises(ValueError, match=r"circuit too deep for Fake\w+: \d+ two-qubit gates "
                       r"and depth \d+ give an expected fidelity of 0\.\d\d .* below 0.5"):
        ibm.layer_cost(deep, device, 2)


def test_cost_estimate_counts_rows_times_shots_on_every_family(device):
    cost = ibm.layer_cost(small_layer(), device, 3, backward=False, mitigation="none",
                          shots=SHOTS)
    assert cost.jobs == 1 and cost.executions == 3 * SHOTS
    assert cost.seconds_per_execution > device.default_rep_delay
    both = ibm.layer_cost(small_layer(), device, 3, mitigation="none", shots=SHOTS)
    angles = len(gate_angles(small_layer().circuit).angles)  # 2 shifted bindings each
    assert both.jobs == 2 and both.executions == 3 * SHOTS * (1 + 2 * angles)
    assert both.qpu_seconds == pytest.approx(2 * ibm.JOB_OVERHEAD_SECONDS
                                             + both.executions * both.seconds_per_execution)


def test_forward_and_gradient_on_every_family(device):
    """Simulated on the device's used qubits only: 3 of 133 on Heron, 3 of 127 on Eagle."""
    exact = small_layer()
    layer = ibm.ibm_quantum_layer(exact, device, confirm=True, n_inputs=2, shots=SHOTS, seed=0,
                                  max_qpu_seconds=100)
    x = torch.tensor([[0.3, -0.5, 1.0], [-1.2, 0.4, 0.2]], dtype=torch.float64)
    out, want = layer(x), exact(x)
    # shot noise (1/sqrt(500) ~ 0.045 per value) and the gate noise TREX leaves
    assert float((out - want).abs().max().detach()) < 0.25
    out.sum().backward()
    want.sum().backward()
    grad, grad_exact = layer.weights.grad, exact.weights.grad
    assert torch.isfinite(grad).all()
    # each component sums 6 shifted differences / 2 of values with shot noise ~1/sqrt(500):
    # standard deviation about 0.08; 3.5 of them, and the device's shrink on a gradient ~0.3
    assert float((grad - grad_exact).abs().max()) < 0.3
    assert float(grad @ grad_exact) > 0  # still a descent direction
    assert len(layer.backend.jobs) == 2
    assert layer.backend.estimated_seconds == pytest.approx(
        ibm.estimate_layer_cost(layer, 2).qpu_seconds, rel=1e-12)


def test_device_subset_keeps_the_device_s_numbers():
    torino = fake_device("FakeTorino")
    subset = ibm.DeviceSubset.of(torino, [28, 29, 36])
    assert subset.num_qubits == 3
    assert subset.target["measure"][(2,)].error == torino.target["measure"][(36,)].error
    assert subset.target["cz"][(0, 1)].error == torino.target["cz"][(28, 29)].error
    assert subset.target.qubit_properties[1].t1 == torino.target.qubit_properties[29].t1
    assert (0, 2) not in subset.target["cz"]  # 28-36 are not coupled on the device


def test_device_subset_moves_circuit_and_observables():
    from qiskit import QuantumCircuit
    from qiskit.primitives import StatevectorEstimator
    from qiskit.quantum_info import SparsePauliOp

    circuit = QuantumCircuit(6)
    circuit.ry(0.7, 4)
    circuit.cx(4, 1)
    observables = [SparsePauliOp(["IZIIII", "IIIIZI", "IZIIZI"])]  # Z4 + Z1 + Z4 Z1
    small = ibm.DeviceSubset.pub((circuit, observables), [1, 4])
    assert small[0].num_qubits == 2 and small[1].tolist() == [{"IZ": 1.0, "ZI": 1.0, "ZZ": 1.0}]
    estimator = StatevectorEstimator()
    big = estimator.run([(circuit, observables)]).result()[0].data.evs
    got = estimator.run([(small[0], small[1])]).result()[0].data.evs
    # <Z4> = <Z1> = cos 0.7 and Z4 Z1 = 1 after the CX: the same on 2 qubits as on 6
    assert np.allclose(big, 2 * np.cos(0.7) + 1) and np.allclose(got, big)
    with pytest.raises(ValueError, match="reads a qubit the circuit does not use"):
        ibm.DeviceSubset.pub((circuit, [SparsePauliOp("ZIIIII")]), [1, 4])


@pytest.mark.parametrize("name", ["FakeTorino", "FakeSherbrooke"])
def test_device_simulator_builds_for_every_family(name):
    """Issue 27.5b: Heron snapshots record no qubit frequency; Aer needs none at 0 K."""
    from qdr_course.quantum.backends import device_simulator

    simulator = device_simulator(name)
    noise = simulator.options.noise_model
    assert not noise.is_ideal() and "measure" in noise.noise_instructions


@pytest.fixture(scope="module")
def hybrid_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "hybrid"
    tiny = ["--n", "100", "--size", "32", "--epochs", "1", "--no-progress"]
    assert main(["train", "--model", "hybrid", "--out", str(out), *tiny]) == 0
    return out


@pytest.mark.parametrize("name", ["FakeTorino", "FakeSherbrooke"])
def test_evaluate_on_a_large_device_runs(hybrid_run, name, capsys):
    """Issue 23.1: once an AerError (a 133-qubit statevector) after the estimate."""
    assert main(["evaluate", str(hybrid_run), "--ibm-backend", name, "--limit", "2", "--yes",
                 "--shots", "200"]) == 0
    out = capsys.readouterr().out
    assert f"{name} via IBM Runtime, 200 shots, trex" in out and "QWK" in out


def test_evaluate_with_a_heron_fake_device(hybrid_run, capsys):
    """Issue 27.5b: --device FakeTorino once failed on a missing qubit frequency."""
    assert main(["evaluate", str(hybrid_run), "--device", "FakeTorino", "--limit", "2",
                 "--shots", "200"]) == 0
    assert "FakeTorino, 200 shots" in capsys.readouterr().out


def test_ctrl_d_at_the_prompt_is_a_no(hybrid_run, capsys, monkeypatch):
    """Issue 27.6: EOFError at "Submit this job?" once gave a traceback."""
    monkeypatch.setattr(sys, "stdin", type("Tty", (), {"isatty": lambda self: True})())

    def end_of_input(prompt):
        raise EOFError

    monkeypatch.setattr("builtins.input", end_of_input)
    assert main(["evaluate", str(hybrid_run), "--ibm-backend", "FakeManilaV2",
                 "--limit", "2"]) == 1
    captured = capsys.readouterr()
    assert "nothing submitted" in captured.out and captured.err == ""


@pytest.mark.parametrize("extra, words", [
    (["--mitigation", "zne"], "--mitigation zne only acts with --ibm-backend"),
    (["--mitigation", "trex", "--device", "FakeManilaV2"], "--mitigation trex only acts"),
    (["--shots", "100"], "--shots 100 only acts with --device or --ibm-backend"),
    (["--ibm-backend", ""], "--ibm-backend is empty: give a backend name"),
    (["--ibm-backend", "  "], "--ibm-backend is empty"),
    (["--device", ""], "--device is empty"),
])
def test_options_that_would_be_ignored_are_refused(hybrid_run, extra, words, capsys):
    """Issue 27.12 and the empty backend name: one line each, before anything loads."""
    assert main(["evaluate", str(hybrid_run), *extra]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and "no IBM Quantum account" not in err


def test_layer_cost_needs_no_confirmation_and_submits_nothing():
    manila = fake_device("FakeManilaV2")
    cost = ibm.layer_cost(small_layer(), manila, 8)
    assert cost.jobs == 2 and math.isfinite(cost.qpu_seconds) and cost.qpu_seconds > 0
    with pytest.raises(ValueError, match="n_inputs must be a positive integer"):
        ibm.layer_cost(small_layer(), manila, 0)
