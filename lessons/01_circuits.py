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
# **Teaching:** 40 min · **Exercises:** 40 min
#
# A hybrid network hands a few numbers to a quantum circuit as *rotation angles*, and reads back
# *expectation values*. This lesson builds that circuit from the ground up, with Qiskit 2.x.
#
# ## Objectives
# - Write a qubit's state and a rotation as a vector and a matrix, and two qubits' state as their
#   tensor product, with Qiskit's order of the four amplitudes; picture it on the Bloch
#   sphere; know the gates H, X, CNOT (CX) and CZ, and measuring in the X basis.
# - Tell entanglement from a classical correlation with $\langle ZZ\rangle$, $\langle XX\rangle$
#   and $\langle YY\rangle$.
# - Build a parameterised circuit whose parameters are split into data **inputs** and trainable
#   **weights**, and draw it.
# - Compute expectation values exactly with Qiskit's V2 `Estimator`, and from shots with the V2
#   `Sampler`; see how shot noise shrinks as $1/\sqrt{N}$.
# - Know the three circuits of this course: the retinopathy circuit done right, the original
#   (flawed) one, and the Xia-Kais circuit it credits.

# %%
import numpy as np

from qdr_course import set_seed
from qdr_course.utils import figure_style

rng = set_seed(0)
np.set_printoptions(precision=4, suppress=True)
figure_style()

# %% [markdown]
# ## A qubit and a rotation
#
# A **qubit**'s state is a unit vector $|\psi\rangle = \alpha|0\rangle + \beta|1\rangle$ (its
# **statevector**); the complex numbers $\alpha, \beta$ are its **amplitudes**, and measuring gives
# 0 with probability $|\alpha|^2$ and 1 with probability $|\beta|^2$. Gates are unitary matrices. The rotation about the $y$ axis is
#
# $$R_Y(\theta) = \begin{pmatrix}\cos\frac{\theta}{2} & -\sin\frac{\theta}{2}\\
#   \sin\frac{\theta}{2} & \cos\frac{\theta}{2}\end{pmatrix},$$
#
# so $R_Y(\theta)|0\rangle = \cos\frac{\theta}{2}|0\rangle + \sin\frac{\theta}{2}|1\rangle$. Note the
# half angles: $\theta = 2\pi$ is a full physical turn (every measurement gives what it gave at
# $\theta = 0$), but the matrix is then $-1$ times the identity: the state *vector* picks up a
# global sign, which no measurement sees, and returns to itself only at $\theta = 4\pi$. An
# **observable** is a Hermitian matrix whose eigenvalues are the possible readings; the **Pauli
# operators** $X = \begin{pmatrix}0&1\\1&0\end{pmatrix}$, $Y = \begin{pmatrix}0&-i\\i&0\end{pmatrix}$
# and $Z = \begin{pmatrix}1&0\\0&-1\end{pmatrix}$ are the basic ones. $Z$ has eigenvalue $+1$ on
# $|0\rangle$ and $-1$ on $|1\rangle$, so its **expectation value** (the average reading) is
#
# $$\langle Z\rangle = |\alpha|^2 - |\beta|^2 = \cos\theta \quad\text{for } R_Y(\theta)|0\rangle.$$
#
# ### Exercise 1.1 - a qubit that starts in $|1\rangle$
# The formula above is for a qubit that starts in $|0\rangle$. Now it starts in $|1\rangle$.
# Think first: which way does $\langle Z\rangle$ move as $\theta$ grows from 0, and what is it
# at $\theta = \pi$? Then complete `z_after_ry_on_one(theta)`: return $\langle Z\rangle$ of
# $R_Y(\theta)|1\rangle$ (work with the matrix, a NumPy array, or find a closed form).

# %% tags=["exercise", "implement"]
from qdr_course.checks import check_z_after_ry_on_one


def z_after_ry_on_one(theta):
    """<Z> of RY(theta)|1>."""
    raise NotImplementedError("Exercise: complete this; check_z_after_ry_on_one(...) tells you if it is right.")


check_z_after_ry_on_one(z_after_ry_on_one)

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
# ## The Bloch sphere
#
# Up to an unobservable global phase, every one-qubit state is
# $\cos\frac{\vartheta}{2}|0\rangle + e^{i\varphi}\sin\frac{\vartheta}{2}|1\rangle$: a point on a unit
# sphere with polar angle $\vartheta$ and azimuth $\varphi$, the **Bloch sphere**. $|0\rangle$ is the
# north pole, $|1\rangle$ the south pole, and the point's coordinates are the three expectation
# values $(\langle X\rangle, \langle Y\rangle, \langle Z\rangle)$. $R_Y(\theta)$ turns the point by
# $\theta$ about the $y$ axis, so $R_Y(\theta)|0\rangle$ sits at $(\sin\theta, 0, \cos\theta)$: the half
# angles of the matrix become whole angles on the sphere. Drag the slider (in a live notebook; a
# static run shows four angles):

# %%
from qdr_course.widgets import bloch_figure, explore_bloch

# alt: Four Bloch spheres for theta = 0, pi/2, 0.8 and pi, each with the state's arrow turned by theta from the north pole |0> about the y axis and titled with <Z> = cos theta and P(1) = sin^2(theta/2).
explore_bloch(start=0.8)

# %% [markdown]
# Sanity check: the point Qiskit's `plot_bloch_vector` draws, $(\sin\theta, 0, \cos\theta)$, is
# $(\langle X\rangle, \langle Y\rangle, \langle Z\rangle)$ of the state.

# %%
bloch = [state.expectation_value(SparsePauliOp(p)).real for p in "XYZ"]
assert np.allclose(bloch, [np.sin(theta), 0, np.cos(theta)], atol=1e-12)
print("(<X>, <Y>, <Z>) =", np.round(bloch, 4))
# alt: One Bloch sphere with the arrow of RY(0.8)|0>, 0.8 radians from the north pole towards +x, titled <Z> = cos 0.8 = +0.70 and P(1) = 0.15.
fig = bloch_figure([theta])  # one sphere, for this theta

# %% [markdown]
# ### Exercise 1.2 - find the angle (tweak and observe)
# Move the slider (or think on the sphere): at which angle $\theta$ in $(0, 2\pi)$ does
# $R_Y(\theta)|0\rangle$ have $\langle Z\rangle = -\frac12$ **and** $\langle X\rangle < 0$? Return it
# to within 0.01 in $\langle Z\rangle$ (the slider's step of 0.1 gets you close; finish with a
# little trigonometry).

# %% tags=["exercise", "predict"]
from qdr_course.checks import check_bloch_angle


def my_angle():
    """An angle theta with <Z> = -1/2 and <X> < 0 after RY(theta) on |0>."""
    raise NotImplementedError("Exercise: complete this; check_bloch_angle(...) tells you if it is right.")


check_bloch_angle(my_angle)

# %% [markdown]
# ## Two qubits: the tensor product and the order of the amplitudes
#
# Two qubits, each in its own state $|q_1\rangle = a_0|0\rangle + a_1|1\rangle$ and
# $|q_0\rangle = b_0|0\rangle + b_1|1\rangle$, make a joint state with **four** amplitudes, one per
# pair of readings $00, 01, 10, 11$. When the qubits are independent, the amplitude of a pair is
# the product of the two qubits' amplitudes: that is the **tensor product**
# $|q_1\rangle \otimes |q_0\rangle$, written $|q_1 q_0\rangle$,
#
# $$|q_1\rangle\otimes|q_0\rangle = a_0 b_0\,|00\rangle + a_0 b_1\,|01\rangle + a_1 b_0\,|10\rangle
#   + a_1 b_1\,|11\rangle, \qquad \text{in NumPy: } \texttt{np.kron(q1, q0)} .$$
#
# The four amplitudes are stored in the order of the bit string read as a binary number: the
# amplitude of $|q_1 q_0\rangle$ sits at **index $2q_1 + q_0$**. Qiskit numbers qubits
# **little-endian**: qubit 0 is the *rightmost* bit of a label, so the state it calls `"10"` has
# qubit 1 in $|1\rangle$ and qubit 0 in $|0\rangle$, at index 2. With $n$ qubits there are $2^n$
# amplitudes, and the amplitude of $|q_{n-1}\dots q_1 q_0\rangle$ sits at index
# $\sum_k 2^k q_k$. Gates combine the same way: a gate $A$ on qubit 1 and $B$ on qubit 0 is the
# $4\times4$ matrix $A \otimes B$ (`np.kron(A, B)`), which Qiskit writes
# `Operator(A).tensor(Operator(B))` - the left factor acts on the higher-numbered qubit.
# Sanity check of all three statements against Qiskit:

# %%
zero, one = np.array([1.0, 0.0]), np.array([0.0, 1.0])
for q1_bit, q1 in ((0, zero), (1, one)):
    for q0_bit, q0 in ((0, zero), (1, one)):
        product = np.kron(q1, q0)  # |q1> (x) |q0>
        index = 2 * q1_bit + q0_bit
        assert product[index] == 1 and product.sum() == 1
        assert np.allclose(Statevector.from_label(f"{q1_bit}{q0_bit}").data, product)
        print(f"|q1 q0> = |{q1_bit}{q0_bit}>: amplitude 1 at index {index}")
from qiskit import QuantumCircuit
from qiskit.circuit.library import HGate

gate_a, gate_b = RYGate(0.8).to_matrix(), HGate().to_matrix()
two_gates = QuantumCircuit(2)
two_gates.ry(0.8, 1)  # A on qubit 1
two_gates.h(0)  # B on qubit 0
assert np.allclose(Operator(two_gates).data, np.kron(gate_a, gate_b))
assert Operator(RYGate(0.8)).tensor(Operator(HGate())).equiv(Operator(two_gates))
print("a gate on qubit 1 and one on qubit 0 = np.kron(A, B) = Operator(A).tensor(Operator(B))")

# %% [markdown]
# ### Exercise 1.3 - predict, then run: four amplitudes
# Qubit 1 is put in $R_Y(\pi/2)|0\rangle$ and qubit 0 in $|1\rangle$ (an $X$ gate). On paper,
# write the two one-qubit states, multiply, and place the four amplitudes of $|q_1 q_0\rangle$
# at their indices. Return them as a list of four numbers in Qiskit's order (two decimals are
# enough); the check compares them with Qiskit's `Statevector` of that circuit.

# %% tags=["exercise", "predict"]
from qdr_course.checks import check_product_amplitudes


def my_amplitudes():
    """The four amplitudes of |q1 q0>, q1 = RY(pi/2)|0>, q0 = |1>, at indices 0, 1, 2, 3."""
    raise NotImplementedError("Exercise: complete this; check_product_amplitudes(...) tells you if it is right.")


check_product_amplitudes(my_amplitudes)

# %% [markdown]
# ## The other gates of this course
#
# | gate | matrix | on basis states |
# |---|---|---|
# | $X$ (NOT) | $\begin{pmatrix}0&1\\1&0\end{pmatrix}$ | $|0\rangle \leftrightarrow |1\rangle$ |
# | $H$ (the Hadamard gate) | $\frac{1}{\sqrt2}\begin{pmatrix}1&1\\1&-1\end{pmatrix}$ | $|0\rangle \to |+\rangle = \frac{|0\rangle + |1\rangle}{\sqrt2}$, $|1\rangle \to |-\rangle = \frac{|0\rangle - |1\rangle}{\sqrt2}$ |
# | CNOT = CX (control $c$, target $t$) | $4\times4$, a permutation | flips $t$ when $c$ is 1: $|c, t\rangle \to |c, t \oplus c\rangle$ |
# | CZ | $\operatorname{diag}(1, 1, 1, -1)$ | multiplies $|11\rangle$ by $-1$, leaves the rest; symmetric in its two qubits |
#
# $H$ is its own inverse and swaps the $Z$ and $X$ axes of the Bloch sphere: $HZH = X$. So
# **measuring in the X basis** (asking "$|+\rangle$ or $|-\rangle$?") is: apply $H$, then measure as
# usual; $\langle X\rangle$ of a state is $\langle Z\rangle$ after an $H$. Likewise
# $\mathrm{CZ} = (I\otimes H)\,\mathrm{CX}\,(I\otimes H)$ with $H$ on the target. Sanity check of every
# line of the table:

# %%
from qiskit import QuantumCircuit
from qiskit.circuit.library import CXGate, CZGate, HGate, XGate

h = HGate().to_matrix()
assert np.allclose(XGate().to_matrix(), [[0, 1], [1, 0]])
assert np.allclose(h @ [1, 0], np.array([1, 1]) / np.sqrt(2))
assert np.allclose(h @ [0, 1], np.array([1, -1]) / np.sqrt(2))
assert np.allclose(h @ np.diag([1, -1]) @ h, [[0, 1], [1, 0]])  # HZH = X
assert np.allclose(CZGate().to_matrix(), np.diag([1, 1, 1, -1]))
cx = Operator(CXGate())  # control qubit 0, target qubit 1 (little-endian labels |q1 q0>)
for label, flipped in (("00", "00"), ("01", "11"), ("10", "10"), ("11", "01")):
    assert Statevector.from_label(label).evolve(cx) == Statevector.from_label(flipped)
h_on_target = Operator(HGate()).tensor(Operator(np.eye(2)))  # H on qubit 1
assert h_on_target.compose(cx).compose(h_on_target).equiv(Operator(CZGate()))
plus = Statevector.from_label("+")
x_basis = QuantumCircuit(1)
x_basis.h(0)
assert np.isclose(plus.evolve(x_basis).expectation_value(SparsePauliOp("Z")).real, 1)
print("X, H, CX and CZ act as the table says; <X> of |+> = <Z> after H = 1")

# %% [markdown]
# ## Many qubits, and entanglement
#
# A `SparsePauliOp("IIZ")` is $Z$ on qubit 0 (the rightmost letter, like the rightmost bit).
# Not every two-qubit state is a product of two one-qubit states: entangling gates make the
# qubits' fates depend on each other. The circuit below applies $H$ to qubit 0, giving
# $|0\rangle \otimes |+\rangle$, then CX with qubit 0 as control: the $|1\rangle$ half of qubit 0
# flips qubit 1, which gives the **Bell state** $(|00\rangle + |11\rangle)/\sqrt2$ - and no
# choice of $a_0, a_1, b_0, b_1$ makes $a_0 b_0 = a_1 b_1 = 1/\sqrt2$ with $a_0 b_1 = a_1 b_0 = 0$.

# %%
bell = QuantumCircuit(2)
bell.h(0)
bell.cx(0, 1)  # (|00> + |11>) / sqrt 2
state = Statevector(bell)
print("amplitudes:", np.round(state.data.real, 4))
for label in ("IZ", "ZI", "ZZ"):
    print(f"<{label}> = {state.expectation_value(SparsePauliOp(label)).real:+.3f}")

# %% [markdown]
# Each qubit alone looks random ($\langle Z_0\rangle = \langle Z_1\rangle = 0$), but their
# product is certain ($\langle Z_1 Z_0\rangle = +1$). That alone is **not** entanglement: toss a
# coin and prepare $|00\rangle$ or $|11\rangle$ - the *classical mixture*
# $\rho = \frac12(|00\rangle\langle00| + |11\rangle\langle11|)$ - and you get the same
# $\langle Z\rangle$s and the same $\langle ZZ\rangle$. The difference shows in the other bases:

# %%
from qiskit.quantum_info import DensityMatrix

mixture = DensityMatrix(np.diag([0.5, 0, 0, 0.5]))  # a coin: |00> or |11>
print(f"{'':<10}{'<ZZ>':>7}{'<XX>':>7}{'<YY>':>7}{'|ZZ|+|XX|+|YY|':>16}")
correlations = {}
for name, rho in (("Bell", DensityMatrix(state)), ("mixture", mixture)):
    values = [rho.expectation_value(SparsePauliOp(p)).real for p in ("ZZ", "XX", "YY")]
    correlations[name] = np.abs(values).sum()
    print(f"{name:<10}" + "".join(f"{v:>+7.2f}" for v in values) + f"{correlations[name]:>16.2f}")
assert np.isclose(correlations["Bell"], 3) and np.isclose(correlations["mixture"], 1)

# %% [markdown]
# For every *separable* (unentangled) two-qubit state, and every mixture of them,
# $|\langle XX\rangle| + |\langle YY\rangle| + |\langle ZZ\rangle| \le 1$ (an entanglement
# witness). The Bell state reaches 3: its qubits agree in $Z$ **and** in $X$, which no coin can
# arrange. That is entanglement, and it is what lets a circuit compute functions that mix its
# inputs.
#
# ### Exercise 1.4 - a state from its correlations (tweak and observe)
# Build a 2-qubit circuit (no measurements) whose state has $\langle Z_0\rangle = \langle Z_1\rangle
# = 0$, $\langle Z_1 Z_0\rangle = -1$ (the qubits always *disagree* in $Z$) and
# $\langle X_1 X_0\rangle = +1$. Start from the Bell circuit above and experiment; the check
# tells you which correlation is still off.

# %% tags=["exercise", "implement"]
from qdr_course.checks import check_anticorrelated_bell


def build_circuit():
    """A 2-qubit circuit with <Z_0> = <Z_1> = 0, <Z_1 Z_0> = -1 and <X_1 X_0> = +1."""
    raise NotImplementedError("Exercise: complete this; check_anticorrelated_bell(...) tells you if it is right.")


check_anticorrelated_bell(build_circuit)

# %% [markdown]
# ### Concept check 1.1 - what a correlation proves
# Return the letter of your answer from `my_choice`; the check answers at once.

# %%
from qdr_course.checks import ask

ask("1.1")

# %% tags=["exercise", "concept"]
from qdr_course.checks import check_concept_1_1


def my_choice():
    """The letter of your answer to concept check 1.1."""
    raise NotImplementedError("Exercise: complete this; check_concept_1_1(...) tells you if it is right.")


check_concept_1_1(my_choice)

# %% [markdown]
#
# ## A parameterised circuit: inputs and weights
#
# A **parameterised quantum circuit (PQC)** has gates with adjustable angles.
# `qdr_course.quantum.circuits` builds circuits whose symbolic parameters come in two kinds:
# **inputs** $x_i$ (angles computed from the data, e.g. by a CNN: **angle encoding**) and
# **weights** $w_j$ (trained by the optimiser). Their outputs are expectation values $\langle Z_i\rangle$.
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
# alt: The 3-qubit retinopathy circuit drawn as gates on three wires: a Hadamard and an RY input angle x on each qubit, then two layers of a CZ chain and trainable RY weights w.
qc.draw("mpl")

# %% [markdown]
# ## Exact expectation values with the V2 Estimator
#
# Qiskit 2.x runs circuits through **primitives**. (`qiskit.execute`, `from qiskit import Aer`
# and the V1 `Estimator`/`Sampler` of older tutorials are gone; `qiskit_aer.Aer.get_backend`
# still exists, but the course uses the V2 primitives throughout.) An `EstimatorV2` takes *PUBs*
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
# ### Exercise 1.5 - $\langle Z\rangle$ from counts
# `counts` maps bit strings such as `"011"` to how often they were seen (qubit 0 is the
# **rightmost** character). Return the estimate of $\langle Z_q\rangle$ for qubit `qubit`.

# %% tags=["exercise", "implement"]
from qdr_course.checks import check_z_expectation_from_counts


def z_expectation_from_counts(counts, qubit):
    """Estimate <Z_qubit> = (N(bit=0) - N(bit=1)) / N from a counts dictionary."""
    raise NotImplementedError("Exercise: complete this; check_z_expectation_from_counts(...) tells you if it is right.")


check_z_expectation_from_counts(z_expectation_from_counts)

# %% [markdown]
# Now sample the circuit with Aer's `SamplerV2` (seeded, so the counts are reproducible) and
# watch the error fall like $1/\sqrt{N}$. The sampler needs measurements, so we add them to a
# copy of the circuit. Its result, a `BitArray`, computes $\langle Z_0\rangle$ itself
# (`expectation_values("IIZ")`), which is what your function does from the counts.

# %%
from qdr_course.quantum import aer_sampler

measured = bound.copy()
measured.measure_all()
print(f"{'shots':>7} {'<Z_0> estimate':>15} {'error':>9} {'predicted std':>14}")
for shots in (100, 1_000, 10_000, 100_000):
    bits = aer_sampler(shots=shots, seed=1).run([measured]).result()[0].data.meas
    z0 = float(bits.expectation_values(["IIZ"])[0])
    print(f"{shots:>7} {z0:>15.4f} {abs(z0 - evs[0]):>9.4f} {np.sqrt((1 - evs[0] ** 2) / shots):>14.4f}")

# %% [markdown]
# Ten times the precision costs a hundred times the shots. The original retinopathy code used
# 1000 shots per evaluation and fed the 8 bit-string probabilities to the network: an estimate of
# a probability $p$ from 1000 shots has standard deviation $\sqrt{p(1-p)/1000}$, at most
# $\sqrt{0.25/1000} \approx 0.016$ (a typical error, not a bound: errors of twice that happen
# about one time in twenty), and, with unseeded shots, no evaluation could be repeated exactly.
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
# ### Concept check 1.2 - what more shots buy

# %%
ask("1.2")

# %% tags=["exercise", "concept"]
from qdr_course.checks import check_concept_1_2


def my_choice():
    """The letter of your answer to concept check 1.2."""
    raise NotImplementedError("Exercise: complete this; check_concept_1_2(...) tells you if it is right.")


check_concept_1_2(my_choice)

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
#   after $R_Y(\theta)|0\rangle$: on the Bloch sphere it turns the state by the whole angle
#   $\theta$.
# - $H$ swaps the $Z$ and $X$ bases (measure in $X$ = apply $H$, then measure); CX flips its target
#   when the control is 1; CZ puts a minus sign on $|11\rangle$.
# - A correlation in one basis ($\langle ZZ\rangle = 1$) is not entanglement - a coin gives it too;
#   $|\langle XX\rangle| + |\langle YY\rangle| + |\langle ZZ\rangle| > 1$ is.
# - Independent qubits combine by the tensor product, $|q_1 q_0\rangle = |q_1\rangle \otimes
#   |q_0\rangle$ (`np.kron`); gates on separate qubits by $A \otimes B$ (`Operator.tensor`).
# - Qiskit orders qubits little-endian: qubit 0 is the rightmost character of a bit string or
#   Pauli label, and the amplitude of $|q_{n-1}\dots q_0\rangle$ sits at index $\sum_k 2^k q_k$.
# - A hybrid circuit separates data **inputs** from trainable **weights**; its outputs are
#   expectation values of observables such as $Z_i$.
# - Qiskit 2.x uses V2 primitives: the `Estimator` for expectation values (exact or with a set
#   precision), the `Sampler` for shots; one call can broadcast many bindings.
# - Shot estimates have standard deviation $\sqrt{(1-\langle Z\rangle^2)/N}$: 1000 shots means
#   typical errors of a few hundredths.
# - The original retinopathy circuit had a shared input parameter and no trainable weights; the
#   course's version gives each qubit its own input and trains its rotations.
#
# ## Further reading
# - Nielsen & Chuang, *Quantum Computation and Quantum Information* (10th anniversary ed., 2010),
#   chapters 1.2-1.3 (qubits, the Bloch sphere, single- and two-qubit gates);
#   [doi:10.1017/CBO9780511976667](https://doi.org/10.1017/CBO9780511976667).
# - Qiskit documentation, primitives (EstimatorV2, SamplerV2, PUBs):
#   <https://docs.quantum.ibm.com/guides/primitives>.
# - Horodecki et al. 2009, "Quantum entanglement", Rev. Mod. Phys. 81, 865 (witnesses such as the
#   one above): [arXiv:quant-ph/0702225](https://arxiv.org/abs/quant-ph/0702225).
# - Xia & Kais 2020, "Hybrid quantum-classical neural network for calculating ground state
#   energies of molecules": [arXiv:1912.06184](https://arxiv.org/abs/1912.06184).
