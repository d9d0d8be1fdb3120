"""Cost model: a quantum linear-system algorithm against classical solvers for NTK regression.

See lesson 08.

Costs are counted in *queries* (one kernel entry, one sparse-matrix access or one elementary
step), all constants set to 1. The model is the one the paper's argument rests on, with the
measured s, kappa, N / P and 1 / o^2 of :func:`qdr_course.ntk.trial_metrics` plugged in.

Assumptions (stated, not hidden):

- the quantum computer has cheap oracle access to the entries of the sparsified NTK and to the
  test-kernel row k_* (each entry costs one query; on real hardware every entry is an NTK
  evaluation of depth L and a QRAM-like load);
- one prediction (one test image) is one run; its cost is
  (readout + 1) x (solver + state preparation), with readout = 1 / o^2 - 1 failed measurements
  and state preparation = N / P repetitions; m predictions cost m times that (a quantum state is
  used up by measuring it), while a classical solve is done once and reused: m predictions cost
  the solve plus m n (one dot product k_*^T a each);
- s is the largest number of nonzeros in a row or column (the original's ``get_sparsity``), not
  the mean;
- HHL: log2(n) s^2 kappa^2 / eps; Childs-Kothari-Somma: s kappa log2(s kappa / eps)^2;
- classical conjugate gradient on the sparsified NTK: n s sqrt(kappa) log(2 / eps) (for a
  positive definite matrix; MINRES has the same order for an indefinite one); it reads only the
  n s kept entries, not n^2;
- dense Cholesky solve of the exact NTK: n^3 / 3 (plus n per prediction);
- the dense classical solve reads all n^2 entries; the quantum side reads none explicitly:
  that, and the log n vs n scaling, is the whole claimed speed-up;
- dequantised (diagonal NTK, prediction k_*^T y): with the same sample-and-query access a QRAM
  gives, a classical sampler needs about 1/o^2 samples of log2(n) steps each per prediction,
  whatever n is (:mod:`qdr_course.ntk.dequantised`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

ASSUMPTIONS = __doc__.split("Assumptions (stated, not hidden):")[1].strip()
SOLVERS = ("hhl", "cks")


def _validate(n: float, s: float, kappa: float, eps: float) -> None:
    """Validate the cost-model inputs."""
    if not n >= 2:
        raise ValueError(f"n must be >= 2, got {n}")
    if not 1 <= s <= n:
        raise ValueError(f"s (nonzeros per row) must be between 1 and n = {n}, got {s}")
    if not kappa >= 1:
        raise ValueError(f"kappa must be >= 1 (a condition number), got {kappa}")
    if not 0 < eps < 1:
        raise ValueError(f"eps must be in (0, 1), got {eps}")


def hhl_queries(n: float, s: float, kappa: float, eps: float = 0.01) -> float:
    """HHL: log2(n) s^2 kappa^2 / eps."""
    _validate(n, s, kappa, eps)
    return math.log2(n) * s**2 * kappa**2 / eps


def cks_queries(n: float, s: float, kappa: float, eps: float = 0.01) -> float:
    """Childs-Kothari-Somma: s kappa log2(s kappa / eps)^2."""
    _validate(n, s, kappa, eps)
    return s * kappa * math.log2(s * kappa / eps) ** 2


def cg_queries(n: float, s: float, kappa: float, eps: float = 0.01) -> float:
    """Conjugate gradient on a sparse matrix: n s sqrt(kappa) log(2 / eps)."""
    _validate(n, s, kappa, eps)
    return n * s * math.sqrt(kappa) * math.log(2.0 / eps)


def dense_queries(n: float) -> float:
    """Dense Cholesky solve of the exact n x n NTK: n^3 / 3."""
    if not n >= 2:
        raise ValueError(f"n must be >= 2, got {n}")
    return n**3 / 3.0


def quantum_queries(n: float, s: float, kappa: float, state_prep: float, readout: float,
                    eps: float = 0.01, solver: str = "hhl") -> float:
    """One prediction: (readout + 1) x (solver + state preparation N / P)."""
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    if not state_prep >= 1 or not readout >= 0:
        raise ValueError("state_prep (N/P) must be >= 1 and readout (1/o^2 - 1) >= 0, got "
                         f"{state_prep}, {readout}")
    solve = (hhl_queries if solver == "hhl" else cks_queries)(n, s, kappa, eps)
    return (readout + 1.0) * (solve + state_prep)


def dequantised_queries(n: float, readout: float) -> float:
    """Classical sampling readout of the diagonal NTK: (1/o^2) samples x log2(n) steps each."""
    if not n >= 2 or not readout >= 0:
        raise ValueError(f"need n >= 2 and readout (1/o^2 - 1) >= 0, got {n}, {readout}")
    return (readout + 1.0) * math.log2(n)


def cost_table(records: Sequence[dict], eps: float = 0.01, n_predictions: int = 1) -> list[dict]:
    """Median s (max per column), kappa, N/P, 1/o^2 per n from a sweep, and the costs of
    ``n_predictions`` predictions. See lesson 08.
    """
    if not records:
        raise ValueError("records is empty: run qdr_course.ntk.sweep first")
    if not isinstance(n_predictions, (int, np.integer)) or n_predictions < 1:
        raise ValueError(f"n_predictions must be a positive integer, got {n_predictions!r}")
    m = n_predictions
    rows = []
    for n in sorted({r["n"] for r in records}):
        group = [r for r in records if r["n"] == n]
        med = {key: float(np.median([r[key] for r in group]))
               for key in ("s_col_max", "kappa_sparse", "state_prep", "readout_sparse",
                           "readout_diag")}
        s, kappa = min(med["s_col_max"], n), med["kappa_sparse"]
        prep, readout = med["state_prep"], med["readout_sparse"]
        rows.append(dict(
            n=n, s=s, kappa=kappa, state_prep=prep, readout=readout,
            hhl=m * quantum_queries(n, s, kappa, prep, readout, eps, "hhl"),
            cks=m * quantum_queries(n, s, kappa, prep, readout, eps, "cks"),
            cg=cg_queries(n, s, kappa, eps) + m * n, dense=dense_queries(n) + n * n + m * n,
            dequantised=m * dequantised_queries(n, med["readout_diag"]),
        ))
    return rows
