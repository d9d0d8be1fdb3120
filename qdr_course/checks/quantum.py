"""Exercise checks for the quantum lessons 01-03 (circuits, parameter shift, hybrid layer)."""

from __future__ import annotations

import copy
import math

import numpy as np

from qdr_course.checks._core import ExerciseError, exercise_check

__all__ = [
    "check_ry_matrix",
    "check_z_after_ry_on_one",
    "check_product_amplitudes",
    "check_z_expectation_from_counts",
    "check_shift_gradient",
    "check_any_shift_gradient",
    "check_shared_parameter_gradient",
    "check_shots_needed",
    "check_encode_angles",
    "check_train_step",
    "check_anticorrelated_bell",
    "check_bloch_angle",
    "check_best_step",
    "check_fd_shots_to_match",
    "check_four_term_gradient",
    "check_encoding_collision",
    "check_highest_frequency",
]

#: Lesson 02's shot experiment: <Z> = -sin(angle) at angle 0.8, N = 1000 shots, FD step 0.1.
SHOT_ANGLE, SHIFT_SHOTS, FD_STEP = 0.8, 1000, 0.1


def _not_none(value, name="your function"):
    if value is None:
        raise ExerciseError(f"{name} returns None: did you forget `return`?")
    return value


# -- lesson 01 ---------------------------------------------------------------------------------
@exercise_check("Exercise 1.1 (<Z> after RY on |1>)")
def check_z_after_ry_on_one(z_after_ry_on_one) -> str:
    """``z_after_ry_on_one(theta)`` = <Z> of RY(theta)|1>, computed here from Qiskit's matrix."""
    from qiskit.circuit.library import RYGate
    for theta in np.linspace(-2 * np.pi, 2 * np.pi, 13):
        state = RYGate(float(theta)).to_matrix() @ np.array([0.0, 1.0])
        expected = float(abs(state[0]) ** 2 - abs(state[1]) ** 2)
        got = float(np.real(_not_none(z_after_ry_on_one(float(theta)))))
        if not math.isclose(got, expected, abs_tol=1e-9):
            hint = ("you return <Z> of RY(theta)|0>: here the qubit starts in |1>, the matrix's "
                    "second column" if math.isclose(got, -expected, abs_tol=1e-9) and
                    not math.isclose(expected, 0, abs_tol=1e-9) else
                    "apply the matrix to the column vector (0, 1), then <Z> = |a0|^2 - |a1|^2")
            raise ExerciseError(f"at theta = {theta:.3f} you return {got:.4f}, which is not "
                                f"<Z>. Hint: {hint}.")
    return "<Z> of RY(theta)|1> at 13 angles: the rotation turns |1> the same way it turns |0>."


@exercise_check("Exercise 1.3 (the four amplitudes of a product state)")
def check_product_amplitudes(my_amplitudes) -> str:
    """``my_amplitudes()``: the amplitudes of |q1 q0> with q1 = RY(pi/2)|0>, q0 = |1>, in
    Qiskit's order, compared with ``Statevector`` (to 0.01)."""
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import Statevector
    circuit = QuantumCircuit(2)
    circuit.x(0)
    circuit.ry(math.pi / 2, 1)
    expected = Statevector(circuit).data.real
    got = np.asarray(_not_none(my_amplitudes()), dtype=complex).ravel()
    if got.size != 4:
        raise ExerciseError(f"two qubits have 4 amplitudes; you gave {got.size}.")
    if np.allclose(got, expected, atol=0.01):
        return "the amplitudes sit at index 2 q1 + q0: qubit 0 is the last (fastest) bit."
    if np.allclose(got, expected[[0, 2, 1, 3]], atol=0.01):
        raise ExerciseError("right numbers, wrong places: you wrote the state as |q0 q1>. In "
                            "Qiskit the index of |q1 q0> is 2 q1 + q0 (qubit 0 on the right).")
    if not math.isclose(float(np.sum(np.abs(got) ** 2)), 1.0, abs_tol=0.02):
        raise ExerciseError("the squares of your amplitudes do not add up to 1: a state is a "
                            "unit vector.")
    raise ExerciseError("not yet: write each qubit's two amplitudes, multiply them pairwise "
                        "(np.kron(q1, q0)) and mind which qubit is on the left.")


@exercise_check("The RY rotation matrix")
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


@exercise_check("Exercise 1.5 (<Z> from counts)")
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
@exercise_check("Exercise 2.1 (a shift rule for any shift s)")
def check_any_shift_gradient(any_shift_gradient) -> str:
    """``any_shift_gradient(f, theta, s)`` must be exact for every sinusoid and every shift s
    that is not a multiple of pi."""
    rng = np.random.default_rng(1)
    for s in (0.3, 1.0, math.pi / 2, 2.5, -0.7):
        a, b, phi, theta = rng.normal(size=4)

        def f(t, a=a, b=b, phi=phi):
            return a + b * np.cos(t - phi)

        expected = -b * np.sin(theta - phi)
        got = float(_not_none(any_shift_gradient(f, float(theta), float(s))))
        if not math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-9):
            ratio = got / expected if abs(expected) > 1e-6 else float("nan")
            hint = (" It is right at s = pi/2 only: for another shift the difference "
                    "E(t + s) - E(t - s) is not 2 E'(t); work it out for E = A + B cos t + "
                    "C sin t.") if math.isclose(
                        (f(theta + s) - f(theta - s)) / 2, got, abs_tol=1e-9) else ""
            if math.isfinite(ratio) and math.isclose(ratio, s / math.sin(s), rel_tol=1e-6):
                hint = (" That is the finite difference [E(t+s) - E(t-s)]/(2s): exact only as "
                        "s -> 0; a sinusoid allows an exact factor for every s.")
            raise ExerciseError(f"for the shift s = {s:.2f} your gradient is not the exact "
                                f"derivative.{hint}")
    return "exact for every sinusoid at five shifts: two runs give the exact slope for any s."


@exercise_check("The parameter-shift rule")
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


@exercise_check("Exercise 2.3 (bug hunt: a parameter in several gates)")
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


@exercise_check("Shots for a target precision (how many shots a gradient needs)")
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
            raise ExerciseError("angles leave (-pi/2, pi/2): squash first, then scale.")
        raise ExerciseError("your angles are not the encoding described above (a scaled tanh "
                            "that fills (-pi/2, pi/2)).")
    if not got.requires_grad:
        raise ExerciseError("the result is not differentiable: use torch operations, not NumPy.")
    return "bounded angles in (-pi/2, pi/2), where <Z> = -sin(angle) is one-to-one."


@exercise_check("Exercise 3.3 (one training step)")
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


# -- predict-then-run and tweak-and-observe exercises (issue 12) ----------------------------------
def _two_qubit_expectations(circuit) -> dict[str, float]:
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp, Statevector
    if not isinstance(circuit, QuantumCircuit):
        raise ExerciseError(f"return a QuantumCircuit, got {type(circuit).__name__}")
    if circuit.num_qubits != 2 or circuit.num_clbits or circuit.num_parameters:
        raise ExerciseError("return a 2-qubit circuit without measurements or free parameters")
    state = Statevector(circuit)
    return {label: float(state.expectation_value(SparsePauliOp(label)).real)
            for label in ("IZ", "ZI", "ZZ", "XX", "YY")}


@exercise_check("Exercise 1.4 (build a state from its correlations)")
def check_anticorrelated_bell(build_circuit) -> str:
    """``build_circuit()``: <Z_0> = <Z_1> = 0, <Z_1 Z_0> = -1 and <X_1 X_0> = +1."""
    ev = _two_qubit_expectations(_not_none(build_circuit()))
    if abs(ev["IZ"]) > 1e-6 or abs(ev["ZI"]) > 1e-6:
        raise ExerciseError(f"each qubit alone must be random: <Z_0> = {ev['IZ']:+.2f}, "
                            f"<Z_1> = {ev['ZI']:+.2f}")
    if abs(ev["ZZ"] + 1) > 1e-6:
        raise ExerciseError(f"<Z_1 Z_0> = {ev['ZZ']:+.2f}: the two qubits must always DISAGREE "
                            "when measured in Z")
    if abs(ev["XX"] - 1) > 1e-6:
        raise ExerciseError(f"<Z> correlations are right, but <X_1 X_0> = {ev['XX']:+.2f}, not "
                            "+1: a relative phase between the two terms matters")
    return (f"<ZZ> = -1, <XX> = +1, <YY> = {ev['YY']:+.0f}: |<XX>| + |<YY>| + |<ZZ>| = 3 > 1, "
            "so the qubits are entangled.")


@exercise_check("Exercise 1.2 (find the angle on the Bloch sphere)")
def check_bloch_angle(my_angle) -> str:
    """``my_angle()``: R_Y(theta)|0> has <Z> = -1/2 and <X> < 0."""
    theta = float(_not_none(my_angle()))
    z, x = math.cos(theta), math.sin(theta)
    if abs(z + 0.5) > 0.01:
        raise ExerciseError(f"at theta = {theta:.3f}, <Z> = cos theta = {z:+.3f}, not -0.5 "
                            "(to 0.01)")
    if x >= 0:
        raise ExerciseError(f"<Z> is right but <X> = sin theta = {x:+.3f} is not negative: the "
                            "other side of the sphere")
    return f"<Z> = {z:+.3f}, <X> = {x:+.3f}: the state sits below the equator on the -x side."


@exercise_check("Exercise 2.2 (the best finite-difference step)")
def check_best_step(best_step) -> str:
    """``best_step()``: h within a factor 10 of the step with the smallest total error."""
    h = float(_not_none(best_step()))
    if not h > 0:
        raise ExerciseError(f"a step must be positive, got {h}")
    # The minimum of the total error h^2 |E'|/6 + eps/h is at h = (3 eps/|E'|)^(1/3), |E'| of
    # order 1/2 in lesson 02; the two lines cross at (6 eps/|E'|)^(1/3), 2^(1/3) times larger:
    # both lie well inside the factor 10 accepted here.
    best = (3 * np.finfo(float).eps / 0.5) ** (1 / 3)
    if h > 10 * best:
        raise ExerciseError(f"h = {h:.0e} is too large: there the truncation error h^2 |E'|/6 "
                            "dominates. Where do the two error lines cross?")
    if h < best / 10:
        raise ExerciseError(f"h = {h:.0e} is too small: there the rounding error eps/h "
                            "dominates. Where do the two error lines cross?")
    return "near the crossing of truncation (~h^2) and rounding (~1/h) the total error is least."


def _fd_to_shift_variance_ratio(theta=SHOT_ANGLE, h=FD_STEP) -> float:
    from qdr_course.quantum.parameter_shift import (
        finite_difference_variance,
        shift_gradient_variance,
    )
    e = lambda t: -math.sin(t)  # noqa: E731 - the lesson's one-qubit circuit
    fd = finite_difference_variance(e(theta + h), e(theta - h), 1, h)
    shift = shift_gradient_variance(e(theta + math.pi / 2), e(theta - math.pi / 2), 1)
    return float(fd / shift)


@exercise_check("Exercise 2.5 (shots for a finite difference to match the shift rule)")
def check_fd_shots_to_match(fd_shots) -> str:
    """``fd_shots()``: shots per run for FD (h = 0.1) to be as precise as the shift rule's 1000."""
    got = float(_not_none(fd_shots()))
    need = SHIFT_SHOTS * _fd_to_shift_variance_ratio()
    if got < 0.9 * need:
        raise ExerciseError(f"{got:.0f} shots are too few (more than 10 % off): Var grows as "
                            "1/h^2 for the finite difference, and the E+- differ too.")
    if got > 1.1 * need:
        raise ExerciseError(f"{got:.0f} shots are too many (more than 10 % off): compare the two "
                            "variances at the same N, then scale N.")
    return "the variances scale as 1/N, so N_FD = N_shift x Var_FD(1) / Var_shift(1)."


@exercise_check("Exercise 2.4 (stretch: the four-term rule)")
def check_four_term_gradient(four_term) -> str:
    """``four_term(f, theta)``: exact for every a + b cos(t/2) + c sin(t/2) + d cos t + e sin t."""
    rng = np.random.default_rng(5)
    for _ in range(8):
        a, b, c, d, e, theta = rng.normal(size=6)

        def f(t, a=a, b=b, c=c, d=d, e=e):
            return a + b * np.cos(t / 2) + c * np.sin(t / 2) + d * np.cos(t) + e * np.sin(t)

        exact = (-b / 2 * np.sin(theta / 2) + c / 2 * np.cos(theta / 2) - d * np.sin(theta)
                 + e * np.cos(theta))
        got = float(_not_none(four_term(f, float(theta))))
        two_term = (f(theta + np.pi / 2) - f(theta - np.pi / 2)) / 2
        if math.isclose(got, two_term, abs_tol=1e-9) and not math.isclose(got, exact,
                                                                            abs_tol=1e-6):
            raise ExerciseError("that is the two-term rule: it is exact for frequency 1 only, "
                                "and a controlled rotation adds frequency 1/2.")
        if not math.isclose(got, exact, abs_tol=1e-9):
            only_half = (lambda t: np.cos(t / 2), -np.sin(theta / 2) / 2)
            half_ok = math.isclose(float(four_term(only_half[0], float(theta))), only_half[1],
                                   abs_tol=1e-9)
            which = "frequency 1" if half_ok else "frequency 1/2"
            raise ExerciseError(f"not exact: your rule is wrong for the {which} part. Solve the "
                                "two conditions (exact for sin(t/2) and for sin t) for d+ and d-.")
    return "exact for both frequencies: four runs per controlled rotation."


@exercise_check("Exercise 3.1 (find two features the raw encoding confuses)")
def check_encoding_collision(collision) -> str:
    """``collision()``: z1 != z2 in (0, 3) with the same <Z> = -sin(z) after H and RY(z)."""
    pair = _not_none(collision())
    try:
        z1, z2 = (float(v) for v in pair)
    except (TypeError, ValueError):
        raise ExerciseError(f"return two numbers (z1, z2), got {pair!r}") from None
    if not (0 < z1 < 3 and 0 < z2 < 3):
        raise ExerciseError(f"both features must lie in (0, 3), got {z1:.3f} and {z2:.3f}")
    if abs(z1 - z2) < 0.1:
        raise ExerciseError("the two features must differ by at least 0.1")
    if abs(math.sin(z1) - math.sin(z2)) > 1e-6:
        raise ExerciseError(f"<Z> = {-math.sin(z1):+.4f} and {-math.sin(z2):+.4f} differ: the "
                            "qubit can tell these two apart")
    return "different features, identical outputs: the raw angle folds the feature axis."


def _reuploading_expectation(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """<Z> of RY(x) RZ(w0) RX(2x) RZ(w1) RY(3x) RZ(w2) RY(w3) on |0>, exactly."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter

    from qdr_course.quantum.circuits import ParameterizedCircuit, z_observables
    from qdr_course.quantum.statevector import expectation_values
    xp, w = Parameter("x"), [Parameter(f"w{k}") for k in range(4)]
    qc = QuantumCircuit(1)
    qc.ry(xp, 0); qc.rz(w[0], 0); qc.rx(2 * xp, 0); qc.rz(w[1], 0)  # noqa: E702
    qc.ry(3 * xp, 0); qc.rz(w[2], 0); qc.ry(w[3], 0)  # noqa: E702
    pc = ParameterizedCircuit(qc, [xp], w, z_observables(1))
    return expectation_values(pc, x[:, None], weights)[:, 0]


def highest_frequency(x_to_values: np.ndarray) -> int:
    """The largest integer frequency with a non-negligible Fourier coefficient (64 samples)."""
    coefficients = np.abs(np.fft.rfft(x_to_values)) / len(x_to_values)
    return int(np.flatnonzero(coefficients > 1e-9).max())


@exercise_check("Exercise 3.2 (predict the highest frequency)")
def check_highest_frequency(my_prediction) -> str:
    """``my_prediction()``: the highest frequency of x in RY(x), RX(2x), RY(3x) with weights."""
    got = _not_none(my_prediction())
    if not isinstance(got, (int, np.integer)):
        raise ExerciseError(f"return a whole number, got {got!r}")
    x = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    weights = np.random.default_rng(2).uniform(0, 2 * np.pi, 4)
    truth = highest_frequency(_reuploading_expectation(x, weights))
    if got < truth:
        raise ExerciseError(f"{got} is too low: every gate that holds x adds its own "
                            "frequencies, and a gate with angle k x brings frequency k.")
    if got > truth:
        raise ExerciseError(f"{got} is too high: a rotation by k x has generator eigenvalues "
                            "+-k/2, so it contributes frequencies up to k, not more.")
    return "each encoding gate adds its frequency: the circuit is a trigonometric polynomial."
