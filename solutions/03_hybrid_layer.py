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
# # 03 · A hybrid layer in PyTorch
#
# **Teaching:** 30 min · **Exercises:** 15 min
#
# A circuit becomes a neural-network layer when it maps a batch of inputs to outputs and
# passes gradients back. This lesson builds `QuantumLayer`, checks its gradients, runs it on
# three kinds of back end, and trains a small CNN + circuit on handwritten digits - the old
# Qiskit textbook experiment, done right - next to a matched classical model.
#
# ## Objectives
# - Use `QuantumLayer` inside any PyTorch model and optimiser; verify it with `gradcheck`.
# - Know the back ends: an exact batched statevector simulator (for training), a Qiskit
#   `EstimatorV2` (one call per batch, parameter-shift gradients), a `SamplerV2` (real shots).
# - Choose an angle encoding for unbounded CNN features, and say why.
# - Train a hybrid and a matched classical model on digits; run the trained hybrid model on a
#   noisy fake IBM device.

# %%
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from qdr_course import set_seed

rng = set_seed(0)
torch.set_num_threads(1)

# %% [markdown]
# ## The layer
#
# `QuantumLayer(circuit)` feeds the columns of its input to the circuit's input angles and keeps
# the circuit's weights as an `nn.Parameter`. Its output is the vector of expectation values
# $\langle Z_i\rangle$, one row per example.

# %%
from qdr_course.quantum import retinopathy_circuit
from qdr_course.quantum import QuantumLayer

circuit = retinopathy_circuit(n_qubits=3, n_layers=2)
layer = QuantumLayer(circuit)  # default back end: the exact torch statevector simulator
print(layer)
print("in_features:", layer.in_features, " out_features:", layer.out_features)
print("weights:", layer.weights.shape, layer.weights.dtype)
x = torch.randn(4, 3, dtype=torch.float64)
print(layer(x))

# %% [markdown]
# ### How the exact simulator works
#
# The state of 3 qubits for a batch of $B$ inputs is a complex tensor of shape $(B, 8)$. A rotation
# is $R(\theta) = A + B\cos\frac{\theta}{2} + C\sin\frac{\theta}{2}$ with constant matrices read from
# Qiskit, so every gate is a few batched tensor operations that autograd differentiates exactly.
# `gradcheck` compares autograd's Jacobian with finite differences (in float64):

# %%
x = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
ok = torch.autograd.gradcheck(layer, (x,))
ok_weights = torch.autograd.gradcheck(lambda inputs, w: layer.simulator.run(inputs, w),
                                      (x, layer.weights))
assert ok and ok_weights
print("gradcheck w.r.t. inputs and weights:", ok and ok_weights)

# %% [markdown]
# ## The same layer on Qiskit primitives
#
# Pass any `BaseEstimatorV2` as `backend` and the layer runs the circuit there. Hardware has no
# autograd, so the backward pass uses the parameter-shift rule of lesson 02. The layer makes
# **one** primitive call for the forward batch and **one** for the backward pass, with every
# shifted binding of the whole batch broadcast in it ($2 \times 9$ gate angles $\times B$ rows);
# the circuit is transpiled once and cached. With an exact estimator the two back ends agree to
# rounding error:

# %%
from qdr_course.quantum import aer_estimator

on_aer = QuantumLayer(circuit, backend=aer_estimator(), init_weights=layer.weights.detach())
x = torch.randn(32, 3, dtype=torch.float64, requires_grad=True)
y_exact, y_aer = layer(x), on_aer(x)
grad_exact = torch.autograd.grad(y_exact.sum(), (x, layer.weights))
grad_aer = torch.autograd.grad(y_aer.sum(), (x, on_aer.weights))
difference = max((y_exact - y_aer).abs().max().item(),
                 *[(a - b).abs().max().item() for a, b in zip(grad_exact, grad_aer)])
assert difference < 1e-10 and on_aer.num_primitive_calls == 2
print("largest difference in outputs and gradients: below 1e-10 (rounding only); "
      f"primitive calls for forward + backward: {on_aer.num_primitive_calls}")

# %% [markdown]
# Speed matters for training: time forward + backward for a batch of 32 (your numbers will
# differ; the benchmark in `benchmarks/` compares more ways, including Qiskit Machine Learning
# and PennyLane).

# %% tags=["nbval-ignore-output"]
def seconds_per_pass(module, x, repeats):
    module(x).sum().backward()  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        module(x).sum().backward()
    return (time.perf_counter() - start) / repeats


t_sv = seconds_per_pass(layer, x, 50)
t_aer = seconds_per_pass(on_aer, x, 3)
print(f"statevector (torch)   {t_sv * 1e3:8.2f} ms")
print(f"Aer EstimatorV2       {t_aer * 1e3:8.2f} ms   ({t_aer / t_sv:.0f}x slower)")

# %% [markdown]
# A `SamplerV2` gives real shot noise instead (observables must be diagonal: $Z$s and $I$s):

# %%
from qdr_course.quantum import aer_sampler

sampled = QuantumLayer(circuit, backend=aer_sampler(shots=2000, seed=0), shots=2000,
                       init_weights=layer.weights.detach())
with torch.no_grad():
    gap = (sampled(x) - layer(x)).abs().max().item()
print(f"largest shot-noise error with 2000 shots: {gap:.3f} (std about {1 / math.sqrt(2000):.3f})")

# %% [markdown]
# ## Angles from unbounded features
#
# The CNN before the layer outputs any real numbers; the circuit reads them as angles. The
# original code fed raw outputs in, but angles are periodic: features $z$ and $z + 2\pi$ give
# **identical** circuit outputs, so the network cannot tell them apart. After $H$ and $R_Y(\alpha)$
# a qubit has $\langle Z\rangle = -\sin\alpha$, which is one-to-one only on
# $(-\frac{\pi}{2}, \frac{\pi}{2})$. So we squash first: $\alpha = \frac{\pi}{2}\tanh z$. That is a
# design choice (a smooth, bounded, one-to-one map), not a law; the layer itself accepts any
# finite angle and rejects NaN and infinity.

# %%
z = torch.tensor([[0.5, -1.0, 2.0]], dtype=torch.float64)
with torch.no_grad():
    same = torch.allclose(layer(z), layer(z + 2 * math.pi), atol=1e-12)
print("outputs for z and z + 2 pi are identical:", same)
assert same
try:
    layer(torch.tensor([[0.1, float("nan"), 0.3]]))
except ValueError as error:
    print("ValueError:", error)

# %% [markdown]
# ### Exercise 3.1 - angle encoding
# Complete `encode_angles(z)`: map a tensor of features to angles $\frac{\pi}{2}\tanh z$, with
# torch operations so gradients flow.

# %% tags=["exercise"]
from qdr_course.checks import check_encode_angles


def encode_angles(z):
    """(pi/2) * tanh(z), elementwise, differentiable."""
    ### BEGIN SOLUTION
    return (math.pi / 2) * torch.tanh(z)
    ### END SOLUTION


check_encode_angles(encode_angles)

# %% [markdown]
# ## Digits: the textbook experiment, done right
#
# The old Qiskit textbook trained a CNN whose single output was the angle of a 1-qubit circuit,
# on MNIST 0 vs 1. That circuit had no trainable weight and computed $(1 + \sin t)/2$ (lesson
# 01), and its gradient was twice too large (lesson 02). We use scikit-learn's bundled $8\times8$
# digits (no download), a CNN that outputs 3 features, the 3-qubit retinopathy circuit with 6
# trainable weights, and a linear head. The **matched classical model** is identical except that
# the circuit is replaced by `Linear(3, 3) + tanh` (outputs in $[-1, 1]$ like $\langle Z\rangle$).

# %%
from qdr_course.quantum import (accuracy, classical_digit_net, fit, hybrid_digit_net,
                                load_digit_tensors, with_backend)

x_train, y_train, x_test, y_test = load_digit_tensors((0, 1), seed=0)
print(f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}, "
      f"share of 1s: {y_train.float().mean():.2f} / {y_test.float().mean():.2f}")
fig, axes = plt.subplots(1, 8, figsize=(8, 1.3))
for ax, image, label in zip(axes, x_train, y_train):
    ax.imshow(image[0], cmap="gray_r")
    ax.set_title(int(label))
    ax.axis("off")
plt.show()

# %%
set_seed(0)
hybrid = hybrid_digit_net(circuit)
set_seed(0)
classical = classical_digit_net()
count = lambda m: sum(p.numel() for p in m.parameters())
print(f"hybrid   : {count(hybrid)} parameters, bottleneck {count(hybrid.bottleneck)} (circuit weights)")
print(f"classical: {count(classical)} parameters, bottleneck {count(classical.bottleneck)}")

# %% [markdown]
# ### Exercise 3.2 - one training step
# Complete `train_step`: clear the gradients, compute the cross-entropy of `model(x)` against
# `y`, back-propagate, update; return the loss as a float.

# %% tags=["exercise"]
from qdr_course.checks import check_train_step


def train_step(model, optimiser, x, y):
    """One optimisation step; returns the loss before the update."""
    ### BEGIN SOLUTION
    optimiser.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimiser.step()
    return loss.item()
    ### END SOLUTION


check_train_step(train_step)

# %% [markdown]
# `fit` (from `qdr_course.quantum.digits`) repeats the package's `train_step` over shuffled mini-batches,
# with a progress bar, and records loss and accuracy per epoch. Gradients flow through the
# circuit into the CNN: the whole model trains end to end.

# %%
start = time.perf_counter()
history_h = fit(hybrid, x_train, y_train, x_test, y_test, epochs=6, seed=0)
history_c = fit(classical, x_train, y_train, x_test, y_test, epochs=6, seed=0)
elapsed = time.perf_counter() - start
for name, h in (("hybrid", history_h), ("classical", history_c)):
    print(f"{name:<10} loss {h['loss'][0]:.3f} -> {h['loss'][-1]:.3f}, "
          f"test accuracy {h['test_accuracy'][-1]:.3f}")

# %%
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3))
for name, h in (("hybrid", history_h), ("classical", history_c)):
    epochs = np.arange(1, len(h["loss"]) + 1)
    ax_loss.plot(epochs, h["loss"], marker="o", label=name)
    ax_acc.plot(epochs, h["test_accuracy"], marker="o", label=name)
ax_loss.set(xlabel="epoch", ylabel="training loss", title="loss")
ax_acc.set(xlabel="epoch", ylabel="test accuracy", title="digits 0 vs 1", ylim=(0.4, 1.02))
ax_loss.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# Both models separate 0 from 1 perfectly: this task is easy, which is why the textbook's
# 99.85 % said nothing about the circuit. A harder pair tells more. Digits 3 vs 8:

# %%
x3_train, y3_train, x3_test, y3_test = load_digit_tensors((3, 8), seed=0)
results = {}
for name, build in (("hybrid", lambda: hybrid_digit_net(retinopathy_circuit(3, 2))),
                    ("classical", classical_digit_net)):
    set_seed(0)
    model = build()
    h = fit(model, x3_train, y3_train, x3_test, y3_test, epochs=6, seed=0)
    results[name] = h["test_accuracy"][-1]
    print(f"{name:<10} 3 vs 8 test accuracy {results[name]:.3f}")

# %% [markdown]
# On one seed, with this little data, the two are close; neither the circuit's expressivity nor
# its 6 weights give it an edge on a classical bottleneck of the same shape. (Lesson 05 makes
# this comparison properly, over several seeds, on retinopathy data.)
#
# ## The trained model on a noisy IBM device
#
# `qiskit-ibm-runtime` ships *fake* devices: offline snapshots of real IBM processors with
# their qubit couplings, native gates and error rates. Aer simulates one with its noise model.
# We copy the trained hybrid model onto `FakeManilaV2` (5 qubits) through Qiskit's
# `BackendEstimatorV2`, which measures with real shots; on IBM hardware you would pass IBM
# Runtime's estimator instead, and the layer code would not change. The circuit is transpiled
# once to the device's native gates and qubit layout; the whole test set is **one** estimator
# call with 4000 shots per expectation value.

# %%
from qdr_course.quantum import device_estimator, fake_device

device = fake_device("FakeManilaV2")
hybrid.eval()
on_device = with_backend(hybrid, device_estimator(device, shots=4000, seed=0), transpile_to=device)
print("transpiled circuit:", dict(on_device.bottleneck.executed_circuit.count_ops()))
from qdr_course.quantum import encode_angles as reference_encode_angles

with torch.no_grad():
    angles = reference_encode_angles(hybrid.features(x_test))
    exact_out, noisy_out = hybrid.bottleneck(angles), on_device.bottleneck(angles)
print(f"mean |<Z> noisy - <Z> exact| over the test set: {(noisy_out - exact_out).abs().mean():.2f}")
print(f"test accuracy exact: {accuracy(hybrid, x_test, y_test):.3f}, "
      f"on the noisy device: {accuracy(on_device, x_test, y_test):.3f}")

# %% [markdown]
# Noise (gate errors, decoherence, readout errors) moves the expectation values by about a tenth
# on average here - mostly damping them towards 0 - but the decision is robust because the
# classes are far apart. On a real device this is also the
# moment to count the cost: every test image needs its own circuit execution, and training by
# parameter shift would need $2 \times 9$ more per image per step - which is why we train on the
# exact simulator and use hardware for inference.
#
# ## Key points
# - `QuantumLayer` is an `nn.Module`: batch in, expectation values out, `nn.Parameter` weights,
#   gradients for inputs and weights; `gradcheck` passes in float64.
# - The exact torch statevector back end trains fast; a Qiskit `EstimatorV2` back end gives the
#   same numbers with one call per forward batch and one per backward pass (parameter shift); a
#   `SamplerV2` adds real shot noise.
# - Angles are periodic: squash unbounded features, e.g. $\frac{\pi}{2}\tanh z$, before encoding.
# - On easy data (digits 0 vs 1) any model is perfect; compare against a matched classical
#   bottleneck before crediting the circuit.
# - A trained model runs unchanged on a noisy fake IBM device (transpiled once); noise damps
#   expectation values.
