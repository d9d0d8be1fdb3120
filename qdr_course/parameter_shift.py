"""The parameter-shift rule, done right in general. See lesson 02.

For a gate ``exp(-i theta G)`` whose generator ``G`` has the two eigenvalues +-1/2 (RX, RY,
RZ, RXX, ..., and, up to a global phase, P and CP), an expectation value is
``E(theta) = A + B cos(theta - phi)``, so exactly

    dE/dtheta = [E(theta + pi/2) - E(theta - pi/2)] / 2.

A circuit parameter ``p`` may appear in several gates and inside expressions such as
``2*p + 1``: each gate ``g`` gets its own angle ``theta_g = c_g . p + b_g`` and, by the chain
rule, ``dE/dp = sum_g c_g dE/dtheta_g``. :func:`gate_angles` builds that map once;
:func:`parameter_shift_jacobian` applies the rule with ONE primitive call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from qiskit.circuit import ParameterExpression, ParameterVector, QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from qdr_course.backends import expand_controlled_parameter_gates
from qdr_course.circuits import ParameterizedCircuit

__all__ = [
    "SHIFT_RULE_GATES",
    "GateAngles",
    "gate_angles",
    "shift_gradient",
    "finite_difference_gradient",
    "estimate_expectations",
    "parameter_shift_jacobian",
    "shift_gradient_variance",
    "finite_difference_variance",
    "shots_for_gradient",
]

#: Gates with a generator of two eigenvalues that differ by 1: the two-term rule is exact.
SHIFT_RULE_GATES = frozenset({"rx", "ry", "rz", "p", "u1", "rxx", "ryy", "rzz", "rzx", "cp", "cu1"})
#: Controlled rotations: generator |1><1| x sigma/2 has THREE eigenvalues (0, +-1/2).
FOUR_TERM_GATES = frozenset({"crx", "cry", "crz"})


@dataclass
class GateAngles:
    """A circuit in which every parameterised gate has its own angle theta_g = jacobian[g] . p + offset[g].

    ``circuit`` uses the parameters ``angles`` (one per gate occurrence, in circuit order);
    ``p`` is the concatenation of the original circuit's inputs and weights. See lesson 02.
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

    def check_shift_rule(self) -> None:
        """Raise ValueError if a gate whose angle depends on a parameter has no two-term shift rule."""
        controlled = sorted({name for g, name in enumerate(self.gate_names)
                             if name in FOUR_TERM_GATES and np.any(self.jacobian[g])})
        for g, name in enumerate(self.gate_names):
            if not np.any(self.jacobian[g]):
                continue
            if name in FOUR_TERM_GATES:
                raise ValueError(
                    f"parameterised gate number {g} ({name}) is a controlled rotation: its "
                    "generator |1><1| x sigma/2 has three eigenvalues (0, +1/2, -1/2), so the "
                    "two-term parameter-shift rule is wrong for it; it needs the four-term "
                    "rule (shifts +-pi/2 and +-3pi/2). Decompose only the controlled rotations "
                    "into RY/RZ and CX gates first: pc = ParameterizedCircuit(pc.circuit."
                    f"decompose(gates_to_decompose={controlled!r}), pc.input_params, "
                    "pc.weight_params, pc.observables) (a bare circuit.decompose() also turns "
                    "every RY into an R gate, which has no shift rule here).")
            if name not in SHIFT_RULE_GATES:
                raise ValueError(
                    f"parameterised gate number {g} ({name}) has no known two-eigenvalue "
                    "generator, so the two-term parameter-shift rule may not hold; use gates "
                    f"from {sorted(SHIFT_RULE_GATES)} or decompose the circuit first")


def _affine_coefficients(expr, parameters: list, where: str) -> tuple[np.ndarray, float]:
    """Coefficients c and offset b with expr = c . p + b; ValueError if expr is not affine in p."""
    coefficients = np.zeros(len(parameters))
    if not isinstance(expr, ParameterExpression):
        return coefficients, float(expr)
    index = {p: i for i, p in enumerate(parameters)}
    for p in expr.parameters:
        if p not in index:
            raise ValueError(f"{where} uses parameter {p.name!r}, which is neither an input nor a weight")
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
    """Give every parameterised gate its own angle and record the affine map from (inputs, weights). See lesson 02."""
    if not isinstance(pc, ParameterizedCircuit):
        raise TypeError("expected a ParameterizedCircuit (e.g. from qdr_course.circuits."
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
            where = f"gate {i} ({op.name} on qubits {[pc.circuit.find_bit(q).index for q in inst.qubits]})"
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


def shift_gradient(f: Callable[[float], float], theta: float, shift: float = math.pi / 2) -> float:
    """Two-term parameter-shift rule [f(t + s) - f(t - s)] / (2 sin s); s = pi/2 gives the 1/2. See lesson 02."""
    if math.isclose(math.sin(shift), 0.0, abs_tol=1e-12):
        raise ValueError(f"shift must not be a multiple of pi (sin(shift) = 0), got {shift}")
    return (f(theta + shift) - f(theta - shift)) / (2 * math.sin(shift))


def finite_difference_gradient(f: Callable, theta, h: float = 1e-4) -> np.ndarray:
    """Central finite differences [f(t + h e_k) - f(t - h e_k)] / (2h) for every component k. See lesson 02."""
    if not h > 0:
        raise ValueError(f"h must be positive, got {h}")
    theta = np.asarray(theta, dtype=float)
    flat = theta.reshape(-1)
    columns = []
    for k in range(flat.size):
        step = np.zeros_like(flat)
        step[k] = h
        plus = np.asarray(f((flat + step).reshape(theta.shape)), dtype=float)
        minus = np.asarray(f((flat - step).reshape(theta.shape)), dtype=float)
        columns.append((plus - minus) / (2 * h))
    grad = np.stack(columns, axis=-1)
    return grad.reshape(grad.shape[:-1] + theta.shape) if theta.ndim else grad[..., 0]


def _exact_expectations(ga: GateAngles, values: np.ndarray) -> np.ndarray:
    """Exact <O_k> from the compiled torch simulator (the default 'estimator')."""
    import torch
    from qdr_course.statevector import TorchStatevector
    sim = getattr(ga, "_simulator", None)
    if sim is None:
        sim = ga._simulator = TorchStatevector(ga)
    with torch.no_grad():
        return sim.expectations(torch.as_tensor(values, dtype=torch.float64)).numpy()


def estimate_expectations(ga: GateAngles, angle_values: np.ndarray, estimator=None,
                          circuit: QuantumCircuit | None = None, observables=None) -> np.ndarray:
    """<O_k> for every row of angle values (N, num_angles), in ONE estimator call. See lesson 02.

    ``estimator=None`` uses the exact, fast torch simulator of :mod:`qdr_course.statevector`.
    ``circuit`` / ``observables`` may be a transpiled copy of ``ga.circuit`` and its
    layout-mapped observables (see :class:`qdr_course.layer.QuantumLayer`).
    """
    values = np.atleast_2d(np.asarray(angle_values, dtype=float))
    if estimator is None:
        if circuit is not None or observables is not None:
            raise ValueError("a transpiled circuit or mapped observables need an estimator to run on")
        return _exact_expectations(ga, values)
    circuit = ga.circuit if circuit is None else circuit
    observables = ga.observables if observables is None else observables
    circuit = expand_controlled_parameter_gates(circuit)  # Aer ignores parameterised CP otherwise
    position = {p: g for g, p in enumerate(ga.angles)}
    columns = [position[p] for p in circuit.parameters]  # the transpiler keeps or drops, never adds
    bound = values[:, columns].reshape(-1, 1, len(columns))
    obs = [list(observables)]  # shape (1, n_out): broadcasts against bindings (N, 1)
    result = estimator.run([(circuit, obs, bound)]).result()
    return np.asarray(result[0].data.evs, dtype=float).reshape(len(values), len(observables))


def parameter_shift_jacobian(pc: ParameterizedCircuit | GateAngles, inputs, weights=(),
                             estimator=None) -> np.ndarray:
    """d<O_k>/d(inputs, weights) by the parameter-shift rule, all shifts in ONE call. See lesson 02.

    ``estimator``: any BaseEstimatorV2; ``None`` evaluates the shifted circuits exactly with the
    torch simulator. Returns shape (num_outputs, num_inputs + num_weights) for one input vector, or
    (B, num_outputs, num_inputs + num_weights) for a batch of inputs (B, num_inputs).
    """
    ga = pc if isinstance(pc, GateAngles) else gate_angles(pc)
    ga.check_shift_rule()
    x = np.asarray(inputs, dtype=float)
    single = x.ndim == 1
    x = np.atleast_2d(x)
    w = np.asarray(weights, dtype=float).reshape(-1)
    if x.shape[1] != ga.num_inputs or w.size != ga.num_weights:
        raise ValueError(f"expected {ga.num_inputs} inputs and {ga.num_weights} weights, "
                         f"got {x.shape[1]} and {w.size}")
    p = np.concatenate([x, np.broadcast_to(w, (len(x), w.size))], axis=1)
    theta = ga.angle_values(p)  # (B, G)
    G = ga.num_angles
    shifts = np.concatenate([np.eye(G), -np.eye(G)]) * (math.pi / 2)  # (2G, G)
    shifted = theta[:, None, :] + shifts[None]  # (B, 2G, G)
    evs = estimate_expectations(ga, shifted.reshape(-1, G), estimator).reshape(len(x), 2 * G, -1)
    dtheta = (evs[:, :G] - evs[:, G:]) / 2  # (B, G, n_out): the 1/2 of the shift rule
    jac = np.einsum("bgo,gp->bop", dtheta, ga.jacobian)  # chain rule: sum over gate occurrences
    return jac[0] if single else jac


def shift_gradient_variance(e_plus, e_minus, shots: int):
    """Var of the shift estimate (E+ - E-)/2 from ``shots`` shots per term, for a +-1 observable. See lesson 02."""
    if shots < 1:
        raise ValueError(f"shots must be >= 1, got {shots}")
    e_plus, e_minus = np.asarray(e_plus, float), np.asarray(e_minus, float)
    return ((1 - e_plus**2) + (1 - e_minus**2)) / (4 * shots)


def finite_difference_variance(e_plus, e_minus, shots: int, h: float):
    """Var of (E(t+h) - E(t-h)) / (2h) from ``shots`` shots per term: grows as 1/h^2. See lesson 02."""
    if not h > 0:
        raise ValueError(f"h must be positive, got {h}")
    return shift_gradient_variance(e_plus, e_minus, shots) / h**2


def shots_for_gradient(e_plus, e_minus, target_std: float) -> int:
    """Shots per shifted circuit so the shift gradient's standard deviation is <= target_std. See lesson 02."""
    if not target_std > 0:
        raise ValueError(f"target_std must be positive, got {target_std}")
    need = ((1 - float(e_plus) ** 2) + (1 - float(e_minus) ** 2)) / (4 * target_std**2)
    return max(1, math.ceil(need - 1e-9))
