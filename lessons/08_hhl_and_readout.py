# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,-jupytext.text_representation
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 08 · Phase estimation, HHL and a readout that does not peek
#
# **Teaching:** 75 min · **Exercises:** 25 min
#
# Lesson 07 measured what a quantum linear-system algorithm (QLSA) would need on the NTK. Here we
# build one. HHL (Harrow, Hassidim and Lloyd, 2009) rests on **quantum phase estimation**, which
# rests on the **quantum Fourier transform** (QFT) and **phase kickback**; we start there. Then we
# say how a quantum computer would read the kernel (QRAM, sparse access), run HHL on a tiny
# sparsified NTK, prepare |k_*⟩ the way the paper does (rejection sampling), read out the *sign*
# the classifier needs from measurement counts alone, and weigh the cost against classical
# solvers given exactly the same access to the data.
#
# ## Objectives
# - Build a 3-qubit QFT from Hadamards and controlled phases, and see phase kickback put a phase
#   on a control qubit.
# - Explain phase estimation and read an eigenphase with 3 clock qubits; see why the estimate
#   is spread over neighbouring clock values.
# - Say what QRAM and a sparse-access oracle are, and what they assume.
# - Draw and explain the HHL circuit (prepare, estimate, rotate, uncompute, post-select); predict
#   its success probability from A's spectrum and b.
# - Prepare |k_*⟩ by rejection sampling on a circuit and measure its success rate P/N; read
#   sign(⟨k_*|a⟩) from counts alone, and judge the paper's readout.
# - Compare the cost per prediction with classical solvers under equal access, with and without
#   amplitude amplification and estimation, and state the verdict.

# %%
import matplotlib.pyplot as plt
import numpy as np
from qiskit.circuit.library import QFTGate
from qiskit.quantum_info import Operator, Statevector
from scipy.stats import norm

from qdr_course import ntk, set_seed
from qdr_course.checks import ask, check_clock_reading, check_success_prediction
from qdr_course.ntk import qlsa_cost
from qdr_course.quantum import hhl
from qdr_course.utils import figure_style

figure_style()
rng = set_seed(0)

# %% [markdown]
# ## 1. The quantum Fourier transform and phase kickback
#
# The **discrete Fourier transform** of 2^m numbers, written as a quantum gate on m qubits, is
# the **QFT**: QFT|j⟩ = Σ_k e^{2πi jk/2^m} |k⟩ / √(2^m), where |j⟩ is the basis state whose
# binary digits are j (qubit 0 the least significant). It needs no exponential table of phases:
# write j and k in binary and the phase factorises over the digits of k, so each output qubit
# is a Hadamard (a ±1 superposition: the phase e^{iπ j_0}) followed by **controlled phases**
# P(π/2), P(π/4), ... conditioned on the lower qubits, which add the finer binary digits of
# j/2^m. Finally the qubit order is reversed with swaps. Three qubits need 3 Hadamards, 3
# controlled phases and 1 swap:

# %%
# alt: The 3-qubit QFT circuit: a Hadamard on each qubit, controlled-phase gates of angle pi/2
#      and pi/4 between them, and one swap of the first and last qubit at the end.
qft3 = hhl.qft_circuit(3)
qft3.draw("mpl", fold=-1)

# %%
same_as_qiskit = np.allclose(Operator(qft3).data, Operator(QFTGate(3)).data, atol=1e-12)
print("gates:", dict(qft3.count_ops()), "- equals Qiskit's QFTGate(3):", same_as_qiskit)

# %%
# Sanity check: our H + controlled-phase circuit is exactly Qiskit's QFT (global phase included).
assert same_as_qiskit

# %% [markdown]
# **Phase kickback.** A phase gate P(2πφ) = diag(1, e^{2πiφ}) has the eigenstate |1⟩ with
# eigenvalue e^{2πiφ}. Control it by a qubit in |+⟩ = (|0⟩ + |1⟩)/√2: nothing happens in the
# |0⟩ branch, the factor e^{2πiφ} multiplies the |1⟩ branch - and since the target is the same
# |1⟩ in both branches, the factor belongs to the *control*: it ends in (|0⟩ + e^{2πiφ}|1⟩)/√2.
# The target is unchanged; the eigenvalue has been "kicked back" into a relative phase of the
# control. *Predict:* for φ = 0.3, what relative phase (in turns) does the control carry?

# %%
kick = Statevector(hhl.kickback_circuit(0.3)).data.reshape(2, 2)  # [control, target]
control = kick[:, 1]  # the target is |1> in every branch
print(f"target |0> amplitude below 1e-12: {np.abs(kick[:, 0]).max() < 1e-12}; control amplitudes "
      f"{np.abs(control[0]):.3f}, {np.abs(control[1]):.3f}; relative phase "
      f"{np.angle(control[1] / control[0]) / (2 * np.pi) % 1:.3f} turns")

# %%
# Sanity check: the control carries the relative phase 0.3 turns, the target is still |1>.
assert abs(np.angle(control[1] / control[0]) / (2 * np.pi) % 1 - 0.3) < 1e-12
assert np.abs(kick[:, 0]).max() < 1e-12

# %% [markdown]
# ## 2. Phase estimation in one qubit
#
# A unitary U with eigenvector |u⟩ has U|u⟩ = e^{2πiφ}|u⟩; the **eigenphase** φ ∈ [0, 1) is what
# we want. **Phase estimation** uses m *clock* qubits: put each in |+⟩, let clock qubit k apply
# U^(2^k) to |u⟩ when it is 1 (phase kickback puts e^{2πiφ 2^k} on clock qubit k), and the clock
# holds Σ_j e^{2πiφ j}|j⟩ / √(2^m). That is exactly the QFT of |φ 2^m⟩ (section 1), so the
# inverse QFT turns it into a clock reading j ≈ φ 2^m. If φ 2^m is an integer the reading is
# exact; otherwise it is spread over neighbouring values, most likely the nearest.
#
# Here U = P(2πφ) = diag(1, e^{2πiφ}) on one qubit, |u⟩ = |1⟩, φ = 0.3 and m = 3 clock qubits:
# 0.3 x 8 = 2.4 lies between the clock values 2 and 3. *Predict:* which reading is most likely,
# and how likely?

# %%
# alt: The phase-estimation circuit: qubit 0 prepared in |1>, three clock qubits in |+>, each
#      controlling a phase gate of doubling angle on qubit 0, then an inverse QFT on the clock.
qpe = hhl.phase_estimation_circuit(0.3, num_clock=3)
qpe.draw("mpl", fold=-1)

# %%
# alt: Two bar charts of the clock-reading probabilities against j/8: for phase 0.3 the
#      probability is spread around 2/8 and 3/8 with 2/8 highest; for phase 0.25 all of it is at 2/8.
fig, axes = plt.subplots(1, 2, figsize=(8, 3), sharey=True)
for ax, phase in zip(axes, (0.3, 0.25)):
    probs = hhl.phase_estimation_probabilities(phase, 3)
    ax.bar(np.arange(8) / 8, probs, width=0.1, edgecolor="k")
    ax.axvline(phase, color="k", ls="--", lw=1, label=f"true phase {phase}")
    ax.set_xlabel("clock reading j / 8")
    ax.set_title(f"phase {phase}, 3 clock qubits", fontsize=9)
    ax.legend(fontsize=7)
axes[0].set_ylabel("probability")
fig.tight_layout()
p03 = hhl.phase_estimation_probabilities(0.3, 3)
print("P(reading j) for phase 0.3:", " ".join(f"{p:.3f}" for p in p03))

# %%
# Sanity check: the nearest value (2) is most likely, with probability about 0.58; phase 0.25
# (= 2/8 exactly) is read without error.
assert int(np.argmax(p03)) == 2 and 0.55 < p03[2] < 0.6
assert hhl.phase_estimation_probabilities(0.25, 3)[2] > 1 - 1e-9

# %% [markdown]
# ## 3. How a quantum computer reads the data: QRAM and sparse access
#
# Every quantum speed-up for linear systems assumes the data can be *loaded in superposition*.
# Two kinds of access are assumed, and neither is free:
#
# - **QRAM** (quantum random-access memory; Giovannetti, Lloyd and Maccone 2008): a memory
#   holding numbers v_0 … v_{n-1} that, given an index register in superposition, answers
#   Σ_i α_i |i⟩|0⟩ → Σ_i α_i |i⟩|v_i⟩ in O(log n) steps. Kerenidis and Prakash (2017) store a
#   vector in a binary tree of partial sums of squares, so |v⟩ = Σ_i v_i|i⟩/‖v‖ is prepared in
#   O(log n) steps after an O(n) build. Building it reads every entry once; no QRAM of useful
#   size exists in hardware today.
# - **Sparse access** to an s-sparse matrix A (what HHL and CKS need): an oracle that returns
#   the j-th nonzero entry's column in row i, and one that returns the entry A_ij, both on
#   superpositions of (i, j). For the sparsified NTK the nonzero pattern is drawn at random per
#   row and then symmetrised (lesson 07), so "the j-th nonzero of row i" also needs an
#   **inverted index**: for every column, the rows that chose it - built classically once, in
#   O(n s) time and memory.
#
# The authors' argument for why loading does not kill the speed-up is **amortisation**: the
# training images are loaded into QRAM once, and every kernel entry k(x_i, x_j) is *computed*
# coherently from them when the oracle is queried, so the O(n d) load is paid once for all later
# solves and predictions. Section 8 counts queries to these oracles and gives the classical side
# the same ones.
#
# ## 4. HHL: the circuit
#
# For a Hermitian A = Σ_j λ_j |u_j⟩⟨u_j| and |b⟩ = Σ_j β_j |u_j⟩, HHL does:
#
# 1. prepare |b⟩ on log₂ N system qubits;
# 2. phase estimation of U = e^{iAt}: the clock now holds λ_j (as the phase λ_j t / 2π) next to
#    each |u_j⟩ - read in two's complement, so negative eigenvalues work too;
# 3. rotate one ancilla, controlled by the clock, by RY(θ_j) with sin(θ_j/2) = C/λ_j: its |1⟩
#    branch carries C Σ_j β_j/λ_j |u_j⟩ ∝ A⁻¹|b⟩;
# 4. undo the phase estimation (clock back to |0⟩) and keep the runs where the ancilla reads 1.
#
# Qiskit removed its HHL solver in 2023 (deprecated in 0.22, removed in 0.24);
# `qdr_course.quantum.hhl.HHL` builds it from these parts. The powers of e^{iAt} are exact matrix
# exponentials - fine for simulated 2x2 to 8x8 systems; on hardware they are Hamiltonian
# simulation, where s enters the cost. One more shortcut: the evolution time t (λ_max at phase
# 3/8) and the constant C (λ_min, rounded to the clock grid) come from A's *exact* spectrum,
# computed classically here; a real use would need bounds on λ_min and λ_max known in advance,
# and a loose bound costs clock qubits and success probability. The circuit for a 2x2 system
# with 3 clock qubits:

# %%
# alt: The HHL circuit on 5 qubits: state preparation of b on qubit 0, phase estimation with
#      three clock qubits, a uniformly controlled RY rotation of the ancilla, and the inverse
#      phase estimation.
tiny = hhl.HHL(np.array([[2.0, -1.0], [-1.0, 2.0]]), num_clock=3)
tiny.circuit([1.0, 0.0]).draw("mpl", fold=-1)

# %% [markdown]
# Qubit 0 is the system, qubits 1-3 the clock, qubit 4 the ancilla. The ancilla's rotation
# is chosen per clock value: clock value j stands for the eigenvalue λ̃_j = 2π φ_j / t with
# φ_j = j / 2^m (or j / 2^m - 1 for j ≥ 2^(m-1), two's complement), and `hhl.rotation_angles`
# gives it the angle θ_j = 2 arcsin(C/λ̃_j) (0 for λ̃ = 0, the ratio capped at ±1 for clock
# values that only phase-estimation leakage reaches).
#
# ### Exercise 1 - where does an eigenvalue land on the clock?
# Complete `clock_reading(eigenvalue, t, num_clock)`: the clock value j (0 to 2^m - 1) that
# phase estimation of e^{iAt} most likely reads for an eigenvalue λ of A - negative eigenvalues
# and eigenvalues between clock values included (section 2 tells you which neighbour wins).

# %% tags=["exercise", "implement"]
def clock_reading(eigenvalue, t, num_clock):
    """Return the most likely clock value j for an eigenvalue of A."""
    raise NotImplementedError("Exercise: complete this; check_clock_reading(...) tells you if it is right.")


check_clock_reading(clock_reading)

# %% [markdown]
# ## 5. Clock qubits against fidelity, κ against success
#
# An eigenvalue that falls between clock values is smeared over neighbours (section 2), so 1/λ
# comes out wrong; small eigenvalues λ ≈ λ_max/κ sit on few clock steps and suffer most.
# *Predict:* at κ = 5, how many clock qubits does a fidelity above 0.99 need?
#
# Post-selection is the other cost. The ancilla's |1⟩ amplitude on |u_j⟩ is β_j C/λ_j, so
#
# $$P(\text{ancilla} = 1) = \sum_j \beta_j^2 \left(\frac{C}{\lambda_j}\right)^2,$$
#
# exact when every λ_j lies on the clock grid. Before the figure, two questions.

# %%
ask("8.1")

# %% tags=["exercise", "concept"]
from qdr_course.checks import check_concept_8_1  # noqa: E402


def my_choice():
    """The letter of your answer to concept check 8.1."""
    raise NotImplementedError("Exercise: complete this; check_concept_8_1(...) tells you if it is right.")


check_concept_8_1(my_choice)

# %% [markdown]
# ### Exercise 2 - predict, then run
# A 4x4 matrix has eigenvalues 1, 2, 5 and 10 (κ = 10), all on the clock grid, and C = 1.
# Predict P(ancilla = 1) when b is the eigenvector of λ = 10, and when b is the eigenvector of
# λ = 1. Then run the next cell: it simulates both.

# %% tags=["exercise", "predict"]
def my_prediction():
    """(P(ancilla = 1) for b along lambda = 10, P(ancilla = 1) for b along lambda = 1)."""
    raise NotImplementedError("Exercise: complete this; check_success_prediction(...) tells you if it is right.")


check_success_prediction(my_prediction)

# %%
basis, _ = np.linalg.qr(np.random.default_rng(7).normal(size=(4, 4)))
a10 = (basis * np.array([1.0, 2.0, 5.0, 10.0])) @ basis.T
solver10 = hhl.HHL(a10, num_clock=6, t=2 * np.pi / 32)  # eigenvalue j sits at clock value j
sim_largest = solver10.solve(basis[:, 3]).success_probability
sim_smallest = solver10.solve(basis[:, 0]).success_probability
print(f"C = {solver10.c:g}; simulated P(ancilla = 1): b along lambda = 10: {sim_largest:.4f}, "
      f"along lambda = 1: {sim_smallest:.4f}")

# %%
# Sanity check: the simulation is the formula exactly (every eigenvalue on the clock grid).
assert abs(sim_largest - hhl.success_probability(a10, basis[:, 3], solver10.c)) < 1e-9
assert abs(sim_smallest - hhl.success_probability(a10, basis[:, 0], solver10.c)) < 1e-9

# %%
# alt: Left: HHL fidelity against the number of clock qubits for a 4x4 matrix with kappa 5,
#      rising past the 0.99 line at 8 qubits. Right: success probability against kappa on
#      log axes for b = (1,1,1,1) (circles) and the worst case b along lambda_max (squares), with
#      the formula sum beta^2 (C/lambda)^2 (crosses) and the line 1/kappa^2 the worst case follows.
a5 = hhl.matrix_with_condition_number(5, 4, seed=1)
clocks = list(range(4, 10))
fidelities = [hhl.HHL(a5, num_clock=m).solve(np.ones(4)).fidelity for m in clocks]
kappas = [2, 5, 10, 20]
success, worst, formula = [], [], []
for k in kappas:
    a_k = hhl.matrix_with_condition_number(k, 4, seed=1)
    solver_k = hhl.HHL(a_k)
    top = np.linalg.eigh(a_k)[1][:, -1]  # eigenvector of lambda_max
    success.append(solver_k.solve(np.ones(4)).success_probability)
    worst.append(solver_k.solve(top).success_probability)
    formula.append(hhl.success_probability(a_k, np.ones(4), solver_k.c))
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.5, 3.2))
ax1.plot(clocks, fidelities, "o-")
ax1.axhline(0.99, color="grey", lw=0.8, ls=":")
ax1.set_xlabel("clock qubits m")
ax1.set_ylabel(r"fidelity $|\langle x|\tilde x\rangle|^2$")
ax1.set_title(r"4x4, $\kappa$ = 5", fontsize=9)
ax2.loglog(kappas, success, "o-", label="HHL, b = (1,1,1,1)")
ax2.loglog(kappas, worst, "s--", label=r"HHL, b along $\lambda_{max}$")
ax2.loglog(kappas, formula, "x", ms=8, color="k", label=r"$\sum_j \beta_j^2 (C/\lambda_j)^2$")
ax2.loglog(kappas, 1 / np.array(kappas, float) ** 2, "k:", lw=1, label=r"$1/\kappa^2$")
ax2.set_xticks(kappas, [str(k) for k in kappas])
ax2.minorticks_off()
ax2.set_xlabel(r"$\kappa$")
ax2.set_ylabel("P(ancilla = 1)")
ax2.set_title("8 clock qubits", fontsize=9)
ax2.legend(fontsize=7)
fig.tight_layout()
print("fidelity by clock qubits:", {m: round(f, 3) for m, f in zip(clocks, fidelities)})
print("success, b = 1:", {k: round(p, 3) for k, p in zip(kappas, success)},
      " worst case:", {k: round(p, 4) for k, p in zip(kappas, worst)})

# %%
# Sanity check: 6 clock qubits give 0.97-0.98 at kappa 5, 8 (the default) give > 0.99; the
# simulated success follows the formula (to the clock grid's rounding of C and the lambdas)
# and the worst case stays within 30 % of 1/kappa^2.
assert 0.96 < fidelities[clocks.index(6)] < 0.99 < fidelities[clocks.index(8)]
assert all(abs(s / f - 1) < 0.15 for s, f in zip(success, formula))
assert all(abs(w * k**2 - 1) < 0.3 for w, k in zip(worst, kappas))

# %% [markdown]
# With b = (1,1,1,1) the success falls more slowly than 1/κ²: that b has weight on the small
# eigenvalues, whose C/λ is near 1. Only b along λ_max sits on the 1/κ² line; nothing follows a
# 1/κ line. Keeping the error at ε needs about log₂(κ/ε) clock qubits and an evolution time
# ∝ κ/ε, and post-selection succeeds with probability 1/κ² in the worst case; amplitude
# amplification (Brassard et al. 2002) needs only about κ repetitions instead of κ²: together,
# HHL's s²κ²/ε per solve. Childs, Kothari and Somma (2017) replace phase estimation by a
# polynomial approximation of 1/x and reach κ polylog(κ/ε); Gilyén et al. (2019) put all of
# these in one framework (quantum singular value transformation).
#
# ## 6. HHL on a tiny sparsified NTK
#
# n = 8 training images, depth factor 0.02 (κ is then well above 1, so the solver has something
# to do), the sparsified NTK scaled to a unit diagonal (predictions do not change). κ is about
# 24 here, so the default 8 clock qubits give a fidelity of only 0.98 and 9 give 0.985; 10 pass
# 0.99 (log₂ κ more clock qubits for the same error):

# %%
small = ntk.load_digit_pair(8, digits=(8, 9), n_test=64, seed=0)
small_depth = ntk.depth_for(small.x_train, depth_factor=0.02)
k_small = ntk.erf_ntk(small.x_train, None, small_depth)
k_small = k_small / k_small[0, 0]
k_small_sparse = ntk.sparsify(k_small, ntk.sparsity_pattern(small.y_train,
                                                            np.random.default_rng(0)))
solver = hhl.HHL(k_small_sparse, num_clock=10)
result = solver.solve(small.y_train)
print(f"depth {small_depth}, kappa {solver.condition_number:.2f}; "
      f"{solver.circuit(small.y_train).num_qubits} qubits (3 system, 10 clock, 1 ancilla)")
print(f"fidelity with the classical solution {result.fidelity:.3f}, success probability "
      f"{result.success_probability:.3f}")

# %%
# Sanity check: the HHL state is the classical solution to fidelity >= 0.99.
assert result.fidelity >= 0.99

# %% [markdown]
# ## 7. Reading out the sign without peeking
#
# HHL leaves a *state* |a⟩ ∝ K⁻¹y, not a vector we can print. The classifier needs the sign of
# o = ⟨k_*|a⟩. Printing the simulated state and taking k_*ᵀa classically is not available on
# hardware, and a simulator's state carries an arbitrary global phase - an earlier version of
# this course fixed that phase *with the classical solution*, which made "HHL agrees with the
# classical solve" partly circular (`HHL.solve` no longer does that). Before reading on:

# %%
ask("8.2")

# %% tags=["exercise", "concept"]
from qdr_course.checks import check_concept_8_2  # noqa: E402


def my_choice():
    """The letter of your answer to concept check 8.2."""
    raise NotImplementedError("Exercise: complete this; check_concept_8_2(...) tells you if it is right.")


check_concept_8_2(my_choice)

# %% [markdown]
# Two readouts give the sign from counts alone.
#
# **The course's choice: the Hadamard test.** A control qubit in |+⟩ applies the preparation U
# of |a⟩ when it is 1 and the preparation V of a reference |k_*⟩ when it is 0; a final Hadamard
# interferes the branches, and P(0) - P(1) = Re⟨k_*|a⟩. Its sign is the label; its standard
# error with S shots is about 1/√S, so the sign is reliable once S ≫ 1/o². `hhl.sign_readout`
# builds the circuit with `hhl.hadamard_test_circuit` and samples it on Aer's sampler with
# `hhl.run_hadamard_test`; the label is the sign of n₀ - n₁, the counts of the control qubit -
# nothing else.
#
# **The paper's choice: magnitudes of signed parts.** An *inversion test* (prepare |a⟩, undo the
# preparation of |b⟩, count returns to |0…0⟩; `HHL.estimate_overlap` does it for the HHL state)
# or a swap test estimates |⟨b|a⟩|², which alone has no sign. The paper's appendix (its eq. A.38) splits k_* = k⁺ - k⁻ and y = y⁺ - y⁻ into
# non-negative parts. The overlap of two non-negative vectors is non-negative, so each of the four
# products k^±·y^± equals ‖k^±‖ ‖y^±‖ |⟨k^±|y^±⟩|, and
# k_*ᵀy = k⁺·y⁺ + k⁻·y⁻ - k⁺·y⁻ - k⁻·y⁺ has its sign. It costs four magnitude estimates and the
# parts' norms (which the state preparations' success rates give, section 7's rejection sampler).
#
# First the diagonal NTK, where |a⟩ = |y⟩ (lesson 07): 8 training images (3 qubits plus the
# control), and a test image whose overlap is about 0.1. *Predict:* with S = 1/o² shots, how often
# is the Hadamard test's sign wrong?

# %%
k_rows = ntk.erf_ntk(small.x_test, small.x_train, small_depth)
overlaps = ntk.readout_overlap(k_rows, small.y_train)
hard = int(np.argmin(np.abs(np.abs(overlaps) - 0.1)))  # a test image with |o| near 0.1
o = overlaps[hard]
hadamard = hhl.hadamard_test_circuit(hhl.state_preparation_circuit(small.y_train),
                                     hhl.state_preparation_circuit(k_rows[hard]))
# alt: The Hadamard-test circuit: a control qubit in |+> applies the preparation of |y> when 1
#      and of |k_*> when 0 on three qubits, then a Hadamard and a measurement of the control.
hadamard.draw("mpl", fold=-1)

# %%
shot_grid = np.unique(np.geomspace(1, 64 / o**2, 9).astype(int))
wrong = [np.mean(hhl.sign_readout(k_rows[hard], small.y_train, shots=int(s), seed=3,
                                  repeats=200)["signs"] != np.sign(o)) for s in shot_grid]
# alt: Sign error rate of the Hadamard test against the number of shots on log axes: the
#      measured rates (circles) fall from about one half to near zero past S = 1/o^2 (vertical
#      line), following the normal-approximation curve Phi(-|o| sqrt S) (dashed).
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.loglog(shot_grid, np.maximum(wrong, 1e-3), "o", label="Hadamard test, 200 runs each (Aer)")
ax.loglog(shot_grid, np.maximum(norm.cdf(-abs(o) * np.sqrt(shot_grid)), 1e-3), "k--",
          label=r"$\Phi(-|o|\sqrt{S})$")
ax.axvline(1 / o**2, color="grey", lw=0.8, ls=":", label=r"$S = 1/o^2$")
ax.set_xlabel("shots S")
ax.set_ylabel("sign error rate")
ax.set_title(f"one test image, |o| = {abs(o):.3f}", fontsize=9)
ax.legend(fontsize=7)
fig.tight_layout()

# %%
# Sanity check: the sign error falls from near 1/2 to near 0 as the shots pass 1/o^2.
assert wrong[0] > 0.25 and wrong[-1] < 0.02

# %% [markdown]
# Now the labels of 16 test images from counts alone, with 16/o² shots for a typical |o|
# (sign(o) is the label; a test image with |o| far below the typical one may still come out
# wrong - that is the readout cost of lesson 07 at work):

# %%
shots = int(16 / np.median(overlaps**2))
print(f"median |o| {np.median(np.abs(overlaps)):.3f}, smallest {np.abs(overlaps).min():.4f}")
labels_counts = np.array([hhl.sign_readout(k, small.y_train, shots=shots, seed=i)["sign"]
                          for i, k in enumerate(k_rows[:16])])
agree = np.mean(labels_counts == np.sign(k_rows[:16] @ small.y_train))
acc = np.mean(labels_counts == small.y_test[:16])
print(f"{shots} shots per image: signs agree with k_*ᵀy on {agree:.2f} of the images; "
      f"accuracy {acc:.2f}")

# %%
# Sanity check: nearly every sign is right.
assert agree >= 0.85

# %% [markdown]
# The paper's sign-split readout on the same hard test image, beside the Hadamard test: four
# inversion tests (`hhl.inversion_test_circuit`, sampled on Aer) of the signed parts, with the
# parts' norms taken as known:

# %%
split = hhl.sign_split_readout(k_rows[hard], small.y_train, shots=4000, seed=5)
direct = float(k_rows[hard] @ small.y_train)
print("four non-negative products:", {key: round(v, 2) for key, v in split["terms"].items()})
print(f"k_*^T y from magnitudes: {split['estimate']:.2f} (exact {direct:.2f}); sign "
      f"{split['sign']:+d}, Hadamard test's sign at {int(shot_grid[-1])} shots "
      f"{hhl.sign_readout(k_rows[hard], small.y_train, shots=int(shot_grid[-1]), seed=3)['sign']:+d}")

# %%
# Sanity check: magnitudes alone recover the sign (and the value to a few per cent).
assert split["sign"] == np.sign(direct) and abs(split["estimate"] / direct - 1) < 0.1
assert split["terms"]["-+"] == split["terms"]["--"] == 0  # every k_i > 0 at this depth

# %% [markdown]
# At this depth every entry of k_* is positive (k⁻ = 0), so two of the four tests are empty and
# the sign comes from how k_*'s weight splits between the two classes of y. tests/test_hhl_primer.py
# checks the general case, with signs in both vectors - and that magnitudes alone cannot tell
# k from -k, while the split readout can.

# %% [markdown]
# ### |k_*⟩ is not free: a rejection sampler on a circuit
#
# So far `StatePreparation` loaded |k_*⟩ exactly - a luxury: its circuit is built from all n
# amplitudes, computed classically. The paper prepares |k_*⟩ by **rejection sampling** with the
# oracle of section 3: scale k so that |k_i| ≤ 1, put the index register in the uniform
# superposition Σ_i |i⟩/√N (Hadamards), and rotate a flag qubit by RY(2 arcsin k_i) controlled
# by the index. The flag's |1⟩ branch is Σ_i k_i|i⟩/√N: the state we want, reached with
# probability P/N (P = Σ_i k_i²) - lesson 07's N/P is the expected number of tries. Measure it:

# %%
k_hard = k_rows[hard] / np.abs(k_rows[hard]).max()  # the per-row bound: |k_i| <= 1
# alt: The rejection-sampler circuit: Hadamards on three index qubits and a uniformly
#      controlled RY rotation of the flag qubit with angles 2 arcsin k_i.
sampler_circuit = hhl.rejection_sampler_circuit(k_hard)
sampler_circuit.draw("mpl", fold=-1)

# %%
rate = hhl.rejection_success_rate(k_hard, shots=4000, seed=2)
flagged = hhl.flagged_sign_readout(k_hard, small.y_train, shots=int(16 / o**2), seed=4)
print(f"flag = 1 in {rate['rate']:.3f} of 4000 shots (standard error {rate['stderr']:.3f}); "
      f"P/N = {rate['exact']:.3f}, so N/P = {1 / rate['exact']:.2f} tries per state")
print(f"Hadamard test against the flagged state: P(0) - P(1) = {flagged['estimate']:+.3f}, "
      f"sqrt(P/N) o = {np.sqrt(rate['exact']) * o:+.3f}")

# %%
# Sanity check: the measured success rate is P/N within 4 standard errors, the flagged
# Hadamard test reads sqrt(P/N) o, and its sign is the label's.
assert abs(rate["rate"] - rate["exact"]) < 4 * rate["stderr"]
assert abs(flagged["estimate"] - np.sqrt(rate["exact"]) * o) < 4 * flagged["stderr"]
assert flagged["sign"] == np.sign(o)

# %% [markdown]
# The flag's failure branch does not interfere with |y⟩, so the Hadamard test now reads
# √(P/N)·o, not o: without amplitude amplification the shots grow from 1/o² to (N/P)/o². With
# HHL in the other branch the same happens with its success probability: about
# (N/P)/(p_succ o²) shots. Section 8 charges both.

# %% [markdown]
# And the sparsified NTK through HHL: the Hadamard test now compares the whole HHL state with
# |k_*⟩|clock 0⟩|ancilla 1⟩, so P(0) - P(1) = Re⟨k_*|C K̃⁻¹ y⟩ = √(p_succ)·o (up to the small
# phase-estimation error) - scaled down by the square root of the success probability. A controlled HHL is a large circuit; we take n = 4 (2 system qubits) and 5 clock
# qubits, and six test images:

# %%
four = ntk.load_digit_pair(4, digits=(8, 9), n_test=6, seed=1)
four_depth = ntk.depth_for(four.x_train, depth_factor=0.02)
k4 = ntk.erf_ntk(four.x_train, None, four_depth)
k4_sparse = ntk.sparsify(k4 / k4[0, 0], ntk.sparsity_pattern(four.y_train,
                                                             np.random.default_rng(0)))
k4_test = ntk.erf_ntk(four.x_test, four.x_train, four_depth)
solver4 = hhl.HHL(k4_sparse, num_clock=5)
signs_hhl = [solver4.sign_readout(four.y_train, k, shots=4000, seed=i)["sign"]
             for i, k in enumerate(k4_test)]
signs_classical = np.sign(k4_test @ np.linalg.solve(k4_sparse, four.y_train))
print("HHL signs from counts:", signs_hhl, "  classical:", signs_classical.astype(int).tolist())

# %%
# Sanity check: the counts give the classical signs without using the classical solution.
assert np.array_equal(signs_hhl, signs_classical)


# %% [markdown]
# ## 8. What it would cost - with the same access on both sides
#
# Four facts change the comparison an expert makes:
#
# - **Reuse.** A classical solve is done once; each further prediction is one dot product k_*ᵀa
#   (n queries). A quantum state is used up when measured: each prediction repeats the solver,
#   the state preparation and the readout shots.
# - **Reading the kernel.** Conjugate gradient on the sparsified NTK reads its n·s nonzeros, not
#   n²; only the dense solve reads all n².
# - **Equal access.** Whatever oracle the quantum computer gets, the classical one gets too.
#   With the rejection-sampling oracle of section 7, a classical computer draws i with
#   probability k_i²/‖k‖² in N/P proposals on average (`ntk.rejection_sample`), exactly what the
#   quantum rejection sampler pays per success. With a sampling tree instead (section 3's
#   Kerenidis-Prakash structure), both sides pay n to build it for every fresh k_* and log₂ n
#   per draw afterwards. Either way, neither side gets its samples for free.
# - **Dequantisation.** At the paper's depth the NTK is diagonal and the prediction is k_*ᵀy
#   (lesson 07). Given ℓ² samples i of k_*, y_i/k_i is (up to the positive factor ‖k‖/‖y‖) an
#   unbiased estimate of o with variance 1 - o²: **about 1/o² samples, whatever n is** - the
#   same count as the Hadamard test's shots (Tang 2019 built this kind of argument into
#   classical algorithms for recommendation systems; Chia et al. 2020 made it a general
#   framework). The sign does not even need ‖k‖.
#
# `ntk.sample_overlap` is this estimator and `ntk.sign_error_rate` repeats it. The sampler
# against the Hadamard test on the same test image (same o), per sample:

# %%
classical_wrong = [ntk.sign_error_rate(k_rows[hard], small.y_train, int(s), repeats=400, rng=1)
                   for s in shot_grid]
# alt: Sign error rate against shots or samples on log axes: the quantum Hadamard test (circles)
#      and the classical length-squared sampler (open squares) fall together past 1/o^2.
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.loglog(shot_grid, np.maximum(wrong, 1e-3), "o-", label="quantum: Hadamard-test shots")
ax.loglog(shot_grid, np.maximum(classical_wrong, 1e-3), "s--", mfc="none",
          label="classical: length-squared samples")
ax.axvline(1 / o**2, color="grey", lw=0.8, ls=":")
ax.set_xlabel("shots or samples")
ax.set_ylabel("sign error rate")
ax.legend(fontsize=7)
fig.tight_layout()

# %%
# Sanity check: the classical sampler also needs about 1/o^2 samples (it is right at 64/o^2
# samples and often wrong at 1).
assert classical_wrong[0] > 0.2 and classical_wrong[-1] < 0.02

# %% [markdown]
# `qdr_course.ntk.qlsa_cost` turns lesson 07's measured medians into query counts for m test
# images, in two regimes for the quantum side: **plain** (Hadamard-test shots
# (N/P)·κ²/o², each one solver run - κ² = 1/p_succ, HHL's worst case) and **best case**
# (amplitude amplification of the state preparation, √(N/P), and of the solver to success,
# and amplitude estimation of the sign in about 1/|o| rounds; Brassard et al. 2002). It compares
# like with like: HHL, CKS and conjugate gradient answer the *sparsified* NTK; the quantum
# readout of |y⟩, the classical sampler and the plain dot product answer the *diagonal* one.
# One function per formula: `qlsa_cost.hhl_run_queries` (one HHL run), `qlsa_cost.hhl_queries`
# (amplified to success), `qlsa_cost.cks_queries`, `qlsa_cost.worst_success_probability`
# (1/κ²), `qlsa_cost.quantum_queries` (a prediction through HHL or CKS, plain or amplified),
# `qlsa_cost.quantum_readout_queries` (the diagonal NTK's Hadamard test),
# `qlsa_cost.sampler_queries` and `qlsa_cost.tree_sampler_queries` (the classical samplers),
# `qlsa_cost.cg_queries` and `qlsa_cost.dense_queries`; tests/test_hhl.py pins each one. Its
# assumptions:

# %%
print(qlsa_cost.ASSUMPTIONS)

# %%
records = ntk.sweep([16, 32, 64, 128, 256], trials="paper", depth_factor=0.02, n_test=64,
                    progress=False)
m = 64
table = qlsa_cost.cost_table(records, n_predictions=m)
print(f"costs of {m} predictions, depth factor 0.02 (queries; medians over the trials):")
print(f"{'n':>4} {'s':>3} {'kappa':>6} {'N/P':>6} {'1/o²':>5} | {'HHL':>8} {'HHL+AA':>8} "
      f"{'CKS':>8} {'CKS+AA':>8} {'CG':>8} | {'q-read':>8} {'q+AA':>8} {'sampler':>8} "
      f"{'tree':>8} {'dot':>8}")
for row in table:
    print(f"{row['n']:4d} {row['s']:3.0f} {row['kappa']:6.2f} {row['state_prep']:6.1f} "
          f"{row['readout'] + 1:5.1f} | {row['hhl']:8.1e} {row['hhl_aa']:8.1e} {row['cks']:8.1e} "
          f"{row['cks_aa']:8.1e} {row['cg']:8.1e} | {row['q_diag']:8.1e} {row['q_diag_aa']:8.1e} "
          f"{row['sampler']:8.1e} {row['tree']:8.1e} {row['dot']:8.1e}")

# %%
# alt: Two log-log panels of queries for 64 predictions against n. Left, the sparsified NTK:
#      HHL and CKS plain and with amplification (solid and dashed) lie 30 to over 10^7 times above
#      conjugate gradient (dotted, triangles) at every n. Right, the diagonal NTK: the plain
#      quantum readout and the classical sampler lie close together, the dot product grows like
#      n, and the amplified quantum readout grows slowest and drops below the dot product from n = 32.
ns = [r["n"] for r in table]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
for key, style, label in (("hhl", "o-", "HHL, plain"), ("hhl_aa", "o--", "HHL + AA/AE"),
                          ("cks", "s-", "CKS, plain"), ("cks_aa", "s--", "CKS + AA/AE"),
                          ("cg", "^:", "conjugate gradient")):
    ax1.loglog(ns, [r[key] for r in table], style, ms=4, label=label)
for key, style, label in (("q_diag", "o-", "quantum readout, plain"),
                          ("q_diag_aa", "o--", "quantum readout + AA/AE"),
                          ("sampler", "d-.", "classical sampler (same oracle)"),
                          ("tree", "v-.", "classical sampler (tree per k_*)"),
                          ("dot", "^:", "dot product (n per prediction)")):
    ax2.loglog(ns, [r[key] for r in table], style, ms=4, label=label)
ax1.set_title("sparsified NTK", fontsize=9)
ax2.set_title("diagonal NTK", fontsize=9)
for ax in (ax1, ax2):
    ax.set_xticks(ns, [str(n) for n in ns])
    ax.minorticks_off()
    ax.set_xlabel("n (training images)")
    ax.legend(fontsize=6)
ax1.set_ylabel(f"queries for {m} predictions")
fig.tight_layout()

# %%
# Sanity check of the verdict. Sparsified NTK: conjugate gradient is cheapest at every n, plain
# or amplified. Diagonal NTK: plain, the quantum readout costs at least the classical sampler
# with the same oracle (and more than the dot product); amplified, it beats the dot product
# from n = 32 on, by a factor that grows with n. kappa falls with n at this depth.
for row in table:
    assert row["cg"] < min(row["hhl"], row["cks"], row["hhl_aa"], row["cks_aa"])
    assert row["sampler"] <= row["q_diag"] and row["dot"] < row["q_diag"]
    assert (row["q_diag_aa"] < row["dot"]) == (row["n"] >= 32)
gain = [r["dot"] / r["q_diag_aa"] for r in table]
assert all(a < b for a, b in zip(gain, gain[1:])) and 1.4 < gain[1] < 1.8 and 6 < gain[-1] < 7
assert abs(table[0]["kappa"] - 7.8) < 0.1 and abs(table[-1]["kappa"] - 2.7) < 0.1
assert 20 < table[-1]["cks_aa"] / table[-1]["cg"] < 40
assert 5000 < table[-1]["hhl_aa"] / table[-1]["cg"] < 8000
assert 1.5e3 < min(r["cg"] for r in table) and max(r["cg"] for r in table) < 6e4
assert all(5e10 < r["hhl"] < 5e11 and 3e9 < r["cks"] < 2e10 for r in table)

# %% [markdown]
# In our run, the verdict:
#
# - **Sparsified NTK (what HHL and CKS solve).** Conjugate gradient needs 2·10³ - 5·10⁴ queries
#   for all 64 predictions; plain HHL about 10¹¹, plain CKS 10⁹ - 10¹⁰; even the best case
#   (amplitude amplification and estimation) leaves CKS about 30 times and HHL about 6500 times
#   above CG at n = 256. HHL and CKS look flat in n not because they scale well but because **κ falls with
#   n at this depth** (7.8 at n = 16, 2.7 at n = 256: depth 0.02·L_conv grows with n, and a
#   deeper NTK is closer to diagonal, lesson 06), which cancels the growth of s and N/P.
# - **Diagonal NTK (the paper's depth).** With the same oracle, the plain quantum readout costs
#   twice the classical sampler ((N/P)/o² shots of two queries against 1/o² draws of N/P + 1
#   queries): equal access, equal cost. Both lose to simply computing k_*ᵀy (n queries) - the
#   sampler's 1/o² does not grow with n, but its N/P does. Only with amplitude amplification
#   and estimation does the quantum readout win: √(N/P)/|o| against n, a factor 1.6 at n = 32
#   growing to 6.4 at n = 256. That is a *quadratic*, Grover-type speed-up in the number of
#   kernel evaluations, not an exponential one, and it needs coherent access to k_i (each
#   entry an NTK evaluation on training images held in QRAM, loaded once: the authors'
#   amortisation argument) - fault-tolerant hardware that does not exist yet.
#
# Where these numbers stop: constants are set to 1, ε = 0.01, medians of 4-16 trials, n ≤ 256,
# and p_succ is HHL's worst case 1/κ² (section 5 shows how much a favourable b saves). A model
# of query counts cannot show wall-clock time, error correction overheads or the cost of
# building a QRAM.
#
# ### Discussion
# Lesson 07's depth factor 0.1 and this lesson's 0.02 both give small κ. Suppose instead a
# shallower network where the sparsified NTK has κ ≈ 100 and s ≈ 20 at n = 256, with N/P and o
# as in the table. Using the formulas of `qlsa_cost.ASSUMPTIONS`, which term dominates the
# best-case quantum cost, does conjugate gradient still win, and what would you measure to find
# out whether such a network still classifies well?

# %% [markdown] tags=["exercise", "discuss"]
# *Write your answer here.*

# %% [markdown]
# ## Key points
# - The QFT is Hadamards and controlled phases; phase kickback moves an eigenvalue's phase onto
#   a control qubit; phase estimation combines the two, and phases between clock values are
#   smeared over neighbours.
# - QRAM and sparse-access oracles are assumptions with a build cost (n per fresh vector, an
#   inverted index for the symmetrised pattern); the authors amortise the training set's load.
# - HHL = prepare |b⟩, phase-estimate e^{iAt}, rotate an ancilla by 2 arcsin(C/λ), uncompute,
#   post-select with probability Σ_j β_j²(C/λ_j)², 1/κ² in the worst case (b along λ_max).
# - |k_*⟩ by rejection sampling succeeds with probability P/N; a Hadamard test against it reads
#   √(P/N)·o. The sign of k_*ᵀy comes from a Hadamard test (the course's choice) or from four
#   magnitude-only tests of signed parts (the paper's).
# - With the same access, classical solvers win on the sparsified NTK in every regime; on the
#   diagonal NTK the quantum readout wins only with amplitude amplification and estimation, by a
#   quadratic factor √(N/P)/|o| against n - and a quantum state is used up per prediction.
#
# ## Further reading
# - Harrow, Hassidim, Lloyd (2009), *Quantum algorithm for linear systems of equations*,
#   [arXiv:0811.3171](https://arxiv.org/abs/0811.3171), PRL 103, 150502.
# - Childs, Kothari, Somma (2017), *Quantum linear systems algorithm with exponentially improved
#   dependence on precision*, [arXiv:1511.02306](https://arxiv.org/abs/1511.02306).
# - Gilyén, Su, Low, Wiebe (2019), *Quantum singular value transformation and beyond*,
#   [arXiv:1806.01838](https://arxiv.org/abs/1806.01838).
# - Brassard, Høyer, Mosca, Tapp (2002), *Quantum amplitude amplification and estimation*,
#   [arXiv:quant-ph/0005055](https://arxiv.org/abs/quant-ph/0005055).
# - Giovannetti, Lloyd, Maccone (2008), *Quantum random access memory*, PRL 100, 160501,
#   [arXiv:0708.1879](https://arxiv.org/abs/0708.1879).
# - Kerenidis, Prakash (2017), *Quantum recommendation systems*,
#   [arXiv:1603.08675](https://arxiv.org/abs/1603.08675).
# - Aaronson (2015), *Read the fine print*, Nature Physics 11, 291,
#   [doi:10.1038/nphys3272](https://doi.org/10.1038/nphys3272).
# - Tang (2019), *A quantum-inspired classical algorithm for recommendation systems*,
#   [arXiv:1807.04271](https://arxiv.org/abs/1807.04271).
# - Chia, Gilyén, Li, Lin, Tang, Wang (2020), *Sampling-based sublinear low-rank matrix
#   arithmetic framework for dequantizing quantum machine learning*,
#   [arXiv:1910.06151](https://arxiv.org/abs/1910.06151).
# - Nielsen, Chuang (2010), *Quantum Computation and Quantum Information*, chapter 5 (QFT and
#   phase estimation), [doi:10.1017/CBO9780511976667](https://doi.org/10.1017/CBO9780511976667).
# - Zlokapa, Neven, Lloyd (2021), [arXiv:2107.09200](https://arxiv.org/abs/2107.09200).
