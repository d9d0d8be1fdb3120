"""Readout errors of a (fake) IBM device, and undoing them for the grader's Z expectations.

See lesson 05.

A qubit read out in state 1 is more often reported as 0 than the other way round (the excited
state decays during the measurement), so readout errors are asymmetric: with
``e0 = P(read 1 | prepared 0)`` and ``e1 = P(read 0 | prepared 1)`` the measured expectation is

    <Z>_measured = (1 - e0 - e1) <Z> + (e1 - e0),

shrunk by ``1 - e0 - e1`` and shifted towards +1 by ``e1 - e0``. Measuring ``e0`` and ``e1``
on calibration circuits and inverting that line is the simplest measurement-error mitigation
(exact for single-qubit Z when readout errors are independent between qubits).
"""

from __future__ import annotations

import numpy as np

from qdr_course.quantum.backends import device_simulator  # noqa: F401 - lesson 05 imports it here

__all__ = ["device_simulator", "grader_physical_qubits", "mitigate_readout",
           "readout_calibration"]


def grader_physical_qubits(device_model) -> list[int]:
    """The device qubits that carry the circuit's qubits 0, 1, ... of a model from ``on_device``.
    """
    runner = getattr(getattr(device_model, "bottleneck", None), "runner", None)
    layout = getattr(getattr(runner, "circuit", None), "layout", None)
    if layout is None:
        raise ValueError("this model's circuit was not transpiled for a device; make it with "
                         "model.on_device(...) first")
    n = device_model.n_qubits
    return [int(q) for q in layout.final_index_layout()[:n]]


def readout_calibration(backend, qubits, shots: int = 20000, seed: int = 0) -> np.ndarray:
    """Measured ``(P(1 | 0), P(0 | 1))`` per qubit, shape (n, 2), on ``backend``'s noisy simulator.

    See lesson 05.

    Two circuits: all ``qubits`` left in 0, and all flipped to 1 by an X gate, each measured
    ``shots`` times on Aer with the device's noise model. (The X gate's own error, about 1e-4
    on current devices, is counted as readout error.)
    """
    from qiskit import QuantumCircuit, transpile
    from qiskit_aer import AerSimulator

    qubits = [int(q) for q in qubits]
    if not qubits or len(set(qubits)) != len(qubits):
        raise ValueError(f"qubits must be distinct device qubits, got {qubits}")
    simulator = (backend if isinstance(backend, AerSimulator)
                 else AerSimulator.from_backend(backend, seed_simulator=seed))
    rates = np.zeros((len(qubits), 2))
    for prepared in (0, 1):
        qc = QuantumCircuit(len(qubits))
        if prepared:
            qc.x(range(len(qubits)))
        qc.measure_all()
        compiled = transpile(qc, backend, initial_layout=qubits, optimization_level=0,
                             seed_transpiler=seed)
        counts = simulator.run(compiled, shots=shots, seed_simulator=seed).result().get_counts()
        for bits, count in counts.items():
            for i, bit in enumerate(reversed(bits.replace(" ", ""))):
                if int(bit) != prepared:
                    rates[i, prepared] += count / shots
    return rates


def mitigate_readout(z, calibration) -> np.ndarray:
    """Undo readout errors of single-qubit ⟨Z⟩ values: ``(z - (e1 - e0)) / (1 - e0 - e1)``.

    ``z`` has the qubits on its last axis; ``calibration`` is :func:`readout_calibration`'s
    (n, 2) array. Results are limited to [-1, 1] (shot noise can push them past it).
    """
    z = np.asarray(z, dtype=float)
    cal = np.asarray(calibration, dtype=float)
    if cal.ndim != 2 or cal.shape[1] != 2 or z.shape[-1] != cal.shape[0]:
        raise ValueError(f"calibration must be (n, 2) for the {z.shape[-1]} qubits on z's last "
                         f"axis, got {cal.shape}")
    e0, e1 = cal[:, 0], cal[:, 1]
    if np.any(e0 + e1 >= 1):
        raise ValueError("readout error rates e0 + e1 >= 1: the readout carries no information")
    return np.clip((z - (e1 - e0)) / (1 - e0 - e1), -1, 1)
