"""The layer keeps its speed (issues 16 and 17): no garbage-collection stalls in the primitive
path, and the statevector path's full-matrix / per-gate switch where it is faster."""

from __future__ import annotations

import gc

import numpy as np
import pytest
import torch

from qdr_course.quantum.backends import aer_estimator
from qdr_course.quantum.circuits import layered_ansatz
from qdr_course.quantum.layer import QuantumLayer


def aer_layer():
    pc = layered_ansatz(n_qubits=3, n_layers=2, rotations=("rz", "ry"), entangler="cz")
    return QuantumLayer(pc, backend=aer_estimator(), init_weights=np.zeros(pc.num_weights))


def test_a_forward_and_backward_on_aer_triggers_no_garbage_collection():
    layer, x = aer_layer(), torch.randn(32, 3, dtype=torch.float64, requires_grad=True)
    layer(x).sum().backward()  # warm-up
    gc.collect()
    before = [s["collections"] for s in gc.get_stats()]
    for _ in range(3):
        layer(x).sum().backward()
    after = [s["collections"] for s in gc.get_stats()]
    # before the fix: about 24 generation-0 and 2 generation-1 collections per step
    assert after[0] - before[0] <= 6 and after[1] == before[1] and after[2] == before[2]
    assert gc.isenabled()


def test_the_collector_stays_off_if_the_user_turned_it_off():
    layer, x = aer_layer(), torch.randn(4, 3, dtype=torch.float64)
    gc.disable()
    try:
        layer(x)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_primitive_call_leaves_only_a_bounded_cycle_of_garbage():
    layer, x = aer_layer(), torch.randn(32, 3, dtype=torch.float64, requires_grad=True)
    layer(x).sum().backward()
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        layer(x).sum().backward()
        gc.collect()
        garbage = list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    # Aer's own circuit copy and Qiskit's label_iter classes: ~55 objects per call, per batch 0
    assert len(garbage) < 200
    assert not any(type(o).__name__ == "cell" for o in garbage)  # the observables' conversion


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_a_small_layer_computes_on_one_thread_with_the_same_gradients(two_threads):
    from qdr_course.quantum.circuits import retinopathy_circuit

    layer = QuantumLayer(retinopathy_circuit(3, 2))
    seen = []
    run = layer.simulator.run
    layer.simulator.run = lambda *a: (seen.append(torch.get_num_threads()), run(*a))[1]
    x = torch.randn(8, 3, dtype=torch.float64, requires_grad=True)
    out = layer(x)
    gx, gw = torch.autograd.grad(out.square().sum(), (x, layer.weights))
    assert seen == [1] and torch.get_num_threads() == 2
    x2 = x.detach().requires_grad_(True)
    direct = run(x2, layer.weights)
    ex, ew = torch.autograd.grad(direct.square().sum(), (x2, layer.weights))
    torch.testing.assert_close((out, gx, gw), (direct, ex, ew), rtol=0, atol=1e-14)


def test_one_thread_path_without_input_gradients_and_second_derivatives(two_threads):
    from qdr_course.quantum.circuits import retinopathy_circuit

    layer = QuantumLayer(retinopathy_circuit(3, 2))
    layer(torch.randn(4, 3, dtype=torch.float64)).sum().backward()
    assert layer.weights.grad.shape == (6,) and torch.get_num_threads() == 2
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    (gx,) = torch.autograd.grad(layer(x).sum(), x, create_graph=True)
    (hx,) = torch.autograd.grad(gx.sum(), x)
    assert torch.get_num_threads() == 2
    torch.set_num_threads(1)  # the plain path: the same second derivatives
    (gx1,) = torch.autograd.grad(layer(x).sum(), x, create_graph=True)
    (hx1,) = torch.autograd.grad(gx1.sum(), x)
    torch.testing.assert_close((gx, hx), (gx1, hx1), rtol=0, atol=1e-14)
    with torch.no_grad():  # no graph: nothing to fence, threads restored
        torch.set_num_threads(2)
        layer(x)
    assert torch.get_num_threads() == 2


def test_the_backward_pass_of_a_small_layer_runs_on_one_thread(two_threads):
    """Every node of the simulation's backward runs on one thread; the count is 2 after."""
    from qdr_course.quantum.circuits import retinopathy_circuit

    layer = QuantumLayer(retinopathy_circuit(3, 2))
    x = torch.randn(8, 3, dtype=torch.float64, requires_grad=True)
    head = torch.nn.Linear(3, 1, dtype=torch.float64)
    out = head(layer(x)).sum()
    seen, visited, stack = set(), set(), [out.grad_fn]
    while stack:  # a pre-hook on every node of the graph records the threads it runs with
        node = stack.pop()
        if node is None or id(node) in visited:
            continue
        visited.add(id(node))
        node.register_prehook(
            lambda *_, name=node.name(): seen.add((name, torch.get_num_threads())))
        stack += [child for child, _ in node.next_functions]
    out.backward()
    threads = {}
    for name, count in seen:
        threads.setdefault(name, set()).add(count)
    head = {"SumBackward0", "AddmmBackward0", "TBackward0", "_OneThreadBackwardBackward",
            "torch::autograd::AccumulateGrad"}
    assert threads["AddmmBackward0"] == {2}  # the classical head keeps torch's threads
    simulation = {n: c for n, c in threads.items() if n not in head}
    assert "_RestoreThreadsBackward" in simulation and len(simulation) > 5
    assert all(c == {1} for c in simulation.values()), simulation
    assert torch.get_num_threads() == 2 and x.grad is not None


def test_a_large_state_keeps_torchs_threads(two_threads):
    from qdr_course.quantum import layer as layer_module
    from qdr_course.quantum.circuits import retinopathy_circuit

    layer = QuantumLayer(retinopathy_circuit(3, 2))
    seen = []
    run = layer.simulator.run
    layer.simulator.run = lambda *a: (seen.append(torch.get_num_threads()), run(*a))[1]
    batch = layer_module.SINGLE_THREAD_AMPLITUDES // 8 + 1
    layer(torch.zeros(batch, 3, dtype=torch.float64))
    assert seen == [2]


@pytest.mark.parametrize("n", [3, 6, 7])
def test_fused_weight_gates_match_the_per_gate_path(n, monkeypatch):
    from qiskit import QuantumCircuit
    from qiskit.circuit import ParameterVector

    from qdr_course.quantum import statevector
    from qdr_course.quantum.circuits import ParameterizedCircuit, z_observables

    x, w = ParameterVector("x", n), ParameterVector("w", 3 * n)
    qc = QuantumCircuit(n)
    for q in range(n):
        qc.ry(x[q], q)
        qc.rz(w[q], q)
        qc.rx(2 * w[n + q] + x[q], q)  # an angle of input and weight: per row
        qc.cx(q, (q + 1) % n)
        qc.p(w[2 * n + q], q)
    pc = ParameterizedCircuit(qc, list(x), list(w), z_observables(n))
    full = QuantumLayer(pc)
    monkeypatch.setattr(statevector, "FULL_MATRIX_QUBITS", 0)
    gate = QuantumLayer(pc, init_weights=full.weights.detach())
    assert (full.simulator._program is None) == (n > 6) and gate.simulator._program is None
    inputs = torch.randn(5, n, dtype=torch.float64, requires_grad=True)
    got, want = full(inputs), gate(inputs)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
    g1 = torch.autograd.grad(got.sum(), (inputs, full.weights))
    g2 = torch.autograd.grad(want.sum(), (inputs, gate.weights))
    torch.testing.assert_close(g1, g2, rtol=0, atol=1e-12)


def _qiskit_expectations(pc, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """<O_k> by Qiskit's Statevector, one row at a time: the reference."""
    from qiskit.quantum_info import Statevector

    rows = []
    for row in x:
        state = Statevector(pc.bind(row, w))
        rows.append([state.expectation_value(o).real for o in pc.observables])
    return np.array(rows)


def _seven_qubit_circuits():
    from qiskit import QuantumCircuit
    from qiskit.circuit import ParameterVector

    from qdr_course.quantum.circuits import ParameterizedCircuit, z_observables

    n = 7
    x, w = ParameterVector("x", n), ParameterVector("w", 2 * n)
    real = QuantumCircuit(n)  # RY, H, CZ ring and a CX: the state stays real
    for q in range(n):
        real.h(q)
        real.ry(x[q], q)
    for layer in range(2):
        for q in range(n):
            real.ry(w[layer * n + q], q)
        for q in range(n):
            real.cz(q, (q + 1) % n)
        real.cx(0, n - 1)
    complex_ = QuantumCircuit(n)  # RZ, a controlled phase with a weight, RX of input + weight
    for q in range(n):
        complex_.ry(x[q], q)
        complex_.rz(w[q], q)
        complex_.rx(x[q] + w[n + q], q)
    for q in range(n):
        complex_.cz(q, (q + 1) % n)
        complex_.cp(w[q], q, (q + 2) % n)
    return {name: ParameterizedCircuit(qc, list(x), list(w), z_observables(n))
            for name, qc in (("real", real), ("complex", complex_))}


@pytest.mark.parametrize("name", ["real", "complex"])
def test_the_per_gate_path_agrees_with_qiskit_and_finite_differences(name):
    """7 qubits take the per-gate path: outputs against Qiskit's Statevector, gradients
    against central differences; runs of CZ gates fused into one diagonal."""
    pc = _seven_qubit_circuits()[name]
    layer = QuantumLayer(pc)
    sim = layer.simulator
    assert sim._program is None and sim._gates_real == (name == "real")
    diagonals = [entry for entry in sim._gates if entry[0] == "diag"]
    assert len(diagonals) == 2 if name == "real" else len(diagonals) >= 1
    rng = np.random.default_rng(7)
    x = rng.uniform(-np.pi, np.pi, (4, 7))
    with torch.no_grad():
        layer.weights.copy_(torch.as_tensor(rng.uniform(-np.pi, np.pi, pc.num_weights)))
    w = layer.weights.detach().numpy().copy()
    inputs = torch.as_tensor(x, dtype=torch.float64).requires_grad_(True)
    out = layer(inputs)
    np.testing.assert_allclose(out.detach().numpy(), _qiskit_expectations(pc, x, w),
                               atol=1e-12, rtol=0)
    probe = torch.as_tensor(rng.normal(size=out.shape))
    gx, gw = torch.autograd.grad((out * probe).sum(), (inputs, layer.weights))
    h = 1e-6

    def loss(xv, wv):
        return float((_qiskit_expectations(pc, xv, wv) * probe.numpy()).sum())

    for j in (0, 3, 13):  # a first-layer, a middle and a last weight
        e = np.eye(pc.num_weights)[j] * h
        fd = (loss(x, w + e) - loss(x, w - e)) / (2 * h)
        assert abs(gw[j].item() - fd) < 1e-7
    e = np.zeros_like(x)
    e[2, 5] = h
    fd = (loss(x + e, w) - loss(x - e, w)) / (2 * h)
    assert abs(gx[2, 5].item() - fd) < 1e-7
