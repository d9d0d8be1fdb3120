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
# # 01 · Parameterised circuits
#
# **Teaching:** 25 min · **Exercises:** 15 min
#
# A hybrid network hands a few numbers to a quantum circuit as *rotation angles*, and reads back
# *expectation values*. This lesson builds that circuit from the ground up, with Qiskit 2.x.
#
# ## Objectives
# - Write a qubit's state and a rotation as a vector and a matrix.
# - Build a parameterised circuit whose parameters are split into data **inputs** and trainable
#   **weights**, and draw it.
# - Compute expectation values exactly with Qiskit's V2 `Estimator`, and from shots with the V2
#   `Sampler`; see how shot noise shrinks as $1/\sqrt{N}$.
# - Know the three circuits of this course: the retinopathy circuit done right, the original
#   (flawed) one, and the Xia-Kais circuit it credits.

# %%
import numpy as np

from qdr_course import set_seed

rng = set_seed(0)
np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## A qubit and a rotation
#
# A qubit's state is a unit vector $|\psi\rangle = \alpha|0\rangle + \beta|1\rangle$. Gates are
# unitary matrices. The rotation about the $y$ axis is
#
# $$R_Y(\theta) = \begin{pmatrix}\cos\frac{\theta}{2} & -\sin\frac{\theta}{2}\\
#   \sin\frac{\theta}{2} & \cos\frac{\theta}{2}\end{pmatrix},$$
#
# so $R_Y(\theta)|0\rangle = \cos\frac{\theta}{2}|0\rangle + \sin\frac{\theta}{2}|1\rangle$. Note the
# half angles: $\theta = 2\pi$ gives $-1$ times the identity, and a full turn of the *state* takes
# $\theta = 4\pi$. The **Pauli Z** observable has eigenvalue $+1$ on $|0\rangle$ and $-1$ on
# $|1\rangle$, so
#
# $$\langle Z\rangle = |\alpha|^2 - |\beta|^2 = \cos\theta \quad\text{for } R_Y(\theta)|0\rangle.$$
#
# ### Exercise 1.1 - the RY matrix
# Complete `ry_matrix(theta)`: return the $2\times2$ NumPy array above.

# %% tags=["exercise"]
from qdr_course.checks import check_ry_matrix


def ry_matrix(theta):
    """The 2x2 matrix of RY(theta)."""
    raise NotImplementedError("Exercise: complete this; check_ry_matrix(...) tells you if it is right.")


check_ry_matrix(ry_matrix)

# %% [markdown]
# Sanity check: Qiskit's gate has that matrix, and $\langle Z\rangle = \cos\theta$ after it.

# %%
from qiskit.circuit.library import RYGate
from qiskit.quantum_info import Operator, SparsePauliOp, Statevector

theta = 0.8
c, s = np.cos(theta / 2), np.sin(theta / 2)
assert np.allclose(RYGate(theta).to_matrix(), [[c, -s], [s, c]])
state = Statevector.from_label("0").evolve(Operator(RYGate(theta)))
z_exact = state.expectation_value(SparsePauliOp("Z")).real
assert np.isclose(z_exact, np.cos(theta))
print(f"<Z> = {z_exact:.6f} = cos({theta}) = {np.cos(theta):.6f}")

# %% [markdown]
# ## Many qubits, and Qiskit's bit order
#
# $n$ qubits live in a $2^n$-dimensional space. Qiskit numbers qubits **little-endian**: in the
# label `"011"`, qubit 0 is the *rightmost* character. A `SparsePauliOp("IIZ")` is $Z$ on
# qubit 0. Entangling gates make the qubits' fates depend on each other: after
# $H\otimes H$ then CZ, measuring qubit 0 in the $X$ basis tells you about qubit 1.

# %%
from qiskit import QuantumCircuit

bell = QuantumCircuit(2)
bell.h(0)
bell.cx(0, 1)  # (|00> + |11>) / sqrt 2
state = Statevector(bell)
print("amplitudes:", np.round(state.data.real, 4))
for label in ("IZ", "ZI", "ZZ"):
    print(f"<{label}> = {state.expectation_value(SparsePauliOp(label)).real:+.3f}")

# %% [markdown]
# Each qubit alone looks random ($\langle Z_0\rangle = \langle Z_1\rangle = 0$), but their
# product is certain ($\langle Z_1 Z_0\rangle = +1$): that correlation is entanglement, and it is
# what lets a circuit compute functions that mix its inputs.
#
# ## A parameterised circuit: inputs and weights
#
# `qdr_course.quantum.circuits` builds circuits whose symbolic parameters come in two kinds:
# **inputs** $x_i$ (angles computed from the data, e.g. by a CNN) and **weights** $w_j$
# (trained by the optimiser). Their outputs are expectation values $\langle Z_i\rangle$.
#
# The retinopathy circuit *done right*: Hadamards, one input angle per qubit, then layers of a CZ
# chain and trainable $R_Y$ rotations.

# %%
from qdr_course.quantum import retinopathy_circuit

qc = retinopathy_circuit(n_qubits=3, n_layers=2)
print(qc)
print("inputs :", qc.input_params)
print("weights:", qc.weight_params)
print("outputs:", qc.output_names)
qc.draw()

# %%
qc.draw("mpl")

# %% [markdown]
# ## Exact expectation values with the V2 Estimator
#
# Qiskit 2.x runs circuits through **primitives**. (`qiskit.execute`, `Aer.get_backend` and the
# V1 `Estimator`/`Sampler` of older tutorials are gone.) An `EstimatorV2` takes *PUBs*
# (primitive unified blocs): `(circuit, observables, parameter_values)`, and broadcasts them
# like NumPy arrays - one call can evaluate many parameter bindings and observables. Here we
# first bind the numbers ourselves; parameter values in a PUB follow the order of
# `circuit.parameters` (sorted by name).

# %%
from qiskit.primitives import StatevectorEstimator

estimator = StatevectorEstimator()
x = np.array([0.3, -0.7, 1.1])
w = rng.uniform(0, 2 * np.pi, size=qc.num_weights)
bound = qc.bind(x, w)  # a circuit with numbers in place of symbols
observables = qc.observables
job = estimator.run([(bound, observables)])
evs = job.result()[0].data.evs
print("<Z_0>, <Z_1>, <Z_2> =", np.round(evs, 6))

# %% [markdown]
# Aer's `EstimatorV2` gives the same numbers (its `default_precision=0` means exact), and so does
# the course's own pure-PyTorch simulator, which lesson 03 uses for fast training.

# %%
from qdr_course.quantum import aer_estimator
from qdr_course.quantum import expectation_values

evs_aer = aer_estimator().run([(bound, observables)]).result()[0].data.evs
evs_torch = expectation_values(qc, x, w)
assert np.allclose(evs_aer, evs, atol=1e-12) and np.allclose(evs_torch, evs, atol=1e-12)
print("Aer and torch agree with the reference estimator to 1e-12")

# %% [markdown]
# Broadcasting: evaluate 5 input vectors in **one** call by giving the PUB a `(5, 9)` array of
# parameter values (3 inputs then 6 weights, in the circuit's parameter order) and observables
# of shape `(1, 3)`, which broadcast to results of shape `(5, 3)`.

# %%
xs = rng.normal(size=(5, 3))
position = {p: i for i, p in enumerate(qc.parameters)}  # ours: inputs, then weights
order = [position[p] for p in qc.circuit.parameters]  # Qiskit's order: sorted by name
table = np.column_stack([xs, np.tile(w, (len(xs), 1))])[:, order]
result = estimator.run([(qc.circuit, [observables], table[:, None, :])]).result()[0]
print("shape:", result.data.evs.shape)
assert np.allclose(result.data.evs, expectation_values(qc, xs, w), atol=1e-12)

# %% [markdown]
# ## Shots: what a real device gives you
#
# Hardware does not return $\langle Z\rangle$; it returns bit strings. With $N$ shots,
# $\widehat{\langle Z\rangle} = (N_0 - N_1)/N$, an average of $\pm1$ outcomes with variance
# $(1 - \langle Z\rangle^2)/N$. The V2 `Sampler` returns those shots.
#
# ### Exercise 1.2 - $\langle Z\rangle$ from counts
# `counts` maps bit strings such as `"011"` to how often they were seen (qubit 0 is the
# **rightmost** character). Return the estimate of $\langle Z_q\rangle$ for qubit `qubit`.

# %% tags=["exercise"]
from qdr_course.checks import check_z_expectation_from_counts


def z_expectation_from_counts(counts, qubit):
    """Estimate <Z_qubit> = (N(bit=0) - N(bit=1)) / N from a counts dictionary."""
    raise NotImplementedError("Exercise: complete this; check_z_expectation_from_counts(...) tells you if it is right.")


check_z_expectation_from_counts(z_expectation_from_counts)

# %% [markdown]
# Now sample the circuit with Aer's `SamplerV2` (seeded, so the counts are reproducible) and
# watch the error fall like $1/\sqrt{N}$. The sampler needs measurements, so we add them to a
# copy of the circuit.

# %%
from qdr_course.quantum import aer_sampler


def counts_to_z(counts, qubit):  # the package's reference for exercise 1.2
    shots = sum(counts.values())
    return sum(n * (1 - 2 * int(bits[::-1][qubit])) for bits, n in counts.items()) / shots


measured = bound.copy()
measured.measure_all()
print(f"{'shots':>7} {'<Z_0> estimate':>15} {'error':>9} {'predicted std':>14}")
for shots in (100, 1_000, 10_000, 100_000):
    counts = aer_sampler(shots=shots, seed=1).run([measured]).result()[0].data.meas.get_counts()
    z0 = counts_to_z(counts, 0)
    print(f"{shots:>7} {z0:>15.4f} {abs(z0 - evs[0]):>9.4f} {np.sqrt((1 - evs[0] ** 2) / shots):>14.4f}")

# %% [markdown]
# Ten times the precision costs a hundred times the shots. The original retinopathy code used
# 1000 shots per evaluation and fed the 8 bit-string probabilities to the network: each carried
# a random error of up to $\sqrt{0.25/1000} \approx 0.016$, and, with unseeded shots, no
# evaluation could be repeated exactly.
#
# ## The three circuits of this course
#
# **The original retinopathy circuit** (the "seed") put *one* input angle $t_0$ into three gates,
# fed the other six angles also from the CNN, and had no trainable weights at all: the "quantum
# layer" was a fixed feature map, read out as 8 bit-string probabilities from 1000 shots.

# %%
from qdr_course.quantum import seed_retinopathy_circuit, xia_kais_circuit, layered_ansatz

seed = seed_retinopathy_circuit()
print(seed)
seed.draw()

# %% [markdown]
# **Xia & Kais** (arXiv 1912.06184), which the seed credits: the *same* input angle $a$ on every
# qubit, then 3 layers of a CNOT chain and trainable $R_Y(w)$, read out as $\langle Z_i\rangle$.

# %%
xk = xia_kais_circuit()
print(xk)
xk.draw()

# %% [markdown]
# And a **general layered ansatz** for experiments: choose the rotations per layer and the
# entangler.

# %%
ansatz = layered_ansatz(n_qubits=3, n_layers=2, rotations=("rz", "ry"), entangler="cx")
print(ansatz)
print(f"{'circuit':<18}{'qubits':>7}{'inputs':>8}{'weights':>9}{'outputs':>9}")
for c in (qc, seed, xk, ansatz):
    print(f"{c.name:<18}{c.num_qubits:>7}{c.num_inputs:>8}{c.num_weights:>9}{c.num_outputs:>9}")

# %% [markdown]
# Sanity check of a claim we will use in lesson 02: the old Qiskit textbook's 1-qubit "quantum
# layer" (H, then $R_Y(t)$, output $P(1)$) computes exactly $(1 + \sin t)/2$ - a fixed classical
# function, no quantum advantage possible.

# %%
from qdr_course.quantum import textbook_circuit

t = np.linspace(-np.pi, np.pi, 7)
p_one = expectation_values(textbook_circuit(), t[:, None])[:, 0]
assert np.allclose(p_one, (1 + np.sin(t)) / 2, atol=1e-12)
print("P(1) =", np.round(p_one, 4))

# %% [markdown]
# ## Key points
# - A gate is a unitary matrix; $R_Y(\theta)$ uses half angles, and $\langle Z\rangle = \cos\theta$
#   after $R_Y(\theta)|0\rangle$.
# - Qiskit orders qubits little-endian: qubit 0 is the rightmost character of a bit string or
#   Pauli label.
# - A hybrid circuit separates data **inputs** from trainable **weights**; its outputs are
#   expectation values of observables such as $Z_i$.
# - Qiskit 2.x uses V2 primitives: the `Estimator` for expectation values (exact or with a set
#   precision), the `Sampler` for shots; one call can broadcast many bindings.
# - Shot estimates have standard deviation $\sqrt{(1-\langle Z\rangle^2)/N}$: 1000 shots means
#   errors of a few hundredths.
# - The original retinopathy circuit had a shared input parameter and no trainable weights; the
#   course's version gives each qubit its own input and trains its rotations.
