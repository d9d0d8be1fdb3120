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
# # 06 · The neural tangent kernel
#
# **Teaching:** 55 min · **Exercises:** 40 min
#
# A neural network with millions of weights, trained by gradient descent, sounds like the
# opposite of a simple model. Yet when the network is *wide enough*, its training is exactly
# solvable: the network behaves like **kernel regression** with a fixed kernel, its **neural
# tangent kernel** (NTK). This lesson shows it with real training runs, builds the deep network of
# Zlokapa, Neven and Lloyd (arXiv:2107.09200), whose NTK lesson 07 feeds to a quantum
# linear-system algorithm, and computes that kernel in closed form - including at depths where the
# textbook computation silently goes wrong.
#
# ## Objectives
# - State the NTK of a network and why gradient descent on a wide network is kernel regression.
# - Train finite networks of growing width and watch them approach `neural_tangents`' prediction.
# - Build the paper's data and fully connected erf network with its exact constants
#   (erf_scale, mu) and its depth L = 0.1 L_conv.
# - Derive the NTK recursion from the chain rule, define the NNGP kernel beside it, implement
#   the closed form and check both against `neural_tangents`.
# - Explain why the direct NTK computation loses precision at large depth and how the stable
#   recursion avoids it.

# %%
import time

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import neural_tangents as nt
import numpy as np

from qdr_course import ntk, set_seed
from qdr_course.checks import ask, check_depth_growth, check_erf_ntk, check_width_gap_prediction
from qdr_course.utils import figure_style

jax.config.update("jax_enable_x64", True)  # float64 throughout: deep NTKs need it
figure_style()
rng = set_seed(0)

# %% [markdown]
# ## 1. From a network to a kernel
#
# Take a network f(x; θ) with parameters θ and the squared loss
# L(θ) = (1/2n) Σ_i (f(x_i; θ) - y_i)². Gradient descent with a small step η moves the
# parameters by -η ∇_θ L, and the *outputs* on any input x then move by
#
# $$\frac{d f(x)}{dt} = -\frac{1}{n} \sum_i \Theta(x, x_i)\,\big(f(x_i) - y_i\big),
# \qquad \Theta(x, x') = \nabla_\theta f(x) \cdot \nabla_\theta f(x').$$
#
# Θ is the **neural tangent kernel**. For a general network it changes during training. Jacot,
# Gabriel and Hongler (2018) showed that as the width of every layer goes to infinity (with
# weights scaled like 1/sqrt(width), the "NTK parameterisation"), Θ becomes *deterministic* and
# *constant* during training. The equation above is then linear and solvable:
#
# $$f_t(X_*) = f_0(X_*) + \Theta(X_*, X)\,\Theta(X, X)^{-1}\big(I - e^{-\Theta(X,X)\,t/n}\big)\big(y - f_0(X)\big).$$
#
# At t → ∞ (with f_0 ≈ 0 on average) this is kernel regression, **f(x_*) = k_*ᵀ K⁻¹ y** with
# K = Θ(X, X) and k_* = Θ(X, x_*): *training an infinitely wide network is solving one linear
# system*. That linear system is what lessons 07 and 08 hand to a quantum computer.
#
# ### Kernel regression in one example
# **Kernel regression** predicts f(x_*) = Σ_i a_i k(x_*, x_i) with weights a = K⁻¹ y
# (K_ij = k(x_i, x_j)); **kernel ridge regression** uses a = (K + λI)⁻¹ y, which trades fitting
# the training points exactly for smoothness. The kernel says how similar two inputs are; the
# RBF kernel k(x, x') = exp(-(x - x')² / 2ℓ²) says "similar if within about ℓ". Fit noisy samples
# of sin(3x) with it:

# %%
toy_rng = np.random.default_rng(1)
x_toy = np.sort(toy_rng.uniform(-1, 1, 12))
y_toy = np.sin(3 * x_toy) + 0.1 * toy_rng.normal(size=12)
grid_toy = np.linspace(-1, 1, 200)


def rbf(a, b, length=0.3):
    """The RBF kernel matrix exp(-(a_i - b_j)^2 / (2 length^2))."""
    return np.exp(-((a[:, None] - b[None, :]) ** 2) / (2 * length**2))


# alt: Kernel ridge regression of 12 noisy samples of sin(3x) on x from -1 to 1: with a tiny
#      ridge the curve passes through every training point (dots); with ridge 0.1 it is smoother
#      and misses them slightly; the dotted curve is sin(3x).
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(x_toy, y_toy, "ko", ms=4, label="training points")
for ridge in (1e-6, 0.1):
    weights = np.linalg.solve(rbf(x_toy, x_toy) + ridge * np.eye(12), y_toy)
    ax.plot(grid_toy, rbf(grid_toy, x_toy) @ weights, label=f"kernel ridge, λ = {ridge:g}")
ax.plot(grid_toy, np.sin(3 * grid_toy), "k:", lw=1, label="sin(3x)")
ax.legend(fontsize=7)
ax.set_xlabel("x")
fig.tight_layout()
fit_error = {ridge: np.abs(rbf(x_toy, x_toy) @ np.linalg.solve(rbf(x_toy, x_toy) + ridge * np.eye(12),
                                                               y_toy) - y_toy).max()
             for ridge in (1e-6, 0.1)}

# %%
# Sanity check: with a tiny ridge the fit (nearly) passes through the training points; the
# larger ridge misses them by more.
assert fit_error[1e-6] < 0.05 < fit_error[0.1]

# %% [markdown]
# The NTK result says: gradient descent on an infinitely wide network, run to convergence, *is*
# kernel regression with λ = 0 and the kernel k = Θ, the network's NTK - no kernel is chosen by
# hand; the architecture fixes it. (The sparsified CNN NTK of lesson 07 adds a ridge term.)
#
# ## 2. The data of the paper
#
# Two digit classes, labels +1 and -1, n/2 training images per class, pixels standardised with
# one global mean and standard deviation, then every image scaled to unit length. The paper used
# 28x28 MNIST digits 8 and 9; offline we use scikit-learn's bundled 8x8 digits (the same code
# takes `source="mnist"` when you are online).

# %%
data = ntk.load_digit_pair(32, digits=(8, 9), n_test=64, seed=0)
print("training images:", data.x_train.shape, " test images:", data.x_test.shape)
print("labels +1 / -1 in training:", int((data.y_train == 1).sum()), "/", int((data.y_train == -1).sum()))
print("image norms:", np.round(np.linalg.norm(data.x_train[:3], axis=1), 12))

# %%
# Sanity check: balanced classes, unit-norm images, no test image among the training images.
assert (data.y_train == 1).sum() == (data.y_train == -1).sum() == 16
assert np.allclose(np.linalg.norm(data.x_train, axis=1), 1) and np.allclose(np.linalg.norm(data.x_test, axis=1), 1)
assert not set(data.index_train) & set(data.index_test)

# %% [markdown]
# ## 3. Wide networks really are kernel machines
#
# `neural_tangents.stax` builds a network as a triple `(init_fn, apply_fn, kernel_fn)`: the
# first two make and run a *finite* network, the third gives the *infinite-width* kernels in
# closed form. We train finite erf networks (one hidden layer, to keep this fast on one CPU core)
# of growing width by plain
# full-batch gradient descent and compare their test outputs with the NTK prediction
# `nt.predict.gradient_descent_mse`, started from the same initial outputs f_0. We wrap
# `apply_fn` and `kernel_fn` in `jax.jit`, as neural-tangents recommends: each is then compiled
# once per input shape as one program instead of operation by operation - faster, and it
# needs less memory.
#
# ### Exercise 1 - predict, then run
# At initialisation a finite network's output is a sum over `width` hidden units, each term
# scaled by 1/√width. The cell after this one trains widths 64, 256, 1024 and 4096 and prints the
# root-mean-square difference between each trained network and the kernel prediction. *Predict*
# the factor by which that difference shrinks from width 64 to width 4096, then run.

# %% tags=["exercise", "predict"]
def my_prediction():
    """The factor by which the RMS difference falls from width 64 to width 4096."""
    raise NotImplementedError("Exercise: complete this; check_width_gap_prediction(...) tells you if it is right.")


check_width_gap_prediction(my_prediction)

# %%
_, apply_fn, kernel_fn = ntk.fc_erf_network(depth=1)  # apply_fn works for every width
apply_fn = jax.jit(apply_fn)
kernel_fn = jax.jit(kernel_fn, static_argnames="get")  # get="ntk" picks the kernel: not traced
y_train = jnp.asarray(data.y_train)[:, None]


@jax.jit
def gd_step(params, lr):
    """One full-batch gradient-descent step on 0.5 * mean squared error."""
    grads = jax.grad(lambda p: 0.5 * jnp.mean((apply_fn(p, data.x_train) - y_train) ** 2))(params)
    return jax.tree_util.tree_map(lambda w, g: w - lr * g, params, grads)


def train_finite_network(width, steps, lr, seed):
    """Train a finite network of this width; return (f_0, f_T) on the training and test images."""
    init_fn, _, _ = ntk.fc_erf_network(depth=1, width=width)
    _, params = init_fn(jax.random.PRNGKey(seed), data.x_train.shape)
    f0 = (apply_fn(params, data.x_train), apply_fn(params, data.x_test))
    for _ in range(steps):
        params = gd_step(params, lr)
    return f0, (apply_fn(params, data.x_train), apply_fn(params, data.x_test))


k_train = kernel_fn(data.x_train, None, "ntk")
k_test = kernel_fn(data.x_test, data.x_train, "ntk")
lam_max = float(jnp.linalg.eigvalsh(k_train).max())
lr = 32 / lam_max  # n / lambda_max: safe; gradient descent stays stable up to 2 n / lambda_max
steps = 200
predict_fn = nt.predict.gradient_descent_mse(k_train, y_train, learning_rate=lr)

widths = [64, 256, 1024, 4096]
gaps = []
for width in widths:
    rms = []
    for seed in range(2):
        (f0_train, f0_test), (_, fT_test) = train_finite_network(width, steps, lr, seed)
        _, kernel_test = predict_fn(steps, f0_train, f0_test, k_test)
        rms.append(float(jnp.sqrt(jnp.mean((fT_test - kernel_test) ** 2))))
    gaps.append(np.mean(rms))
    print(f"width {width:5d}: RMS(network - NTK prediction) on test = {gaps[-1]:.4f}")

# %%
# alt: RMS difference between trained finite networks and the NTK prediction against width on
#      log axes: the points fall from width 64 to 4096, close to the dashed 1/sqrt(width) line.
fig, ax = plt.subplots(figsize=(4.5, 3.2))
ax.loglog(widths, gaps, "o-", label="trained network vs NTK")
ax.loglog(widths, gaps[0] * np.sqrt(widths[0] / np.array(widths)), "k--", label=r"$\propto 1/\sqrt{\mathrm{width}}$")
ax.set_xlabel("width")
ax.set_ylabel("RMS difference on test outputs")
ax.legend()
fig.tight_layout()

# %%
# Sanity check: the gap shrinks steadily with the width.
assert gaps[-1] < gaps[0] / 3 and all(a > b for a, b in zip(gaps, gaps[1:]))
print(f"measured factor from width 64 to 4096: {gaps[0] / gaps[-1]:.0f} (in our run)")

# %% [markdown]
# The wider the network, the closer its trained outputs are to the kernel prediction; the
# difference falls about like 1/sqrt(width). From now on we work with the infinitely wide network
# directly: its training *is* `k_*ᵀ K⁻¹ y`.
#
# ## 4. The paper's network and its exact constants
#
# The paper's fully connected network is `depth x [Dense, Erf]` followed by `Dense(1)`, with no
# biases and weights of standard deviation sqrt(1 / erf_scale), where
# erf_scale = E[erf(z)²] for z ~ N(0, 1). That choice makes variance q = 1 the *fixed point* of
# the layer-to-layer variance map q ↦ w² (2/π) arcsin(2q / (1 + 2q)): a pre-activation of
# variance 1 keeps variance 1 - it is the "normalised erf" s(z) = erf(z) / sqrt(erf_scale). It
# does not make every layer's variance 1: unit-norm 64-pixel images start at
# q₁ = w² ‖x‖² / d = 0.034, and the map pulls q up towards 1: 0.96 at layer 8, within 1 % at layer
# 10 (cell below). The
# original code
# estimated erf_scale with 10⁸ random samples; it has a closed form,
#
# $$\mathrm{erf\_scale} = \frac{2}{\pi}\arcsin\frac{2}{3},$$
#
# and so does the **coefficient of nonlinearity** that sets how fast depth decorrelates inputs,
#
# $$\mu = 1 - E[z\,s(z)]^2 = 1 - \frac{4}{3\pi\,\mathrm{erf\_scale}}.$$

# %%
q_layers = [ntk.W_STD**2 / 64]  # layer 1: w^2 |x|^2 / d for a unit-norm 8x8 image
while abs(q_layers[-1] - 1) > 0.01:
    q = q_layers[-1]
    q_layers.append(ntk.W_STD**2 * 2 / np.pi * np.arcsin(2 * q / (1 + 2 * q)))
print("variance by layer:", " ".join(f"{q:.3f}" for q in q_layers))

# %%
# Sanity check: layer 1 has variance 0.034, layer 8 0.96, and layer 10 is within 1 % of 1.
assert abs(q_layers[0] - 0.034) < 5e-4 and abs(q_layers[7] - 0.96) < 0.01 and len(q_layers) == 10

# %%
z = np.random.default_rng(0).normal(size=2_000_000)
from scipy.special import erf  # noqa: E402

print(f"erf_scale exact {ntk.ERF_SCALE:.7f}   sampled (2e6 draws) {np.mean(erf(z) ** 2):.4f}")
print(f"mu        exact {ntk.MU:.7f}   sampled (2e6 draws) {1 - np.mean(z * erf(z) / np.sqrt(ntk.ERF_SCALE)) ** 2:.4f}")

# %%
# Sanity check: the closed forms agree with sampling to the sampling error.
assert abs(np.mean(erf(z) ** 2) - ntk.ERF_SCALE) < 2e-3
assert abs(1 - np.mean(z * erf(z) / np.sqrt(ntk.ERF_SCALE)) ** 2 - ntk.MU) < 3e-3

# %% [markdown]
# **How deep?** The paper sets the depth from the *convergence depth*
# L_conv = 8 ln(n / δ) / μ, where δ = min over i ≠ j of 1 - |x_i · x_j| measures how close the
# two most similar training images are; past L_conv the NTK is close to diagonal. Where it comes
# from (the paper's appendix, building on the signal-propagation analysis of deep networks): every
# layer moves the correlation of two different inputs towards 0 by a factor set by μ (a linear
# network, μ = 0, never decorrelates); the closest pair starts at 1 - δ, and asking all n(n - 1)
# off-diagonal entries to fall below a 1/n fraction of the diagonal gives a depth ∝ ln(n/δ)/μ;
# 8 is the constant of the paper's bound. The code then uses depth = round(0.1 L_conv).
#
# ### Exercise 2 - how fast does the depth grow?
# Without computing L_conv itself: how many layers does L_conv gain when the training set
# doubles (n → 2n, same δ)? And when the two closest training images get twice as close
# (δ → δ/2, same n)? Use `ntk.MU` (printed above as mu).

# %% tags=["exercise", "predict"]
def my_prediction():
    """(layers gained when n doubles, layers gained when delta halves)."""
    raise NotImplementedError("Exercise: complete this; check_depth_growth(...) tells you if it is right.")


check_depth_growth(my_prediction)

# %%
delta = ntk.min_margin(data.x_train)
l_conv = ntk.convergence_depth(data.n, delta)
depth = ntk.depth_for(data.x_train, depth_factor=0.1)
print(f"n = {data.n}, delta = {delta:.4f}, L_conv = {l_conv:.1f}, paper's depth round(0.1 L_conv) = {depth}")

# %% [markdown]
# ## 5. The NTK of the erf network in closed form
#
# The erf network is chosen because its Gaussian integrals have closed forms: Williams (1997)
# computed E[erf(u) erf(v)] for a Gaussian pair (u, v), the kernel of an infinitely wide erf
# layer.
#
# For a layer whose pre-activations (u, v) at two inputs are Gaussian with variances q₁₁, q₂₂
# and covariance q₁₂, the erf nonlinearity has two closed-form expectations:
#
# $$T(q) = E[\mathrm{erf}(u)\,\mathrm{erf}(v)] = \frac{2}{\pi}\arcsin\frac{2q_{12}}{\sqrt{(1+2q_{11})(1+2q_{22})}},
# \qquad \dot T(q) = E[\mathrm{erf}'(u)\,\mathrm{erf}'(v)] = \frac{4}{\pi}\,\frac{1}{\sqrt{(1+2q_{11})(1+2q_{22}) - 4q_{12}^2}}.$$
#
# Check both against sampled Gaussian pairs before using them:

# %%
q11, q22, q12 = 0.8, 1.3, 0.6
pairs = np.random.default_rng(2).multivariate_normal([0, 0], [[q11, q12], [q12, q22]], 400_000)
from scipy.special import erf as erf_fn  # noqa: E402

erf_prime = lambda u: 2 / np.sqrt(np.pi) * np.exp(-u**2)  # noqa: E731
t_sampled = np.mean(erf_fn(pairs[:, 0]) * erf_fn(pairs[:, 1]))
tdot_sampled = np.mean(erf_prime(pairs[:, 0]) * erf_prime(pairs[:, 1]))
print(f"T: closed form {float(ntk.erf_nngp_map(q11, q22, q12)):.3f}, sampled {t_sampled:.3f};  "
      f"T-dot: closed form {float(ntk.erf_derivative_map(q11, q22, q12)):.3f}, sampled "
      f"{tdot_sampled:.3f}")

# %%
# Sanity check: the closed forms agree with 400 000 sampled pairs to the sampling error.
assert abs(t_sampled - ntk.erf_nngp_map(q11, q22, q12)) < 5e-3
assert abs(tdot_sampled - ntk.erf_derivative_map(q11, q22, q12)) < 5e-3

# %% [markdown]
# **The NNGP kernel.** Before any training, the pre-activations of an infinitely wide layer
# are a Gaussian process over inputs (Neal 1996; Lee et al. 2018): each unit h_l(x) sums many
# independent random terms. Its covariance Σ_l(x, x') = E[h_l(x) h_l(x')] over the random
# initialisation is the **NNGP kernel** (neural-network Gaussian process). With w² = 1/erf_scale
# and inputs of dimension d: Σ₁(x, x') = w² x·x'/d after the first Dense layer, and each
# [Erf, Dense] step gives Σ_{l+1} = w² T(Σ_l) (an erf of Gaussian inputs, then a Dense layer of
# variance w²/width per weight summed over the width).
#
# **The NTK recursion, by the chain rule.** Write the network as h_{l+1} = W_{l+1} erf(h_l) · w/√N
# (N the width, W with unit-variance entries: the NTK parameterisation) and let Θ_l be the NTK
# of the pre-activations h_l, i.e. ∇_θ h_l(x)·∇_θ h_l(x') summed over the parameters θ of layers
# 1 … l. The parameters of layers 1 … l+1 split into two groups:
#
# 1. the new weights W_{l+1}: ∂h_{l+1}(x)/∂W_{l+1,ij} = (w/√N) erf(h_{l,j}(x)), so they contribute
#    (w²/N) Σ_j erf(h_{l,j}(x)) erf(h_{l,j}(x')) → w² T(Σ_l) = Σ_{l+1} (law of large numbers);
# 2. the earlier weights θ, through the chain rule:
#    ∂h_{l+1}(x)/∂θ = (w/√N) Σ_j W_{l+1,j} erf'(h_{l,j}(x)) ∂h_{l,j}(x)/∂θ, so they contribute
#    (w²/N) Σ_{j,k} W_j W_k erf'(h_j(x)) erf'(h_k(x')) ∇_θ h_j(x)·∇_θ h_k(x');
# 3. at infinite width different units j ≠ k have independent gradients, so
#    ∇_θ h_j(x)·∇_θ h_k(x') → δ_jk Θ_l(x, x'), and W_j² averages to 1 over the N units:
#    the sum becomes w² E[erf'(u) erf'(v)] Θ_l = w² Ṫ(Σ_l) Θ_l.
#
# Adding the two groups:
#
# - first Dense layer: Σ₁(x, x') = w² x·x' / d and Θ₁ = Σ₁ (only group 1 exists);
# - each of the `depth` [Erf, Dense] steps: Σ_{l+1} = w² T(Σ_l), Θ_{l+1} = Σ_{l+1} + w² Ṫ(Σ_l) Θ_l.
#
# The NTK is the NNGP kernel *plus* every earlier layer's contribution, carried forward by Ṫ.
# `neural_tangents`' `kernel_fn(x1, x2, "nngp")` gives the network's NNGP kernel; our recursion
# for Σ alone (three arrays: the two variance vectors and the covariance) should match it:

# %%
def nngp_recursion(x1, x2, depth):
    """Sigma of depth x [Dense, Erf] + Dense(1) by the recursion above."""
    w2, d = ntk.W_STD**2, x1.shape[1]
    q1, q2 = w2 * np.sum(x1 * x1, axis=1) / d, w2 * np.sum(x2 * x2, axis=1) / d
    cov = w2 * x1 @ x2.T / d
    for _ in range(depth):
        cov = w2 * ntk.erf_nngp_map(q1[:, None], q2[None, :], cov)
        q1, q2 = w2 * ntk.erf_nngp_map(q1, q1, q1), w2 * ntk.erf_nngp_map(q2, q2, q2)
    return cov


nngp_nt = np.asarray(ntk.fc_erf_network(4)[2](data.x_test[:6], data.x_train, "nngp"))
nngp_gap = np.abs(nngp_recursion(data.x_test[:6], data.x_train, 4) - nngp_nt).max()
print(f"depth 4: NNGP recursion vs neural-tangents' kernel_fn(..., 'nngp'): "
      f"{'below 1e-12' if nngp_gap < 1e-12 else 'ABOVE 1e-12'}")

# %%
# Sanity check: the NNGP recursion is neural-tangents' NNGP kernel.
assert nngp_gap < 1e-12

# %% [markdown]
# The functions `ntk.erf_nngp_map(q11, q22, q12)` and `ntk.erf_derivative_map(q11, q22, q12)` give
# T and Ṫ (vectorised).
#
# ### Exercise 3 - the closed-form NTK
# Complete `my_erf_ntk(x1, x2, depth)`, returning Θ(x1, x2) of shape (len(x1), len(x2)). Keep
# three arrays through the layers: the variances q1 of the rows of x1, q2 of the rows of x2, and
# the covariance matrix. Careful: Θ's update uses the covariance *before* it is updated.

# %% tags=["exercise", "implement"]
def my_erf_ntk(x1, x2, depth):
    """Return the NTK of depth x [Dense, Erf] + Dense(1) (W_std = sqrt(1/erf_scale), no bias)."""
    raise NotImplementedError("Exercise: complete this; check_erf_ntk(...) tells you if it is right.")


check_erf_ntk(my_erf_ntk)

# %% [markdown]
# ### Concept check 6.1
# Return the letter of your answer from `my_choice`; the check answers at once.

# %%
ask("6.1")

# %% tags=["exercise", "concept"]
from qdr_course.checks import check_concept_6_1  # noqa: E402


def my_choice():
    """The letter of your answer to concept check 6.1."""
    raise NotImplementedError("Exercise: complete this; check_concept_6_1(...) tells you if it is right.")


check_concept_6_1(my_choice)

# %% [markdown]
# The package's version, `ntk.erf_ntk`, is the same recursion with one more idea (next section).
# Compare it with `neural_tangents`' analytic kernel at the paper's depth, and time both:

# %%
t0 = time.perf_counter()
k_nt = ntk.nt_erf_ntk(data.x_train, None, depth)
t_nt = time.perf_counter() - t0
t0 = time.perf_counter()
k_cf = ntk.erf_ntk(data.x_train, None, depth)
t_cf = time.perf_counter() - t0
rel = np.max(np.abs(k_cf - k_nt)) / np.max(np.abs(k_nt))
print(f"depth {depth}: max relative difference closed form vs neural-tangents "
      f"{'below 1e-9' if rel < 1e-9 else 'ABOVE 1e-9'}")

# %%
print(f"neural-tangents {t_nt:.2f} s (including compilation), closed form {t_cf * 1e3:.1f} ms")

# %%
# Sanity check: the same kernel (to 1e-9 at this depth, see section 6 for why not 1e-16).
assert rel < 1e-9

# %% [markdown]
# ## 6. A numerical trap: the diagonal at large depth
#
# Computed by `neural_tangents`, the diagonal Θ(x, x) goes wrong at large depth. Before
# reading why, commit to an explanation:

# %%
ask("6.2")

# %% tags=["exercise", "concept"]
from qdr_course.checks import check_concept_6_2  # noqa: E402


def my_choice():
    """The letter of your answer to concept check 6.2."""
    raise NotImplementedError("Exercise: complete this; check_concept_6_2(...) tells you if it is right.")


check_concept_6_2(my_choice)

# %% [markdown]
#
# On the diagonal (x = x') the correlation is exactly 1 and every layer multiplies Θ by
# w² Ṫ = (1/erf_scale)(4/π)/√5 ≈ 1.2257. The correlation map has the *same* slope 1.2257 at
# correlation 1, so a rounding error of 10⁻¹⁶ in a diagonal correlation is also amplified by
# 1.2257 per layer. `neural_tangents` computes the diagonal like every other entry, from a
# covariance and two variances that each carry rounding error: after L layers the error is about
# c x 1.2257^L with a prefactor c fitted below (a few 10⁻¹⁵, not 10⁻¹⁶: several rounding errors
# add up) - 5 % near L = 150 and not-a-number around L = 200-320, while the paper's full
# L_conv is about 500. The closed-form recursion follows the variances with their own scalar
# recursion at correlation *exactly* 1, so there is nothing to amplify.

# %%
depths = [20, 40, 60, 80, 100, 120, 140]
x_small = data.x_train[:6]
direct_by_depth = ntk.nt_erf_ntk_by_depth(x_small, None, depths)  # one pass through 140 layers
errors = []
for L in depths:
    exact = np.diag(ntk.erf_ntk(x_small, None, L))
    errors.append(float(np.max(np.abs(np.diag(direct_by_depth[L]) / exact - 1))))
    print(f"depth {L:3d}: relative error of neural-tangents' diagonal {errors[-1]:.1e}")

# %%
# alt: Relative error of neural-tangents' NTK diagonal against depth on a log scale: the points
#      rise by orders of magnitude from depth 20 to 140 along the dashed fitted line c x 1.2257^L,
#      which crosses the 5 % line near depth 150.
fig, ax = plt.subplots(figsize=(4.5, 3.2))
ax.semilogy(depths, np.maximum(errors, 1e-17), "o", label="neural-tangents' diagonal")
grid = np.arange(0, 330, 10)
fitted = np.array(errors) > 1e-14  # past the first few layers, where rounding is still noise
prefactor = float(np.exp(np.mean(np.log(np.array(errors)[fitted])
                                 - np.array(depths)[fitted] * np.log(ntk.DIAGONAL_GROWTH))))
depth_5_percent = np.log(0.05 / prefactor) / np.log(ntk.DIAGONAL_GROWTH)
ax.semilogy(grid, prefactor * ntk.DIAGONAL_GROWTH**grid, "k--", label=r"fitted $c\times 1.2257^L$")
ax.axhline(0.05, color="grey", lw=0.8)
ax.set_xlabel("depth L")
ax.set_ylabel("relative error")
ax.legend()
fig.tight_layout()

# %%
# Sanity check: the error grows by orders of magnitude with depth, like 1.2257^L; the fitted
# line reaches 5 % near L = 150 (in our run; the prefactor is a sum of rounding errors).
assert errors[-1] > 1e3 * errors[1]
assert 130 < depth_5_percent < 170, depth_5_percent
try:
    ntk.nt_erf_ntk(x_small, None, 400)
except ValueError as error:
    print("ValueError:", error)

# %% [markdown]
# The stable recursion has no such limit short of float64's range (depth 3453):

# %%
k_deep = ntk.erf_ntk(x_small, None, 500)
print(f"depth 500: diagonal {k_deep[0, 0]:.4e}, largest off-diagonal / diagonal {np.abs(k_deep[0, 1:]).max() / k_deep[0, 0]:.1e}")

# %% [markdown]
# ## 7. Deep NTKs are nearly diagonal
#
# Off the diagonal, correlations flow to 0 and each layer multiplies Θ by only about
# (1/erf_scale)(4/(3π)) ≈ 0.9136, against 1.2257 on the diagonal. The ratio
# off-diagonal / diagonal therefore falls roughly like 0.745^L: at the paper's depth the NTK is
# close to the identity matrix. This is what makes the sparsified, well-conditioned kernels of
# lesson 07 possible - and, as we will see there, what makes them almost trivial.

# %%
layers = np.arange(1, 101, 3)
ratios = []
for L in layers:
    k = ntk.erf_ntk(data.x_train, None, int(L))
    ratios.append(np.max(np.abs(k - np.diag(np.diag(k)))) / np.min(np.diag(k)))
# alt: Largest off-diagonal over diagonal of the NTK against depth on a log scale: the points
#      fall steadily, parallel to the dashed 0.745^L line; a vertical line marks the paper's depth.
fig, ax = plt.subplots(figsize=(4.5, 3.2))
ax.semilogy(layers, ratios, ".", label="largest off-diagonal / diagonal")
ax.semilogy(layers, ratios[-1] * 0.745 ** (layers - layers[-1]), "k--", label=r"$\propto 0.745^L$")
ax.axvline(depth, color="grey", lw=0.8, ls=":")
ax.set_xlabel("depth L")
ax.legend()
fig.tight_layout()
print(f"at the paper's depth {depth}: off-diagonal / diagonal = {ratios[np.searchsorted(layers, depth)]:.1e}")

# %% [markdown]
# Explore it: the slider sets the depth factor (depth = round(factor · L_conv)); the panels show
# the normalised NTK of the first 24 training images at that depth, and how its mean
# off-diagonal and its condition number κ fall as the network gets deeper. (Where widgets are not
# available, as in the stored solutions, you see the figure for the starting factor 0.1.)

# %%
from qdr_course.widgets import explore_depth_factor  # noqa: E402

# alt: At depth factor 0.1: a heat map (with colour bar) of the normalised NTK of 24 training
#      images, bright on the diagonal and dim elsewhere, beside curves of its mean off-diagonal
#      and condition number kappa falling as the depth factor grows.
explore_depth_factor(data.x_train[:24])

# %% [markdown]
# ### Discussion
# The NTK describes a network whose kernel never changes while it trains: its hidden layers do
# not learn new features, only the output moves. Networks trained in practice are finite, use
# larger steps, and their first layers do adapt to the data. On digit images, would you expect a
# finite trained network to classify better or worse than its NTK, and how would you test it with
# this lesson's tools (widths, steps, seeds)?

# %% [markdown] tags=["exercise", "discuss"]
# *Write your answer here.*

# %% [markdown]
# ## Key points
# - Gradient descent on a wide network is kernel regression with its NTK: f(x_*) = k_*ᵀ K⁻¹ y at
#   convergence; finite networks approach it like 1/sqrt(width).
# - The paper's network uses the exact constants erf_scale = (2/π) arcsin(2/3) and
#   μ = 1 - 4/(3π erf_scale), and depth round(0.1 L_conv) with L_conv = 8 ln(n/δ)/μ.
# - The NNGP kernel Σ is the covariance of the untrained network's outputs; the chain rule gives
#   Θ_{l+1} = Σ_{l+1} + w² Ṫ(Σ_l) Θ_l, the NNGP kernel plus every earlier layer's contribution.
# - The NTK of the erf network has a closed-form recursion; it equals `neural_tangents`' kernel
#   (to 1e-10 at moderate depth) and is hundreds of times faster than its un-compiled `kernel_fn`.
# - Computed directly, the NTK diagonal loses precision like 1.2257^L (float64 fails past about
#   150-200 layers); following the variances at correlation exactly 1 is stable to any depth.
# - Deep erf NTKs are nearly diagonal (off-diagonal/diagonal ~ 0.745^L): the starting point of
#   lesson 07.
# - Variance 1 is the fixed point of the erf network's variance map, approached within about
#   8-10 layers; gradient descent on 0.5 x MSE is stable for steps up to 2n/λ_max.
#
# ## Further reading
# - Jacot, Gabriel, Hongler (2018), *Neural Tangent Kernel: convergence and generalization in
#   neural networks*, [arXiv:1806.07572](https://arxiv.org/abs/1806.07572).
# - Lee et al. (2019), *Wide neural networks of any depth evolve as linear models under gradient
#   descent*, [arXiv:1902.06720](https://arxiv.org/abs/1902.06720).
# - Williams (1997), *Computing with infinite networks*, NeurIPS 9,
#   [proceedings](https://papers.nips.cc/paper/1996/hash/ae5e3ce40e0404a45ecacaaf05e5f735-Abstract.html)
#   (the erf kernel's closed form).
# - Novak et al. (2020), *Neural Tangents*, [arXiv:1912.02803](https://arxiv.org/abs/1912.02803).
# - Zlokapa, Neven, Lloyd (2021), [arXiv:2107.09200](https://arxiv.org/abs/2107.09200).
# - Rasmussen, Williams (2006), *Gaussian Processes for Machine Learning*, chapter 2 (kernel
#   regression), [gaussianprocess.org/gpml](http://gaussianprocess.org/gpml/).
# - Lee et al. (2018), *Deep neural networks as Gaussian processes* (the NNGP kernel),
#   [arXiv:1711.00165](https://arxiv.org/abs/1711.00165).
# - Poole et al. (2016), *Exponential expressivity in deep neural networks through transient
#   chaos*, [arXiv:1606.05340](https://arxiv.org/abs/1606.05340) (the variance and correlation
#   maps of section 4).
# - Schoenholz et al. (2017), *Deep information propagation*,
#   [arXiv:1611.01232](https://arxiv.org/abs/1611.01232) (how deep correlations decay: the
#   depth scales behind L_conv).
# - Xiao, Pennington, Schoenholz (2020), *Disentangling trainability and generalization in deep
#   neural networks*, [arXiv:1912.13053](https://arxiv.org/abs/1912.13053) (deep NTKs approach a
#   constant-plus-identity kernel).
# - Agarwal, Awasthi, Kale (2021), *A deep conditioning treatment of neural networks*,
#   [arXiv:2002.01523](https://arxiv.org/abs/2002.01523) (depth improves the NTK's condition
#   number, the property lesson 07 relies on).
# - Lee et al. (2020), *Finite versus infinite neural networks: an empirical study*,
#   [arXiv:2007.15801](https://arxiv.org/abs/2007.15801).
