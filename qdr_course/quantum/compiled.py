"""The compiled circuit: every parameterised gate with its own angle, affine in the parameters.

See lesson 02.

A circuit parameter ``p`` may appear in several gates and inside expressions such as
``2*p + 1``: each gate ``g`` gets its own angle ``theta_g = c_g . p + b_g``. :func:`gate_angles`
builds that map once; the simulator, the back ends and the shift rule all run the result,
a :class:`GateAngles`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qiskit.circuit import ParameterExpression, ParameterVector, QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from qdr_course.quantum.circuits import ParameterizedCircuit

__all__ = ["SHIFT_RULE_GATES", "FOUR_TERM_GATES", "GateAngles", "gate_angles"]

#: Gates with a generator of two eigenvalues that differ by 1: the two-term rule is exact.
SHIFT_RULE_GATES = frozenset({"rx", "ry", "rz", "p", "u1", "rxx", "ryy", "rzz", "rzx", "cp", "cu1"})
#: Controlled rotations: generator |1><1| x sigma/2 has THREE eigenvalues (0, +-1/2).
FOUR_TERM_GATES = frozenset({"crx", "cry", "crz"})


@dataclass
class GateAngles:
    """A circuit in which every parameterised gate has its own angle theta_g = jacobian[g] . p +
    offset[g].

    ``circuit`` uses the parameters ``angles`` (one per gate occurrence, in circuit order);
    ``p`` is the concatenation of the original circuit's inputs and weights.
    """

    circuit: QuantumCircuit
    angles: list
    jacobian: np.ndarray  # (num_angles, num_inputs + num_weights)
    offset: np.ndarray  # (num_angles,)
    gate_names: list[str]
    observables: list[SparsePauliOp]
    num_inputs: int
    num_weights: int

    @property
    def num_angles(self) -> int:
        """Number of parameterised gate occurrences."""
        return len(self.angles)

    def angle_values(self, p: np.ndarray) -> np.ndarray:
        """theta = p @ jacobian.T + offset for p of shape (..., num_inputs + num_weights)."""
        return np.asarray(p, dtype=float) @ self.jacobian.T + self.offset


def _affine_coefficients(expr, parameters: list, where: str) -> tuple[np.ndarray, float]:
    """Coefficients c and offset b with expr = c . p + b; ValueError if expr is not affine in p."""
    coefficients = np.zeros(len(parameters))
    if not isinstance(expr, ParameterExpression):
        return coefficients, float(expr)
    index = {p: i for i, p in enumerate(parameters)}
    for p in expr.parameters:
        if p not in index:
            raise ValueError(f"{where} uses parameter {p.name!r}, which is neither an input nor a "
                             "weight")
        derivative = expr.gradient(p)
        if isinstance(derivative, ParameterExpression):
            raise ValueError(
                f"{where} has angle {expr}, which is not affine in {p.name!r} (its derivative "
                f"{derivative} depends on the parameters); only angles c*p + b are supported. "
                "Compute non-linear maps of the inputs classically, before the circuit.")
        derivative = complex(derivative)
        if abs(derivative.imag) > 1e-12:
            raise ValueError(f"{where} has a complex angle {expr}; angles must be real")
        coefficients[index[p]] = derivative.real
    offset = complex(expr.bind({p: 0.0 for p in expr.parameters}))
    return coefficients, offset.real


def gate_angles(pc: ParameterizedCircuit) -> GateAngles:
    """Give every parameterised gate its own angle and record the affine map from (inputs, weights).

    See lesson 02.
    """
    if not isinstance(pc, ParameterizedCircuit):
        raise TypeError("expected a ParameterizedCircuit (e.g. from qdr_course.quantum.circuits."
                        f"retinopathy_circuit()), got {type(pc).__name__}")
    parameters = pc.parameters
    occurrences = [i for i, inst in enumerate(pc.circuit.data)
                   if any(isinstance(v, ParameterExpression) and v.parameters
                          for v in inst.operation.params)]
    theta = ParameterVector("theta", len(occurrences))
    out = QuantumCircuit(*pc.circuit.qregs, *pc.circuit.cregs, name=pc.circuit.name)
    rows, offsets, names = [], [], []
    g = 0
    for i, inst in enumerate(pc.circuit.data):
        op = inst.operation
        if g < len(occurrences) and occurrences[g] == i:
            qubits = [pc.circuit.find_bit(q).index for q in inst.qubits]
            where = f"gate {i} ({op.name} on qubits {qubits})"
            if len(op.params) != 1:
                raise ValueError(f"{where} has {len(op.params)} parameters; use single-angle "
                                 "rotations (e.g. RZ RY RZ instead of U)")
            c, b = _affine_coefficients(op.params[0], parameters, where)
            rows.append(c)
            offsets.append(b)
            names.append(op.name)
            new_op = op.copy()
            new_op.params = [theta[g]]
            out.append(new_op, inst.qubits, inst.clbits)
            g += 1
        else:
            out.append(op, inst.qubits, inst.clbits)
    jacobian = np.array(rows, dtype=float).reshape(len(rows), len(parameters))
    return GateAngles(out, list(theta), jacobian, np.array(offsets, dtype=float), names,
                      list(pc.observables), pc.num_inputs, pc.num_weights)
