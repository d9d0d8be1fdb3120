"""Forward + backward time of a 3-qubit, 12-weight quantum layer, every way we know, in one run.

Ways compared (the last four are optional and skipped, with a message, when not installed):

- ``QuantumLayer`` on the pure-torch statevector (float64 exact and float32 fast);
- ``QuantumLayer`` on Aer's ``EstimatorV2`` (one call per forward, one per backward);
- qiskit-machine-learning ``EstimatorQNN`` + ``TorchConnector``, as in its tutorials;
- PennyLane ``TorchLayer`` with ``diff_method="parameter-shift"`` and ``"backprop"``.

The comparison libraries are the ``benchmark`` extra, not in the course's lock::

    pip install pennylane qiskit-machine-learning     # or: pip install -e ".[benchmark]"
    python benchmarks/bench_quantum_layer.py          # ~3 min on a quiet 2-core machine
    python benchmarks/bench_quantum_layer.py --quick  # without the two slow ways, ~1 min

Results go to ``benchmarks/results/quantum_layer.json`` (paired rounds, medians with min-max);
a ``gc`` table times the Aer path with Python's garbage collector enabled and disabled.

Every way computes the same function: outputs and input/weight gradients are compared with
Qiskit's exact ``StatevectorEstimator`` (gradients by the exact shift rule) and the largest
difference is printed. Speed-ups are ratios against
TorchConnector measured in the same run (or against the Aer estimator path if qiskit-machine-
learning is missing). See lesson 03.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.benchlib import load_average, paired, write_results  # noqa: E402
from qdr_course.quantum.backends import aer_estimator  # noqa: E402
from qdr_course.quantum.circuits import layered_ansatz  # noqa: E402
from qdr_course.quantum.layer import QuantumLayer  # noqa: E402


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


SLOW = ("TorchConnector", "parameter-shift")  # seconds per pass: left out by --quick


def ways_table(pc, weights, batches, args) -> dict:
    """Every way, paired per batch size; speed-ups against TorchConnector (or the Aer path)."""
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
    from qiskit.primitives import StatevectorEstimator  # the exact reference, shift-rule gradients
    reference = QuantumLayer(pc, backend=StatevectorEstimator(), init_weights=weights)
    modules, table = {}, {"skipped": []}
    for name, build in ways.items():
        if args.quick and any(word in name for word in SLOW):
            table["skipped"].append(f"{name}: left out by --quick")
            continue
        try:
            modules[name] = build()
        except ModuleNotFoundError as error:
            table["skipped"].append(f"{name}: {error}")
            print(f"skipped {name}: {error}; see this script's docstring")
    base = next((n for n in modules if "TorchConnector" in n), next(n for n in modules
                                                                      if "Aer" in n))
    table["reference"] = base
    for batch in batches:
        x = torch.randn(batch, pc.num_inputs, generator=torch.Generator().manual_seed(batch),
                        dtype=torch.float64)
        want = forward_backward(reference, x)
        errors = {}
        for name, module in modules.items():
            dtype = torch.float32 if "float32" in name else torch.float64
            got = forward_backward(module, x.to(dtype))
            errors[name] = max((a - b).abs().max().item() for a, b in zip(got, want))
        calls = {name: (lambda m=m, d=(torch.float32 if "float32" in name else torch.float64):
                        forward_backward(m, x.to(d))) for name, m in modules.items()}
        cell = paired(calls, args.repeats, args.min_seconds, reference=base)
        for name in modules:
            cell[name]["max_error"] = errors[name]
            ratio = cell[name][f"ratio_to_{base}"]["median"]
            print(f"  B={batch:<4} {name:<45} {cell[name]['seconds']['median']:.5f} s "
                  f"speed-up {1 / ratio:.1f}x  error {errors[name]:.1e}", flush=True)
        table[f"B={batch}"] = cell
    return table


def gc_table(pc, weights, args) -> dict:
    """The Aer path at batch 32 with Python's garbage collector enabled and disabled, paired,
    beside a lesson-sized heap (0.5 million tracked objects, as in a lesson's kernel)."""
    heap = [(i, [i]) for i in range(250_000)]  # noqa: F841 - kept alive on purpose
    layer = ours("aer", pc, weights)
    x = torch.randn(32, pc.num_inputs, generator=torch.Generator().manual_seed(32),
                    dtype=torch.float64)
    setup = {"gc enabled": gc.enable, "gc disabled": gc.disable}
    try:
        cell = paired({name: lambda: forward_backward(layer, x) for name in setup},
                      args.repeats, args.min_seconds, reference="gc disabled", setup=setup)
    finally:
        gc.enable()
    r = cell["gc enabled"]["ratio_to_gc disabled"]
    print(f"  gc: Aer path B=32, enabled / disabled = {r['median']:.3f} "
          f"({r['min']:.3f}-{r['max']:.3f})", flush=True)
    cell["tracked_objects"] = len(gc.get_objects())
    return cell


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="leave out TorchConnector and PennyLane parameter-shift (~1 min)")
    parser.add_argument("--batches", type=int, nargs="+", default=[32])
    parser.add_argument("--repeats", type=int, default=5, help="paired rounds (>= 5)")
    parser.add_argument("--min-seconds", type=float, default=0.05,
                        help="seconds per sample (a slow way makes one call)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--out", type=Path, default=None, help="results file (default: "
                        "benchmarks/results/quantum_layer.json)")
    args = parser.parse_args(argv)
    if args.repeats < 5 or args.min_seconds <= 0 or any(b < 1 for b in args.batches):
        parser.error("--repeats must be >= 5, --min-seconds positive and batches >= 1")
    before = load_average()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    pc = make_circuit()
    weights = np.random.default_rng(0).uniform(0, 2 * np.pi, pc.num_weights)
    start = time.perf_counter()
    tables = {"ways": ways_table(pc, weights, args.batches, args), "gc": gc_table(pc, weights,
                                                                                  args)}
    settings = {"batches": args.batches, "repeats": args.repeats,
                "min_seconds_per_sample": args.min_seconds, "quick": args.quick,
                "torch_threads": args.threads,
                "seconds_total": round(time.perf_counter() - start, 1)}
    write_results("quantum_layer", settings, tables, before, path=args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
