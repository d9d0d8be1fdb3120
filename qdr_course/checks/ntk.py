"""Exercise checks for lessons 06 (the NTK), 07 (the sparsified NTK) and 08 (HHL and readout)."""

from __future__ import annotations

import math

import numpy as np

from qdr_course.checks._core import ExerciseError, exercise_check

__all__ = ["check_convergence_depth", "check_erf_ntk", "check_sparsity_pattern",
           "check_rotation_angles", "check_max_factor"]


def _digits(n: int = 6, n_test: int = 4):
    """A small, fixed digit pair for the checks."""
    from qdr_course.ntk import load_digit_pair

    return load_digit_pair(n, (8, 9), n_test=n_test, seed=0)


@exercise_check("L_conv = 8 ln(n / delta) / mu")
def check_convergence_depth(convergence_depth) -> str:
    """Compare the learner's L_conv(n, delta) with the formula on a few values. See lesson 06."""
    from qdr_course.ntk import ERF_SCALE, MU

    for n, delta in ((16, 0.05), (256, 0.01), (2, 1.0)):
        got = convergence_depth(n, delta)
        want = 8.0 * math.log(n / delta) / MU
        if got is None:
            raise ExerciseError("your function returned None: did you forget `return`?")
        if not np.isclose(float(got), want, rtol=1e-9):
            hint = (" Use mu = 1 - 4 / (3 pi erf_scale), not erf_scale." if np.isclose(
                float(got), 8.0 * math.log(n / delta) / ERF_SCALE, rtol=1e-6) else "")
            raise ExerciseError(f"for n = {n}, delta = {delta} you returned {float(got):.6g}, "
                                f"expected {want:.6g} = 8 ln(n / delta) / mu with mu = "
                                f"{MU:.7f}.{hint}")
    return f"For n = 16, delta = 0.05: L_conv = {8 * math.log(16 / 0.05) / MU:.0f} layers."


@exercise_check("closed-form NTK of the erf network")
def check_erf_ntk(erf_ntk) -> str:
    """Compare the learner's recursion with neural-tangents' analytic kernel (depths 1 and 4).

    See lesson 06.
    """
    from qdr_course.ntk import nt_erf_ntk

    data = _digits()
    for depth in (1, 4):
        got = erf_ntk(data.x_train, data.x_test, depth)
        if got is None:
            raise ExerciseError("your function returned None: did you forget `return theta`?")
        got = np.asarray(got, dtype=np.float64)
        want = nt_erf_ntk(data.x_train, data.x_test, depth)
        if got.shape != want.shape:
            raise ExerciseError(f"shape {got.shape}, expected {want.shape} = (len(x1), len(x2))")
        err = float(np.max(np.abs(got - want)) / np.max(np.abs(want)))
        if err > 1e-10:
            hint = (" At depth 1 it is only Sigma_1 + w^2 Sigma_dot Theta_1: check the first Dense "
                    "layer (w^2 x.x'/d) and the derivative kernel." if depth == 1 else
                    " Depth 1 was right: do you update Theta with the *old* covariance before "
                    "updating it?")
            raise ExerciseError(f"at depth {depth} your kernel differs from neural-tangents' by "
                                f"{err:.2e} (relative), expected below 1e-10.{hint}")
    return "It matches neural-tangents' analytic kernel to 1e-10 at depths 1 and 4."


@exercise_check("sparsity pattern of the sparsified NTK")
def check_sparsity_pattern(sparsity_pattern) -> str:
    """Check symmetry, the diagonal, no cross-class entries and the number of nonzeros.

    See lesson 07.
    """
    from qdr_course.ntk import sparsity_pattern as reference

    y = np.repeat([1.0, -1.0], 32)[np.random.default_rng(5).permutation(64)]
    counts, ref_counts = [], []
    for seed in range(20):
        f = sparsity_pattern(y, np.random.default_rng(seed))
        if f is None:
            raise ExerciseError("your function returned None: did you forget `return`?")
        f = np.asarray(f)
        if f.shape != (64, 64):
            raise ExerciseError(f"for 64 labels the pattern must be 64 x 64, got {f.shape}")
        f = f.astype(bool)
        if not np.array_equal(f, f.T):
            raise ExerciseError("the pattern is not symmetric: use tril(F) + tril(F, -1).T")
        if not f.diagonal().all():
            raise ExerciseError("the diagonal must be kept (F_ii = 1)")
        if np.any(f & (y[:, None] != y[None, :])):
            raise ExerciseError("some entries link examples of different classes: remove them")
        counts.append(f.sum(axis=1).mean())
        ref_counts.append(reference(y, np.random.default_rng(1000 + seed)).sum(axis=1).mean())
    mean, ref = float(np.mean(counts)), float(np.mean(ref_counts))
    if abs(mean - ref) > 0.6:
        raise ExerciseError(f"on average {mean:.2f} nonzeros per row, expected about {ref:.2f}: "
                            "each row draws c ~ Binomial(n, p) columns with p = min(2 ln n / n, 1)")
    return (f"About {mean:.1f} nonzeros per row for n = 64 (2 ln n = {2 * math.log(64):.1f} "
            "drawn, half in the class).")


@exercise_check("HHL rotation angles")
def check_rotation_angles(rotation_angles) -> str:
    """Compare theta_j = 2 arcsin(C / lambda_j) (0 at lambda = 0) with the reference.

    See lesson 08.
    """
    from qdr_course.quantum.hhl import clock_eigenvalues
    from qdr_course.quantum.hhl import rotation_angles as reference

    lam = clock_eigenvalues(4, 2 * np.pi / 16)  # -8 ... 7 in steps of 1
    c = 2.0
    got = rotation_angles(lam, c)
    if got is None:
        raise ExerciseError("your function returned None: did you forget `return`?")
    got = np.asarray(got, dtype=np.float64)
    want = reference(lam, c)
    if got.shape != want.shape:
        raise ExerciseError(f"expected one angle per clock state, shape {want.shape}, got "
                            f"{got.shape}")
    if not np.isfinite(got).all():
        raise ExerciseError("some angles are nan/inf: clock state 0 (lambda = 0) gets angle 0, and "
                            "|C / lambda| > 1 must be capped at 1 before arcsin")
    bad = np.flatnonzero(~np.isclose(got, want, atol=1e-9))
    if len(bad):
        j = bad[0]
        raise ExerciseError(f"for lambda = {lam[j]:g} (clock state {j}) and C = {c} you gave "
                            f"{got[j]:.6f}, expected {want[j]:.6f}: sin(theta / 2) = C / lambda, "
                            "keeping the sign")
    return "sin(theta/2) = C/lambda puts C/lambda on the ancilla's |1> amplitude."


@exercise_check("global N/P = per-row N/P x your factor")
def check_max_factor(max_factor) -> str:
    """The learner's factor must turn per-row N/P into the paper's global N/P, row by row.

    See lesson 07. Tested on a random kernel with one large entry and on a real test kernel; the
    expected factors are never printed.
    """
    from qdr_course.ntk import erf_ntk, state_preparation_measurements

    data = _digits(8, 6)
    real = erf_ntk(data.x_test, data.x_train, 3)
    spiky = np.random.default_rng(1).uniform(-0.3, 0.3, size=(5, 12))
    spiky[2, 7] = 0.9
    for name, k in (("a random kernel with one large entry", spiky), ("a real test kernel", real)):
        got = max_factor(k)
        if got is None:
            raise ExerciseError("your function returned None: did you forget `return`?")
        got = np.asarray(got, dtype=np.float64)
        want = (state_preparation_measurements(k, "global")
                / state_preparation_measurements(k, "row"))
        if got.shape != want.shape:
            raise ExerciseError(f"return one factor per test row (shape {want.shape}), got shape "
                                f"{got.shape}")
        if not np.all(np.isfinite(got)):
            raise ExerciseError("your factors contain NaN or inf: divide by the rows' maxima of "
                                "|k|, which are positive")
        if not np.allclose(got, want, rtol=1e-9):
            hint = (" Compare squares: P adds up k_i squared." if np.allclose(got**2, want)
                    else " Should the factor be 1 for the row that holds the global maximum?")
            raise ExerciseError(f"on {name} your factors do not turn per-row N/P into global "
                                f"N/P.{hint}")
    return ("Right: the factor is 1 for the row that holds the largest entry and grows as the "
            "square of how much smaller a row's own peak is.")
