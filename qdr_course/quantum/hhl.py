"""A real HHL circuit in Qiskit for small Hermitian systems A x = b. See lesson 07.

Qiskit removed its ``HHL`` solver (deprecated in 0.22, removed in 0.24), so the course builds the
algorithm from its parts (Harrow, Hassidim and Lloyd, PRL 103, 150502, 2009):

1. prepare |b> on ``log2 N`` system qubits (``StatePreparation``);
2. quantum phase estimation of U = exp(i A t) on ``num_clock`` clock qubits, so the clock holds
   the eigenvalue lambda_j of each eigenvector |u_j> of A (two's complement: negative
   eigenvalues are allowed);
3. a rotation of one ancilla controlled by the clock, RY(theta) with sin(theta / 2) = C / lambda
   (``UCRYGate``), so the ancilla's |1> branch carries C sum_j beta_j / lambda_j |u_j>;
4. the inverse phase estimation (uncompute), and post-selection of ancilla = 1.

The powers of U are exact matrix exponentials (``UnitaryGate``), not Trotterised Hamiltonian
simulation: the circuit is exact, small (N = 2, 4 or 8) and simulated, a teaching model of the
algorithm, not a claim of speed.

>>> A = np.array([[2.0, -1.0], [-1.0, 2.0]])
>>> result = HHL(A, num_clock=4, t=2 * np.pi / 16).solve([1.0, 0.0])  # eigenvalues 1, 3 on the grid
>>> round(result.fidelity, 6), round(result.success_probability, 4)
(1.0, 0.5556)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from qdr_course import validate

#: Largest system HHL simulates here: 3 system qubits, an 8 x 8 matrix.
MAX_SYSTEM_QUBITS = 3
#: Allowed clock-register sizes.
MIN_CLOCK, MAX_CLOCK = 2, 10
#: Phase lambda_max t / 2 pi given to the largest eigenvalue when t is chosen automatically.
PHASE_OF_LAMBDA_MAX = 3 / 8


def hermitian_matrix(matrix) -> np.ndarray:
    """Return A as a complex array after checking it is a Hermitian 2x2, 4x4 or 8x8 matrix."""
    a = np.asarray(matrix)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"A must be a square matrix, got shape {a.shape}")
    n = a.shape[0]
    if n < 2 or n & (n - 1):
        raise ValueError(f"A must be 2^k x 2^k (2x2, 4x4 or 8x8) for the HHL circuit, got {n}x{n}; "
                         "pad it with an identity block to the next power of two")
    if n > 2**MAX_SYSTEM_QUBITS:
        raise ValueError(f"A is {n}x{n}: too large for the simulated HHL circuit (at most "
                         f"{2**MAX_SYSTEM_QUBITS}x{2**MAX_SYSTEM_QUBITS}); solve it classically or "
                         "sparsify a smaller block")
    if not np.all(np.isfinite(a)):
        raise ValueError("A contains nan or inf")
    if not np.allclose(a, a.conj().T, atol=1e-12 * max(1.0, np.abs(a).max())):
        raise ValueError("A must be Hermitian (A == A^dagger); for a general matrix solve the "
                         "Hermitian system [[0, A], [A^dagger, 0]] (twice the size) instead")
    return a.astype(np.complex128)


def clock_eigenvalues(num_clock: int, t: float) -> np.ndarray:
    """Eigenvalue lambda~_j = 2 pi phi_j / t that clock state j stands for (two's complement
    phases).
    """
    j = np.arange(2**num_clock)
    phase = np.where(j < 2 ** (num_clock - 1), j, j - 2**num_clock) / 2**num_clock
    return 2.0 * np.pi * phase / t


def rotation_angles(eigenvalues: np.ndarray, c: float) -> np.ndarray:
    """theta_j = 2 arcsin(C / lambda~_j), 0 for lambda~ = 0, and +-pi where |C / lambda~| > 1.

    See lesson 07.

    The ancilla's |1> amplitude is sin(theta/2) = C / lambda~. Clock states with |lambda~| < C
    (reached only by phase-estimation leakage when C <= min |lambda|) get the largest possible
    amplitude, +-1.
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    if not c > 0:
        raise ValueError(f"C must be positive, got {c}")
    ratio = np.divide(c, lam, out=np.zeros_like(lam), where=lam != 0)
    return 2.0 * np.arcsin(np.clip(ratio, -1.0, 1.0))


@dataclass
class HHLResult:
    """Outcome of one HHL run (exact statevector simulation)."""

    solution: np.ndarray           # post-selected system state (phase of its largest entry fixed)
    classical: np.ndarray          # A^-1 b / ||A^-1 b||
    fidelity: float                # <x|rho|x> of the post-selected system state
    success_probability: float     # P(ancilla = 1)
    clock_leakage: float           # P(clock != 0 | ancilla = 1): imperfect uncomputation


class HHL:
    """HHL solver for a small Hermitian matrix: build, simulate and read out the circuit.

    See lesson 07.

    Parameters: ``matrix`` (Hermitian, 2x2 to 8x8), ``num_clock`` (phase-estimation qubits),
    ``lambda_max`` and ``lambda_min`` (bounds on |eigenvalues|; by default from a classical
    eigen-decomposition, which a real use would replace by known bounds). The evolution time t
    defaults to lambda_max at phase 3/8 (a margin before the two's-complement sign wraps at 1/2);
    C = lambda_min rounded to the clock grid. Eigenvalues on the grid make the circuit exact.

    >>> hhl = HHL(np.diag([1.0, 2.0, 4.0, -4.0]), num_clock=5, t=2 * np.pi / 16)
    >>> hhl.circuit([1, 1, 1, 1]).num_qubits
    8
    >>> r = hhl.solve([1, 1, 1, 1])
    >>> round(r.fidelity, 6), round(r.success_probability, 6)
    (1.0, 0.34375)
    """

    def __init__(self, matrix, num_clock: int = 6, lambda_max: float | None = None,
                 lambda_min: float | None = None, t: float | None = None):
        self.matrix = hermitian_matrix(matrix)
        if not isinstance(num_clock, (int, np.integer)) or not MIN_CLOCK <= num_clock <= MAX_CLOCK:
            raise ValueError(f"num_clock must be an integer from {MIN_CLOCK} to {MAX_CLOCK}, got "
                             f"{num_clock!r}")
        self.num_clock = int(num_clock)
        self.num_system = int(round(math.log2(self.matrix.shape[0])))
        eig = np.linalg.eigvalsh(self.matrix)
        if np.abs(eig).min() <= 1e-12 * np.abs(eig).max():
            raise ValueError("A is singular (an eigenvalue is 0): A x = b has no unique solution")
        self.lambda_max = float(np.abs(eig).max()) if lambda_max is None else float(lambda_max)
        self.lambda_min = float(np.abs(eig).min()) if lambda_min is None else float(lambda_min)
        if not 0 < self.lambda_min <= self.lambda_max:
            raise ValueError(f"need 0 < lambda_min <= lambda_max, got {self.lambda_min}, "
                             f"{self.lambda_max}")
        # lambda_max at phase 3/8: a margin of 2^m / 8 clock steps before the sign wraps (at 1/2),
        # so phase-estimation leakage of the largest eigenvalues cannot flip their sign.
        self.t = 2.0 * np.pi * PHASE_OF_LAMBDA_MAX / self.lambda_max if t is None else float(t)
        if not self.t > 0 or self.lambda_max * self.t / (2 * np.pi) >= 0.5:
            raise ValueError(f"t = {self.t} must be positive and map |lambda| <= {self.lambda_max} "
                             "to phases below 1/2 (two's complement); leave t=None to choose it")
        self.grid = clock_eigenvalues(self.num_clock, self.t)
        step = self.grid[1]
        self.c = max(step, step * math.floor(self.lambda_min / step + 0.5))
        self.angles = rotation_angles(self.grid, self.c)

    @property
    def condition_number(self) -> float:
        """kappa = max|lambda| / min|lambda| of A. See lesson 07."""
        eig = np.abs(np.linalg.eigvalsh(self.matrix))
        return float(eig.max() / eig.min())

    def _phase_estimation(self):
        """QPE of exp(i A t) on the clock register (system qubits first)."""
        from qiskit import QuantumCircuit
        from qiskit.circuit.library import QFTGate, UnitaryGate
        from scipy.linalg import expm

        ns, m = self.num_system, self.num_clock
        qc = QuantumCircuit(ns + m, name="QPE")
        clock = list(range(ns, ns + m))
        qc.h(clock)
        for k, q in enumerate(clock):
            u = UnitaryGate(expm(1j * self.t * 2**k * self.matrix), label=f"U^{2**k}")
            qc.append(u.control(1), [q, *range(ns)])
        qc.append(QFTGate(m).inverse(), clock)
        return qc

    def circuit(self, b, readout=None, measure: bool = False):
        """The HHL circuit for |b>; with ``readout`` = k, also undo the preparation of |k>.

        See lesson 07.

        Qubits: system 0..log2 N - 1, clock, then the ancilla (last). With ``measure``, the
        ancilla and the system register are measured (classical bits: system, then ancilla).
        """
        from qiskit import QuantumCircuit
        from qiskit.circuit.library import StatePreparation, UCRYGate

        b = self._validate_vector(b, "b")
        ns, m = self.num_system, self.num_clock
        qc = QuantumCircuit(ns + m + 1, name="HHL")
        qc.append(StatePreparation(b.astype(np.complex128)), range(ns))
        qpe = self._phase_estimation()
        qc.compose(qpe, range(ns + m), inplace=True)
        qc.append(UCRYGate(list(self.angles)), [ns + m, *range(ns, ns + m)])
        qc.compose(qpe.inverse(), range(ns + m), inplace=True)
        if readout is not None:
            k = self._validate_vector(readout, "readout")
            qc.append(StatePreparation(k.astype(np.complex128)).inverse(), range(ns))
        if measure:
            qc.measure_all()
        return qc

    def _validate_vector(self, v, name: str) -> np.ndarray:
        """A right-hand side or readout vector, as a unit vector."""
        v = np.asarray(v, dtype=np.complex128).ravel()
        if v.shape != (self.matrix.shape[0],):
            raise ValueError(f"{name} must have {self.matrix.shape[0]} entries (one per row of A), "
                             f"got {v.shape[0]}")
        norm = np.linalg.norm(v)
        if not np.isfinite(norm) or norm == 0:
            raise ValueError(f"{name} must be a finite, nonzero vector")
        return v / norm

    def solve(self, b) -> HHLResult:
        """Simulate the circuit exactly and compare with A^-1 b. See lesson 07."""
        from qiskit.quantum_info import Statevector

        b = self._validate_vector(b, "b")
        amp = Statevector(self.circuit(b)).data.reshape(2, 2**self.num_clock, 2**self.num_system)
        branch = amp[1]  # ancilla = 1: [clock, system]
        p_success = float(np.sum(np.abs(branch) ** 2))
        classical = np.linalg.solve(self.matrix, b)
        classical /= np.linalg.norm(classical)
        fidelity = float(np.sum(np.abs(branch @ classical.conj()) ** 2) / p_success)
        main = branch[0] / np.linalg.norm(branch[0])
        overlap = np.vdot(classical, main)
        solution = main * (np.conj(overlap) / abs(overlap) if abs(overlap) > 0 else 1.0)
        leak = 1.0 - float(np.sum(np.abs(branch[0]) ** 2)) / p_success
        return HHLResult(solution, classical, fidelity, p_success, leak)

    def estimate_overlap(self, b, readout, shots: int = 4000, seed: int = 0) -> dict:
        """Estimate |<k|x>|^2 from shots: P(system = 0 and ancilla = 1) / P(ancilla = 1).

        See lesson 07.

        Runs the measured circuit on Aer's SamplerV2 (real sampled shots); returns the estimate,
        its binomial standard error, the exact value and the shot counts.
        """
        from qiskit import transpile
        from qiskit_aer.primitives import SamplerV2

        validate.shots(shots)
        b = self._validate_vector(b, "b")
        k = self._validate_vector(readout, "readout")
        # Decompose to u + cx first: Aer 0.18.2 crashes (segfault) on the controlled 8x8 unitaries.
        qc = transpile(self.circuit(b, readout=k, measure=True), basis_gates=["u", "cx"],
                       optimization_level=1, seed_transpiler=seed)
        counts = SamplerV2(seed=seed).run([qc], shots=shots).result()[0].data.meas.get_counts()
        ns, m = self.num_system, self.num_clock
        success = hits = 0
        for bits, count in counts.items():
            value = int(bits, 2)
            if value >> (ns + m) & 1:  # ancilla (the last qubit) measured 1
                success += count
                if value & (2**ns - 1) == 0:
                    hits += count
        if success == 0:
            raise RuntimeError(f"no shot succeeded (ancilla = 1) in {shots} shots; use more shots")
        estimate = hits / success
        x = np.linalg.solve(self.matrix, b)
        exact = float(abs(np.vdot(k, x / np.linalg.norm(x))) ** 2)
        return dict(estimate=estimate,
                    stderr=math.sqrt(max(estimate * (1 - estimate), 1e-12) / success), exact=exact,
                    successes=success, shots=shots)


def matrix_with_condition_number(kappa: float, dim: int = 4, seed: int = 0) -> np.ndarray:
    """A random real symmetric matrix with eigenvalues spread from 1/kappa to 1. See lesson 07."""
    if not kappa >= 1:
        raise ValueError(f"kappa must be >= 1, got {kappa}")
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    eig = np.geomspace(1.0 / kappa, 1.0, dim)
    return (q * eig) @ q.T
