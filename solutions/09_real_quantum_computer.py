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
# **Teaching:** 25 min · **Exercises:** 10 min
#
# Everything so far ran on simulators. This lesson sends lesson 03's quantum layer and lesson
# 05's grader to an IBM Quantum device through IBM's own client, `qiskit-ibm-runtime`, and asks
# the questions to settle before spending anyone's QPU time: will the circuit survive the
# device's errors, what will the job cost, how long is the queue, and what does error mitigation
# change? Without an account the same code runs in qiskit-ibm-runtime's *local testing mode*: a
# fake device (an offline snapshot of a real one) simulated on this computer with its noise.
#
# ## Objectives
# - Choose a backend, transpile a circuit to its native gates (ISA) and predict its expected
#   fidelity from the device's reported error rates.
# - Estimate a job's cost in QPU seconds before submitting it, and know what batch and session
#   mode are for.
# - Compare the fake device's prediction with the exact result, without and with measurement-error
#   mitigation (TREX).
# - Run the layer and the grader on your own IBM Quantum account, with one changed line.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from qdr_course import set_seed

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
# `BACKEND` (the IBM Quantum Platform lists them, as does `QiskitRuntimeService().backends()`).
# Left as `None`, or without an account, the lesson runs in local testing mode on `FakeManilaV2`,
# a 5-qubit snapshot.

# %%
from qdr_course.quantum import has_ibm_credentials, ibm_backend

BACKEND = None  # e.g. "ibm_torino": a device of your own account
CONFIRM = False  # set True after reading the cost estimates below, to spend QPU time

if BACKEND is None or not has_ibm_credentials():
    print("No IBM backend chosen or no account here: local testing mode on FakeManilaV2 "
          "(offline, free).")
    BACKEND = "FakeManilaV2"
backend = ibm_backend(BACKEND)
print(f"{BACKEND}: {backend.num_qubits} qubits, native gates {sorted(backend.operation_names)}")

# %% [markdown]
# A device reports, for every qubit and pair of qubits, how often each native gate fails (from
# randomized benchmarking) and how often a measurement returns the wrong bit (the *readout* or
# *assignment* error). These numbers drift and are re-measured daily on real devices; a fake
# device keeps one snapshot.

# %%
from qdr_course.quantum import instruction_error

target = backend.target
two_qubit = [instruction_error(target, "cx", q) for q in target["cx"]]
readout = [instruction_error(target, "measure", (q,)) for q in range(backend.num_qubits)]
one_qubit = [instruction_error(target, "sx", (q,)) for q in range(backend.num_qubits)]
print(f"median error per gate:  sx {np.median(one_qubit):.1e}   cx {np.median(two_qubit):.1e}")
print(f"median readout error:   {np.median(readout):.1e}")
print(f"repetition delay between shots: {backend.default_rep_delay * 1e6:.0f} us")

# %% [markdown]
# A two-qubit gate fails about a hundred times more often than a single-qubit gate, and a readout
# is the least reliable step of all. That decides what a circuit can afford.
#
# ## Will the circuit survive? Transpile, then count
#
# A device only runs its native gates on its physical qubits (the *instruction set
# architecture*, ISA). Since 2024 IBM accepts ISA circuits only: we transpile with Qiskit's
# preset pass manager for the backend. `ibm_quantum_layer` does it once for lesson 03's layer and
# maps the observables to the physical qubits the transpiler chose.
#
# If each instruction $i$ fails independently with its reported probability $e_i$, the chance that
# a shot runs with no error at all - the circuit's **expected fidelity** - is
# $$F = \prod_{\text{gates } g} (1 - e_g) \prod_{\text{measured qubits } q} (1 - r_q).$$
# It ignores decoherence while qubits idle and crosstalk, so it is an optimistic figure; but when
# it falls below 1/2, most shots carry an error and the expectation values mostly measure noise.
# `qdr_course` refuses such circuits (`require_fidelity`), as it refuses a backend with too few
# qubits (`require_qubits`).

# %% tags=["exercise"]
from qdr_course.checks import check_fidelity_from_errors


def fidelity_from_errors(gate_errors, readout_errors):
    """The chance that no gate and no readout fails, errors being independent."""
    ### BEGIN SOLUTION
    return float(np.prod([1 - e for e in gate_errors]) * np.prod([1 - e for e in readout_errors]))
    ### END SOLUTION


check_fidelity_from_errors(fidelity_from_errors)

# %% [markdown]
# Before running the next cell, predict: lesson 03's circuit has 3 qubits and 2 layers; how many
# layers can it have on this device before its expected fidelity drops below 1/2?

# %%
from qdr_course.quantum import QuantumLayer, expected_fidelity, retinopathy_circuit, transpile_for
from qdr_course.quantum.ibm import MIN_EXPECTED_FIDELITY

layers = [1, 2] + list(range(4, 31, 2))
fidelities, cx_counts = [], []
for n_layers in layers:
    isa = transpile_for(retinopathy_circuit(n_qubits=3, n_layers=n_layers).circuit, backend)
    fidelities.append(expected_fidelity(isa, backend))
    cx_counts.append(sum(1 for inst in isa.data if inst.operation.num_qubits == 2))

fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot(layers, fidelities, "o-")
ax.axhline(MIN_EXPECTED_FIDELITY, color="grey", ls="--", label="refused below")
ax.set_xlabel("layers of the 3-qubit retinopathy circuit")
ax.set_ylabel("expected fidelity")
ax.set_title(f"{BACKEND}: the product of reported gate and readout successes")
ax.legend()
fig.tight_layout()
deepest = max(n for n, f in zip(layers, fidelities) if f >= MIN_EXPECTED_FIDELITY)
print(f"2 layers: {cx_counts[1]} two-qubit gates, expected fidelity {fidelities[1]:.2f}; deepest "
      f"accepted depth shown: {deepest} layers")

# %%
# Sanity check: fidelity falls with depth, the lesson's 2-layer circuit is accepted.
assert all(a > b for a, b in zip(fidelities, fidelities[1:]))
assert fidelities[0] > 0.8 and fidelities[-1] < MIN_EXPECTED_FIDELITY
assert cx_counts[1] == 4 or not BACKEND.startswith("Fake")  # two CX per layer

# %% [markdown]
# Each layer's chain of two CZ gates becomes two CX gates (a CZ is a CX between Hadamards, and
# the transpiler places the three qubits on a line of the device, so no SWAP is needed). Every
# layer multiplies the fidelity by about the same factor: depth is bought with fidelity, and this
# course's 2-layer circuit is far from the limit.
#
# ## What a job costs
#
# IBM bills *QPU time*: the time the device is locked for your job. Nearly all of it is shots:
# each shot of each circuit takes the circuit's duration plus the repetition delay that lets the
# qubits relax (about 250 µs, far longer than the circuit), plus a few seconds per job to load it.
# An estimator needs 1/precision² shots per parameter binding, twirling and mitigation add
# calibration shots, and a parameter-shift gradient needs two bindings per gate angle per input.
# `estimate_layer_cost` (for any list of PUBs: `estimate_cost`) counts all of them with
# qiskit-ibm-runtime's own preparation step, on this computer, before anything is sent.

# %%
from qdr_course.quantum import estimate_layer_cost, ibm_quantum_layer

set_seed(0)
exact_layer = QuantumLayer(retinopathy_circuit(n_qubits=3, n_layers=2))
confirm = CONFIRM or BACKEND.startswith("Fake")  # local testing mode costs nothing
BATCH = 8
layer = ibm_quantum_layer(exact_layer, backend, n_inputs=BATCH, shots=4000, mitigation="trex",
                          max_qpu_seconds=200, confirm=confirm, seed=0)
forward = estimate_layer_cost(layer, BATCH, backward=False)
both = estimate_layer_cost(layer, BATCH)
print("forward pass of 8 inputs:          ", forward)
print("forward + backward (training step):", both)

# %% [markdown]
# Training is many steps. Lesson 03's digit model, 5 epochs of 20 batches, would need:

# %%
steps = 5 * 20
print(f"{steps} training steps: about {steps * both.qpu_seconds / 3600:.1f} QPU hours")

# %% [markdown]
# At the time of writing IBM's free Open Plan gives 10 QPU minutes in any 28 days, and paid plans
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
# ## What the fake device predicts, and what mitigation changes
#
# Now the layer runs: one job for the forward pass of 8 inputs. The same inputs go through the
# exact statevector layer of lesson 03, and through a copy without mitigation.

# %% tags=["nbval-ignore-output"]
x = torch.as_tensor(rng.uniform(-np.pi / 2, np.pi / 2, size=(BATCH, 3)))
plain = ibm_quantum_layer(exact_layer, backend, n_inputs=BATCH, shots=4000, mitigation="none",
                          max_qpu_seconds=200, confirm=confirm, seed=0)
with torch.no_grad():
    want = exact_layer(x)
    got = {"no mitigation": plain(x), "TREX": layer(x)}
for name, out in got.items():
    error = (out - want).abs().mean().item()
    shrink = (out.abs().sum() / want.abs().sum()).item()
    print(f"{name:14s} mean |error| {error:.3f}   size of <Z> relative to exact {shrink:.2f}")

# %% [markdown]
# In our run the unmitigated outputs had shrunk to 0.86 of their exact size: readout errors
# flip bits, and every flipped bit pulls $\langle Z\rangle$ towards zero. TREX (twirled readout
# error extinction, van den Berg et al. 2022) randomises every measurement with X gates, which
# turns any readout error into a plain shrinking factor, measures that factor on calibration
# circuits and divides it out. It removes the readout part; the gate errors stay (zero-noise
# extrapolation, `mitigation="zne"`, goes after those, at several times the shots).

# %%
errors = {name: (out - want).abs().mean().item() for name, out in got.items()}
sizes = {name: (out.abs().sum() / want.abs().sum()).item() for name, out in got.items()}
# Sanity check (shot noise at 4000 shots is about 0.016 per value): without mitigation the
# outputs shrink; TREX undoes most of it and is closer to exact.
assert 0.7 < sizes["no mitigation"] < 0.95 < sizes["TREX"] + 0.02
assert errors["TREX"] < errors["no mitigation"] and errors["TREX"] < 0.05

# %% [markdown]
# A training step on 4 of the inputs is two more jobs: the forward pass, and the backward pass
# with all $2 \times 4 \times G$ shifted bindings ($G$ gate angles). In our run the gradient
# pointed the same way as the exact one (cosine 0.997):

# %% tags=["nbval-ignore-output"]
layer.weights.grad = None
layer(x[:4]).sum().backward()
exact_layer.weights.grad = None
exact_layer(x[:4]).sum().backward()
g, g_exact = layer.weights.grad, exact_layer.weights.grad
cosine = float(g @ g_exact / (g.norm() * g_exact.norm()))
print(f"cosine between device and exact weight gradients: {cosine:.3f}")
print(f"jobs sent: {len(layer.backend.jobs)}, estimated QPU seconds so far: "
      f"{layer.backend.estimated_seconds:.0f} of {layer.backend.max_qpu_seconds:g} approved")

# %%
# Sanity check: the noisy gradient is a usable descent direction.
assert cosine > 0.9 and len(layer.backend.jobs) == 3

# %% [markdown]
# ## The grader on the device
#
# A trained grader evaluates all its images in one job. Here a small grader trains for a few
# epochs on synthetic images (a simulator does the training, as it should); then `ibm_grader`
# checks the qubits and the fidelity, estimates the job and builds the device copy.

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
on_device = ibm_grader(grader, backend, N_IMAGES, confirm=confirm, seed=0)
device_grades, _ = predict_grades(on_device, (images, grades), batch_size=N_IMAGES)
exact_grades, _ = predict_grades(grader, (images, grades))
same = (device_grades == exact_grades).mean()
print(f"{len(on_device.quantum.backend.jobs)} job; the device gives the exact grade for "
      f"{same:.0%} of {N_IMAGES} images")

# %%
# Sanity check: one job for all images, and noise changes few grades of this shallow circuit.
assert len(on_device.quantum.backend.jobs) == 1 and same >= 0.75

# %% [markdown]
# From a terminal the same evaluation of a run folder written by `qdr-course train` is one command;
# it prints the estimate and asks before sending anything (`--yes` skips the question):
#
# ```bash
# qdr-course evaluate runs/hybrid-synthetic-s0 --ibm-backend FakeManilaV2 --limit 50    # offline
# qdr-course evaluate runs/hybrid-synthetic-s0 --ibm-backend ibm_torino --limit 50      # your account
# ```
#
# ## With your own account
#
# 1. Create a free account on the IBM Quantum Platform and copy your API key and instance (CRN).
# 2. Once, in a terminal (not in a notebook):
#    ```bash
#    python -c "from qiskit_ibm_runtime import QiskitRuntimeService as S; S.save_account(token=input('API key: '), instance=input('instance: '), set_as_default=True)"
#    ```
# 3. In the account cell at the top, set `BACKEND = "ibm_..."` (a device your account lists),
#    run the lesson to read the estimates, then set `CONFIRM = True` and run it again. Expect
#    minutes in the queue, and compare your device's numbers with the fake device's prediction.
#
# Refusals are one line each: no account, an unknown backend name (the message lists your
# account's devices), too few qubits, a circuit too deep for the device's error rates, and a job
# over the approved QPU seconds.
#
# ## Key points
# - `qiskit-ibm-runtime` 0.50+ replaces `EstimatorV2` by a client-side estimator
#   (`qiskit_ibm_runtime.executor_estimator.Estimator`), still a Qiskit V2 primitive: the same
#   `QuantumLayer` runs on it; a fake backend runs the same code offline (local testing mode).
# - Transpile to the device's ISA first; the product of reported gate and readout successes
#   predicts whether a circuit is worth running (refused below 1/2 here).
# - Cost is QPU time: shots x (repetition delay + circuit duration), plus a few seconds per job.
#   Estimate it before submitting; evaluation fits a free plan, training on hardware does not.
# - Put independent jobs in a batch and a whole input batch in one job; sessions are for
#   iterative work.
# - Readout errors shrink expectation values towards zero; TREX (measurement-error mitigation)
#   removes that part, gate errors remain.
#
# ### Further reading
# - qiskit-ibm-runtime documentation: execution modes, error mitigation, local testing mode
#   (https://quantum.cloud.ibm.com/docs/guides).
# - E. van den Berg, Z. Minev, K. Temme (2022), *Model-free readout-error mitigation for quantum
#   expectation values*, Phys. Rev. A 105, 032620 (TREX).
# - K. Temme, S. Bravyi, J. Gambetta (2017), *Error mitigation for short-depth quantum circuits*,
#   Phys. Rev. Lett. 119, 180509 (zero-noise extrapolation).
