# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 09 · On a real quantum computer
#
# **Teaching:** 55 min · **Exercises:** 25 min
#
# Everything so far ran on simulators. This lesson sends lesson 03's quantum layer and lesson
# 05's grader to an IBM Quantum device through IBM's own client, `qiskit-ibm-runtime`, and asks
# the questions to settle before spending anyone's QPU time: will the circuit survive the
# device's errors, on which of its qubits, what will the job cost, and what does error
# mitigation change? Without an account the same code runs in qiskit-ibm-runtime's *local
# testing mode*: a fake device (an offline snapshot of a real one) simulated on this computer
# with its noise.
#
# IBM's processors come in families that differ in their native two-qubit gate: the current
# **Heron** processors (ibm_torino, ibm_fez, ...) use **CZ**, the older Eagle processors use ECR
# (echoed cross-resonance), and the retired Falcon processors used CX. Nothing below assumes one
# of them: the gate, its errors and everything computed from them are read from the device.
#
# ## Objectives
# - Read a device's native gates and reported error rates, and predict what a readout error
#   does to $\langle Z\rangle$, with and without twirling.
# - Transpile a circuit to the device's native gates (ISA), choose its physical qubits and
#   predict its expected fidelity and the depth it can afford.
# - Estimate a job's cost in QPU seconds before submitting it, and know what batch and session
#   mode are for.
# - Run the layer and the grader on a device: locally on a fake device, or on your own IBM
#   Quantum account with one changed line.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from qdr_course import set_seed
from qdr_course.utils import figure_style

figure_style()
rng = set_seed(0)
torch.set_num_threads(1)

# %% [markdown]
# ## An account and a backend
#
# IBM Quantum's client reads your account from your own computer: either an API key saved once
# with `QiskitRuntimeService.save_account(...)` (kept in `~/.qiskit/qiskit-ibm.json`), or the
# environment variable `QISKIT_IBM_TOKEN`. **Never paste an API key into a notebook**: notebooks
# get shared. The course never writes either place.
#
# The cell below is the one to change: put the name of a device your account can use in
# `BACKEND` (the IBM Quantum Platform lists them, as does `QiskitRuntimeService().backends()`),
# or the name of another fake device, such as `"FakeTorino"` (a Heron snapshot, 133 qubits).
# Left as `None` the lesson runs in local testing mode on `FakeManilaV2`, a 5-qubit snapshot.
# Run the whole lesson first with `CONFIRM = False`: it prints every cost estimate and sends
# nothing to a real device.

# %%
from qdr_course.quantum import has_ibm_credentials, ibm_backend
from qdr_course.quantum.ibm import is_local

BACKEND = None  # e.g. "ibm_torino": a device of your own account, or "FakeTorino"
CONFIRM = False  # set True after reading the cost estimates below, to spend QPU time

if BACKEND is None:
    BACKEND = "FakeManilaV2"
elif not BACKEND.startswith("Fake") and not has_ibm_credentials():
    print(f"No IBM Quantum account on this computer, so not {BACKEND}: local testing mode on "
          "FakeManilaV2 (offline, free).")
    BACKEND = "FakeManilaV2"
backend = ibm_backend(BACKEND)
confirm = CONFIRM or is_local(backend)  # local testing mode costs nothing
print(f"{BACKEND}: {backend.num_qubits} qubits, native instructions "
      f"{sorted(backend.operation_names)}")

# %% [markdown]
# ## What a device reports about its errors
#
# A device reports, for every qubit and every coupled pair, how often each native gate fails
# (measured by *randomized benchmarking*: long random gate sequences whose ideal result is
# known, so the decay of the success rate with length gives the error per gate), and how often
# a measurement returns the wrong bit (the *readout* or *assignment* error). These numbers drift
# and are re-measured daily on real devices; a fake device keeps one snapshot. The table below
# reads them from the device's *target*, the object Qiskit's transpiler uses, for this backend
# and for one snapshot of each IBM processor family.

# %%
from qdr_course.quantum import fake_device
from qdr_course.quantum.ibm import error_table, two_qubit_gate


def median_errors(device):
    """The native two-qubit gate and the median errors of sx, that gate and a readout."""
    table = error_table(device)
    gate = two_qubit_gate(device.target)
    return gate, np.median(table["sx"]), np.median(table[gate]), np.median(table["measure"])


gate, sx_error, pair_error, readout_error = median_errors(backend)
print(f"{BACKEND}: two-qubit gate {gate}; median error per sx {sx_error:.1e}, per {gate} "
      f"{pair_error:.1e}, per readout {readout_error:.1e}")
print(f"repetition delay between shots: {backend.default_rep_delay * 1e6:.0f} us\n")
families = {"Falcon": "FakeManilaV2", "Eagle": "FakeSherbrooke", "Heron": "FakeTorino"}
ratios = {}
for family, name in families.items():
    device = backend if name == BACKEND else fake_device(name)
    family_gate, e_sx, e_pair, e_read = median_errors(device)
    ratios[family] = (e_pair / e_sx, e_read / e_pair)
    print(f"{family:6s} {name:14s} {device.num_qubits:3d} qubits  {family_gate:3s} fails "
          f"{e_pair / e_sx:3.0f} x as often as sx; a readout {e_read / e_pair:3.1f} x as often "
          f"as {family_gate}")

# %%
# Sanity check: the ratios the text quotes, on each family's snapshot.
assert [f"{ratios[f][0]:.0f}" for f in ("Heron", "Falcon", "Eagle")] == ["15", "29", "33"]
assert all(2 < ratios[f][1] < 6 for f in families)

# %% [markdown]
# On these snapshots a two-qubit gate fails 15 (Heron's CZ) to 33 (Eagle's ECR) times as often
# as a single-qubit gate, and a readout 2 to 6 times as often as a two-qubit gate: readouts
# and two-qubit gates decide what a circuit can afford. (Eagle snapshots also list a few
# couplers with error 1: out of service; the transpiler keeps away from them.)
#
# ## Readout errors shrink *and* shift
#
# Lesson 05 measured the two readout errors of a qubit apart: $e_0 = P(\text{read } 1 \mid 0)$
# and $e_1 = P(\text{read } 0 \mid 1)$. A qubit in state 1 can decay during the measurement, so
# $e_1$ is usually the larger. Since $\langle Z\rangle = P(\text{read } 0) - P(\text{read } 1)$,
#
# $$\langle Z\rangle_\text{read} = (1 - e_0 - e_1)\,\langle Z\rangle + (e_1 - e_0):$$
#
# the reading is shrunk towards zero **and** shifted towards +1. The device's calibration data
# keeps both numbers; its target keeps one, their average. Below: the qubit of this device with
# the most lopsided readout, among those that work (a large device has a few qubits that
# misread most shots; the transpiler keeps away from them).

# %%
from qdr_course.quantum.ibm import readout_errors

pairs = {q: readout_errors(backend, q) for q in range(backend.num_qubits)}
working = [q for q, (a, b) in pairs.items() if a + b < 0.25]  # the rest are nearly unreadable
lopsided = max(working, key=lambda q: abs(pairs[q][1] - pairs[q][0]))
e0, e1 = pairs[lopsided]
print(f"{len(pairs) - len(working)} of {len(pairs)} qubits misread more than 1 shot in 4")
print(f"{BACKEND} qubit {lopsided}: e0 = P(read 1 | 0) = {e0:.4f}, "
      f"e1 = P(read 0 | 1) = {e1:.4f}")

# %% [markdown]
# ### Exercise 9.1 - predict, then run: what does this qubit report?
# **TREX** (twirled readout error extinction, the measurement-error mitigation IBM applies by
# default) *twirls* the readout: before half of the measurements, chosen at random, it applies
# an X gate, and it flips those recorded bits back. Before running the next cell, predict the
# $\langle Z\rangle$ this qubit reports on average (many shots, no gate errors) for the state
# $|1\rangle$, for $|+\rangle = (|0\rangle + |1\rangle)/\sqrt 2$ (exact $\langle Z\rangle = 0$),
# and for $|1\rangle$ with the readout twirled (nothing divided out yet).

# %% tags=["exercise", "predict"]
from qdr_course.checks import check_readout_prediction


def my_prediction():
    """(<Z> read for |1>, for |+>, for |1> with a twirled readout) on this qubit."""
    ### BEGIN SOLUTION
    one_raw = (1 - e1) * -1 + e1 * 1  # 1 read as 1 (-1) or as 0 (+1)
    plus_raw = 0.5 * ((1 - e0) - e0) + 0.5 * (e1 - (1 - e1))
    one_twirled = 0.5 * one_raw + 0.5 * -((1 - e0) - e0)  # X makes it a 0, the bit is flipped back
    return one_raw, plus_raw, one_twirled
    ### END SOLUTION


check_readout_prediction(my_prediction, e0, e1)

# %% [markdown]
# Now run it: Aer with this qubit's two readout errors and nothing else, 200 000 shots per
# state; a twirled reading is the average of the plain one and the one with an X and the bit
# flipped back.

# %% tags=["nbval-ignore-output"]
from qiskit import QuantumCircuit
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel, ReadoutError

readout_noise = NoiseModel()
readout_noise.add_all_qubit_readout_error(ReadoutError([[1 - e0, e0], [e1, 1 - e1]]))
misreading = AerSimulator(noise_model=readout_noise, seed_simulator=0)
SHOTS_READOUT = 200_000


def z_read(state: str, flip: bool) -> float:
    """<Z> of one qubit prepared in |0>, |1> or |+>, read with this qubit's errors."""
    circuit = QuantumCircuit(1, 1)
    {"0": lambda: None, "1": lambda: circuit.x(0), "+": lambda: circuit.h(0)}[state]()
    if flip:
        circuit.x(0)
    circuit.measure(0, 0)
    counts = misreading.run(circuit, shots=SHOTS_READOUT).result().get_counts()
    z = (counts.get("0", 0) - counts.get("1", 0)) / SHOTS_READOUT
    return -z if flip else z


states = {"0": 1.0, "1": -1.0, "+": 0.0}
raw = {s: z_read(s, False) for s in states}
twirled = {s: (raw[s] + z_read(s, True)) / 2 for s in states}
shrink = twirled["0"]  # TREX's calibration: the twirled reading of |0>
mitigated = {s: twirled[s] / shrink for s in states}

fig, ax = plt.subplots(figsize=(6.4, 3.2))
width = 0.2
for i, (label, values, hatch) in enumerate([("exact", states, ""), ("read", raw, "//"),
                                            ("read, twirled", twirled, ".."),
                                            ("twirled / calibrated shrink", mitigated, "xx")]):
    ax.bar(np.arange(3) + (i - 1.5) * width, [values[s] for s in states], width,
           label=label, hatch=hatch, edgecolor="black")
ax.set_xticks(range(3), [f"|{s}>" for s in states])
ax.axhline(0, color="black", lw=0.8)
ax.set_ylabel(r"$\langle Z\rangle$")
ax.set_title(f"{BACKEND} qubit {lopsided}: e0 = {e0:.3f}, e1 = {e1:.3f}")
ax.legend(fontsize=8, ncols=2, loc="lower left")
fig.tight_layout()
plt.show()
# alt: grouped bars of <Z> for the states |0>, |1> and |+>: exact, as read, read with a twirl, and twirled then divided by the calibrated shrink; the plain reading is shrunk and shifted up (|+> reads above zero), the twirled one only shrunk, the divided one back at the exact values.
for s in states:
    print(f"|{s}>: exact {states[s]:+.0f}   read {raw[s]:+.3f}   twirled {twirled[s]:+.3f}   "
          f"twirled / shrink {mitigated[s]:+.3f}")

# %%
# Sanity check: the formula of the text, within 4 standard deviations of 200 000 shots.
tolerance = 4 / np.sqrt(SHOTS_READOUT)
for s, z in states.items():
    assert abs(raw[s] - ((1 - e0 - e1) * z + (e1 - e0))) < tolerance
    assert abs(twirled[s] - (1 - e0 - e1) * z) < tolerance
    assert abs(mitigated[s] - z) < 2 * tolerance / (1 - e0 - e1)

# %% [markdown]
# The plain reading of $|+\rangle$ is not 0 but $e_1 - e_0$: a shift that depends on the state,
# which no single factor could undo. Twirling turns every qubit's two error rates into their
# average for both states, so the shift cancels and a pure shrink $1 - e_0 - e_1$ remains, the
# same for every state; TREX measures that shrink on calibration circuits (twirled $|0\rangle$)
# and divides it out. That is why it twirls. It removes the readout errors only: gate errors
# stay (zero-noise extrapolation, **ZNE**, goes after those: it runs the circuit with its noise
# amplified, 1x, 3x, 5x, and extrapolates the results back to zero noise, at several times the
# shots).
#
# One caution about local testing mode: its simulator builds the noise from the device's target,
# which keeps one readout error per qubit, the average of $e_0$ and $e_1$. So on a fake device
# the readout only shrinks; on hardware it shifts too (lesson 05's `device_simulator` keeps the
# two apart).
#
# ## Will the circuit survive? Transpile, then count
#
# A device only runs its native gates on its physical qubits (the *instruction set
# architecture*, ISA). Since 2024 IBM accepts ISA circuits only, so we transpile first (Qiskit's
# preset pass managers for the backend). If each instruction $i$ fails independently with its
# reported probability $e_i$, the chance that a shot runs with no error at all - the circuit's
# **expected fidelity** - is
# $$F = \prod_{\text{gates } g} (1 - e_g) \prod_{\text{measured qubits } q} (1 - r_q).$$
# It ignores decoherence while qubits idle, crosstalk and leakage, so it is an optimistic
# figure. Below $F = 1/2$ most shots carry at least one error; `qdr_course` refuses such circuits
# (`require_fidelity`), as it refuses a backend with too few qubits (`require_qubits`). That line
# is a **course policy**, not physics: a noisy expectation value is still a shrunk copy of the
# exact one plus noise, and mitigation can recover signal below it, at a price in shots.
#
# Lesson 03's circuit has 3 qubits and 2 layers. Its expected fidelity with one and with two
# layers on this device (`isa_pass_manager` places the circuit on the best physical qubits; more
# on that below):

# %%
from qdr_course.quantum import expected_fidelity, retinopathy_circuit
from qdr_course.quantum.ibm import MIN_EXPECTED_FIDELITY, isa_pass_manager


def best_fidelity(n_layers: int) -> float:
    """Expected fidelity of the 3-qubit circuit with n_layers, placed on the best qubits."""
    return isa_pass_manager(retinopathy_circuit(n_qubits=3, n_layers=n_layers).circuit,
                            backend)[1]


f1, f2 = best_fidelity(1), best_fidelity(2)
print(f"expected fidelity on {BACKEND}: 1 layer {f1:.3f}, 2 layers {f2:.3f}")

# %% [markdown]
# ### Exercise 9.2 - how deep can the circuit go?
# Every further layer adds the same gates, so it multiplies the expected fidelity by about the
# same factor. Write `depth_limit(f1, f2, threshold)`: the deepest number of layers whose
# expected fidelity stays at or above `threshold`, if the first layer gives `f1` and every further
# layer multiplies by the factor that the second one did (0 when one layer is already below).
# The next cell compares your model with the transpiled circuits.

# %% tags=["exercise", "implement"]
from qdr_course.checks import check_depth_limit


def depth_limit(f1, f2, threshold):
    """Deepest number of layers with expected fidelity >= threshold (geometric decay)."""
    ### BEGIN SOLUTION
    import math

    if f1 < threshold:
        return 0
    return 1 + math.floor(math.log(threshold / f1) / math.log(f2 / f1))
    ### END SOLUTION


check_depth_limit(depth_limit)

# %%
from qdr_course.quantum.ibm import depth_limit as predicted_depth  # the package's reference

predicted = predicted_depth(f1, f2, MIN_EXPECTED_FIDELITY)
layers, fidelities = [1, 2], [f1, f2]
while fidelities[-1] >= MIN_EXPECTED_FIDELITY and layers[-1] < 512:
    layers.append(2 * layers[-1])
    fidelities.append(best_fidelity(layers[-1]))
low = max(n for n, f in zip(layers, fidelities) if f >= MIN_EXPECTED_FIDELITY)
high = min(n for n, f in zip(layers, fidelities) if f < MIN_EXPECTED_FIDELITY)
while high - low > 1:  # bisect between the last accepted and the first refused depth
    middle = (low + high) // 2
    low, high = (middle, high) if best_fidelity(middle) >= MIN_EXPECTED_FIDELITY else (low, middle)
deepest = low

fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot(layers, fidelities, marker="o", label="transpiled (best qubits)")
model = np.arange(1, layers[-1] + 1)
ax.plot(model, f1 * (f2 / f1) ** (model - 1), label="geometric model from F(1), F(2)")
ax.axhline(MIN_EXPECTED_FIDELITY, color="grey", ls=":", label="refused below (course policy)")
ax.axvline(deepest, color="black", lw=0.8, ls="--", label=f"deepest accepted: {deepest}")
ax.set_xscale("log", base=2)
ax.set_xlabel("layers of the 3-qubit retinopathy circuit")
ax.set_ylabel("expected fidelity")
ax.set_title(f"{BACKEND}: the product of reported gate and readout successes")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
# alt: expected fidelity against the number of layers (log scale, 1 to a few hundred) for the transpiled circuit, with the geometric model from the first two layers on top of it and the refusal line at 1/2; fidelity falls by a near-constant factor per layer and crosses 1/2 at the marked deepest accepted depth.
print(f"deepest accepted depth: {deepest} layers (the geometric model predicts {predicted})")

# %%
# Sanity check: fidelity falls with depth, the lesson's 2 layers are far from the limit, and
# the geometric model is within a factor 2 of the transpiled answer (exact on FakeManilaV2).
assert all(a > b for a, b in zip(fidelities, fidelities[1:]))
assert deepest >= 10 and 0.5 < predicted / deepest < 2
assert predicted == deepest == 26 or BACKEND != "FakeManilaV2"

# %% [markdown]
# Each layer adds the same gates, so the fidelity falls by a nearly constant factor per layer,
# and depth is bought with fidelity: this course's 2-layer circuit is far from the limit. On
# FakeManilaV2 the two-point model lands exactly on the transpiled answer (26 layers). On
# FakeTorino it predicts 67 where the transpiled circuit reaches 100: a factor as close to 1 as
# $F(2)/F(1) = 0.990$ is poorly measured by a single step (a 3-digit fidelity moves it by
# several per cent of its distance from 1), and the best placement can change with depth.

# %% [markdown]
# ## Which physical qubits?
#
# The transpiler's *optimisation levels* (0-3) trade compile time for a better circuit. The
# cell below transpiles the 2-layer circuit at levels 1, 2 and 3 and prints where each puts it.

# %%
from qdr_course.quantum import transpile_for
from qdr_course.quantum.ibm import used_qubits

two_layers = retinopathy_circuit(n_qubits=3, n_layers=2).circuit
placements = {}
for level in (1, 2, 3):
    isa = transpile_for(two_layers, backend, optimization_level=level)
    n_pair = sum(1 for inst in isa.data if inst.operation.num_qubits == 2)
    placements[level] = (used_qubits(isa), expected_fidelity(isa, backend), n_pair)
    print(f"level {level}: physical qubits {placements[level][0]}, {n_pair} {gate} gates, "
          f"expected fidelity {placements[level][1]:.3f}")

# %% [markdown]
# ### Concept check 9.1
# Before reading on: the two-qubit gate count is the same at every level, the fidelity is not.

# %%
from qdr_course.checks import ask

ask("9.1")

# %% tags=["exercise", "concept"]
from qdr_course.checks import check_concept_9_1


def my_choice():
    """The letter of your answer to concept check 9.1."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


check_concept_9_1(my_choice)

# %%
readout = error_table(backend)["measure"]
fig, ax = plt.subplots(figsize=(6.4, 3))
ax.bar(range(backend.num_qubits), np.asarray(readout) * 100, color="lightgrey",
       edgecolor="black", label="readout error")
for level, marker in ((1, "v"), (2, "^")):
    qubits = placements[level][0]
    ax.plot(qubits, [readout[q] * 100 for q in qubits], marker, ls="none", ms=9,
            label=f"level {level}: qubits {qubits}")
ax.set_xlabel("physical qubit")
ax.set_ylabel("readout error (%)")
ax.set_yscale("log")
ax.set_title(f"{BACKEND}: readout error of every qubit, and the qubits each level chose")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
# alt: bar chart of the readout error (per cent, log scale) of every physical qubit of the device, with markers on the qubits that optimisation levels 1 and 2 chose; readout errors differ several-fold between qubits, and the levels place the circuit on different qubits.
best_level = max(placements, key=lambda level: placements[level][1])
print(f"readout errors range from {min(readout):.1%} to {max(readout):.1%}; best placement: "
      f"level {best_level}, expected fidelity {placements[best_level][1]:.3f}")

# %%
# Sanity check: the best of the levels is what isa_pass_manager keeps, and the numbers quoted
# below for FakeManilaV2.
assert placements[best_level][1] == max(p[1] for p in placements.values())
assert abs(isa_pass_manager(two_layers, backend)[1] - placements[best_level][1]) < 1e-12
if BACKEND == "FakeManilaV2":
    assert placements[1][0] == [0, 1, 2] and round(placements[1][1], 3) == 0.806
    assert placements[2][0] == placements[3][0] == [2, 3, 4]
    assert round(placements[2][1], 3) == round(placements[3][1], 3) == 0.837
    assert f"{min(readout):.1%} {max(readout):.1%}" == "1.4% 9.6%"
    pair_errors = error_table(backend)[gate]
    assert f"{min(pair_errors):.2%} {max(pair_errors):.1%}" == "0.57% 1.4%"
torino = fake_device("FakeTorino") if BACKEND != "FakeTorino" else backend
torino_fidelity = expected_fidelity(transpile_for(two_layers, torino, 1), torino)
assert f"{torino_fidelity:.2f} {isa_pass_manager(two_layers, torino)[1]:.2f}" == "0.76 0.95"

# %% [markdown]
# The qubits of one device are not alike: on FakeManilaV2 the readout errors run from 1.4 % to
# 9.6 %, and the couplers' CX errors from 0.57 % to 1.4 %. Level 1 keeps the first layout that
# fits the circuit (qubits 0, 1, 2: F = 0.806); levels 2 and 3 also score layouts by the
# reported errors and pick qubits 2, 3, 4 (F = 0.837), whose coupler 3-4 and readouts are
# better although qubit 2 reads worst of all. On a large device the difference is bigger (on
# FakeTorino level 1 gives 0.76, the best level 0.95). `isa_pass_manager` simply tries the
# levels and keeps the best; the layer below runs where it says.
#
# ## What a job costs
#
# IBM bills *QPU time*: the time the device is locked for your job. Nearly all of it is shots:
# each shot of each circuit takes the circuit's duration plus the repetition delay that lets the
# qubits relax (about 250 µs, far longer than the circuit), plus a few seconds per job to load it.
# An estimator needs 1/precision² shots per parameter binding, twirling and mitigation add
# calibration shots, and a parameter-shift gradient needs two bindings per gate angle per input.
# `layer_cost` (for any list of PUBs: `estimate_cost`) counts all of them with
# qiskit-ibm-runtime's own preparation step, on this computer, before anything is sent.

# %%
from qdr_course.quantum import QuantumLayer
from qdr_course.quantum.ibm import layer_cost

set_seed(0)
exact_layer = QuantumLayer(retinopathy_circuit(n_qubits=3, n_layers=2))
BATCH = 8
forward = layer_cost(exact_layer, backend, BATCH, backward=False, shots=4000)
both = layer_cost(exact_layer, backend, BATCH, shots=4000)
print("forward pass of 8 inputs:          ", forward)
print("forward + backward (training step):", both)

# %% [markdown]
# Training is many steps. What would lesson 03's digit model cost on this device? Its settings
# are read from the course, not typed in: sklearn's digits 0 and 1 (252 training images),
# `fit`'s batch size and lesson 03's number of epochs.

# %%
import inspect

from qdr_course.quantum import fit, load_digit_tensors

DIGIT_EPOCHS = 6  # lesson 03: fit(hybrid, ..., epochs=6) - a test keeps the two lessons in step
x_digits = load_digit_tensors((0, 1), seed=0)[0]
digit_batch = inspect.signature(fit).parameters["batch_size"].default
batch_rows = [len(part) for part in torch.arange(len(x_digits)).split(digit_batch)]
step_seconds = {rows: layer_cost(exact_layer, backend, rows, shots=4000).qpu_seconds
                for rows in set(batch_rows)}
training_hours = DIGIT_EPOCHS * sum(step_seconds[rows] for rows in batch_rows) / 3600
print(f"lesson 03's training: {DIGIT_EPOCHS} epochs x {len(batch_rows)} batches of "
      f"{digit_batch} images (the last {batch_rows[-1]}) = {DIGIT_EPOCHS * len(batch_rows)} steps: "
      f"about {training_hours:.1f} QPU hours on {BACKEND}")

# %%
# Sanity check: 6 epochs of 8 batches; on FakeManilaV2 about 8 QPU hours.
assert DIGIT_EPOCHS * len(batch_rows) == 48
if BACKEND == "FakeManilaV2":
    assert 7.5 < training_hours < 8.5

# %% [markdown]
# On FakeManilaV2 that is about 8 QPU hours, for a 6-weight circuit on 8x8 images. At the time
# of writing IBM's free Open Plan gives 10 QPU minutes in any 28 days, and paid plans
# bill every QPU second (see IBM's pricing page): evaluating a trained model is affordable,
# training on hardware is not. Train on a simulator, evaluate on the device.
#
# **Queues.** A job first waits for the device: from seconds to hours, depending on the device
# and your plan's priority. `backend.status().pending_jobs` counts the jobs ahead of yours,
# `service.least_busy(operational=True, simulator=False)` picks the emptiest device your account
# can use, and after a job `job.metrics()["timestamps"]` records when it was created, started
# and finished. Queue time is free: only QPU time is billed.
#
# **Batch or session.** Jobs that do not depend on each other (evaluating many images) go in a
# *batch*: IBM schedules them together and bills only their QPU time. Iterative jobs (training,
# where each step needs the last result) go in a *session*, which reserves the device between
# jobs and bills the whole wall-clock time; sessions need a paid plan. `ibm_quantum_layer` opens a
# batch by default (`mode="session"` to change it) and puts a forward pass's whole input batch in
# one job; its estimator, a `BudgetedEstimator`, checks every job against `max_qpu_seconds`
# before sending it.
#
# ## What the device gives, and what mitigation changes
#
# Now the layer runs: one job for the forward pass of 8 inputs. The same inputs go through the
# exact statevector layer of lesson 03, and through a copy without mitigation. In local testing
# mode on a 127- or 133-qubit fake device only the 3 qubits the circuit uses are simulated,
# with their own errors (`DeviceSubset`; a full device would need more memory than any computer
# has). With a
# real backend and `CONFIRM = False` nothing is sent.

# %% tags=["nbval-ignore-output"]
from qdr_course.quantum import ibm_quantum_layer

x = torch.as_tensor(rng.uniform(-np.pi / 2, np.pi / 2, size=(BATCH, 3)))
if confirm:
    layer = ibm_quantum_layer(exact_layer, backend, n_inputs=BATCH, shots=4000,
                              mitigation="trex", max_qpu_seconds=200, confirm=True, seed=0)
    plain = ibm_quantum_layer(exact_layer, backend, n_inputs=BATCH, shots=4000,
                              mitigation="none", max_qpu_seconds=200, confirm=True, seed=0)
    with torch.no_grad():
        want = exact_layer(x)
        got = {"no mitigation": plain(x), "TREX": layer(x)}
    errors = {name: (out - want).abs().mean().item() for name, out in got.items()}
    sizes = {name: (out.abs().sum() / want.abs().sum()).item() for name, out in got.items()}
    for name in got:
        print(f"{name:14s} mean |error| {errors[name]:.3f}   size of <Z> relative to exact "
              f"{sizes[name]:.2f}")
else:
    print(f"not submitted to {BACKEND}: set CONFIRM = True (after reading the estimates above)")

# %% [markdown]
# In our run on FakeManilaV2 the unmitigated outputs had shrunk to 0.87 of their exact size
# (readout and gate errors together); TREX brought them back to 0.96 and cut the mean error
# from 0.064 to 0.026. What is left is gate noise and shot noise (standard deviation about
# 0.016 per value at 4000 shots).

# %%
# Sanity check (a device with smaller readout errors shows a smaller effect): without
# mitigation the outputs shrink; TREX divides the readout shrink out.
if confirm:
    assert sizes["no mitigation"] < 1.02 and sizes["TREX"] > sizes["no mitigation"]
    assert errors["TREX"] < 0.1
    if BACKEND == "FakeManilaV2":
        assert 0.84 < sizes["no mitigation"] < 0.90 and 0.93 < sizes["TREX"] < 0.99
        assert errors["no mitigation"] > 0.05 and errors["TREX"] < 0.035

# %% [markdown]
# A training step on 4 of the inputs is two more jobs: the forward pass, and the backward pass
# with all $2 \times 4 \times G$ shifted bindings ($G$ gate angles). In our run the gradient
# pointed the same way as the exact one (cosine above 0.99):

# %% tags=["nbval-ignore-output"]
if confirm:
    layer.weights.grad = None
    layer(x[:4]).sum().backward()
    exact_layer.weights.grad = None
    exact_layer(x[:4]).sum().backward()
    g, g_exact = layer.weights.grad, exact_layer.weights.grad
    cosine = float(g @ g_exact / (g.norm() * g_exact.norm()))
    print(f"cosine between device and exact weight gradients: {cosine:.3f}")
    print(f"jobs sent: {len(layer.backend.jobs)}, estimated QPU seconds so far: "
          f"{layer.backend.estimated_seconds:.0f} of {layer.backend.max_qpu_seconds:g} approved")
else:
    print("not submitted: CONFIRM = False")

# %%
# Sanity check: the noisy gradient is a usable descent direction.
if confirm:
    assert cosine > 0.9 and len(layer.backend.jobs) == 3
    assert cosine > 0.99 or BACKEND != "FakeManilaV2"

# %% [markdown]
# ## The grader on the device
#
# A trained grader evaluates all its images in one job. Here a small grader trains for a few
# epochs on synthetic images (a simulator does the training, as it should); then `grader_cost`
# checks the qubits and the fidelity and estimates the job, and `ibm_grader` builds the device
# copy.

# %% tags=["nbval-ignore-output"]
from qdr_course.quantum import grader_cost, ibm_grader
from qdr_course.retina import HybridGrader, load_grading_data, predict_grades, train_grader

data = load_grading_data("synthetic", size=32, n=300, seed=0)
set_seed(0)
grader = HybridGrader(n_qubits=3, n_layers=2, image_size=32)
train_grader(grader, data.train, data.val, epochs=4, lr=3e-3, batch_size=16, seed=0,
             progress=False)
N_IMAGES = 24
images, grades = data.test.images[:N_IMAGES], data.test.grades[:N_IMAGES]
print(grader_cost(grader, backend, N_IMAGES))

# %% tags=["nbval-ignore-output"]
if confirm:
    on_device = ibm_grader(grader, backend, N_IMAGES, confirm=True, seed=0)
    device_grades, _ = predict_grades(on_device, (images, grades), batch_size=N_IMAGES)
    exact_grades, _ = predict_grades(grader, (images, grades))
    same = (device_grades == exact_grades).mean()
    print(f"{len(on_device.quantum.backend.jobs)} job; the device gives the exact grade for "
          f"{same:.0%} of {N_IMAGES} images")
else:
    print("not submitted: CONFIRM = False")

# %%
# Sanity check: one job for all images, and noise changes few grades of this shallow circuit.
if confirm:
    assert len(on_device.quantum.backend.jobs) == 1 and same >= 0.75

# %% [markdown]
# ### Concept check 9.2

# %%
ask("9.2")

# %% tags=["exercise", "concept"]
from qdr_course.checks import check_concept_9_2


def my_choice():
    """The letter of your answer to concept check 9.2."""
    ### BEGIN SOLUTION
    return "c"
    ### END SOLUTION


check_concept_9_2(my_choice)

# %% [markdown] tags=["exercise", "discuss"]
# ### Exercise 9.3 - discuss: ten free minutes
# Your account has 10 QPU minutes for the next 28 days. Which of this lesson's jobs would you
# run on the device, with how many images, shots and which mitigation, and what would you
# compare the results with to learn something a simulator cannot tell you? What would you
# report if the device's QWK came out lower than the simulator's?

# %% [markdown]
# From a terminal the same evaluation of a run folder written by `qdr-course train` is one command;
# it prints the estimate and asks before sending anything (`--yes` skips the question):
#
# ```bash
# qdr-course evaluate runs/hybrid-synthetic-s0 --ibm-backend FakeTorino --limit 50      # offline
# qdr-course evaluate runs/hybrid-synthetic-s0 --ibm-backend ibm_torino --limit 50      # your account
# ```
#
# ## With your own account
#
# 1. Create a free account on the IBM Quantum Platform and copy your API key and instance (CRN).
# 2. Once, in a terminal (not in a notebook; `getpass` does not echo the key):
#    ```bash
#    python -c "from getpass import getpass; from qiskit_ibm_runtime import QiskitRuntimeService as S; S.save_account(token=getpass('API key: '), instance=input('instance: '), set_as_default=True)"
#    ```
# 3. In the account cell at the top, set `BACKEND = "ibm_..."` (a device your account lists),
#    run the lesson with `CONFIRM = False` to read the estimates, then set `CONFIRM = True` and
#    run it again. Expect minutes in the queue, and compare your device's numbers with the fake
#    device's prediction.
#
# Refusals are one line each: no account, an unknown backend name (the message lists your
# account's devices), too few qubits, a circuit too deep for the device's error rates, and a job
# over the approved QPU seconds.
#
# ## Key points
# - Read the device, do not assume it: the native two-qubit gate (CZ on Heron, ECR on Eagle, CX
#   on the old Falcons), its errors and the readout errors come from the backend's target.
# - A readout error shrinks **and** shifts $\langle Z\rangle$:
#   $(1 - e_0 - e_1)\langle Z\rangle + (e_1 - e_0)$. TREX twirls the readout so that only the
#   shrink remains, measures it and divides it out; gate errors remain (ZNE addresses those).
# - Transpile to the device's ISA; the product of reported gate and readout successes predicts
#   whether a circuit is worth running, and falls by a near-constant factor per layer. Refusing
#   below 1/2 is this course's policy, not a law.
# - Physical qubits differ several-fold: the placement is worth a search (levels 2-3, or trying
#   several).
# - Cost is QPU time: shots x (repetition delay + circuit duration), plus a few seconds per job.
#   Estimate before submitting; evaluation fits a free plan, training on hardware does not. Put
#   independent jobs in a batch; sessions are for iterative work.
#
# ### Further reading
# - qiskit-ibm-runtime documentation: execution modes, error mitigation, local testing mode
#   (https://quantum.cloud.ibm.com/docs/guides).
# - IBM Quantum, *Processor types* (Heron, Eagle, Falcon and their native gates)
#   (https://quantum.cloud.ibm.com/docs/guides/processor-types).
# - E. van den Berg, Z. Minev, K. Temme (2022), *Model-free readout-error mitigation for quantum
#   expectation values*, Phys. Rev. A 105, 032620 (TREX).
# - K. Temme, S. Bravyi, J. Gambetta (2017), *Error mitigation for short-depth quantum circuits*,
#   Phys. Rev. Lett. 119, 180509 (zero-noise extrapolation).
# - E. Magesan, J. M. Gambetta, J. Emerson (2011), *Scalable and robust randomized benchmarking
#   of quantum processes*, Phys. Rev. Lett. 106, 180504.
