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
    assert layer.weights.grad.shape == (6,)
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="second derivatives .* torch.set_num_threads"):
        torch.autograd.grad(layer(x).sum(), x, create_graph=True)
    torch.set_num_threads(1)  # the plain path: second derivatives work
    (gx,) = torch.autograd.grad(layer(x).sum(), x, create_graph=True)
    gx.sum().backward()
    assert x.grad is not None


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
