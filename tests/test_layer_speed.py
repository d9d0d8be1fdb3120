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
