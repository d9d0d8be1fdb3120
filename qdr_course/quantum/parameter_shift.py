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
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from qdr_course import validate
from qdr_course.quantum.backends import estimate_expectations
from qdr_course.quantum.circuits import ParameterizedCircuit
from qdr_course.quantum.compiled import GateAngles, gate_angles

__all__ = [
    "shift_gradient",
    "finite_difference_gradient",
    "gate_gradients",
    "parameter_shift_jacobian",
    "shift_gradient_variance",
    "finite_difference_variance",
    "shots_for_gradient",
]



def shift_gradient(f: Callable[[float], float], theta: float, shift: float = math.pi / 2) -> float:
    """Two-term parameter-shift rule [f(t + s) - f(t - s)] / (2 sin s); s = pi/2 gives the 1/2.

    See lesson 02.
    """
    if math.isclose(math.sin(shift), 0.0, abs_tol=1e-12):
        raise ValueError(f"shift must not be a multiple of pi (sin(shift) = 0), got {shift}")
    return (f(theta + shift) - f(theta - shift)) / (2 * math.sin(shift))


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


def gate_gradients(evaluate: Callable[[np.ndarray], np.ndarray], theta: np.ndarray) -> np.ndarray:
    """dE_k/dtheta_g (B, G, n_out) for rows of gate angles theta (B, G), all 2 G B shifts in ONE
    call.

    ``evaluate`` maps rows of gate angles (N, G) to expectation values (N, n_out): an estimator,
    a sampler or the exact simulator. The two-term rule [E(theta + pi/2) - E(theta - pi/2)] / 2
    per gate.
    """
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    batch, num_angles = theta.shape
    shifts = np.concatenate([np.eye(num_angles), -np.eye(num_angles)]) * (math.pi / 2)  # (2G, G)
    shifted = (theta[:, None, :] + shifts[None]).reshape(-1, num_angles)  # (B 2G, G)
    evs = np.asarray(evaluate(shifted)).reshape(batch, 2 * num_angles, -1)
    return (evs[:, :num_angles] - evs[:, num_angles:]) / 2  # the 1/2 of the shift rule


def parameter_shift_jacobian(pc: ParameterizedCircuit | GateAngles, inputs, weights=(),
                             estimator=None) -> np.ndarray:
    """d<O_k>/d(inputs, weights) by the parameter-shift rule, all shifts in ONE call. See lesson 02.

    ``estimator``: any BaseEstimatorV2; ``None`` evaluates the shifted circuits exactly with the
    torch simulator. Returns shape (num_outputs, num_inputs + num_weights) for one input vector, or
    (B, num_outputs, num_inputs + num_weights) for a batch of inputs (B, num_inputs).
    """
    ga = pc if isinstance(pc, GateAngles) else gate_angles(pc)
    ga.require_shift_rule()
    x = np.asarray(inputs, dtype=float)
    single = x.ndim == 1
    x = np.atleast_2d(x)
    w = np.asarray(weights, dtype=float).reshape(-1)
    if x.shape[1] != ga.num_inputs or w.size != ga.num_weights:
        raise ValueError(f"expected {ga.num_inputs} inputs and {ga.num_weights} weights, "
                         f"got {x.shape[1]} and {w.size}")
    p = np.concatenate([x, np.broadcast_to(w, (len(x), w.size))], axis=1)
    theta = ga.angle_values(p)  # (B, G)
    dtheta = gate_gradients(lambda rows: estimate_expectations(ga, rows, estimator), theta)
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
