"""Parameterised quantum circuits for hybrid networks. See lesson 01.

Every builder returns a :class:`ParameterizedCircuit`: a Qiskit ``QuantumCircuit`` whose
parameters are split into *inputs* (angles that come from data, e.g. a CNN's features) and
*weights* (angles the optimiser trains), together with the observables whose expectation
values are the circuit's outputs.

>>> from qdr_course.quantum.circuits import retinopathy_circuit
>>> qc = retinopathy_circuit(n_qubits=3, n_layers=2)
>>> qc.num_inputs, qc.num_weights, qc.num_outputs
(3, 6, 3)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from qiskit.circuit import Parameter, ParameterVector, QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from qdr_course.validate import int_at_least

__all__ = [
    "ParameterizedCircuit",
    "retinopathy_circuit",
    "xia_kais_circuit",
    "layered_ansatz",
    "textbook_circuit",
    "seed_retinopathy_circuit",
    "z_observables",
    "probability_observables",
]

_ROTATIONS = ("rx", "ry", "rz")
_ENTANGLERS = ("cz", "cx", None)


def z_observables(n_qubits: int) -> list[SparsePauliOp]:
    """The single-qubit observables Z_0, ..., Z_{n-1} (Qiskit's little-endian labels).

    See lesson 02.
    """
    int_at_least("n_qubits", n_qubits)
    return [SparsePauliOp.from_sparse_list([("Z", [q], 1.0)], num_qubits=n_qubits)
            for q in range(n_qubits)]


def probability_observables(n_qubits: int) -> list[SparsePauliOp]:
    """Projectors |b><b| for every bit string b, as Pauli sums: <P_b> = p(b).

    Bit string ``b`` is indexed like Qiskit's counts: index ``k`` has qubit ``q``'s bit at
    ``(k >> q) & 1``. ``|0><0| = (I + Z) / 2`` and ``|1><1| = (I - Z) / 2`` on each qubit.
    """
    int_at_least("n_qubits", n_qubits)
    zero = SparsePauliOp(["I", "Z"], [0.5, 0.5])
    one = SparsePauliOp(["I", "Z"], [0.5, -0.5])
    projectors = []
    for k in range(2**n_qubits):
        op = None
        for q in range(n_qubits):  # qubit 0 is the rightmost label character
            factor = one if (k >> q) & 1 else zero
            op = factor if op is None else factor.tensor(op)
        projectors.append(op.simplify())
    return projectors


def _observable_name(obs: SparsePauliOp, index: int) -> str:
    """'<Z0>' for Z on qubit 0, '<XIZ>' for a longer Pauli string, '<O3>' for a sum."""
    if len(obs) != 1:
        return f"<O{index}>"
    label = obs.paulis[0].to_label()
    active = [(len(label) - 1 - i, ch) for i, ch in enumerate(label) if ch != "I"]
    if len(active) == 1:
        return f"<{active[0][1]}{active[0][0]}>"
    return f"<{label}>"


@dataclass
class ParameterizedCircuit:
    """A circuit whose parameters are split into data inputs and trainable weights. See lesson 02.

    ``circuit`` has no measurements; its outputs are the expectation values of
    ``observables``. ``input_params`` and ``weight_params`` fix the order in which values are
    bound (a parameter may appear in several gates, or inside an expression such as 2*t + 1).
    """

    circuit: QuantumCircuit
    input_params: list[Parameter]
    weight_params: list[Parameter]
    observables: list[SparsePauliOp]
    name: str = ""
    output_names: list[str] = field(default_factory=list)

    def __post_init__(self):
        if not isinstance(self.circuit, QuantumCircuit):
            raise TypeError("circuit must be a qiskit QuantumCircuit, got "
                            f"{type(self.circuit).__name__}")
        self.input_params = list(self.input_params)
        self.weight_params = list(self.weight_params)
        self.observables = [SparsePauliOp(o) if not isinstance(o, SparsePauliOp) else o
                            for o in self.observables]
        ours = self.input_params + self.weight_params
        if len(set(ours)) != len(ours):
            raise ValueError("a parameter is listed twice in input_params + weight_params")
        unknown = set(self.circuit.parameters) - set(ours)
        if unknown:
            names = ", ".join(sorted(p.name for p in unknown))
            raise ValueError(f"circuit parameters {names} are neither inputs nor weights; "
                             "list every free parameter in input_params or weight_params")
        if not self.observables:
            raise ValueError("at least one observable is needed: the circuit's outputs are "
                             "their expectation values")
        for i, obs in enumerate(self.observables):
            if obs.num_qubits != self.circuit.num_qubits:
                raise ValueError(
                    f"observable {i} acts on {obs.num_qubits} qubits but the circuit has "
                    f"{self.circuit.num_qubits}; build it with "
                    f"num_qubits={self.circuit.num_qubits}")
        if any(op.operation.name in ("measure", "reset") for op in self.circuit.data):
            raise ValueError("the circuit must not measure or reset: outputs are expectation "
                             "values; use circuit.remove_final_measurements() first")
        if not self.output_names:
            self.output_names = [_observable_name(o, i) for i, o in enumerate(self.observables)]

    @property
    def num_qubits(self) -> int:
        """Number of qubits."""
        return self.circuit.num_qubits

    @property
    def num_inputs(self) -> int:
        """Number of data inputs (the layer's ``in_features``)."""
        return len(self.input_params)

    @property
    def num_weights(self) -> int:
        """Number of trainable weights."""
        return len(self.weight_params)

    @property
    def num_outputs(self) -> int:
        """Number of outputs (observables)."""
        return len(self.observables)

    @property
    def parameters(self) -> list[Parameter]:
        """Inputs then weights: the order of :meth:`bind`'s values."""
        return self.input_params + self.weight_params

    def bind(self, inputs: Sequence[float], weights: Sequence[float] = ()) -> QuantumCircuit:
        """The circuit with numbers in place of its parameters. See lesson 01."""
        inputs, weights = list(inputs), list(weights)
        if len(inputs) != self.num_inputs or len(weights) != self.num_weights:
            raise ValueError(f"expected {self.num_inputs} inputs and {self.num_weights} weights, "
                             f"got {len(inputs)} and {len(weights)}")
        values = dict(zip(self.parameters, [float(v) for v in inputs + weights]))
        return self.circuit.assign_parameters(
            {p: v for p, v in values.items() if p in self.circuit.parameters})

    def draw(self, output: str = "text", **kwargs):
        """Draw the circuit (``"text"`` or ``"mpl"``), inputs and weights named. See lesson 01."""
        if output not in ("text", "mpl", "latex_source"):
            raise ValueError(f"output must be 'text', 'mpl' or 'latex_source', got {output!r}")
        kwargs.setdefault("fold", -1 if output == "text" else 30)
        return self.circuit.draw(output=output, **kwargs)

    def __repr__(self) -> str:
        return (f"ParameterizedCircuit({self.name or 'circuit'!s}: {self.num_qubits} qubits, "
                f"{self.num_inputs} inputs, {self.num_weights} weights, {self.num_outputs} "
                "outputs)")


def _entangle(qc: QuantumCircuit, entangler: str | None) -> None:
    if entangler is None:
        return
    for q in range(qc.num_qubits - 1):
        getattr(qc, entangler)(q, q + 1)


def retinopathy_circuit(n_qubits: int = 3, n_layers: int = 2) -> ParameterizedCircuit:
    """The retinopathy circuit done right: H + RY(x_i), then layers of CZ chain + trainable RY.

    See lesson 01.

    Each qubit gets its own input angle ``x_i`` (the seed fed one angle to three gates) and
    every layer has ``n_qubits`` trainable weights (the seed had none); outputs are <Z_i>.
    """
    int_at_least("n_qubits", n_qubits)
    int_at_least("n_layers", n_layers)
    x = ParameterVector("x", n_qubits)
    w = ParameterVector("w", n_qubits * n_layers)
    qc = QuantumCircuit(n_qubits, name="retinopathy")
    qc.h(range(n_qubits))
    for q in range(n_qubits):
        qc.ry(x[q], q)
    for layer in range(n_layers):
        qc.barrier()
        _entangle(qc, "cz")
        for q in range(n_qubits):
            qc.ry(w[layer * n_qubits + q], q)
    return ParameterizedCircuit(qc, list(x), list(w), z_observables(n_qubits), name="retinopathy")


def xia_kais_circuit(n_qubits: int = 3, n_layers: int = 3) -> ParameterizedCircuit:
    """Xia & Kais (arXiv 1912.06184): H + RY(a) with ONE shared input, then CNOT chain + RY(w)
    layers.

    See lesson 01.
    """
    int_at_least("n_qubits", n_qubits)
    int_at_least("n_layers", n_layers)
    a = Parameter("a")
    w = ParameterVector("w", n_qubits * n_layers)
    qc = QuantumCircuit(n_qubits, name="xia_kais")
    qc.h(range(n_qubits))
    for q in range(n_qubits):
        qc.ry(a, q)
    for layer in range(n_layers):
        qc.barrier()
        _entangle(qc, "cx")
        for q in range(n_qubits):
            qc.ry(w[layer * n_qubits + q], q)
    return ParameterizedCircuit(qc, [a], list(w), z_observables(n_qubits), name="xia_kais")


def layered_ansatz(n_qubits: int, n_layers: int, rotations: Sequence[str] = ("ry",),
                   entangler: str | None = "cz", encoding: str = "ry") -> ParameterizedCircuit:
    """A general layered ansatz: encode x_i by ``encoding``, then L x [rotations, entangler chain].

    See lesson 01.

    ``rotations`` lists the trainable rotations applied to every qubit in each layer, so the
    circuit has ``n_layers * n_qubits * len(rotations)`` weights.
    """
    int_at_least("n_qubits", n_qubits)
    int_at_least("n_layers", n_layers)
    rotations = tuple(rotations)
    if not rotations or any(r not in _ROTATIONS for r in rotations):
        raise ValueError(f"rotations must be a non-empty sequence of {_ROTATIONS}, got "
                         f"{rotations!r}")
    if entangler not in _ENTANGLERS:
        raise ValueError(f"entangler must be one of {_ENTANGLERS}, got {entangler!r}")
    if encoding not in _ROTATIONS:
        raise ValueError(f"encoding must be one of {_ROTATIONS}, got {encoding!r}")
    x = ParameterVector("x", n_qubits)
    w = ParameterVector("w", n_layers * n_qubits * len(rotations))
    qc = QuantumCircuit(n_qubits, name="layered")
    for q in range(n_qubits):
        getattr(qc, encoding)(x[q], q)
    k = 0
    for _ in range(n_layers):
        qc.barrier()
        for rotation in rotations:
            for q in range(n_qubits):
                getattr(qc, rotation)(w[k], q)
                k += 1
        _entangle(qc, entangler)
    return ParameterizedCircuit(qc, list(x), list(w), z_observables(n_qubits), name="layered")


def textbook_circuit() -> ParameterizedCircuit:
    """The old Qiskit textbook's 1-qubit "quantum layer": H, RY(t), output P(1) = (1 + sin t) / 2.

    See lesson 01.
    """
    t = Parameter("t")
    qc = QuantumCircuit(1, name="textbook")
    qc.h(0)
    qc.ry(t, 0)
    p_one = SparsePauliOp(["I", "Z"], [0.5, -0.5])
    return ParameterizedCircuit(qc, [t], [], [p_one], name="textbook", output_names=["P(1)"])


def seed_retinopathy_circuit() -> ParameterizedCircuit:
    """The seed's 3-qubit circuit as published: t0 in THREE gates, 7 inputs, no weights, 8
    probabilities. See lesson 02.

    Kept to show its flaws (a shared parameter, no trainable weights); outputs are the
    probabilities of the 8 bit strings, which the seed estimated from 1000 shots.
    """
    t = ParameterVector("t", 7)
    qc = QuantumCircuit(3, name="seed_retinopathy")
    qc.h(range(3))
    for q in range(3):
        qc.ry(t[0], q)
    for layer in range(2):
        qc.barrier()
        qc.cz(0, 1)
        qc.cz(1, 2)
        for q in range(3):
            qc.ry(t[1 + 3 * layer + q], q)
    names = [f"p({k:03b})" for k in range(8)]
    return ParameterizedCircuit(qc, list(t), [], probability_observables(3),
                                name="seed_retinopathy", output_names=names)
