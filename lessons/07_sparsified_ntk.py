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
# # 07 · Training with a quantum linear-system algorithm
#
# **Teaching:** 40 min · **Exercises:** 25 min
#
# Lesson 06 showed that training an infinitely wide network is one linear system, K a = y, with
# the network's NTK K. Zlokapa, Neven and Lloyd (arXiv:2107.09200) propose to solve it with a
# **quantum linear-system algorithm** (QLSA) such as HHL, in time that grows only like log n
# instead of like n (conjugate gradient) or n³ (a dense solve). A QLSA is fast only if four
# numbers stay small: the nonzeros per row **s**, the condition number **κ**, the cost of
# preparing the input state **N/P**, and the cost of reading out the answer **1/o²**. The paper
# makes the NTK sparse and argues that all four grow at most like log n for deep networks. Here
# we measure them - and find where the argument is strong and where it is trivially true.
#
# ## Objectives
# - Build the paper's sparsified NTK (random pattern, same-class entries, diagonal kept) and its
#   diagonal NTK, and predict with both.
# - Measure s, κ, the state-preparation cost N/P and the readout cost 1/o² - 1.
# - See the depth trade-off: at the paper's depth the NTK is numerically diagonal (κ = 1, every
#   method predicts the same); shallower networks give accuracy that depends on κ.
# - Reproduce the paper's plots against n with honest bootstrap error bars, and explain the
#   repeated-values bug that made the original error bars too small.
# - Run a real HHL circuit in Qiskit on a tiny sparsified NTK, and weigh the quantum cost
#   against classical solvers with the assumptions stated.

# %%
import matplotlib.pyplot as plt
import numpy as np

from qdr_course import ntk, set_seed
from qdr_course.ntk import qlsa_cost
from qdr_course.quantum import hhl
from qdr_course.checks import check_readout_overlap, check_rotation_angles, check_sparsity_pattern

rng = set_seed(0)

# %% [markdown]
# ## 1. What a quantum linear-system algorithm needs
#
# For the prediction f(x_*) = k_*ᵀ K⁻¹ y a QLSA does three things, each with a cost:
#
# | step | cost | what must be small |
# |---|---|---|
# | solve K a = y into a state \|a⟩ ∝ K⁻¹ y | HHL: O(log n · s² κ² / ε); Childs-Kothari-Somma: O(s κ polylog(s κ/ε)) | nonzeros per row s, condition number κ = max\|λ\| / min\|λ\| |
# | prepare \|k_*⟩ ∝ k_* by rejection sampling | O(N / P), P = Σ_i k_i² with k = k_* / max\|k_*\| | N/P: k_* must be spread out, not one spike |
# | read out the overlap o = ⟨k_*\|a⟩ by repeated measurement | about 1/o² - 1 failed measurements | \|o\| must not be tiny |
#
# A dense NTK has s = n. The paper's idea: make K **sparse**, keeping about 2 ln n random
# entries per row, and only entries between examples of the same class; at large depth the NTK
# is nearly diagonal (lesson 06), so dropping entries changes little.
#
# ## 2. The sparsified and the diagonal NTK
#
# The pattern of the original analysis is *random*, not a threshold: with p = min(2 ln n / n, 1),
# each row i draws c_i ~ Binomial(n, p) distinct random columns; the pattern is symmetrised as
# tril(F) + tril(F, -1)ᵀ (the lower triangle wins); entries between different classes are removed;
# the diagonal is always kept. The sparsified NTK is K ⊙ F.
#
# ### Exercise 1 - the sparsity pattern
# Complete `sparsity_pattern(y, rng)` returning a boolean n x n array. `rng.binomial(n, p)` and
# `rng.choice(n, size=c, replace=False)` draw what you need.

# %% tags=["exercise"]
def sparsity_pattern(y, rng):
    """Return the paper's random, symmetric, same-class sparsity pattern with the diagonal kept."""
    raise NotImplementedError("Exercise: complete this; check_sparsity_pattern(...) tells you if it is right.")


check_sparsity_pattern(sparsity_pattern)

# %% [markdown]
# Now one trial as in the paper: n = 64 images of the digits 8 and 9, the paper's depth
# round(0.1 L_conv), the NTK by the stable closed-form recursion of lesson 06, and the test
# kernel normalised by k_thresh = k(x₀, x₁) for two unit vectors with x₀·x₁ = 1 - 10⁻⁵ (clipped to
# [-1, 1], as in the original).

# %%
data = ntk.load_digit_pair(64, digits=(8, 9), n_test=64, seed=0)
depth = ntk.depth_for(data.x_train, depth_factor=0.1)
k_train = ntk.erf_ntk(data.x_train, None, depth)
k_test = ntk.normalised_test_kernel(ntk.erf_ntk(data.x_test, data.x_train, depth),
                                    ntk.test_kernel_threshold(depth, data.x_train.shape[1]))
pattern = ntk.sparsity_pattern(data.y_train, np.random.default_rng(0))
k_sparse = ntk.sparsify(k_train, pattern)
print(f"depth {depth}; nonzeros per row: mean {ntk.nonzeros_per_row(k_sparse).mean():.2f}, "
      f"max per column {ntk.nonzeros_per_row(k_sparse.T).max()} (2 ln n = {2 * np.log(64):.1f})")

order = np.argsort(-data.y_train, kind="stable")
fig, axes = plt.subplots(1, 2, figsize=(7, 3.2))
axes[0].imshow(pattern[np.ix_(order, order)], cmap="Greys")
axes[0].set_title("pattern F (sorted by class)")
axes[1].imshow(np.log10(np.abs(k_train[np.ix_(order, order)])), cmap="viridis")
axes[1].set_title(f"log10 |K|, depth {depth}")
fig.tight_layout()

# %%
predictions = {
    "exact NTK": ntk.kernel_regression(k_train, k_test, data.y_train),
    "sparsified NTK": ntk.kernel_regression(k_sparse, k_test, data.y_train),
    "diagonal NTK": ntk.diagonal_regression(k_train, k_test, data.y_train),
}
for name, out in predictions.items():
    print(f"{name:15s} accuracy {np.mean(ntk.classify(out) == data.y_test):.3f}")
print(f"condition number: exact {ntk.condition_number(k_train):.6f}, sparsified {ntk.condition_number(k_sparse):.6f}")

# %%
# Sanity check: at the paper's depth all three give the *same* labels, and kappa is 1.00.
labels = [ntk.classify(out) for out in predictions.values()]
assert all(np.array_equal(labels[0], other) for other in labels[1:])
assert ntk.condition_number(k_sparse) < 1.01

# %% [markdown]
# The prediction is `sign(out - median(out))`: the paper assumes a balanced test set and puts half
# of the test images on each side. With the diagonal NTK, K⁻¹ y = y / K_ii, so the prediction is
# just k_*ᵀ y: a vote of the training labels weighted by the test kernel.
#
# ## 3. State preparation and readout
#
# To prepare |k_*⟩ by rejection sampling, one scales the row to k = k_* / max|k_*| and accepts with
# probability P/N, P = Σ k_i²: about **N/P** tries. Reading out o = ⟨k_*|a⟩ with
# |a⟩ = K⁻¹y / ‖K⁻¹y‖ (for the diagonal NTK |a⟩ = |y⟩ = y/√n) by measuring until success costs
# about **1/o² - 1** failed measurements.
#
# ### Exercise 2 - the readout overlap
# Complete `readout_overlap(k_test, y, kernel)`: one overlap per test row, between the unit vector
# along the row and the unit vector along K⁻¹y (or along y when `kernel` is None).

# %% tags=["exercise"]
def readout_overlap(k_test, y, kernel=None):
    """Return o = <k_*|K^-1 y / ||K^-1 y||> per test row (<k_*|y> / ||y|| if kernel is None)."""
    raise NotImplementedError("Exercise: complete this; check_readout_overlap(...) tells you if it is right.")


check_readout_overlap(readout_overlap)

# %%
n_over_p = ntk.state_preparation_measurements(k_test)
readout_diag = ntk.readout_measurements(ntk.readout_overlap(k_test, data.y_train))
readout_sparse = ntk.readout_measurements(ntk.readout_overlap(k_test, data.y_train, k_sparse))
print(f"median over test images: N/P = {np.median(n_over_p):.2f} (of N = 64), "
      f"readout diag {np.median(readout_diag):.2f}, sparse {np.median(readout_sparse):.2f}")

# %% [markdown]
# ## 4. The depth trade-off
#
# At the paper's depth the off-diagonal NTK entries are about 10⁻⁶ of the diagonal (lesson 06):
# the sparsified NTK is the identity to six digits, κ = 1.00, and "the sparse NTK matches the exact
# one" holds *by construction*. The solver has nothing to do. Make the network shallower and the
# kernel carries more structure - and the approximations start to cost accuracy. We follow one
# data set through depths 1 to 60:

# %%
depths = np.unique(np.geomspace(1, 60, 16).astype(int))
trade = {key: [] for key in ("exact", "sparse", "diag", "kappa")}
for L in depths:
    k_l = ntk.erf_ntk(data.x_train, None, int(L))
    kt_l = ntk.erf_ntk(data.x_test, data.x_train, int(L))
    ks_l = ntk.sparsify(k_l, pattern)
    trade["exact"].append(np.mean(ntk.classify(ntk.kernel_regression(k_l, kt_l, data.y_train)) == data.y_test))
    trade["sparse"].append(np.mean(ntk.classify(ntk.kernel_regression(ks_l, kt_l, data.y_train)) == data.y_test))
    trade["diag"].append(np.mean(ntk.classify(ntk.diagonal_regression(k_l, kt_l, data.y_train)) == data.y_test))
    trade["kappa"].append(ntk.condition_number(ks_l))

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 3.2))
for key in ("exact", "sparse", "diag"):
    ax1.plot(depths, trade[key], "o-", ms=3, label=f"{key} NTK")
ax1.set_xscale("log")
ax1.set_xlabel("depth")
ax1.set_ylabel("test accuracy")
ax1.legend()
ax2.loglog(depths, trade["kappa"], "o-", ms=3)
ax2.set_xlabel("depth")
ax2.set_ylabel(r"$\kappa$ of the sparsified NTK")
for ax in (ax1, ax2):
    ax.axvline(depth, color="grey", lw=0.8)
fig.tight_layout()
print("depth:        ", " ".join(f"{L:5d}" for L in depths))
print("acc sparse:   ", " ".join(f"{a:5.2f}" for a in trade["sparse"]))
print("kappa sparse: ", " ".join(f"{k:5.0f}" if k >= 10 else f"{k:5.2f}" for k in trade["kappa"]))

# %% [markdown]
# Three regimes: very shallow networks have an ill-conditioned sparsified NTK (κ in the hundreds)
# and the sparse approximation loses accuracy; at depths around 10 (depth factor 0.02) κ is a
# few units and sparse, diagonal and exact NTK are all accurate; deeper, everything becomes the
# identity. The table below repeats one trial per depth factor over three random data sets.

# %%
rows = []
for factor in (0.1, 0.02, 0.005):
    for seed in range(3):
        rows.append(dict(factor=factor, **ntk.trial_metrics(64, depth_factor=factor, seed=seed, n_test=64)))
print("factor depth  acc exact sparse  diag   kappa   N/P  readout diag sparse")
for r in rows:
    print(f"{r['factor']:6} {r['depth']:5d} {r['acc_exact']:10.3f} {r['acc_sparse']:6.3f} {r['acc_diag']:5.3f} "
          f"{r['kappa_sparse']:7.2f} {r['state_prep']:5.1f} {r['readout_diag']:12.1f} {r['readout_sparse']:6.1f}")

# %%
# Sanity check: deep = trivially equal; shallow = ill-conditioned and the sparse NTK loses accuracy.
deep = [r for r in rows if r["factor"] == 0.1]
shallow = [r for r in rows if r["factor"] == 0.005]
assert all(r["kappa_sparse"] < 1.01 and r["acc_exact"] == r["acc_sparse"] == r["acc_diag"] for r in deep)
assert all(r["kappa_sparse"] > 10 for r in shallow)
assert np.mean([r["acc_sparse"] for r in shallow]) < np.mean([r["acc_exact"] for r in shallow])

# %% [markdown]
# ## 5. The n sweep, with honest error bars
#
# The paper's figures plot each metric against n with medians over trials and bootstrap error
# bars. We sweep n = 16 ... 256 (the 8x8 digits have 174 images of an 8, so n/2 = 128 is the
# largest half-class that leaves a test set of 64), three trials each, at the paper's depth factor
# 0.1 and at the shallower 0.02.

# %%
sweeps = {factor: ntk.sweep([16, 32, 64, 128, 256], trials=3, depth_factor=factor, n_test=64, progress=False)
          for factor in (0.1, 0.02)}
panels = [("acc_sparse", "accuracy (sparse NTK)"), ("s_col_max", "max nonzeros per column"),
          ("kappa_sparse", r"$\kappa$ (sparse NTK)"), ("state_prep", "state preparation N/P"),
          ("readout_diag", "readout 1/o² - 1 (diag)"), ("readout_sparse", "readout 1/o² - 1 (sparse)")]
fig, axes = plt.subplots(2, 3, figsize=(10, 5.5))
for ax, (metric, title) in zip(axes.flat, panels):
    for factor, records in sweeps.items():
        n, med, lo, hi, _ = np.array(ntk.summarise(records, metric)).T
        ax.errorbar(n, med, yerr=[med - lo, hi - med], marker="o", ms=3, capsize=2, label=f"depth factor {factor}")
    ax.set_xscale("log", base=2)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("n")
axes[0, 0].legend(fontsize=7)
fig.tight_layout()

for factor, records in sweeps.items():
    print(f"depth factor {factor}: median kappa by n", [round(m, 2) for _, m, *_ in ntk.summarise(records, "kappa_sparse")])

# %% [markdown]
# **Reading the plots.** Max nonzeros per column grow slowly (5, 7, 10, 12, 14), like log n, as
# the paper says. At depth factor 0.1, κ = 1 and readout costs about 14-22 measurements at every
# n - but only because the kernel is the identity. At depth factor 0.02 κ stays modest and the
# accuracy stays high: this is the regime where the paper's argument has content. State
# preparation N/P grows with n: the test-kernel row is not spread evenly over the training set.
#
# ### The repeated-values bug
# The original analysis collected trial results with a list of references to one object, so every
# "trial" held the same values; a bootstrap over identical values has zero spread, and the error
# bars came out too small. The same mistake in three lines:

# %%
n_trials = 3
buggy = [[]] * n_trials                   # three references to ONE list
fixed = [[] for _ in range(n_trials)]     # three lists
for trial in range(n_trials):
    kappa = sweeps[0.02][trial]["kappa_sparse"]   # n = 16, trial 0, 1, 2
    buggy[trial].append(kappa)
    fixed[trial].append(kappa)
print("buggy:", [[round(v, 2) for v in row] for row in buggy])
print("fixed:", [[round(v, 2) for v in row] for row in fixed])
buggy_values = [row[-1] for row in buggy]
print("bootstrap interval of the median, buggy:", np.round(ntk.bootstrap_interval(buggy_values), 2))
print("bootstrap interval of the median, fixed:", np.round(ntk.bootstrap_interval([row[-1] for row in fixed]), 2))

# %%
# Sanity check: the bug collapses the trials onto one value and the error bar to zero width.
assert len(set(buggy_values)) == 1 and len({row[-1] for row in fixed}) == 3
median, low, high = ntk.bootstrap_interval(buggy_values)
assert low == high

# %% [markdown]
# `ntk.sweep` builds a fresh dict for every trial, and a test checks that the trials differ.
#
# ## 6. HHL on a tiny sparsified NTK
#
# Qiskit removed its HHL solver in 2023; the algorithm is short enough to build from its parts
# (`qdr_course.quantum.hhl.HHL`): prepare |b⟩; phase estimation of e^{iAt} writes each eigenvalue λ_j into
# a clock register; a rotation of one ancilla, controlled by the clock, puts C/λ on its |1⟩
# amplitude; the inverse phase estimation cleans the clock; measuring the ancilla in |1⟩ leaves
# the system in |x⟩ ∝ A⁻¹|b⟩. The powers of e^{iAt} are exact matrix exponentials - fine for a
# simulated 8x8 system, but on hardware they are the expensive part (Hamiltonian simulation,
# which is where s enters the cost).
#
# The clock register holds j = 0 ... 2^m - 1, read in two's complement, so clock value j stands for
# λ̃_j = 2π φ_j / t with φ_j = j / 2^m (or j / 2^m - 1 for j ≥ 2^(m-1)): negative eigenvalues work too.
#
# ### Exercise 3 - the controlled rotation angles
# Complete `rotation_angles(eigenvalues, c)`: θ_j = 2 arcsin(C / λ̃_j) so that sin(θ_j/2) = C/λ̃_j;
# θ = 0 for λ̃ = 0; where |C/λ̃| > 1 (reachable only through phase-estimation leakage) cap the
# ratio at ±1.

# %% tags=["exercise"]
def rotation_angles(eigenvalues, c):
    """Return theta_j = 2 arcsin(C / lambda_j), 0 where lambda_j = 0, ratio capped at +-1."""
    raise NotImplementedError("Exercise: complete this; check_rotation_angles(...) tells you if it is right.")


check_rotation_angles(rotation_angles)

# %% [markdown]
# Take n = 8 training images and the depth factor 0.02 (κ is then well above 1, so the solver
# has something to do), sparsify the NTK, and solve K~ a = y with 9 clock qubits:

# %%
small = ntk.load_digit_pair(8, digits=(8, 9), n_test=64, seed=0)
small_depth = ntk.depth_for(small.x_train, depth_factor=0.02)
k_small = ntk.erf_ntk(small.x_train, None, small_depth)
k_small = k_small / k_small[0, 0]  # scale the diagonal to 1 (predictions do not change)
k_small_sparse = ntk.sparsify(k_small, ntk.sparsity_pattern(small.y_train, np.random.default_rng(0)))
solver = hhl.HHL(k_small_sparse, num_clock=9)
circuit = solver.circuit(small.y_train)
print(f"depth {small_depth}, kappa {solver.condition_number:.2f}; circuit: {circuit.num_qubits} qubits "
      f"(3 system, 9 clock, 1 ancilla)")
result = solver.solve(small.y_train)
print(f"fidelity with the classical solution {result.fidelity:.4f}, success probability "
      f"{result.success_probability:.4f}, clock leakage {result.clock_leakage:.4f}")

# %%
k_small_test = ntk.erf_ntk(small.x_test, small.x_train, small_depth)
out_classical = k_small_test @ np.linalg.solve(k_small_sparse, small.y_train)
out_quantum = k_small_test @ result.solution.real  # the direction of a; the sign rule ignores the scale
agree = np.mean(ntk.classify(out_classical) == ntk.classify(out_quantum))
print(f"test labels from the HHL state agree with the classical solve on {agree:.3f} of the images; "
      f"accuracy {np.mean(ntk.classify(out_quantum) == small.y_test):.3f}")

# %%
# Sanity check: the HHL state is the classical solution to fidelity >= 0.99.
assert result.fidelity >= 0.99 and agree >= 0.95

# %% [markdown]
# The success probability falls as κ grows: the ancilla's |1⟩ amplitude is C/λ with C ≈ λ_min,
# so components along large eigenvalues are suppressed by 1/κ. On random 4x4 systems:

# %%
kappas = [2, 5, 10, 20]
hhl_rows = []
for kappa in kappas:
    res = hhl.HHL(hhl.matrix_with_condition_number(kappa, 4, seed=1), num_clock=7).solve(np.ones(4))
    hhl_rows.append((kappa, res.fidelity, res.success_probability))
    print(f"kappa {kappa:3d}: fidelity {res.fidelity:.4f}, success probability {res.success_probability:.3f}")

# %%
# Sanity check: success probability falls with kappa.
assert all(a[2] > b[2] for a, b in zip(hhl_rows, hhl_rows[1:]))

# %% [markdown]
# The fidelity falls too, at a fixed number of clock qubits: small eigenvalues λ ≈ λ_max/κ sit on
# fewer clock steps, so phase estimation resolves 1/λ less precisely. Keeping the error at ε needs
# about log₂(κ/ε) clock qubits and a longer evolution time - one source of HHL's κ²/ε cost.

# %% [markdown]
# A QLSA does not hand us the vector a, only a quantum state. The prediction needs the overlap with
# |k_*⟩; here we undo the preparation of |k_*⟩ after HHL and count how often the system register
# returns to |0⟩ (given ancilla = 1): that frequency is |⟨k_*|a⟩|². Real shots on Aer's SamplerV2:

# %%
readout = solver.estimate_overlap(small.y_train, k_small_test[0], shots=20000, seed=0)
print(f"|<k_*|a>|^2: exact {readout['exact']:.4f}, from {readout['successes']} successful of 20000 shots "
      f"{readout['estimate']:.4f} +- {readout['stderr']:.4f}")

# %%
# Sanity check: the shot estimate agrees with the exact overlap within 4 standard errors
# (plus the small HHL error).
assert abs(readout["estimate"] - readout["exact"]) < 4 * readout["stderr"] + 0.02

# %% [markdown]
# Most shots are wasted: the ancilla succeeds with probability ≈ 4 %, and only then does the
# overlap measurement count. Both costs - 1/success and 1/o² - multiply the run time.
#
# ## 7. What it would cost
#
# `qdr_course.ntk.qlsa_cost` turns the measured medians into query counts. Its assumptions:

# %%
print(qlsa_cost.ASSUMPTIONS)

# %%
print(f"{'factor':>6} {'n':>4} {'s':>5} {'kappa':>6} {'N/P':>6} {'1/o^2-1':>8} {'HHL':>10} {'CKS':>10} {'CG':>10} {'dense':>10}")
for factor, records in sweeps.items():
    for row in qlsa_cost.cost_table(records):
        print(f"{factor:6} {row['n']:4d} {row['s']:5.2f} {row['kappa']:6.2f} {row['state_prep']:6.2f} "
              f"{row['readout']:8.2f} {row['hhl']:10.3g} {row['cks']:10.3g} {row['cg']:10.3g} {row['dense']:10.3g}")

# %%
fig, ax = plt.subplots(figsize=(5, 3.5))
for key, style in (("hhl", "o-"), ("cks", "s-"), ("cg", "^--"), ("dense", "v--")):
    rows_02 = qlsa_cost.cost_table(sweeps[0.02])
    ax.loglog([r["n"] for r in rows_02], [r[key] for r in rows_02], style, ms=4, label=key.upper())
ax.set_xlabel("n")
ax.set_ylabel("queries per prediction (depth factor 0.02)")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# Sanity check: at course sizes CG is the cheapest everywhere and CKS is cheaper than HHL.
for records in sweeps.values():
    for row in qlsa_cost.cost_table(records):
        assert row["cg"] < min(row["hhl"], row["cks"], row["dense"]) and row["cks"] < row["hhl"]

# %% [markdown]
# ### Discussion
# At these sizes, which solver is cheapest, and what has to be true for the quantum algorithm to
# win at large n?
#
# *Write your answer here.*
#
# ## Key points
# - The sparsified NTK keeps about 2 ln n random same-class entries per row plus the diagonal;
#   its nonzeros per row and column grow like log n.
# - A QLSA is fast only if s, κ, the state preparation cost N/P and the readout cost 1/o² all stay
#   small; measure them, do not assume them.
# - At the paper's depth (0.1 L_conv) the NTK is numerically diagonal: κ = 1.00 and exact, sparse
#   and diagonal NTK predict identically - the agreement is built in. Shallower networks (depth
#   factor 0.02) are the informative regime; very shallow ones are ill-conditioned.
# - Error bars need independent trials: a list of references to one object makes every trial the
#   same and the bootstrap interval zero.
# - HHL is a short circuit - phase estimation, a controlled rotation θ = 2 arcsin(C/λ), uncompute,
#   post-select - that reproduces A⁻¹b with fidelity > 0.99 in simulation; its success probability
#   falls with κ, and reading out an overlap costs many more shots.
# - The cost model shows where a quantum speed-up could come from and what it assumes (cheap kernel
#   oracles, polylog s, κ, N/P, 1/o²); at course sizes classical solvers are far cheaper.
