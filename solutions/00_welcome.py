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
# # 00 · Welcome to qdr-course
#
# **Teaching:** 10 min · **Exercises:** 5 min
#
# This course builds, from first principles and with correct physics, two ideas at the meeting
# point of quantum computing and machine learning:
#
# 1. **Hybrid quantum-classical networks** that grade diabetic retinopathy (DR) from fundus
#    photographs: a CNN compresses the image, a parameterised quantum circuit transforms a few
#    numbers, a classical head predicts the ICDR grade 0-4.
# 2. **Training infinitely wide networks with a quantum linear-system algorithm**: a wide network
#    trained by gradient descent is kernel regression with its neural tangent kernel (NTK); solving
#    that linear system is where a quantum computer might help, and where the fine print matters.
#
# Both ideas come from public works that had real mistakes in them. We re-do them correctly and
# show, each time, why the original was wrong.
#
# ## Objectives
# - Know the map of the course and what each lesson builds.
# - Run the lessons on Binder or on your own machine.
# - Understand how exercises and their checks work, by doing a tiny one.
# - Check that your environment has everything the course needs.

# %% [markdown]
# ## The map
#
# | lesson | you learn | the package module it explains |
# |---|---|---|
# | 01 Parameterised circuits | qubits, rotations, entanglement, expectation values with Qiskit's V2 Estimator | `qdr_course.quantum.circuits` |
# | 02 The parameter-shift rule | exact gradients of circuits; the two gradient bugs of the original code | `qdr_course.quantum.parameter_shift` |
# | 03 A hybrid layer in PyTorch | a batched, differentiable quantum layer; train a CNN + circuit on digits | `qdr_course.quantum.layer` |
# | 04 Retinopathy and its data | the ICDR scale, synthetic and real fundus data, preprocessing, QWK | `qdr_course.retina.fundus`, `qdr_course.retina.datasets`, `qdr_course.retina.metrics` |
# | 05 Grading retinopathy with a hybrid network | the hybrid grader against an honest classical baseline | `qdr_course.retina.models`, `qdr_course.retina.training` |
# | 06 The neural tangent kernel | wide networks as kernel machines, with `neural-tangents` | `qdr_course.ntk` |
# | 07 Training with a quantum linear-system algorithm | sparsified NTK, condition number, HHL, what it really costs | `qdr_course.quantum.hhl` |
#
# Every lesson exists twice: `lessons/` (yours, with exercises to fill in) and `solutions/` (the
# instructor's copy, with every exercise solved and every output stored).

# %% [markdown]
# ## Running the course
#
# **On Binder** (nothing to install): click the *launch binder* badge in the README. Binder gives
# you about one CPU and 2 GB of memory; every lesson is built to run in that, in a few minutes.
# Binder stops an idle session after about 10 minutes: download your notebooks to keep your work.
#
# **On your own machine** (Python 3.11), from the course folder, one command sets everything up
# and opens JupyterLab on `lessons/` - it is the first command in the README.
#
# Lessons are stored as `.py` scripts *paired* with `.ipynb` notebooks by
# [jupytext](https://jupytext.readthedocs.io): open either one in JupyterLab and it opens as a
# notebook. Run the cells top to bottom (*Run → Run All Cells* works: an unfinished exercise never
# stops the lesson).
#
# Everything is seeded, so running a lesson twice on your computer gives the same numbers, and
# almost every number you see matches the stored solutions. The exceptions are honest ones:
# another kind of CPU rounds the last digits of a long computation differently, and a training
# run amplifies those digits into a slightly different path. So lessons print only the digits
# that hold on any machine, cells that train a network say "in our run", and a sanity check
# (`assert ...`) after them tests what the text claims, with a tolerance.

# %%
from qdr_course import set_seed

rng = set_seed(0)
first = rng.normal(size=3)
rng = set_seed(0)
second = rng.normal(size=3)
print("same numbers after re-seeding:", bool((first == second).all()))

# %% [markdown]
# ## How exercises work
#
# An exercise is a small function with a `raise NotImplementedError(...)` line where your code
# goes. Below it, in the same cell, a *check* from `qdr_course.checks` calls your function and
# prints one of:
#
# - ✅ Correct, with a word on what that means;
# - ❌ Not yet: what is wrong, for which input, and a hint;
# - ⏳ Not attempted yet.
#
# Checks never raise an error, so the rest of the lesson always runs; later cells use the
# package's own reference implementation, not your function.
#
# ### Exercise 0.1 - your first quantum probability
#
# A qubit starts in $|0\rangle$. The rotation $R_Y(\theta)$ turns it into
#
# $$R_Y(\theta)|0\rangle = \cos\tfrac{\theta}{2}\,|0\rangle + \sin\tfrac{\theta}{2}\,|1\rangle .$$
#
# Measuring gives 1 with probability $|\text{amplitude of } |1\rangle|^2$. Complete
# `probability_of_one(theta)`.

# %% tags=["exercise"]
import numpy as np

from qdr_course.checks import check_probability_of_one


def probability_of_one(theta):
    """P(measure 1) after RY(theta) acts on |0>."""
    ### BEGIN SOLUTION
    return np.sin(theta / 2) ** 2
    ### END SOLUTION


check_probability_of_one(probability_of_one)

# %% [markdown]
# The check compared your function with the rotation matrix itself. Qiskit agrees too - a
# *sanity check* cell like the one below asserts what the text claims, so a lesson can never
# silently drift from the truth:

# %%
from qiskit import QuantumCircuit
from qiskit.quantum_info import Statevector

theta = 1.2
circuit = QuantumCircuit(1)
circuit.ry(theta, 0)
p_one = Statevector(circuit).probabilities()[1]
assert np.isclose(p_one, np.sin(theta / 2) ** 2)
print(f"Qiskit: P(1) = {p_one:.6f} for theta = {theta}")

# %% [markdown]
# ## Is your environment ready?
#
# The cell below lists the versions of the key packages (your numbers may differ from the stored
# ones; the tested versions are pinned in `binder/requirements.txt`). For a full check that also
# imports every package, run `qdr-course doctor` in a terminal.

# %% tags=["nbval-ignore-output"]
from qdr_course.doctor import installed_versions, resources

for name, value in resources() + installed_versions():
    print(f"{name:<20} {value}")
missing = [name for name, version in installed_versions() if version == "NOT INSTALLED"]
assert not missing, f"missing packages: {missing}; see the README's setup command"

# %% [markdown]
# ## Key points
# - Each lesson comes as a learner copy (`lessons/`) and an instructor copy (`solutions/`), built
#   from one source, so they never drift apart.
# - Exercises are functions checked by `qdr_course.checks`; checks print ✅ / ❌ / ⏳ and never stop
#   the lesson.
# - `set_seed(0)` makes every run reproducible.
# - `qdr-course doctor` tells you whether your machine is ready.
#
# ## Further reading
# - The two works this course re-does: Dickson Wu's hybrid retinopathy networks (2021),
#   <https://github.com/DicksonWu654/Hybrid-Quantum-Classical-Neural-Networks-for-Diabetic-Retinopathy>,
#   and Zlokapa, Neven & Lloyd 2021, "A quantum algorithm for training wide and deep classical
#   neural networks": [arXiv:2107.09200](https://arxiv.org/abs/2107.09200).
# - Schuld & Petruccione, *Machine Learning with Quantum Computers* (2nd ed., Springer 2021),
#   [doi:10.1007/978-3-030-83098-4](https://doi.org/10.1007/978-3-030-83098-4): the field in one book.
# - IBM Quantum Learning, "Basics of quantum information" (the course 01 draws on):
#   <https://learning.quantum.ibm.com/course/basics-of-quantum-information>.
# - Zhang, Lipton, Li & Smola, *Dive into Deep Learning* (the style these lessons follow):
#   <https://d2l.ai>.
