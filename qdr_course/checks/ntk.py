"""Exercise checks for lessons 06 (the NTK), 07 (the sparsified NTK) and 08 (HHL and readout)."""

from __future__ import annotations

import math

import numpy as np

from qdr_course.checks._core import ExerciseError, exercise_check

__all__ = ["check_erf_ntk", "check_sparsity_pattern", "check_depth_growth",
           "check_width_gap_prediction", "check_clock_reading", "check_success_prediction",
           "check_max_factor"]


def _digits(n: int = 6, n_test: int = 4):
    """A small, fixed digit pair for the checks."""
    from qdr_course.ntk import load_digit_pair

    return load_digit_pair(n, (8, 9), n_test=n_test, seed=0)


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


def _relative_verdict(got, want: float, rel_tol: float, name: str) -> None:
    """Raise an ExerciseError saying 'too large' or 'too small' (never the answer)."""
    if got is None:
        raise ExerciseError(f"{name} is None: put your number in it")
    got = float(got)
    if abs(got - want) > rel_tol * abs(want):
        raise ExerciseError(f"{name} is {'too large' if got > want else 'too small'} (more than "
                            f"{rel_tol:.0%} off)")


def _two_numbers(my_prediction, names: tuple[str, str]) -> tuple:
    """``my_prediction()`` as two numbers, or a one-line error."""
    got = my_prediction()
    if got is None or not isinstance(got, (tuple, list)) or len(got) != 2:
        raise ExerciseError(f"my_prediction() must return two numbers: ({names[0]}, {names[1]})")
    return tuple(got)


@exercise_check("how L_conv grows")
def check_depth_growth(my_prediction) -> str:
    """``my_prediction()`` = layers L_conv gains when n doubles, and when delta halves.

    See lesson 06.
    """
    from qdr_course.ntk import MU

    extra_layers_double_n, extra_layers_half_delta = _two_numbers(
        my_prediction, ("extra_layers_double_n", "extra_layers_half_delta"))
    want = 8.0 * math.log(2.0) / MU
    _relative_verdict(extra_layers_double_n, want, 0.05, "extra_layers_double_n")
    _relative_verdict(extra_layers_half_delta, want, 0.05, "extra_layers_half_delta")
    return ("L_conv depends on n and delta only through ln(n / delta): doubling n and halving "
            "delta both add 8 ln 2 / mu layers - about 6 at the paper's depth factor 0.1.")


@exercise_check("width against the kernel prediction")
def check_width_gap_prediction(my_prediction) -> str:
    """``my_prediction()`` = the factor by which the network-NTK gap falls from width 64 to 4096.

    See lesson 06.
    """
    gap_factor = my_prediction()
    if gap_factor is None:
        raise ExerciseError("my_prediction() returned None: return your factor")
    factor = float(gap_factor)
    if not 8 / 1.6 <= factor <= 8 * 1.6:
        raise ExerciseError(f"{factor:g} is {'too large' if factor > 8 else 'too small'}: how "
                            "does the spread of a sum of `width` independent random terms, each "
                            "scaled by 1/sqrt(width), shrink as the width grows?")
    return "The fluctuations of a finite network around the kernel fall like 1/sqrt(width)."


@exercise_check("clock reading")
def check_clock_reading(clock_reading) -> str:
    """The clock value phase estimation most likely reads for an eigenvalue (lesson 08)."""
    from qdr_course.quantum.hhl import clock_reading as reference

    t = 2 * np.pi / 16
    cases = [(3.0, t, 4), (-2.0, t, 4), (2.4, t, 4), (-0.3, t, 4), (1.0, 2 * np.pi / 64, 6),
             (-5.2, 2 * np.pi / 64, 6)]
    for lam, tt, m in cases:
        got = clock_reading(lam, tt, m)
        if got is None:
            raise ExerciseError("your function returned None: did you forget `return`?")
        if not isinstance(got, (int, np.integer)) and not float(got).is_integer():
            raise ExerciseError(f"return a whole clock value j in 0 .. 2^m - 1, got {got!r}")
        if int(got) != reference(lam, tt, m):
            sign = "a negative" if lam < 0 else "an off-grid" if not (lam * tt * 2**m / (
                2 * np.pi)).is_integer() else "an on-grid"
            raise ExerciseError(f"wrong for {sign} eigenvalue (lambda = {lam}, m = {m}): the "
                                "phase is lambda t / (2 pi), taken modulo 1, and the clock holds "
                                "the nearest multiple of 1 / 2^m")
    return "Negative eigenvalues land in the upper half of the clock: two's complement."


@exercise_check("HHL success probability")
def check_success_prediction(my_prediction) -> str:
    """``my_prediction()`` = P(ancilla = 1) with b along the largest and the smallest eigenvector.

    See lesson 08. The matrix has eigenvalues 1, 2, 5, 10 and C = 1 (on the clock grid).
    """
    p_along_largest, p_along_smallest = _two_numbers(
        my_prediction, ("p_along_largest", "p_along_smallest"))
    _relative_verdict(p_along_largest, 0.01, 0.1, "p_along_largest")
    _relative_verdict(p_along_smallest, 1.0, 0.1, "p_along_smallest")
    return ("The ancilla's |1> amplitude is C / lambda: 1 / kappa for the largest eigenvalue, so "
            "the probability is 1 / kappa^2 in the worst case.")


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

