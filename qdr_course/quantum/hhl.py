"""A real HHL circuit in Qiskit for small Hermitian systems A x = b, and a sign readout.

See lesson 08.

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

Also here: a phase-estimation primer (:func:`phase_estimation_probabilities`) and the Hadamard
test (:func:`hadamard_test_circuit`, :func:`sign_readout`, :meth:`HHL.sign_readout`), which reads
the *sign* of an overlap from measurement counts alone.

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


def clock_reading(eigenvalue: float, t: float, num_clock: int) -> int:
    """The clock value phase estimation of exp(i A t) most likely reads for ``eigenvalue``.

    See lesson 08. The phase lambda t / 2 pi modulo 1 (two's complement for lambda < 0),
    rounded to the nearest multiple of 1 / 2^m.
    """
    if not np.isfinite(eigenvalue) or not t > 0:
        raise ValueError(f"need a finite eigenvalue and t > 0, got {eigenvalue}, {t}")
    steps = 2**num_clock
    return int(np.floor((eigenvalue * t / (2 * np.pi)) % 1.0 * steps + 0.5)) % steps


def rotation_angles(eigenvalues: np.ndarray, c: float) -> np.ndarray:
    """theta_j = 2 arcsin(C / lambda~_j), 0 for lambda~ = 0, and +-pi where |C / lambda~| > 1.

    See lesson 08.

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

    solution: np.ndarray           # post-selected system state, with the phase the circuit gives
    classical: np.ndarray          # A^-1 b / ||A^-1 b||
    fidelity: float                # <x|rho|x> of the post-selected system state
    success_probability: float     # P(ancilla = 1)
    clock_leakage: float           # P(clock != 0 | ancilla = 1): imperfect uncomputation


class HHL:
    """HHL solver for a small Hermitian matrix: build, simulate and read out the circuit.

    See lesson 08.

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

    def __init__(self, matrix, num_clock: int = 8, lambda_max: float | None = None,
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
        true_max, true_min = float(np.abs(eig).max()), float(np.abs(eig).min())
        if self.lambda_max < true_max * (1 - 1e-9):  # its phases would wrap: a wrong answer
            raise ValueError(f"lambda_max = {self.lambda_max:g} is below A's largest |eigenvalue| "
                             f"{true_max:g}; give an upper bound (>= {true_max:g}) or leave "
                             "lambda_max=None")
        if self.lambda_min > true_min * (1 + 1e-9):  # C / lambda would exceed 1
            raise ValueError(f"lambda_min = {self.lambda_min:g} is above A's smallest "
                             f"|eigenvalue| {true_min:g}; give a lower bound (<= {true_min:g}) "
                             "or leave lambda_min=None")
        # lambda_max at phase 3/8: a margin of 2^m / 8 clock steps before the sign wraps (at 1/2),
        # so phase-estimation leakage of the largest eigenvalues cannot flip their sign.
        self.t = 2.0 * np.pi * PHASE_OF_LAMBDA_MAX / self.lambda_max if t is None else float(t)
        if not self.t > 0 or self.lambda_max * self.t / (2 * np.pi) >= 0.5:
            raise ValueError(f"t = {self.t} must be positive and map |lambda| <= {self.lambda_max} "
                             "to phases below 1/2 (two's complement); leave t=None to choose it")
        self.grid = clock_eigenvalues(self.num_clock, self.t)
        step = self.grid[1]
        if true_min < step / 2:  # phase estimation reads it as 0: that part of b is lost
            raise ValueError(f"A's smallest |eigenvalue| {true_min:.3g} is below half the clock's "
                             f"resolution {step:.3g} (kappa = {true_max / true_min:.3g}): HHL "
                             f"would lose it; use more clock qubits (at most {MAX_CLOCK}) or a "
                             "better-conditioned A")
        self.c = max(step, step * math.floor(self.lambda_min / step + 0.5))
        self.angles = rotation_angles(self.grid, self.c)

    @property
    def condition_number(self) -> float:
        """kappa = max|lambda| / min|lambda| of A. See lesson 08."""
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

        See lesson 08.

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
        """Simulate the circuit exactly and compare with A^-1 b. See lesson 08.

        ``solution`` keeps the phase the circuit produces: nothing is taken from the classical
        answer, which is used only to compute ``fidelity``.
        """
        from qiskit.quantum_info import Statevector

        b = self._validate_vector(b, "b")
        amp = Statevector(self.circuit(b)).data.reshape(2, 2**self.num_clock, 2**self.num_system)
        branch = amp[1]  # ancilla = 1: [clock, system]
        p_success = float(np.sum(np.abs(branch) ** 2))
        classical = np.linalg.solve(self.matrix, b)
        classical /= np.linalg.norm(classical)
        fidelity = float(np.sum(np.abs(branch @ classical.conj()) ** 2) / p_success)
        solution = branch[0] / np.linalg.norm(branch[0])  # no phase borrowed from `classical`
        leak = 1.0 - float(np.sum(np.abs(branch[0]) ** 2)) / p_success
        return HHLResult(solution, classical, fidelity, p_success, leak)

    def estimate_overlap(self, b, readout, shots: int = 4000, seed: int = 0) -> dict:
        """Estimate |<k|x>|^2 from shots: P(system = 0 and ancilla = 1) / P(ancilla = 1).

        See lesson 08.

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

    def sign_readout(self, b, readout, shots: int = 4000, seed: int = 0) -> dict:
        """Sign of <k|A^-1 b> from a Hadamard test on Aer's sampler: counts only. See lesson 08.

        The test compares the whole HHL state with |k>|clock 0>|ancilla 1>: P(0) - P(1) of its
        control qubit is Re<k|C A^-1 b> (C > 0, up to the small phase-estimation error), so its
        sign is the sign of the overlap o. Nothing of the classical solution is used.
        """
        from qiskit import QuantumCircuit
        from qiskit.circuit.library import StatePreparation

        b = self._validate_vector(b, "b")
        k = self._validate_vector(readout, "readout")
        ns, m = self.num_system, self.num_clock
        reference = QuantumCircuit(ns + m + 1, name="ref")
        reference.append(StatePreparation(k.astype(np.complex128)), range(ns))
        reference.x(ns + m)  # the ancilla's success branch
        return run_hadamard_test(hadamard_test_circuit(self.circuit(b), reference), shots, seed)


def success_probability(matrix, b, c: float) -> float:
    """HHL's ideal post-selection probability sum_j beta_j^2 (C / lambda_j)^2. See lesson 08.

    beta_j = <u_j|b> for the unit vector b along ``b``; exact when every eigenvalue lies on the
    clock grid. Its worst case, b along the largest |lambda| and C = lambda_min, is 1 / kappa^2.
    A ratio C / |lambda_j| above 1 is capped at 1, as the circuit's rotation is.
    """
    a = hermitian_matrix(matrix)
    v = np.asarray(b, dtype=np.complex128).ravel()
    if v.shape != (a.shape[0],) or not np.all(np.isfinite(v)) or not np.any(v):
        raise ValueError(f"b must be a finite, nonzero vector of length {a.shape[0]}")
    lam, vecs = np.linalg.eigh(a)
    if not 0 < c < np.inf:
        raise ValueError(f"C must be a positive number (about min|lambda|), got {c}")
    beta = vecs.conj().T @ (v / np.linalg.norm(v))
    return float(np.sum(np.abs(beta) ** 2 * np.minimum(c / np.abs(lam), 1.0) ** 2))


def matrix_with_condition_number(kappa: float, dim: int = 4, seed: int = 0) -> np.ndarray:
    """A random real symmetric matrix with eigenvalues spread from 1/kappa to 1. See lesson 08."""
    if not kappa >= 1:
        raise ValueError(f"kappa must be >= 1, got {kappa}")
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    eig = np.geomspace(1.0 / kappa, 1.0, dim)
    return (q * eig) @ q.T


def phase_estimation_circuit(phase: float, num_clock: int = 3):
    """Phase estimation of the eigenphase of P(2 pi phase) on |1> with ``num_clock`` clock qubits.

    See lesson 08.

    Qubit 0 holds the eigenstate |1>; the clock (qubits 1..num_clock) ends holding about
    phase * 2^num_clock, read through the inverse quantum Fourier transform (QFT).
    """
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import QFTGate

    if not isinstance(num_clock, (int, np.integer)) or not 1 <= num_clock <= MAX_CLOCK:
        raise ValueError(f"num_clock must be an integer from 1 to {MAX_CLOCK}, got {num_clock!r}")
    if not np.isfinite(phase):
        raise ValueError(f"phase must be a finite number (a fraction of a turn), got {phase!r}")
    qc = QuantumCircuit(1 + num_clock, name="QPE")
    qc.x(0)
    clock = list(range(1, num_clock + 1))
    qc.h(clock)
    for k, q in enumerate(clock):
        qc.cp(2.0 * np.pi * phase * 2**k, q, 0)
    qc.append(QFTGate(num_clock).inverse(), clock)
    return qc


def phase_estimation_probabilities(phase: float, num_clock: int = 3) -> np.ndarray:
    """P(clock reads j), j = 0 .. 2^num_clock - 1, for eigenphase ``phase``. See lesson 08."""
    from qiskit.quantum_info import Statevector

    probs = Statevector(phase_estimation_circuit(phase, num_clock)).probabilities()
    return probs.reshape(2**num_clock, 2).sum(axis=1)  # qubit 0 (the eigenstate) is the fastest


def hadamard_test_circuit(prepare_u, prepare_v):
    """Hadamard test of two state preparations: P(0) - P(1) = Re<v|u>. See lesson 08.

    ``prepare_u`` and ``prepare_v`` are circuits on the same qubits that start from |0...0>. The
    control (the last qubit, measured into the one classical bit) is put in |+>; it applies
    ``prepare_u`` when it is 1 and ``prepare_v`` when it is 0, then a Hadamard interferes the two
    branches: P(0) = (1 + Re<v|u>) / 2.
    """
    from qiskit import QuantumCircuit

    if prepare_u.num_qubits != prepare_v.num_qubits:
        raise ValueError(f"the two preparations act on {prepare_u.num_qubits} and "
                         f"{prepare_v.num_qubits} qubits; they must act on the same register")
    n = prepare_u.num_qubits
    qc = QuantumCircuit(n + 1, 1, name="Hadamard test")
    qc.h(n)
    qc.append(prepare_u.to_gate(label="U").control(1), [n, *range(n)])
    qc.append(prepare_v.to_gate(label="V").control(1, ctrl_state=0), [n, *range(n)])
    qc.h(n)
    qc.measure(n, 0)
    return qc


def run_hadamard_test(circuit, shots: int = 4000, seed: int = 0, repeats: int = 1) -> dict:
    """Sample a Hadamard test on Aer's SamplerV2; the estimate and sign come from counts alone.

    See lesson 08.

    With ``repeats`` > 1 the circuit is sampled ``shots * repeats`` times and split into
    ``repeats`` independent runs of ``shots`` (``estimates`` and ``signs`` hold one per run).
    Returns ``estimate`` = (n0 - n1) / shots of the first run, its ``sign`` (+1 or -1; a tie
    gives +1), ``stderr``, and the arrays.
    """
    from qiskit import transpile
    from qiskit_aer.primitives import SamplerV2

    validate.shots(shots)
    if not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise ValueError(f"repeats must be a positive integer, got {repeats!r}")
    # Decompose to u + cx first: Aer 0.18.2 crashes (segfault) on controlled multi-qubit unitaries.
    qc = transpile(circuit, basis_gates=["u", "cx"], optimization_level=1, seed_transpiler=seed)
    result = SamplerV2(seed=seed).run([qc], shots=shots * repeats).result()[0]
    bits = np.array([int(b) for b in next(iter(result.data.values())).get_bitstrings()])
    ones = bits.reshape(repeats, shots).sum(axis=1)
    estimates = (shots - 2.0 * ones) / shots
    signs = np.where(estimates >= 0, 1, -1)
    return dict(estimate=float(estimates[0]), sign=int(signs[0]),
                stderr=math.sqrt(max(1.0 - estimates[0] ** 2, 1e-12) / shots),
                estimates=estimates, signs=signs, shots=shots)


def state_preparation_circuit(vector):
    """A circuit that prepares the unit vector along a real ``vector`` (length a power of two)."""
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import StatePreparation

    v = np.asarray(vector, dtype=np.float64).ravel()
    n = len(v)
    if n < 2 or n & (n - 1) or not np.all(np.isfinite(v)) or not np.any(v):
        raise ValueError(f"need a finite, nonzero vector of length 2, 4, 8, ..., got length {n}; "
                         "pad it with zeros to the next power of two")
    qc = QuantumCircuit(int(round(math.log2(n))), name="prep")
    qc.append(StatePreparation((v / np.linalg.norm(v)).astype(np.complex128)), qc.qubits)
    return qc


def sign_readout(k, y, shots: int = 4000, seed: int = 0, repeats: int = 1) -> dict:
    """sign(<k|y>) of the diagonal NTK's prediction k_*^T y by a Hadamard test. See lesson 08."""
    return run_hadamard_test(hadamard_test_circuit(state_preparation_circuit(y),
                                                   state_preparation_circuit(k)),
                             shots, seed, repeats)


def qft_circuit(num_qubits: int = 3):
    """The quantum Fourier transform from Hadamards, controlled phases and swaps. See lesson 08.

    QFT|j> = sum_k exp(2 pi i j k / 2^m) |k> / sqrt(2^m) (qubit 0 the least significant), the
    same unitary as Qiskit's ``QFTGate``.
    """
    from qiskit import QuantumCircuit

    if not isinstance(num_qubits, (int, np.integer)) or not 1 <= num_qubits <= MAX_CLOCK:
        raise ValueError(f"num_qubits must be an integer from 1 to {MAX_CLOCK}, got "
                         f"{num_qubits!r}")
    m = int(num_qubits)
    qc = QuantumCircuit(m, name="QFT")
    for target in reversed(range(m)):
        qc.h(target)
        for control in reversed(range(target)):
            qc.cp(np.pi / 2 ** (target - control), control, target)
    for q in range(m // 2):
        qc.swap(q, m - 1 - q)
    return qc


def kickback_circuit(phase: float):
    """Phase kickback: a control in |+> and a controlled P(2 pi phase) on the eigenstate |1>.

    See lesson 08. The target stays |1>; the control ends in (|0> + e^{2 pi i phase}|1>)/sqrt 2.
    """
    from qiskit import QuantumCircuit

    if not np.isfinite(phase):
        raise ValueError(f"phase must be a finite number (a fraction of a turn), got {phase!r}")
    qc = QuantumCircuit(2, name="kickback")
    qc.x(0)  # the eigenstate |1> of P(2 pi phase)
    qc.h(1)  # the control
    qc.cp(2.0 * np.pi * phase, 1, 0)
    return qc


def _unit_bounded(k) -> np.ndarray:
    """A finite real vector of length 2, 4, 8, ... with |k_i| <= 1, or a one-line error."""
    k = np.asarray(k, dtype=np.float64).ravel()
    n = len(k)
    if n < 2 or n & (n - 1) or not np.all(np.isfinite(k)) or not np.any(k):
        raise ValueError(f"need a finite, nonzero vector of length 2, 4, 8, ..., got length {n}")
    if np.abs(k).max() > 1:
        raise ValueError("rejection sampling needs |k_i| <= 1: divide k by a known bound "
                         "(e.g. its largest |k_i|) first")
    return k


def rejection_sampler_circuit(k):
    """|k_*> by rejection sampling: a uniform superposition, RY(2 arcsin k_i) on a flag.

    See lesson 08. Index qubits first, the flag last; the flag reads 1 with probability
    P / N = sum_i k_i^2 / N, and then the index register holds k / ||k||.
    """
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import UCRYGate

    k = _unit_bounded(k)
    q = int(round(math.log2(len(k))))
    qc = QuantumCircuit(q + 1, name="rejection sampler")
    qc.h(range(q))
    qc.append(UCRYGate(list(2.0 * np.arcsin(k))), [q, *range(q)])
    return qc


def rejection_success_rate(k, shots: int = 4000, seed: int = 0) -> dict:
    """Measure the flag of :func:`rejection_sampler_circuit` on Aer: the success rate P / N.

    See lesson 08.
    """
    from qiskit import transpile
    from qiskit_aer.primitives import SamplerV2

    validate.shots(shots)
    qc = rejection_sampler_circuit(k)
    flag = qc.num_qubits - 1
    qc.measure_all()
    qc = transpile(qc, basis_gates=["u", "cx"], optimization_level=1, seed_transpiler=seed)
    counts = SamplerV2(seed=seed).run([qc], shots=shots).result()[0].data.meas.get_counts()
    hits = sum(c for bits, c in counts.items() if int(bits, 2) >> flag & 1)
    rate = hits / shots
    k = _unit_bounded(k)
    return dict(rate=rate, stderr=math.sqrt(max(rate * (1 - rate), 1e-12) / shots),
                exact=float(np.sum(k**2) / len(k)), shots=shots)


def flagged_sign_readout(k, y, shots: int = 4000, seed: int = 0, repeats: int = 1) -> dict:
    """sign(k^T y) by a Hadamard test against the rejection-sampled |k_*> and its flag.

    See lesson 08. P(0) - P(1) = sqrt(P / N) <k|y>: the flag's failure branch does not
    interfere, which is why the shots grow by N / P.
    """
    from qiskit import QuantumCircuit

    k = _unit_bounded(k)
    y = np.asarray(y, dtype=np.float64).ravel()
    if y.shape != k.shape:
        raise ValueError(f"k and y must have the same length, got {k.shape} and {y.shape}")
    reference = rejection_sampler_circuit(k)
    labels = QuantumCircuit(reference.num_qubits, name="labels")  # not "y": a gate name
    labels.compose(state_preparation_circuit(y), range(reference.num_qubits - 1), inplace=True)
    labels.x(reference.num_qubits - 1)  # compared with the flag's success branch
    return run_hadamard_test(hadamard_test_circuit(labels, reference), shots, seed, repeats)


def inversion_test_circuit(a, b):
    """Prepare |a>, un-prepare |b>, measure: P(all 0) = |<b|a>|^2, a magnitude only.

    See lesson 08.
    """
    qc = state_preparation_circuit(a)
    qc.compose(state_preparation_circuit(b).inverse(), inplace=True)
    qc.measure_all()
    return qc


def sign_split_readout(k, y, shots: int = 4000, seed: int = 0) -> dict:
    """The paper's readout: k^T y from magnitude-only overlaps of positive and negative parts.

    See lesson 08. With k = k+ - k- and y = y+ - y- (entries >= 0), each k^a . y^b >= 0 equals
    ||k^a|| ||y^b|| |<k^a|y^b>|, and k^T y = (k+.y+ + k-.y-) - (k+.y- + k-.y+). Each |<.|.>|^2
    is estimated by an inversion test on Aer; the part norms are taken as known (the paper reads
    them from the state preparations' success rates). Returns the estimate of k^T y, its sign,
    and the four terms.
    """
    from qiskit import transpile
    from qiskit_aer.primitives import SamplerV2

    validate.shots(shots)
    k = np.asarray(k, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if k.shape != y.shape or not np.all(np.isfinite(k)) or not np.all(np.isfinite(y)):
        raise ValueError(f"k and y must be finite vectors of the same length, got {k.shape}, "
                         f"{y.shape}")
    parts_k = {"+": np.maximum(k, 0), "-": np.maximum(-k, 0)}
    parts_y = {"+": np.maximum(y, 0), "-": np.maximum(-y, 0)}
    terms = {}
    for i, (a, ka) in enumerate(parts_k.items()):
        for j, (b, yb) in enumerate(parts_y.items()):
            if not np.any(ka) or not np.any(yb):
                terms[a + b] = 0.0
                continue
            qc = transpile(inversion_test_circuit(ka, yb), basis_gates=["u", "cx"],
                           optimization_level=1, seed_transpiler=seed)
            counts = SamplerV2(seed=seed + 2 * i + j).run([qc], shots=shots).result()[0] \
                .data.meas.get_counts()
            p_zero = counts.get("0" * qc.num_qubits, 0) / shots
            terms[a + b] = float(np.linalg.norm(ka) * np.linalg.norm(yb) * math.sqrt(p_zero))
    estimate = terms["++"] + terms["--"] - terms["+-"] - terms["-+"]
    return dict(estimate=estimate, sign=1 if estimate >= 0 else -1, terms=terms, shots=shots)
