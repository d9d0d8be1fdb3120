"""Forward + backward time of a 3-qubit, 12-weight quantum layer, every way we know, in one run.

Ways compared (the last four are optional and skipped, with a message, when not installed):

- ``QuantumLayer`` on the pure-torch statevector (float64 exact and float32 fast);
- ``QuantumLayer`` on Aer's ``EstimatorV2`` (one call per forward, one per backward);
- qiskit-machine-learning ``EstimatorQNN`` + ``TorchConnector``, as in its tutorials;
- PennyLane ``TorchLayer`` with ``diff_method="parameter-shift"`` and ``"backprop"``.

The comparison libraries must not go into the course's locked environment; make a separate one::

    python3 -m venv /work/venv-bench
    /work/venv-bench/bin/pip install torch==2.13.0          # first: the local CPU wheel
    /work/venv-bench/bin/pip install "qiskit==2.*" qiskit-aer qiskit-machine-learning pennylane
    /work/venv-bench/bin/python benchmarks/bench_quantum_layer.py

Every way computes the same function: outputs and input/weight gradients are compared with
Qiskit's exact ``StatevectorEstimator`` (gradients by the exact shift rule) and the largest
difference is printed. Speed-ups are ratios against
TorchConnector measured in the same run (or against the Aer estimator path if qiskit-machine-
learning is missing). See lesson 03.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qdr_course.quantum.backends import aer_estimator  # noqa: E402
from qdr_course.quantum.circuits import layered_ansatz  # noqa: E402
from qdr_course.quantum.layer import QuantumLayer  # noqa: E402

BATCHES = (1, 32, 256)


def make_circuit():
    """3 qubits: RY(x_i) encoding, 2 layers of [RZ(w), RY(w) on each qubit, CZ chain] = 12 weights.
    """
    return layered_ansatz(n_qubits=3, n_layers=2, rotations=("rz", "ry"), entangler="cz")


def ours(kind: str, pc, weights: np.ndarray):
    if kind == "statevector float64":
        return QuantumLayer(pc, init_weights=weights)
    if kind == "statevector float32":
        return QuantumLayer(pc, dtype=torch.float32, init_weights=weights)
    return QuantumLayer(pc, backend=aer_estimator(), init_weights=weights)


def torch_connector(pc, weights: np.ndarray):
    try:
        from qiskit_machine_learning.connectors import TorchConnector
        from qiskit_machine_learning.neural_networks import EstimatorQNN
    except ImportError as error:
        raise ModuleNotFoundError(f"qiskit-machine-learning is not installed ({error})") from error
    qnn = EstimatorQNN(circuit=pc.circuit, observables=pc.observables, input_params=pc.input_params,
                       weight_params=pc.weight_params, input_gradients=True)
    return TorchConnector(qnn, initial_weights=weights)


def pennylane_layer(pc, weights: np.ndarray, diff_method: str):
    try:
        import pennylane as qml
    except ImportError as error:
        raise ModuleNotFoundError(f"pennylane is not installed ({error})") from error
    n, layers = pc.num_qubits, 2
    dev = qml.device("default.qubit", wires=n)

    @qml.qnode(dev, interface="torch", diff_method=diff_method)
    def circuit(inputs, weights):
        for q in range(n):
            qml.RY(inputs[..., q], wires=q)
        k = 0
        for _ in range(layers):
            for gate in (qml.RZ, qml.RY):
                for q in range(n):
                    gate(weights[k], wires=q)
                    k += 1
            for q in range(n - 1):
                qml.CZ(wires=[q, q + 1])
        return [qml.expval(qml.PauliZ(q)) for q in range(n)]

    if diff_method == "parameter-shift":  # it cannot shift broadcast inputs: one tape per example
        circuit = qml.transforms.broadcast_expand(circuit)
    layer = qml.qnn.TorchLayer(circuit, {"weights": pc.num_weights})
    layer = layer.double()  # TorchLayer's weights default to float32
    with torch.no_grad():
        layer.qnode_weights["weights"].copy_(torch.as_tensor(weights))
    return layer


def forward_backward(module, x: torch.Tensor):
    """Outputs, d(sum of outputs)/dx and d/dweights."""
    x = x.detach().clone().requires_grad_(True)
    y = module(x)
    y.sum().backward()
    params = [p for p in module.parameters()]
    grad_w = torch.cat([p.grad.reshape(-1) for p in params]).detach().double()
    for p in params:
        p.grad = None
    return y.detach().double(), x.grad.detach().double(), grad_w


def time_it(module, x: torch.Tensor, budget: float):
    """Median seconds of forward + backward over repeats filling about ``budget`` seconds, and
    the warm-up pass's (outputs, input gradients, weight gradients)."""
    first = forward_backward(module, x)  # warm-up (compilation, caches)
    times = []
    start = time.perf_counter()
    while not times or (time.perf_counter() - start < budget and len(times) < 200):
        t0 = time.perf_counter()
        forward_backward(module, x)
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), first


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=2.0, help="seconds of repeats per cell")
    parser.add_argument("--batches", type=int, nargs="+", default=list(BATCHES))
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args(argv)
    if args.budget <= 0 or any(b < 1 for b in args.batches):
        parser.error("--budget must be positive and batches >= 1")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    pc = make_circuit()
    weights = np.random.default_rng(0).uniform(0, 2 * np.pi, pc.num_weights)
    ways = {
        "qiskit-ml EstimatorQNN + TorchConnector": lambda: torch_connector(pc, weights),
        "PennyLane TorchLayer, "
        "parameter-shift": lambda: pennylane_layer(pc, weights, "parameter-shift"),
        "QuantumLayer, Aer EstimatorV2 (1 call/pass)": lambda: ours("aer", pc, weights),
        "PennyLane TorchLayer, backprop": lambda: pennylane_layer(pc, weights, "backprop"),
        "QuantumLayer, torch statevector "
        "float64": lambda: ours("statevector float64", pc, weights),
        "QuantumLayer, torch statevector float32": lambda: ours("statevector float32", pc, weights),
    }
    # the reference: Qiskit's own exact StatevectorEstimator, gradients by the exact shift rule
    from qiskit.primitives import StatevectorEstimator
    reference = QuantumLayer(pc, backend=StatevectorEstimator(), init_weights=weights)
    inputs = {b: torch.randn(b, pc.num_inputs, generator=torch.Generator().manual_seed(b),
                             dtype=torch.float64) for b in args.batches}
    wanted = {b: forward_backward(reference, x) for b, x in inputs.items()}  # once per batch
    rows = []
    for name, build in ways.items():
        try:
            module = build()
        except ModuleNotFoundError as error:
            print(f"skipped {name}: {error}; see this script's docstring for the bench environment")
            continue
        seconds, errors = [], []
        for batch in args.batches:
            x = inputs[batch]
            dtype = torch.float32 if "float32" in name else torch.float64
            median, got = time_it(module, x.to(dtype), args.budget)
            want = wanted[batch]
            errors.append(max((a - b).abs().max().item() for a, b in zip(got, want)))
            seconds.append(median)
            print(f"  {name:<45} B={batch:<4} {seconds[-1]:.5f} s", flush=True)
        rows.append((name, seconds, max(errors)))
    names = [r[0] for r in rows]
    base_name = next((n for n in names if "TorchConnector" in n),
                     next(n for n in names if "Aer" in n))
    base = dict((r[0], r[1]) for r in rows)[base_name]
    header = "| way | " + " | ".join(f"B={b} s" for b in args.batches) + " | " + \
        " | ".join(f"speed-up B={b}" for b in args.batches) + " | max error vs exact |"
    print()
    print(f"3-qubit, 12-weight layer, forward + backward (inputs and weights), torch threads = "
          f"{args.threads}; median seconds; speed-up = time of '{base_name}' / time, same run; "
          "error = largest |difference| of outputs and gradients from Qiskit's exact estimator")
    print(header)
    print("|" + "---|" * (2 + 2 * len(args.batches)))
    for name, seconds, error in rows:
        print(f"| {name} | " + " | ".join(f"{s:.5f}" for s in seconds) + " | " +
              " | ".join(f"{b / s:.1f}x" for b, s in zip(base, seconds)) + f" | {error:.1e} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
