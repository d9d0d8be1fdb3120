"""Exercise checks for the quantum lessons 01-03 (circuits, parameter shift, hybrid layer)."""

from __future__ import annotations

import copy
import math

import numpy as np

from qdr_course.checks._core import ExerciseError, exercise_check

__all__ = [
    "check_ry_matrix",
    "check_z_expectation_from_counts",
    "check_shift_gradient",
    "check_shared_parameter_gradient",
    "check_shots_needed",
    "check_encode_angles",
    "check_train_step",
]


def _not_none(value, name="your function"):
    if value is None:
        raise ExerciseError(f"{name} returns None: did you forget `return`?")
    return value


# -- lesson 01 ---------------------------------------------------------------------------------
@exercise_check("Exercise 1.1 (the RY rotation matrix)")
def check_ry_matrix(ry_matrix) -> str:
    """``ry_matrix(theta)`` must equal Qiskit's RYGate(theta) matrix."""
    from qiskit.circuit.library import RYGate
    for theta in np.linspace(-2 * np.pi, 2 * np.pi, 13):
        got = np.asarray(_not_none(ry_matrix(float(theta))), dtype=complex)
        if got.shape != (2, 2):
            raise ExerciseError(f"return a 2x2 matrix, got shape {got.shape}")
        expected = RYGate(theta).to_matrix()
        if np.allclose(got, expected.T, atol=1e-9) and not np.allclose(got, expected, atol=1e-9):
            raise ExerciseError("your matrix is the transpose of RY: the sine below the diagonal "
                                "is +.")
        if np.allclose(got, RYGate(2 * theta).to_matrix(), atol=1e-9) and theta != 0:
            raise ExerciseError("you rotate by twice the angle: RY uses cos(theta/2), "
                                "sin(theta/2).")
        if not np.allclose(got, expected, atol=1e-9):
            raise ExerciseError(f"for theta = {theta:.3f} expected\n{np.round(expected.real, 4)}\n"
                                f"got\n{np.round(got, 4)}")
    return "it matches Qiskit's RYGate at 13 angles."


@exercise_check("Exercise 1.2 (<Z> from counts)")
def check_z_expectation_from_counts(z_expectation_from_counts) -> str:
    """``z_expectation_from_counts(counts, qubit)`` = (N0 - N1) / N for that qubit."""
    counts = {"000": 500, "001": 300, "011": 100, "110": 60, "111": 40}
    shots = sum(counts.values())
    for qubit in range(3):
        expected = sum(n * (1 - 2 * int(b[::-1][qubit])) for b, n in counts.items()) / shots
        got = float(_not_none(z_expectation_from_counts(dict(counts), qubit)))
        wrong_end = sum(n * (1 - 2 * int(b[qubit])) for b, n in counts.items()) / shots
        if not math.isclose(got, expected, abs_tol=1e-9):
            if math.isclose(got, wrong_end, abs_tol=1e-9) and qubit != 1:
                raise ExerciseError("you read the bits from the left. Qiskit writes qubit 0 as "
                                    "the RIGHTMOST character: use bitstring[::-1][qubit].")
            if math.isclose(got, -expected, abs_tol=1e-9):
                raise ExerciseError("the sign is flipped: |0> has Z = +1 and |1> has Z = -1.")
            raise ExerciseError(f"for qubit {qubit} expected {expected:.4f}, got {got:.4f}")
    return "<Z_q> = (N(q=0) - N(q=1)) / shots, with qubit 0 on the right."


# -- lesson 02 ---------------------------------------------------------------------------------
@exercise_check("Exercise 2.1 (the parameter-shift rule)")
def check_shift_gradient(shift_gradient) -> str:
    """``shift_gradient(f, theta)`` must be exact for every E(t) = A + B cos(t - phi)."""
    rng = np.random.default_rng(0)
    for _ in range(6):
        a, b, phi, theta = rng.normal(size=4)

        def f(t, a=a, b=b, phi=phi):
            return a + b * np.cos(t - phi)

        expected = -b * np.sin(theta - phi)
        got = float(_not_none(shift_gradient(f, float(theta))))
        if math.isclose(got, 2 * expected, rel_tol=1e-6, abs_tol=1e-12):
            raise ExerciseError("your gradient is twice the true one: this is the seed's bug - "
                                "the rule is [f(t + pi/2) - f(t - pi/2)] / 2, with the 1/2.")
        if not math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-9):
            fd = (f(theta + 1e-3) - f(theta - 1e-3)) / 2e-3
            hint = (" That is close to a finite difference: the shift rule is exact, shift by "
                    "pi/2.") if math.isclose(got, fd, abs_tol=1e-5) and not math.isclose(
                        got, expected, abs_tol=1e-9) else ""
            raise ExerciseError(f"at theta = {theta:.3f} expected {expected:.6f}, got "
                                f"{got:.6f}.{hint}")
    return "exact (to 1e-9) for every sinusoid A + B cos(t - phi), no step size involved."


@exercise_check("Exercise 2.2 (bug hunt: a parameter in several gates)")
def check_shared_parameter_gradient(shared_parameter_gradient) -> str:
    """``shared_parameter_gradient(energy, theta, n_gates)``: sum of the per-gate shift terms."""
    import torch

    from qdr_course.quantum.circuits import seed_retinopathy_circuit
    from qdr_course.quantum.compiled import gate_angles
    from qdr_course.quantum.statevector import TorchStatevector

    pc = seed_retinopathy_circuit()
    ga = gate_angles(pc)
    sim = TorchStatevector(ga)
    rest = np.random.default_rng(1).normal(size=ga.num_angles - 3)

    def energy(angles):  # angles of the three gates that share t0; output p(000)
        angles = np.asarray(angles, dtype=float)
        if angles.shape != (3,):
            raise ExerciseError(f"energy expects the 3 gate angles, got shape {angles.shape}")
        theta = torch.tensor(np.concatenate([angles, rest]))[None]
        with torch.no_grad():
            return float(sim.expectations(theta)[0, 0])

    for t0 in (0.3, -1.1, 2.0):
        h = 1e-5
        expected = (energy([t0 + h] * 3) - energy([t0 - h] * 3)) / (2 * h)
        got = float(_not_none(shared_parameter_gradient(energy, t0, 3)))
        all_at_once = (energy([t0 + np.pi / 2] * 3) - energy([t0 - np.pi / 2] * 3)) / 2
        if (math.isclose(got, all_at_once, abs_tol=1e-9)
                and not math.isclose(got, expected, abs_tol=1e-6)):
            raise ExerciseError("you shift all three gates at once - the seed's second bug. Shift "
                                "one gate at a time (the others keep theta) and add the terms.")
        if math.isclose(got, 2 * expected, abs_tol=1e-6):
            raise ExerciseError("twice too large: each per-gate term needs the factor 1/2.")
        if not math.isclose(got, expected, abs_tol=1e-6):
            raise ExerciseError(f"at theta = {t0} expected {expected:.6f}, got {got:.6f}")
    return ("dE/dtheta = sum over gates of "
            "[E(.., theta_g + pi/2, ..) - E(.., theta_g - pi/2, ..)] / 2.")


@exercise_check("Exercise 2.3 (how many shots a gradient needs)")
def check_shots_needed(shots_needed) -> str:
    """``shots_needed(e_plus, e_minus, target_std)`` = ceil([(1 - e+^2) + (1 - e-^2)] / (4 std^2)).
    """
    from qdr_course.quantum.parameter_shift import shots_for_gradient
    for e_plus, e_minus, std in ((0.0, 0.0, 0.01), (0.5, -0.3, 0.02), (0.9, 0.8, 0.005),
                                 (0.99, -0.2, 0.1)):
        expected = shots_for_gradient(e_plus, e_minus, std)
        got = _not_none(shots_needed(e_plus, e_minus, std))
        if not isinstance(got, (int, np.integer)):
            raise ExerciseError(f"return a whole number of shots (an int), got {got!r}: use "
                                "math.ceil")
        if abs(got - expected) <= 1:  # ceil of a rounded float may land one above
            continue
        if abs(got - 4 * expected) <= 4:
            raise ExerciseError("4x too many: the gradient is (E+ - E-) / 2, and the 1/2 divides "
                                "the variance by 4.")
        if got != expected:
            raise ExerciseError(f"for E+ = {e_plus}, E- = {e_minus}, target {std}: expected "
                                f"{expected} shots, got {got}. Var(mean of N +-1 outcomes) = (1 - "
                                "E^2) / N.")
    return ("Var[(E+ - E-)/2] = [(1 - E+^2) + (1 - E-^2)] / (4N): "
            "halving the error costs 4x the shots.")


# -- lesson 03 ---------------------------------------------------------------------------------
@exercise_check("Exercise 3.1 (angle encoding)")
def check_encode_angles(encode_angles) -> str:
    """``encode_angles(z)`` = (pi/2) tanh(z), a differentiable torch map onto (-pi/2, pi/2)."""
    import torch
    z = torch.linspace(-50, 50, 41, dtype=torch.float64, requires_grad=True)
    got = _not_none(encode_angles(z))
    if not isinstance(got, torch.Tensor):
        raise ExerciseError(f"return a torch tensor (use torch.tanh), got {type(got).__name__}")
    if got.shape != z.shape:
        raise ExerciseError(f"keep the shape: expected {tuple(z.shape)}, got {tuple(got.shape)}")
    expected = (math.pi / 2) * torch.tanh(z)
    if not torch.allclose(got.double(), expected, atol=1e-9):
        if got.abs().max() > math.pi / 2 + 1e-9:
            raise ExerciseError("angles leave (-pi/2, pi/2): squash with tanh, then scale by pi/2.")
        raise ExerciseError("expected (pi/2) * tanh(z).")
    if not got.requires_grad:
        raise ExerciseError("the result is not differentiable: use torch operations, not NumPy.")
    return "bounded angles in (-pi/2, pi/2), where <Z> = -sin(angle) is one-to-one."


@exercise_check("Exercise 3.2 (one training step)")
def check_train_step(train_step) -> str:
    """``train_step(model, optimiser, x, y)``: zero grads, cross-entropy, backward, step; return the
    loss.
    """
    import torch
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
    reference = copy.deepcopy(model)
    x, y = torch.randn(8, 4), torch.tensor([0, 1, 1, 0, 1, 0, 0, 1])
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    ref_opt = torch.optim.SGD(reference.parameters(), lr=0.1)
    for step in range(2):  # two steps catch a forgotten zero_grad
        ref_opt.zero_grad()
        ref_loss = torch.nn.functional.cross_entropy(reference(x), y)
        ref_loss.backward()
        ref_opt.step()
        got = _not_none(train_step(model, opt, x, y))
        if isinstance(got, torch.Tensor):
            if got.requires_grad:
                raise ExerciseError("return loss.item() (a float), not the tensor: keeping the "
                                    "graph alive wastes memory.")
            got = got.item()
        if not math.isclose(float(got), ref_loss.item(), rel_tol=1e-6):
            raise ExerciseError(f"step {step}: expected loss {ref_loss.item():.5f} (cross-entropy "
                                f"before the update), got {float(got):.5f}")
        for p, q in zip(model.parameters(), reference.parameters()):
            if not torch.allclose(p, q, atol=1e-7):
                hint = " Did you call optimiser.zero_grad()?" if step == 1 else \
                    " Did you call loss.backward() and optimiser.step()?"
                raise ExerciseError(f"after step {step} the parameters differ from a correct "
                                    f"step.{hint}")
    return "zero_grad -> forward -> loss -> backward -> step."
