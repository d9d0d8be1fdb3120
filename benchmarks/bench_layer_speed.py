#!/usr/bin/env python3
"""The statevector layer against the speed limit, PennyLane, and itself with one thread.

    python benchmarks/bench_layer_speed.py           # ~3 minutes; writes results/layer_speed.json
    python benchmarks/bench_layer_speed.py --quick   # ~1.5 minutes: 5 rounds, shorter samples

Forward + backward (inputs and weights), float64, paired in one process (the ways take turns,
so load hits them alike); medians of the rounds with min-max. The first two tables run every
way on one torch thread (like for like); the third varies the threads. Tables:

- ``limit``: ``QuantumLayer`` (3 qubits, 12 weights: the lesson-03 circuit) against a hand-fused
  torch statevector of the same circuit (product-state encoding, each layer one fused 8 x 8
  matrix) at B = 1, 32, 256; target: within 1.1x.
- ``pennylane``: a 3-layer RY + CZ-ring circuit at 4-12 qubits, batch 32, against PennyLane's
  ``default.qubit`` with ``diff_method="backprop"`` (skipped with a line when PennyLane is not
  installed: ``pip install pennylane``); target: ratio <= 1.
- ``threads``: default threads (as the package chooses them) against one thread, in four
  conditions, each its own process: quiet; beside a busy process (one CPU spinning); under a
  one-CPU limit (``taskset -c 0``); and in a cgroup with a one-CPU quota (made here; needs
  root). Target: within 1.1x everywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

import torch
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.benchlib import load_average, machine_facts, paired, write_results  # noqa: E402
from qdr_course.quantum.circuits import (  # noqa: E402
    ParameterizedCircuit,
    layered_ansatz,
    z_observables,
)
from qdr_course.quantum.layer import QuantumLayer  # noqa: E402
from qdr_course.threads import current_choice  # noqa: E402

BATCHES = (1, 32, 256)
QUBITS = (4, 6, 8, 10, 12)
RING_LAYERS, RING_BATCH = 3, 32
CGROUP_ROOT = Path("/sys/fs/cgroup")
THREAD_REPEATS, THREAD_SECONDS = 15, {False: 0.25, True: 0.05}  # the thread table
QUOTA_PERIOD_S = 0.1  # the cgroup CPU period set below (100,000 us), the kernel default


def lesson_circuit() -> ParameterizedCircuit:
    """3 qubits: RY(x_i), then 2 x [RZ(w), RY(w) on each qubit, CZ chain]; outputs <Z_i>."""
    return layered_ansatz(n_qubits=3, n_layers=2, rotations=("rz", "ry"), entangler="cz")


def ring_circuit(n: int, layers: int = RING_LAYERS) -> ParameterizedCircuit:
    """RY(x_i), then ``layers`` x [RY(w) on each qubit, CZ ring]; outputs <Z_i>."""
    x, w = ParameterVector("x", n), ParameterVector("w", layers * n)
    qc = QuantumCircuit(n)
    for q in range(n):
        qc.ry(x[q], q)
    for layer in range(layers):
        for q in range(n):
            qc.ry(w[layer * n + q], q)
        for q in range(n):
            qc.cz(q, (q + 1) % n)
    return ParameterizedCircuit(qc, list(x), list(w), z_observables(n), name="ring")


class FusedLimit(torch.nn.Module):
    """The lesson circuit written by hand in torch: the speed limit for a general simulator."""

    def __init__(self, weights: torch.Tensor, n: int = 3, layers: int = 2):
        super().__init__()
        self.n, self.layers = n, layers
        self.weights = torch.nn.Parameter(weights.clone())
        index = torch.arange(2**n)
        bits = (index[:, None] >> torch.arange(n)) & 1  # (d, n): bit q of each basis state
        self.register_buffer("z", (1 - 2 * bits).to(torch.float64))  # <Z_q> per basis state
        chain = torch.ones(2**n, dtype=torch.float64)
        for q in range(n - 1):
            chain = chain * (1 - 2 * (bits[:, q] & bits[:, q + 1]))
        self.register_buffer("cz", chain.to(torch.complex128))

    @staticmethod
    def rz_ry(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """RY(b) RZ(a) as a 2 x 2 complex matrix, differentiable in a and b."""
        ea, c, s = torch.exp(-0.5j * a), torch.cos(b / 2), torch.sin(b / 2)
        return torch.stack([torch.stack([c * ea, -s * ea.conj()]),
                            torch.stack([s * ea, c * ea.conj()])])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, w = self.n, self.weights
        c, s = torch.cos(x / 2), torch.sin(x / 2)  # RY(x_q)|0> = (cos, sin)
        psi = torch.ones(x.shape[0], 1, dtype=x.dtype)
        for q in range(n):  # little-endian: qubit q is bit q, so it multiplies on the left
            psi = (torch.stack([c[:, q], s[:, q]], 1)[:, :, None] * psi[:, None, :]).reshape(
                x.shape[0], -1)
        psi = psi.to(torch.complex128)
        k = 0
        for _ in range(self.layers):
            u = torch.ones(1, 1, dtype=torch.complex128)
            for q in range(n):
                u = torch.kron(self.rz_ry(w[k + q], w[k + n + q]).to(torch.complex128), u)
            k += 2 * n
            psi = (psi @ u.T) * self.cz
        return (psi.real**2 + psi.imag**2) @ self.z


def forward_backward(module: torch.nn.Module, x: torch.Tensor):
    """One training step's quantum work: outputs, then gradients for inputs and weights."""
    x = x.detach().requires_grad_(True)
    module(x).sum().backward()
    for p in module.parameters():
        p.grad = None
    return x.grad


def pennylane_ring(n: int, weights: torch.Tensor):
    """The ring circuit on PennyLane's default.qubit with backprop, as a TorchLayer."""
    import pennylane as qml

    dev = qml.device("default.qubit", wires=n)

    @qml.qnode(dev, interface="torch", diff_method="backprop")
    def circuit(inputs, weights):
        for q in range(n):
            qml.RY(inputs[..., q], wires=q)
        for layer in range(RING_LAYERS):
            for q in range(n):
                qml.RY(weights[layer * n + q], wires=q)
            for q in range(n):
                qml.CZ(wires=[q, (q + 1) % n])
        return [qml.expval(qml.PauliZ(q)) for q in range(n)]

    layer = qml.qnn.TorchLayer(circuit, {"weights": RING_LAYERS * n}).double()
    with torch.no_grad():
        layer.qnode_weights["weights"].copy_(weights)
    return layer


def inputs(batch: int, n: int) -> torch.Tensor:
    return torch.randn(batch, n, dtype=torch.float64, generator=torch.Generator().manual_seed(n))


def limit_table(repeats: int, min_seconds: float, batches) -> dict:
    """QuantumLayer / hand-fused limit, 3 qubits, per batch size."""
    pc = lesson_circuit()
    w = torch.rand(pc.num_weights, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    ours, limit = QuantumLayer(pc, init_weights=w), FusedLimit(w)
    # the same function: check before timing
    x = inputs(5, 3)
    assert torch.allclose(ours(x), limit(x), atol=1e-12), "the fused limit is another function"
    rows = {}
    for b in batches:
        x = inputs(b, 3)
        rows[f"B={b}"] = paired({"QuantumLayer": lambda: forward_backward(ours, x),
                                 "fused limit": lambda: forward_backward(limit, x)},
                                repeats, min_seconds, reference="fused limit")
        r = rows[f"B={b}"]["QuantumLayer"]["ratio_to_fused limit"]
        print(f"  limit B={b:<4} QuantumLayer / fused = {r['median']:.2f}x "
              f"({r['min']:.2f}-{r['max']:.2f})", flush=True)
    return rows


def pennylane_table(repeats: int, min_seconds: float, qubits) -> dict | str:
    """QuantumLayer / PennyLane backprop on the ring circuit, batch 32, per qubit count."""
    try:
        import pennylane as qml
    except ImportError as error:
        line = f"skipped: PennyLane is not installed ({error}); pip install pennylane"
        print(line)
        return line
    rows = {"pennylane": qml.__version__}
    for n in qubits:
        pc = ring_circuit(n)
        w = torch.rand(pc.num_weights, dtype=torch.float64,
                       generator=torch.Generator().manual_seed(n))
        ours, theirs = QuantumLayer(pc, init_weights=w), pennylane_ring(n, w)
        x = inputs(RING_BATCH, n)
        got, want = ours(x), theirs(x)
        assert torch.allclose(got, want, atol=1e-10), f"PennyLane disagrees at {n} qubits"
        rows[f"n={n}"] = paired({"QuantumLayer": lambda: forward_backward(ours, x),
                                 "PennyLane backprop": lambda: forward_backward(theirs, x)},
                                repeats, min_seconds, reference="PennyLane backprop")
        r = rows[f"n={n}"]["QuantumLayer"]["ratio_to_PennyLane backprop"]
        print(f"  ring n={n:<3} QuantumLayer / PennyLane = {r['median']:.2f}x "
              f"({r['min']:.2f}-{r['max']:.2f})", flush=True)
    return rows


def threads_rows(repeats: int, min_seconds: float, batches, qubits) -> dict:
    """Default threads / one thread for each size, in this process (turns switch the count)."""
    default = torch.get_num_threads()  # as the package chose it (qdr_course.threads)
    choice = current_choice()
    cases = {f"3 qubits B={b}": (QuantumLayer(lesson_circuit()), inputs(b, 3)) for b in batches}
    cases.update({f"{n} qubits B={RING_BATCH}": (QuantumLayer(ring_circuit(n)),
                                                  inputs(RING_BATCH, n)) for n in qubits})
    rows = {"default_threads": default, "choice": choice.describe() if choice else None}

    # Under a CPU quota a way that runs more threads than the quota leaves the process
    # throttled for the rest of the quota period, which the next way would pay: wait it out.
    settle = QUOTA_PERIOD_S if choice is not None and choice.quota is not None else 0.0

    def use(count: int):
        return lambda: (torch.set_num_threads(count), time.sleep(settle))

    threads = {"default": use(default), "one": use(1)}
    if choice is not None and choice.before != default:  # what torch alone would have used
        rows["torch_threads"] = choice.before
        threads["torch's own default"] = use(choice.before)
    for name, (module, x) in cases.items():
        rows[name] = paired({way: lambda: forward_backward(module, x) for way in threads},
                            repeats, min_seconds, reference="one", setup=threads)
    torch.set_num_threads(default)
    return rows


@contextmanager
def one_cpu_quota():
    """A cgroup whose CPU quota is one CPU (as Binder and Kubernetes set it), or why not.

    Yields the command prefix that starts a process inside it; cgroup v1's ``cpu`` controller
    (``cpu.cfs_quota_us`` = ``cpu.cfs_period_us``) or v2's ``cpu.max``. Needs root.
    """
    v1, v2 = CGROUP_ROOT / "cpu", CGROUP_ROOT
    if (v2 / "cgroup.controllers").is_file() and "cpu" in (v2 / "cgroup.controllers").read_text():
        folder, limit = v2 / "qdr-bench", [("cpu.max", "100000 100000")]
    elif (v1 / "cpu.cfs_quota_us").is_file():
        folder = v1 / "qdr-bench"
        limit = [("cpu.cfs_period_us", "100000"), ("cpu.cfs_quota_us", "100000")]
    else:
        yield None, "no cgroup CPU controller at /sys/fs/cgroup"
        return
    try:
        folder.mkdir(exist_ok=True)
        for name, value in limit:
            (folder / name).write_text(value)
    except OSError as error:
        yield None, f"cannot set a CPU quota ({error}; needs root)"
        return
    try:
        enter = f'echo $$ > {folder / "cgroup.procs"} && exec "$@"'
        yield ["sh", "-c", enter, "sh"], None
    finally:
        try:
            folder.rmdir()
        except OSError:
            pass


def busy_process() -> subprocess.Popen:
    """A process that keeps one CPU busy until stopped."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def threads_table(args) -> dict:
    """``threads_rows`` in fresh processes: quiet, beside a busy process, one CPU, a quota."""
    table = {}
    # two settings of the same layer differ by a few per cent: longer samples and more rounds
    # than the other tables (a 12-qubit pass takes 80 ms, one 0.05 s sample would be one pass)
    repeats, seconds = max(args.repeats, THREAD_REPEATS), max(args.min_seconds,
                                                              THREAD_SECONDS[args.quick])
    command = [sys.executable, __file__, "--threads-only", "--repeats", str(repeats),
               "--min-seconds", str(seconds)] + (["--quick"] if args.quick else [])
    conditions = {"quiet": ([], False), "busy process": ([], True),
                  "one CPU (taskset -c 0)": (["taskset", "-c", "0"], False),
                  "one-CPU quota (cgroup)": ("quota", False)}
    for condition, (prefix, busy) in conditions.items():
        with one_cpu_quota() if prefix == "quota" else nullcontext((prefix, None)) as (
                prefix, why_not):
            if why_not or (prefix and not shutil.which(prefix[0])):
                table[condition] = f"skipped: {why_not or prefix[0] + ' is not installed'}"
                print(f"  threads, {condition}: {table[condition]}", flush=True)
                continue
            spinner = busy_process() if busy else None
            try:
                done = subprocess.run(prefix + command, capture_output=True, text=True,
                                      env={**os.environ, "PYTHONHASHSEED": "0"})
            finally:
                if spinner is not None:
                    spinner.kill()
                    spinner.wait()
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode != 0 or not lines:
            raise RuntimeError(f"the {condition} run failed: {done.stderr.strip()[-500:]}")
        table[condition] = json.loads(lines[-1])
        worst = max(v["default"]["ratio_to_one"]["median"] for k, v in table[condition].items()
                    if isinstance(v, dict))
        print(f"  threads, {condition}: default / one thread at most {worst:.2f}x (median), "
              f"torch threads {table[condition]['default_threads']}", flush=True)
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 rounds of shorter samples")
    parser.add_argument("--repeats", type=int, default=None, help="rounds per cell (>= 5)")
    parser.add_argument("--min-seconds", type=float, default=None, help="seconds per sample")
    parser.add_argument("--threads-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.repeats = args.repeats or 5 if args.quick else args.repeats or 7
    args.min_seconds = args.min_seconds or (0.02 if args.quick else 0.05)
    if args.repeats < 5:
        parser.error("--repeats must be at least 5 (medians of at least 5 runs)")
    batches = BATCHES
    qubits = QUBITS
    if args.threads_only:
        rows = threads_rows(args.repeats, args.min_seconds, batches, qubits)
        print(json.dumps(rows))
        return 0
    before = load_average()
    start = time.perf_counter()
    print(f"load average {before}; torch threads {torch.get_num_threads()}", flush=True)
    default_threads = torch.get_num_threads()
    torch.set_num_threads(1)  # like for like: the limit and PennyLane on one thread, as ours
    tables = {"limit": limit_table(args.repeats, args.min_seconds, batches),
              "pennylane": pennylane_table(args.repeats, args.min_seconds, qubits)}
    torch.set_num_threads(default_threads)
    tables["threads"] = threads_table(args)
    settings = {"repeats": args.repeats, "min_seconds_per_sample": args.min_seconds,
                "threads_repeats": max(args.repeats, THREAD_REPEATS),
                "threads_min_seconds_per_sample": max(args.min_seconds,
                                                      THREAD_SECONDS[args.quick]),
                "quick": args.quick, "dtype": "float64",
                "seconds_total": round(time.perf_counter() - start, 1),
                "torch_threads_limit_and_pennylane": 1,
                "torch_threads_default": default_threads, "cpus": machine_facts()["cores"]}
    write_results("layer_speed", settings, tables, before)
    return 0


if __name__ == "__main__":
    sys.exit(main())
