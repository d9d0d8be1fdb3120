"""The parameter-shift rule, done right in general. See lesson 02.

For a gate ``exp(-i theta G)`` whose generator ``G`` has the two eigenvalues +-1/2 (RX, RY,
RZ, RXX, ..., and, up to a global phase, P and CP), an expectation value is
``E(theta) = A + B cos(theta - phi)``, so exactly

    dE/dtheta = [E(theta + pi/2) - E(theta - pi/2)] / 2.

A circuit parameter ``p`` may appear in several gates and inside expressions such as
``2*p + 1``: each gate ``g`` gets its own angle ``theta_g = c_g . p + b_g``
(:func:`~qdr_course.quantum.compiled.gate_angles`) and, by the chain rule,
``dE/dp = sum_g c_g dE/dtheta_g``. :func:`gate_gradients` is the rule itself, with ONE call for
all shifted angles; :func:`parameter_shift_jacobian` and the quantum layer's backward pass
both use it.

A controlled rotation (CRX, CRY, CRZ) has the generator |1><1| x sigma/2, with the three
eigenvalues 0, +-1/2: its expectation values hold the frequencies 1/2 and 1, and the exact
derivative takes FOUR shifted runs (Anselmetti et al. 2021, Wierichs et al. 2022),

    dE/dtheta = d+ [E(theta + pi/2) - E(theta - pi/2)] - d- [E(theta + 3pi/2) - E(theta - 3pi/2)]

with d+- = (sqrt 2 +- 1) / (4 sqrt 2): :func:`four_term_gradient`, and per gate in
:func:`gate_gradients` and :func:`parameter_shift_jacobian`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from qdr_course import validate
from qdr_course.quantum.backends import estimate_expectations
from qdr_course.quantum.circuits import ParameterizedCircuit
from qdr_course.quantum.compiled import FOUR_TERM_GATES, SHIFT_RULE_GATES, GateAngles, gate_angles

__all__ = [
    "shift_gradient",
    "four_term_gradient",
    "FOUR_TERM_COEFFICIENTS",
    "finite_difference_gradient",
    "gate_gradients",
    "parameter_shift_jacobian",
    "shift_gradient_variance",
    "finite_difference_variance",
    "shots_for_gradient",
]

#: (d+, d-) of the four-term rule for frequencies 1/2 and 1 (shifts pi/2 and 3pi/2).
FOUR_TERM_COEFFICIENTS = ((math.sqrt(2) + 1) / (4 * math.sqrt(2)),
                          (math.sqrt(2) - 1) / (4 * math.sqrt(2)))


def shift_gradient(f: Callable[[float], float], theta: float, shift: float = math.pi / 2) -> float:
    """Two-term parameter-shift rule [f(t + s) - f(t - s)] / (2 sin s); s = pi/2 gives the 1/2.

    See lesson 02.
    """
    if math.isclose(math.sin(shift), 0.0, abs_tol=1e-12):
        raise ValueError(f"shift must not be a multiple of pi (sin(shift) = 0), got {shift}")
    return (f(theta + shift) - f(theta - shift)) / (2 * math.sin(shift))


def four_term_gradient(f: Callable[[float], float], theta: float) -> float:
    """Four-term rule for a controlled rotation: frequencies 1/2 and 1, shifts pi/2 and 3pi/2.

    Lesson 02's stretch exercise 2.4 derives it; ``parameter_shift_jacobian`` applies it.
    """
    d_plus, d_minus = FOUR_TERM_COEFFICIENTS
    near = f(theta + math.pi / 2) - f(theta - math.pi / 2)
    far = f(theta + 3 * math.pi / 2) - f(theta - 3 * math.pi / 2)
    return d_plus * near - d_minus * far


def finite_difference_gradient(f: Callable, theta, h: float = 1e-4) -> np.ndarray:
    """Central finite differences [f(t + h e_k) - f(t - h e_k)] / (2h) for every component k.

    See lesson 02.
    """
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


def gate_gradients(evaluate: Callable[[np.ndarray], np.ndarray], theta: np.ndarray,
                   four_term=None) -> np.ndarray:
    """dE_k/dtheta_g (B, G, n_out) for rows of gate angles theta (B, G), all shifts in ONE call.

    ``evaluate`` maps rows of gate angles (N, G) to expectation values (N, n_out): an estimator,
    a sampler or the exact simulator. The two-term rule [E(theta + pi/2) - E(theta - pi/2)] / 2
    per gate; gates flagged in ``four_term`` (a bool per gate: controlled rotations) get the
    four-term rule, with two more shifts (+-3pi/2) each.
    """
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    batch, num_angles = theta.shape
    four = np.zeros(num_angles, bool) if four_term is None else np.asarray(four_term, bool)
    if four.shape != (num_angles,):
        raise ValueError(f"four_term needs one flag per gate angle ({num_angles}), "
                         f"got shape {four.shape}")
    eye, far = np.eye(num_angles), np.eye(num_angles)[four]
    shifts = np.concatenate([eye, -eye, far * 3, -far * 3]) * (math.pi / 2)  # (2G + 2F, G)
    shifted = (theta[:, None, :] + shifts[None]).reshape(-1, num_angles)
    evs = np.asarray(evaluate(shifted)).reshape(batch, len(shifts), -1)
    near = evs[:, :num_angles] - evs[:, num_angles:2 * num_angles]
    grads = near / 2  # the 1/2 of the shift rule
    if four.any():
        d_plus, d_minus = FOUR_TERM_COEFFICIENTS
        n_far = int(four.sum())
        far_diff = evs[:, 2 * num_angles:2 * num_angles + n_far] - evs[:, 2 * num_angles + n_far:]
        grads[:, four] = d_plus * near[:, four] - d_minus * far_diff
    return grads


def four_term_flags(ga: GateAngles) -> np.ndarray:
    """Which gates need the four-term rule; ValueError for a gate with no known shift rule."""
    flags = np.array([name in FOUR_TERM_GATES for name in ga.gate_names], dtype=bool)
    for g, name in enumerate(ga.gate_names):
        if np.any(ga.jacobian[g]) and name not in SHIFT_RULE_GATES | FOUR_TERM_GATES:
            raise ValueError(
                f"parameterised gate number {g} ({name}) has no known parameter-shift rule "
                f"here; use gates from {sorted(SHIFT_RULE_GATES | FOUR_TERM_GATES)} or "
                "decompose the circuit first")
    return flags


def parameter_shift_jacobian(pc: ParameterizedCircuit | GateAngles, inputs, weights=(),
                             estimator=None) -> np.ndarray:
    """d<O_k>/d(inputs, weights) by the parameter-shift rule, all shifts in ONE call. See lesson 02.

    Controlled rotations (CRX, CRY, CRZ) get the four-term rule.

    ``estimator``: any BaseEstimatorV2; ``None`` evaluates the shifted circuits exactly with the
    torch simulator. Returns shape (num_outputs, num_inputs + num_weights) for one input vector, or
    (B, num_outputs, num_inputs + num_weights) for a batch of inputs (B, num_inputs).
    """
    ga = pc if isinstance(pc, GateAngles) else gate_angles(pc)
    four_term = four_term_flags(ga)
    x = np.asarray(inputs, dtype=float)
    single = x.ndim == 1
    x = np.atleast_2d(x)
    w = np.asarray(weights, dtype=float).reshape(-1)
    if x.shape[1] != ga.num_inputs or w.size != ga.num_weights:
        raise ValueError(f"expected {ga.num_inputs} inputs and {ga.num_weights} weights, "
                         f"got {x.shape[1]} and {w.size}")
    p = np.concatenate([x, np.broadcast_to(w, (len(x), w.size))], axis=1)
    theta = ga.angle_values(p)  # (B, G)
    dtheta = gate_gradients(lambda rows: estimate_expectations(ga, rows, estimator), theta,
                            four_term)
    jac = np.einsum("bgo,gp->bop", dtheta, ga.jacobian)  # chain rule: sum over gate occurrences
    return jac[0] if single else jac


def shift_gradient_variance(e_plus, e_minus, shots: int):
    """Var of the shift estimate (E+ - E-)/2 from ``shots`` shots per term, for a +-1 observable.

    See lesson 02.
    """
    validate.shots(shots)
    e_plus, e_minus = np.asarray(e_plus, float), np.asarray(e_minus, float)
    return ((1 - e_plus**2) + (1 - e_minus**2)) / (4 * shots)


def finite_difference_variance(e_plus, e_minus, shots: int, h: float):
    """Var of (E(t+h) - E(t-h)) / (2h) from ``shots`` shots per term: grows as 1/h^2.

    See lesson 02.
    """
    if not h > 0:
        raise ValueError(f"h must be positive, got {h}")
    return shift_gradient_variance(e_plus, e_minus, shots) / h**2


def shots_for_gradient(e_plus, e_minus, target_std: float) -> int:
    """Shots per shifted circuit so the shift gradient's standard deviation is <= target_std.

    See lesson 02.
    """
    if not target_std > 0:
        raise ValueError(f"target_std must be positive, got {target_std}")
    need = ((1 - float(e_plus) ** 2) + (1 - float(e_minus) ** 2)) / (4 * target_std**2)
    return max(1, math.ceil(need - 1e-9))
