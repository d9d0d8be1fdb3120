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
# # 02 · The parameter-shift rule
#
# **Teaching:** 40 min · **Exercises:** 40 min (+ 10 min for the stretch exercise 2.4)
#
# To train a circuit we need $\partial\langle O\rangle/\partial\theta$. On hardware there is no
# autograd, only the ability to run the circuit at other angles. The **parameter-shift rule**
# turns two such runs into an *exact* derivative. The original retinopathy code got it wrong
# twice: it dropped the rule's factor 1/2, as the old Qiskit textbook it copied had done, and it
# shifted a shared parameter in all its gates at once, which the textbook's one-gate example never
# had to face. This lesson derives the rule, generalises it, and hunts those two bugs.
#
# ## Objectives
# - Derive the parameter-shift rule $\partial_\theta E = [E(\theta+\frac{\pi}{2}) - E(\theta-\frac{\pi}{2})]/2$
#   and know when it holds.
# - Compare it with finite differences and exact autograd.
# - Handle a parameter that appears in several gates, and angles such as $2t + 1$.
# - Find and measure the two gradient bugs of the original code.
# - Work out how many shots a gradient needs, and why finite differences need far more.
# - Use the four-term rule for controlled rotations, whose generators have three eigenvalues.

# %%
import numpy as np
import torch

from qdr_course import set_seed
from qdr_course.utils import figure_style

rng = set_seed(0)
np.set_printoptions(precision=5, suppress=True)
figure_style()

# %% [markdown]
# ## Deriving the rule
#
# Take a gate $U(\theta) = e^{-i\theta P/2}$ where $P$ is a Pauli string ($P^2 = I$), e.g.
# $R_Y(\theta)$ with $P = Y$. Because $P^2 = I$,
#
# $$U(\theta) = \cos\tfrac{\theta}{2}\, I - i \sin\tfrac{\theta}{2}\, P .$$
#
# Put everything before the gate into a state $|\psi\rangle$ and everything after it into the
# observable $O$. Then $E(\theta) = \langle\psi|U^\dagger(\theta)\, O\, U(\theta)|\psi\rangle$ is
# quadratic in $\cos\frac{\theta}{2}, \sin\frac{\theta}{2}$, so by the double-angle formulas
#
# $$E(\theta) = A + B\cos\theta + C\sin\theta$$
#
# for constants $A, B, C$. Since $\cos(\theta \pm \frac{\pi}{2}) = \mp\sin\theta$ and
# $\sin(\theta\pm\frac{\pi}{2}) = \pm\cos\theta$,
#
# $$E(\theta + \tfrac{\pi}{2}) - E(\theta - \tfrac{\pi}{2}) = 2(-B\sin\theta + C\cos\theta)
#   = 2\,E'(\theta).$$
#
# Hence the rule, **with its factor 1/2**:
#
# $$\boxed{\;\frac{\partial E}{\partial\theta} = \frac{E(\theta + \frac{\pi}{2}) - E(\theta - \frac{\pi}{2})}{2}\;}$$
#
# It is *exact*: not a small step, not an approximation. It holds for every gate whose generator has two
# eigenvalues $\pm\frac12$: $R_X, R_Y, R_Z, R_{XX}, R_{ZZ}, \ldots$, and for the phase gates $P$ and
# $CP$ up to a global phase.
#
# Sanity check: a circuit's expectation value really is a sinusoid in one angle.

# %%
from qdr_course.quantum import retinopathy_circuit
from qdr_course.quantum import expectation_values

qc = retinopathy_circuit(3, 2)
x, w = rng.normal(size=3), rng.normal(size=6)


def energy_of_w0(t):
    """<Z_0> as a function of the first weight only."""
    return expectation_values(qc, x, np.concatenate([[t], w[1:]]))[0]


# fit A, B, C from three angles, then predict others
angles = np.array([0.0, np.pi / 2, np.pi])
E = np.array([energy_of_w0(t) for t in angles])
A, B, C = (E[0] + E[2]) / 2, (E[0] - E[2]) / 2, E[1] - (E[0] + E[2]) / 2
for t in rng.uniform(-np.pi, np.pi, 5):
    assert np.isclose(energy_of_w0(t), A + B * np.cos(t) + C * np.sin(t), atol=1e-12)
A, B, C = (round(v, 4) + 0.0 for v in (A, B, C))  # + 0.0: a rounded -1e-17 prints as 0, not -0
print(f"E(t) = {A:.4f} + {B:.4f} cos t + {C:.4f} sin t  (checked at 5 random angles)")

# %% [markdown]
# In a picture: the two runs at $\theta \pm \frac{\pi}{2}$ sit on the sinusoid a quarter period
# either side of $\theta$; their *difference*, halved, is exactly the slope of the tangent at
# $\theta$. (The chord between them has slope $2E'/\pi$, not $E'$: the rule is not a finite
# difference.)

# %%
import matplotlib.pyplot as plt

# alt: The expectation value E(theta) as a sinusoid against the weight theta, with the point at theta = 0.6, the two shifted runs a quarter period either side of it as markers, and a dashed tangent line whose slope is half the difference of the two runs.
t_grid = np.linspace(-np.pi, 2 * np.pi, 300)
t_at = 0.6
e_at, slope = energy_of_w0(t_at), (energy_of_w0(t_at + np.pi / 2)
                                   - energy_of_w0(t_at - np.pi / 2)) / 2
fig, ax = plt.subplots(figsize=(7, 3.3))
ax.plot(t_grid, A + B * np.cos(t_grid) + C * np.sin(t_grid), label="E(θ)")
ax.plot(t_grid[100:200], e_at + slope * (t_grid[100:200] - t_at), "k--",
        label="tangent at θ, slope [E(θ+π/2) - E(θ-π/2)] / 2")
for shift_sign in (+1, -1):
    t_s = t_at + shift_sign * np.pi / 2
    ax.plot(t_s, energy_of_w0(t_s), "o", color="C3")
ax.plot(t_at, e_at, "o", color="k", label="θ")
ax.plot([], [], "o", color="C3", label="the two shifted runs θ ± π/2")
ax.set(xlabel="θ (the first weight)", ylabel="<Z_0>", title="the parameter-shift rule on E(θ)")
ax.legend(fontsize=8, loc="lower left")
plt.show()
h_small = 1e-6
assert abs(slope - (energy_of_w0(t_at + h_small) - energy_of_w0(t_at - h_small)) / (2 * h_small)) < 1e-8

# %% [markdown]
# ### Exercise 2.1 - a shift rule for any shift
# Why $\pi/2$? Redo the derivation above with a shift $s$ instead: compute
# $E(\theta + s) - E(\theta - s)$ for $E = A + B\cos\theta + C\sin\theta$ (the angle-sum
# formulas do it in two lines), and complete `any_shift_gradient(f, theta, s)` so that it returns
# the **exact** derivative from the two runs at $\theta \pm s$, for any $s$ that is not a multiple
# of $\pi$. The check tries five shifts.

# %% tags=["exercise", "implement"]
from qdr_course.checks import check_any_shift_gradient


def any_shift_gradient(f, theta, s):
    """Exact df/dtheta of a sinusoid f from the two runs f(theta + s) and f(theta - s)."""
    ### BEGIN SOLUTION
    return (f(theta + s) - f(theta - s)) / (2 * np.sin(s))
    ### END SOLUTION


check_any_shift_gradient(any_shift_gradient)

# %% [markdown]
# So every shift $s$ gives an exact rule, $E' = [E(\theta+s) - E(\theta-s)]/(2\sin s)$, and
# $s = \pi/2$ is the one that makes the divisor $2\sin s$ largest: the two runs are as different
# as possible, which is best against shot noise (the last section measures it). Sanity check on
# the circuit's own $E$, at three shifts:

# %%
for s_shift in (0.3, np.pi / 2, 2.5):
    general = (energy_of_w0(t_at + s_shift) - energy_of_w0(t_at - s_shift)) / (2 * np.sin(s_shift))
    assert abs(general - slope) < 1e-12
print("the same exact slope from shifts 0.3, pi/2 and 2.5")

# %% [markdown]
# ## Shift rule, finite differences and autograd
#
# The package's `shift_gradient` is the reference from here on. We compare three ways to get
# $\partial\langle Z_0\rangle/\partial w_0$:
#
# - **parameter shift**: two circuit runs, exact;
# - **central finite differences** $[E(\theta+h) - E(\theta-h)]/(2h)$: two runs, and two errors;
# - **autograd** through the exact PyTorch simulator (only possible in simulation).
#
# For a sinusoid the finite difference is known exactly: $[E(\theta+h) - E(\theta-h)]/(2h) =
# E'(\theta)\,\sin h / h$, so its **truncation error** is $|E'|\,(1 - \sin h/h) \approx
# |E'|\,h^2/6$. On a computer each $E$ also carries a **rounding error** of a few times the
# machine epsilon $\epsilon \approx 2.2\times10^{-16}$, which the division by $2h$ blows up to
# about $\epsilon/h$. Rounding depends on the CPU, so we print the finite differences only to the
# digits that rounding cannot change (`format_stable`), and check that the rest is rounding.

# %%
from qdr_course.quantum import finite_difference_gradient, shift_gradient as ps_gradient
from qdr_course.quantum import TorchStatevector
from qdr_course.utils import format_stable

t0 = 0.4
shift = ps_gradient(energy_of_w0, t0)
sim = TorchStatevector(qc)
weights = torch.tensor(np.concatenate([[t0], w[1:]]), requires_grad=True)
sim.run(torch.tensor(x)[None], weights)[0, 0].backward()
auto = weights.grad[0].item()
assert abs(shift - auto) < 1e-12
print(f"parameter shift    {format_stable(shift, 1e-13)}")
print(f"autograd           {format_stable(auto, 1e-13)}   (they agree to better than 1e-12)")

eps = np.finfo(float).eps
print("       h  finite difference  truncation ~ |E'|h²/6  rounding ~ eps/h")
for h in (1e-1, 1e-3, 1e-5, 1e-8, 1e-11):
    fd = finite_difference_gradient(energy_of_w0, t0, h)
    exact_fd = auto * np.sin(h) / h  # what exact arithmetic would give
    truncation, rounding = abs(auto) * h**2 / 6, eps / h  # 1 - sin(h)/h = h²/6 - h⁴/120 ...
    assert abs(fd - exact_fd) < 4 * rounding, "more than rounding error"
    print(f"{h:>8.0e} {format_stable(exact_fd, 4 * rounding):>18} {truncation:>22.0e} {rounding:>17.0e}")

# %% [markdown]
# On log-log axes the two errors are straight lines - truncation with slope $+2$, rounding with
# slope $-1$ - and the measured error of the finite difference follows the larger of the two: a
# **U**. (The measured points below the rounding line depend on the CPU; the figure is not
# compared across machines.)

# %%
# alt: Log-log plot of the error of the finite-difference derivative against the step h, from 1e-12 to 1: measured points follow a dotted rounding line falling as eps/h for small h and a dashed truncation line rising as h^2 for large h, a U with its minimum near h = 1e-5.
hs = np.logspace(-12, 0, 49)
measured_error = [abs(finite_difference_gradient(energy_of_w0, t0, h) - auto) for h in hs]
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.loglog(hs, np.maximum(measured_error, 1e-17), ".", label="|finite difference - exact|")
ax.loglog(hs, abs(auto) * hs**2 / 6, "--", label="truncation |E'| h²/6")
ax.loglog(hs, eps / hs, ":", label="rounding ε/h")
ax.set(xlabel="step h", ylabel="error of the derivative", ylim=(1e-17, 1),
       title="central finite differences: truncation against rounding")
ax.legend(fontsize=8)
plt.show()
big = [e for h, e in zip(hs, measured_error) if h > 1e-2]
assert all(e > abs(auto) * h**2 / 12 for h, e in zip(hs[hs > 1e-2], big))  # truncation rules

# %% [markdown]
# ### Exercise 2.2 - the best step (predict, then look)
# Before reading the figure closely: at which step $h$ is the total error smallest? Predict it
# from the two error terms (the minimum of their sum, close to where the lines cross), return it,
# and compare with the dip of
# the U. The check accepts any $h$ within a factor 10 of the best.

# %% tags=["exercise", "predict"]
from qdr_course.checks import check_best_step


def best_step():
    """The finite-difference step h with the smallest total error, roughly."""
    ### BEGIN SOLUTION
    # minimum of h^2 |E'|/6 + eps/h: d/dh = 0 at h = (3 eps / |E'|)^(1/3), here |E'| ~ 1/2
    # (where the lines cross, h^2 |E'|/6 = eps/h, is (6 eps/|E'|)^(1/3): 2^(1/3) larger)
    return (3 * np.finfo(float).eps / 0.5) ** (1 / 3)
    ### END SOLUTION


check_best_step(best_step)

# %% [markdown]
# Finite differences are best near the crossing and get *worse* for smaller steps: the
# truncation error falls like $h^2$, the rounding error grows like $\epsilon/h$. On hardware it is
# far worse still: with shot noise, a tiny $h$ divides the noise by a tiny number (see the last
# section). The shift rule has no step to tune.
#
# ## One parameter, several gates; angles like $2t + 1$
#
# If a parameter $t$ sits in several gates, the expectation value depends on $t$ through each
# gate's angle $\theta_g(t)$. The chain rule gives
#
# $$\frac{\partial E}{\partial t} = \sum_g \frac{\partial\theta_g}{\partial t}\,
#   \frac{\partial E}{\partial\theta_g},$$
#
# where each $\partial E/\partial\theta_g$ is a shift of **that gate only**, all other gates
# keeping their angles. `gate_angles` gives every gate its own angle and records the affine map
# $\theta = J p + b$ from the circuit's parameters $p$; `parameter_shift_jacobian` applies the
# rule to every gate, with all shifted circuits in **one** estimator call.

# %%
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp

from qdr_course.quantum import ParameterizedCircuit, z_observables
from qdr_course.quantum import gate_angles, parameter_shift_jacobian

t, u = Parameter("t"), Parameter("u")
demo = QuantumCircuit(2)
demo.h([0, 1])
demo.ry(2 * t + 1, 0)
demo.ry(t, 1)
demo.cz(0, 1)
demo.rx(u - t, 0)
demo_pc = ParameterizedCircuit(demo, [t], [u], z_observables(2), name="demo")
ga = gate_angles(demo_pc)
print("gate angles theta_g = J @ (t, u) + b")
for name, row, b in zip(ga.gate_names, ga.jacobian, ga.offset):
    print(f"  {name}: J = {row}, b = {b:+.0f}")
demo_pc.draw()

# %% [markdown]
# Sanity check: the Jacobian from the rule equals autograd's.

# %%
p = np.array([0.7, -0.3])
jac_shift = parameter_shift_jacobian(demo_pc, p[:1], p[1:])
demo_sim = TorchStatevector(demo_pc)
jac_auto = torch.autograd.functional.jacobian(
    lambda q: demo_sim.run(q[:1][None], q[1:])[0], torch.tensor(p)).numpy()
print("parameter shift:\n", jac_shift, "\nautograd:\n", jac_auto)
assert np.allclose(jac_shift, jac_auto, atol=1e-12)

# %% [markdown]
# ## Bug hunt: the original code's two gradient errors
#
# The seed computed, for each angle $t_k$ of its circuit,
#
# ```text
# gradient_k = E(t with t_k + pi/2) - E(t with t_k - pi/2)
# ```
#
# The 3-qubit circuit used **one** angle $t_0$ in the three first $R_Y$ gates (see lesson 01).
# Find the two bugs before reading on.
#
# 1. **No 1/2.** Every gradient is exactly twice the true one (the seed's code called the shift
#    "a nudge", i.e. confused the rule with a finite difference).
# 2. **A shared parameter shifted in all gates at once.** Moving $t_0$ by $\pi/2$ moves three
#    gates together. That is *not* a per-gate shift, and the result is not the derivative even
#    after adding the 1/2.
#
# Let us measure both, on the seed circuit's 8 output probabilities, at random angles.

# %%
from qdr_course.quantum import seed_retinopathy_circuit

seed_pc = seed_retinopathy_circuit()
angles = rng.uniform(-np.pi, np.pi, size=(200, 7))  # 200 random angle sets
exact = parameter_shift_jacobian(seed_pc, angles)[:, :, 0]  # d p(b)/d t0, exact simulator
step = np.zeros(7)
step[0] = np.pi / 2
shifted_all = expectation_values(seed_pc, angles + step) - expectation_values(seed_pc, angles - step)
errors_both = np.abs(shifted_all - exact).max(axis=1)  # the seed: both bugs
errors_shared = np.abs(shifted_all / 2 - exact).max(axis=1)  # 1/2 fixed, shared-gate bug left
print("seed's gradient of p(b) w.r.t. t0, max error over 8 outputs, 200 random angle sets:")
print(f"  both bugs        : median {np.median(errors_both):.3f}, max {errors_both.max():.3f}")
print(f"  shared-gate only : median {np.median(errors_shared):.3f}, max {errors_shared.max():.3f}")
print(f"  largest |exact gradient| (median over sets): {np.median(np.abs(exact).max(axis=1)):.3f}")

# %% [markdown]
# Errors of the same size as the gradients themselves: the original network was trained with
# gradients that were twice too large for six of its angles and simply wrong for the seventh.
#
# ### Concept checks 2.1 and 2.2

# %%
from qdr_course.checks import ask

ask("2.1")
ask("2.2")

# %% tags=["exercise", "concept"]
from qdr_course.checks import check_concept_2_1


def my_choice_2_1():
    """The letter of your answer to concept check 2.1."""
    ### BEGIN SOLUTION
    return "c"
    ### END SOLUTION


check_concept_2_1(my_choice_2_1)

# %% tags=["exercise", "concept"]
from qdr_course.checks import check_concept_2_2


def my_choice_2_2():
    """The letter of your answer to concept check 2.2."""
    ### BEGIN SOLUTION
    return "c"
    ### END SOLUTION


check_concept_2_2(my_choice_2_2)

# %% [markdown]
#
# ### Exercise 2.3 - the shared-parameter gradient
# `energy(angles)` evaluates the circuit given the angles of the `n_gates` gates that share
# $\theta$ (all other angles fixed). Return $\partial E/\partial\theta$, the correct way.

# %% tags=["exercise", "implement"]
from qdr_course.checks import check_shared_parameter_gradient


def shared_parameter_gradient(energy, theta, n_gates):
    """dE/dtheta when theta is the angle of n_gates gates: sum of per-gate shift terms."""
    ### BEGIN SOLUTION
    total = 0.0
    for g in range(n_gates):
        plus = np.full(n_gates, theta, dtype=float)
        minus = np.full(n_gates, theta, dtype=float)
        plus[g] += np.pi / 2
        minus[g] -= np.pi / 2
        total += (energy(plus) - energy(minus)) / 2
    return total
    ### END SOLUTION


check_shared_parameter_gradient(shared_parameter_gradient)

# %% [markdown]
# ## When the two-term rule does not apply
#
# A *controlled* rotation $CR_Y(\theta)$ has generator $|1\rangle\langle1|\otimes Y/2$, with
# **three** eigenvalues $0, \pm\frac12$. Its expectation values contain frequencies $\frac12$ and
# $1$ in $\theta$:
#
# $$E(\theta) = a + b\cos\tfrac{\theta}{2} + c\sin\tfrac{\theta}{2} + d\cos\theta + e\sin\theta,$$
#
# and the two-term rule is wrong for them. Four runs fix it (Anselmetti et al. 2021; Wierichs et
# al. 2022): with shifts $\pm\frac{\pi}{2}$ and $\pm\frac{3\pi}{2}$,
#
# $$E'(\theta) = d_+\,[E(\theta + \tfrac{\pi}{2}) - E(\theta - \tfrac{\pi}{2})]
#   - d_-\,[E(\theta + \tfrac{3\pi}{2}) - E(\theta - \tfrac{3\pi}{2})]$$
#
# for two constants $d_\pm$ that make it exact for both frequencies. `parameter_shift_jacobian`
# applies this rule to every CRX, CRY and CRZ gate (the quantum layer's hardware back ends still
# refuse them, with advice). Here $\langle X_0\rangle = \cos\frac{\theta}{2}$:

# %%
a = Parameter("a")
controlled = QuantumCircuit(2)
controlled.h(0)
controlled.cry(a, 0, 1)
controlled_pc = ParameterizedCircuit(controlled, [a], [], [SparsePauliOp("IX")])
f = lambda th: expectation_values(controlled_pc, [th])[0]  # = cos(th / 2)
four_terms = parameter_shift_jacobian(controlled_pc, [0.3])[0, 0]
true_slope = -np.sin(0.15) / 2
print(f"two-term rule {ps_gradient(f, 0.3):+.5f}, four-term rule {four_terms:+.5f}, "
      f"true {true_slope:+.5f}")
assert abs(four_terms - true_slope) < 1e-12 and abs(ps_gradient(f, 0.3) - true_slope) > 1e-2

# %% [markdown]
# ### Exercise 2.4 (stretch) - derive the four-term rule
# Find $d_+$ and $d_-$: demand that the rule be exact for $E = \sin\frac{\theta}{2}$ and for
# $E = \sin\theta$ at $\theta = 0$ (two linear equations), then write `four_term(f, theta)`. The
# check tries it on random polynomials of both frequencies.

# %% tags=["exercise", "implement"]
from qdr_course.checks import check_four_term_gradient


def four_term(f, theta):
    """df/dtheta for f with frequencies 1/2 and 1, from four shifted runs."""
    ### BEGIN SOLUTION
    d_plus = (np.sqrt(2) + 1) / (4 * np.sqrt(2))
    d_minus = (np.sqrt(2) - 1) / (4 * np.sqrt(2))
    return (d_plus * (f(theta + np.pi / 2) - f(theta - np.pi / 2))
            - d_minus * (f(theta + 3 * np.pi / 2) - f(theta - 3 * np.pi / 2)))
    ### END SOLUTION


check_four_term_gradient(four_term)

# %% [markdown]
# ## Shot noise: how many shots does a gradient need?
#
# On hardware each $E$ is a mean of $N$ outcomes $\pm1$, with variance $(1 - E^2)/N$. The two
# terms are independent, so
#
# $$\operatorname{Var}\left[\frac{\hat E_+ - \hat E_-}{2}\right] = \frac{(1 - E_+^2) + (1 - E_-^2)}{4N},
# \qquad
# \operatorname{Var}\left[\frac{\hat E(\theta+h) - \hat E(\theta-h)}{2h}\right] =
# \frac{(1 - E_+^2) + (1 - E_-^2)}{4Nh^2}.$$
#
# The finite-difference variance grows as $1/h^2$: a step small enough to be accurate makes
# the noise explode. The shift rule has $h$ effectively equal to 1 *and* no truncation error.
#
# ### Exercise 2.5 - predict, then run: shots for a finite difference
# The experiment below estimates the gradient of a one-qubit circuit with
# $\langle Z\rangle = -\sin\alpha$ at $\alpha = 0.8$, with $N = 1000$ shots per run for the shift
# rule. **Before running it**, predict: how many shots per run would a central finite difference
# with $h = 0.1$ need to be exactly as precise (the same standard deviation)? Use the two
# variances above; the check accepts 10 %.

# %% tags=["exercise", "predict"]
from qdr_course.checks import check_fd_shots_to_match


def fd_shots():
    """Shots per run for FD (h = 0.1) to match the shift rule's std with 1000 shots."""
    ### BEGIN SOLUTION
    def var_sum(alpha, h):
        return (1 - np.sin(alpha + h) ** 2) + (1 - np.sin(alpha - h) ** 2)
    return 1000 * var_sum(0.8, 0.1) / 0.1**2 / var_sum(0.8, np.pi / 2)
    ### END SOLUTION


check_fd_shots_to_match(fd_shots)

# %% [markdown]
# Now measure it: a one-qubit circuit ($H$, $R_Y(x)$, $R_Y(w)$, so $\langle Z\rangle = -\sin(x+w)$),
# 400 repeated gradient estimates with $N = 1000$ shots per run, for the shift rule and for
# finite differences with $h = 0.1$ and $h = 0.01$. One `SamplerV2` call draws $400 \times 1000$
# shots for each of the 6 shifted circuits; we cut them into 400 runs of 1000.

# %%
from qdr_course.quantum import aer_sampler
from qdr_course.quantum import (finite_difference_variance, shift_gradient_variance,
                                shots_for_gradient)

one = retinopathy_circuit(n_qubits=1, n_layers=1)
ga1 = gate_angles(one)
theta0 = np.array([0.3, 0.5])  # x, w
shots, repeats = 1000, 400
steps = {"shift": np.pi / 2, "FD h=0.1": 0.1, "FD h=0.01": 0.01}
circuit = ga1.circuit.copy()
circuit.measure_all()
bindings = np.array([ga1.angle_values(theta0 + sign * np.array([0.0, h]))
                     for h in steps.values() for sign in (+1, -1)])  # (6, 2 gate angles)
bits = aer_sampler(shots=shots * repeats, seed=7).run([(circuit, bindings)]).result()[0].data.meas
outcomes = 1 - 2 * bits.to_bool_array(order="little")[..., 0]  # (6, repeats * shots) of +-1
z_hat = outcomes.reshape(6, repeats, shots).mean(axis=-1).T  # (repeats, 6)
exact_grad = -np.cos(theta0.sum())
print(f"exact gradient {exact_grad:+.4f};  N = {shots} shots per run, {repeats} repeats")
print(f"{'method':<11} {'mean':>8} {'std measured':>13} {'std predicted':>14}")
for i, (name, h) in enumerate(steps.items()):
    e_p, e_m = -np.sin(theta0.sum() + h), -np.sin(theta0.sum() - h)
    if name == "shift":
        grads = (z_hat[:, 2 * i] - z_hat[:, 2 * i + 1]) / 2
        predicted = np.sqrt(shift_gradient_variance(e_p, e_m, shots))
    else:
        grads = (z_hat[:, 2 * i] - z_hat[:, 2 * i + 1]) / (2 * h)
        predicted = np.sqrt(finite_difference_variance(e_p, e_m, shots, h))
    print(f"{name:<11} {grads.mean():>+8.4f} {grads.std():>13.4f} {predicted:>14.4f}")
    assert 0.8 < grads.std() / predicted < 1.2  # sanity check: the formulas hold
e_p, e_m = -np.sin(theta0.sum() + np.pi / 2), -np.sin(theta0.sum() - np.pi / 2)
print(f"shots for a shift-rule std of 0.01: {shots_for_gradient(e_p, e_m, 0.01)}")

# %% [markdown]
# The histograms of those estimates, and how their spread falls with the shots (a slider in a
# live notebook; this figure uses $\langle Z\rangle = \cos\theta$ at $\theta = 0.5$, simulated
# shots):

# %%
from qdr_course.widgets import explore_shots

# alt: Two histograms of 400 gradient estimates each, from 100 and from 10000 shots per run, the finite difference with h = 0.1 spread far wider around the exact value (a black vertical line) than the parameter-shift rule; a third, log-log panel shows both predicted standard deviations (circle and square markers) falling as 1/sqrt(N) against the shots per run.
explore_shots(start=100)

# %% [markdown]
# The measured spreads match the formulas. With 1000 shots the shift-rule gradient is good to
# about 0.02; a finite difference with $h = 0.01$ is about a hundred times noisier - it would
# need $10^4$ times the shots for the same precision.
#
# ## Key points
# - For a gate $e^{-i\theta P/2}$, $E(\theta) = A + B\cos\theta + C\sin\theta$, so
#   $\partial_\theta E = [E(\theta+\frac{\pi}{2}) - E(\theta-\frac{\pi}{2})]/2$ **exactly** -
#   the 1/2 matters (the original code dropped it: gradients twice too large).
# - A parameter in several gates: shift **one gate at a time** and add the terms (chain rule);
#   for an angle $c\,t + b$ multiply by $c$. Shifting all gates at once is wrong.
# - Controlled rotations have three generator eigenvalues, hence frequencies 1/2 and 1: the
#   two-term rule is wrong for them, the four-term rule (shifts $\pm\frac{\pi}{2}$,
#   $\pm\frac{3\pi}{2}$) is exact.
# - Finite differences trade truncation error against rounding (and, on hardware, shot noise
#   that grows as $1/h^2$); the shift rule has neither problem.
# - Shot budget: $N = [(1 - E_+^2) + (1 - E_-^2)] / (4\sigma^2)$ shots per shifted circuit for a
#   gradient with standard deviation $\sigma$.
#
# ## Further reading
# - Mitarai, Negoro, Kitagawa & Fujii 2018, "Quantum circuit learning", Phys. Rev. A 98, 032309:
#   [arXiv:1803.00745](https://arxiv.org/abs/1803.00745).
# - Schuld, Bergholm, Gogolin, Izaac & Killoran 2019, "Evaluating analytic gradients on quantum
#   hardware", Phys. Rev. A 99, 032331: [arXiv:1811.11184](https://arxiv.org/abs/1811.11184).
# - Wierichs, Izaac, Wang & Lin 2022, "General parameter-shift rules for quantum gradients",
#   Quantum 6, 677: [arXiv:2107.12390](https://arxiv.org/abs/2107.12390).
# - Anselmetti, Wierichs, Gogolin & Parrish 2021, "Local, expressive, quantum-number-preserving
#   VQE ansätze for fermionic systems" (the four-term rule):
#   [arXiv:2104.05695](https://arxiv.org/abs/2104.05695).
# - PennyLane glossary, "Parameter-shift rules":
#   <https://pennylane.ai/qml/glossary/parameter_shift>.
