"""Cost model: a quantum linear-system algorithm against classical solvers for NTK regression.

See lesson 08.

Costs are counted in *queries* (one kernel entry, one sparse-matrix access or one elementary
step), all constants set to 1. The model is the one the paper's argument rests on, with the
measured s, kappa, N / P and 1 / o^2 of :func:`qdr_course.ntk.trial_metrics` plugged in, and
the SAME access on both sides.

Assumptions (stated, not hidden):

- equal access: both sides read the test-kernel row k_* (fresh for every test image) through the
  same oracle, one query per entry; drawing i with probability k_i^2 / ||k||^2 is rejection
  sampling on it (propose i uniformly, accept with probability k_i^2 for |k_i| <= 1), N / P
  proposals per draw on average - classically a sample, quantumly the flagged state |k_*> of
  lesson 08. (A sampling data structure instead - a QRAM tree - costs n queries to build for each
  fresh k_* on both sides, then log2 n per draw: no side gains.) The quantum side reads the
  sparsified NTK through a sparse-access oracle (one query per entry, an inverted index for the
  symmetrised pattern), the classical conjugate gradient through the same n s entries;
- compare like with like: HHL, CKS and conjugate gradient answer the sparsified NTK
  (o = <k_*|K~^-1 y>); the quantum readout of |y>, the classical sampler and the dot product
  k_*^T y answer the diagonal NTK (o = <k_*|y>, the paper's depth);
- plain quantum (no amplitude amplification or estimation): a Hadamard test against the flagged
  |k_*> and the solver's ancilla reads Re(sqrt(P/N) sqrt(p_succ) o), so the sign needs about
  (N/P) / (p_succ o^2) shots, each one solver run plus one query; p_succ = 1 / kappa^2, HHL's
  worst case (b along the largest eigenvalue, C = lambda_min); one HHL run is
  log2(n) s^2 kappa / eps (Hamiltonian simulation for time ~ kappa / eps), one CKS run
  s kappa log2(s kappa / eps)^2;
- best-case quantum (amplitude amplification and estimation): |k_*> in sqrt(N/P) queries, the
  solver amplified to success (HHL log2(n) s^2 kappa^2 / eps, CKS s kappa log2(s kappa / eps)^2
  with variable-time amplification), and the sign read by amplitude estimation in about 1/|o|
  repetitions of both (Brassard et al. 2002);
- one prediction (one test image) uses its quantum state up: m predictions cost m times one,
  while a classical solve is done once and reused: conjugate gradient on the sparsified NTK,
  n s sqrt(kappa) log(2 / eps) (positive definite; MINRES has the same order for an indefinite
  matrix), plus n per prediction (k_*^T a); the dense Cholesky solve of the exact NTK reads all
  n^2 entries and costs n^3 / 3, plus n per prediction;
- classical sampler (diagonal NTK, the dequantisation of lesson 08): 1/o^2 draws, each N/P
  proposals plus one query of y_i; the sign needs neither ||k|| nor ||y|| (positive factors);
- s is the largest number of nonzeros in a row or column (the original's ``get_sparsity``), not
  the mean; every number is a median over the sweep's trials.
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


def _validate_readout(state_prep: float, readout: float) -> None:
    """N / P >= 1 and 1 / o^2 - 1 >= 0, or a one-line error."""
    if not state_prep >= 1 or not readout >= 0:
        raise ValueError("state_prep (N/P) must be >= 1 and readout (1/o^2 - 1) >= 0, got "
                         f"{state_prep}, {readout}")


def hhl_queries(n: float, s: float, kappa: float, eps: float = 0.01) -> float:
    """HHL amplified to success: log2(n) s^2 kappa^2 / eps. See lesson 08."""
    _validate(n, s, kappa, eps)
    return math.log2(n) * s**2 * kappa**2 / eps


def hhl_run_queries(n: float, s: float, kappa: float, eps: float = 0.01) -> float:
    """One HHL run, no amplification: log2(n) s^2 kappa / eps. See lesson 08."""
    _validate(n, s, kappa, eps)
    return math.log2(n) * s**2 * kappa / eps


def cks_queries(n: float, s: float, kappa: float, eps: float = 0.01) -> float:
    """Childs-Kothari-Somma: s kappa log2(s kappa / eps)^2. See lesson 08."""
    _validate(n, s, kappa, eps)
    return s * kappa * math.log2(s * kappa / eps) ** 2


def worst_success_probability(kappa: float) -> float:
    """HHL's post-selection probability with C = lambda_min and b along lambda_max: 1/kappa^2.

    See lesson 08.
    """
    if not kappa >= 1:
        raise ValueError(f"kappa must be >= 1 (a condition number), got {kappa}")
    return 1.0 / kappa**2


def cg_queries(n: float, s: float, kappa: float, eps: float = 0.01) -> float:
    """Conjugate gradient on a sparse matrix: n s sqrt(kappa) log(2 / eps). See lesson 08."""
    _validate(n, s, kappa, eps)
    return n * s * math.sqrt(kappa) * math.log(2.0 / eps)


def dense_queries(n: float) -> float:
    """Dense Cholesky solve of the exact n x n NTK: n^3 / 3. See lesson 08."""
    if not n >= 2:
        raise ValueError(f"n must be >= 2, got {n}")
    return n**3 / 3.0


def quantum_queries(n: float, s: float, kappa: float, state_prep: float, readout: float,
                    eps: float = 0.01, solver: str = "hhl", amplified: bool = False) -> float:
    """One prediction on the sparsified NTK through HHL or CKS. See lesson 08.

    Plain: (N/P) kappa^2 / o^2 Hadamard-test shots x (one solver run + 1 query).
    ``amplified``: (1/|o|) x (solver amplified to success + sqrt(N/P)).
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    _validate_readout(state_prep, readout)
    inverse_o2 = readout + 1.0
    if amplified:
        solve = (hhl_queries if solver == "hhl" else cks_queries)(n, s, kappa, eps)
        return math.sqrt(inverse_o2) * (solve + math.sqrt(state_prep))
    run = (hhl_run_queries if solver == "hhl" else cks_queries)(n, s, kappa, eps)
    shots = state_prep * inverse_o2 / worst_success_probability(kappa)
    return shots * (run + 1.0)


def quantum_readout_queries(state_prep: float, readout: float, amplified: bool = False) -> float:
    """One prediction of the diagonal NTK: the sign of <k_*|y> from a Hadamard test.

    See lesson 08. Plain: (N/P) / o^2 shots of 2 queries (k_i and y_i); ``amplified``:
    (1/|o|) x (sqrt(N/P) + 1).
    """
    _validate_readout(state_prep, readout)
    if amplified:
        return math.sqrt(readout + 1.0) * (math.sqrt(state_prep) + 1.0)
    return state_prep * (readout + 1.0) * 2.0


def sampler_queries(state_prep: float, readout: float) -> float:
    """Classical sampler of the diagonal NTK with the same oracle: (1/o^2) (N/P + 1).

    See lesson 08.
    """
    _validate_readout(state_prep, readout)
    return (readout + 1.0) * (state_prep + 1.0)


def tree_sampler_queries(n: float, readout: float) -> float:
    """Classical sampler with a sampling tree over k_*: build n, then (1/o^2) (log2 n + 1).

    See lesson 08.
    """
    if not n >= 2 or not readout >= 0:
        raise ValueError(f"need n >= 2 and readout (1/o^2 - 1) >= 0, got {n}, {readout}")
    return n + (readout + 1.0) * (math.log2(n) + 1.0)


#: The columns of :func:`cost_table`: (key, what the kernel is, what the cost covers).
COLUMNS = (
    ("hhl", "sparsified", "HHL, plain (no amplitude amplification or estimation)"),
    ("hhl_aa", "sparsified", "HHL, amplitude amplification and estimation (best case)"),
    ("cks", "sparsified", "CKS, plain"),
    ("cks_aa", "sparsified", "CKS, amplitude amplification and estimation (best case)"),
    ("cg", "sparsified", "conjugate gradient, solved once, n per prediction"),
    ("dense", "exact", "dense Cholesky, solved once, n per prediction"),
    ("q_diag", "diagonal", "quantum Hadamard test of <k_*|y>, plain"),
    ("q_diag_aa", "diagonal", "quantum readout with amplitude amplification and estimation"),
    ("sampler", "diagonal", "classical sampler, same rejection-sampling oracle"),
    ("tree", "diagonal", "classical sampler on a sampling tree built per k_*"),
    ("dot", "diagonal", "classical dot product k_*^T y, n per prediction"),
)


def cost_table(records: Sequence[dict], eps: float = 0.01, n_predictions: int = 1) -> list[dict]:
    """Median s (max per column), kappa, N/P, 1/o^2 per n from a sweep, and the costs of
    ``n_predictions`` predictions (the keys of :data:`COLUMNS`). See lesson 08.
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
        prep, readout, diag = med["state_prep"], med["readout_sparse"], med["readout_diag"]
        solver = {f"{name}{suffix}": m * quantum_queries(n, s, kappa, prep, readout, eps, name,
                                                         amplified=bool(suffix))
                  for name in SOLVERS for suffix in ("", "_aa")}
        rows.append(dict(
            n=n, s=s, kappa=kappa, state_prep=prep, readout=readout, readout_diag=diag,
            **solver,
            cg=cg_queries(n, s, kappa, eps) + m * n, dense=dense_queries(n) + n * n + m * n,
            q_diag=m * quantum_readout_queries(prep, diag),
            q_diag_aa=m * quantum_readout_queries(prep, diag, amplified=True),
            sampler=m * sampler_queries(prep, diag), tree=m * tree_sampler_queries(n, diag),
            dot=m * n,
        ))
    return rows
