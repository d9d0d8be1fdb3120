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
# # 04 · Retinopathy and its data
#
# **Teaching:** 40 min · **Exercises:** 25 min
#
# Before any network - quantum or classical - can grade diabetic retinopathy (DR), we need to
# know what a grader looks for, what the data look like, and how to measure success. This lesson
# is also where the original hybrid-network project went wrong twice before training even began:
# its labels were in the wrong order, and its validation split took away a whole grade from
# training. We fix both, and guard against the leak that matters most in DR data: one patient's
# eyes, or copies of one photograph, on both sides of a split.
#
# ## Objectives
# - Name the lesions of diabetic retinopathy and place them on the International Clinical DR
#   (ICDR) scale, grades 0-4.
# - Generate synthetic fundus photographs with lesion masks, and load real ones (RetinaMNIST,
#   APTOS 2019, EyePACS) through one function.
# - Keep grades in severity order, and split data without a leak: stratified, shuffled, and by
#   patient and duplicate group, so no split holds an eye or a photograph another split has seen.
# - Say what "referable" means, including diabetic macular edema (DME).
# - Explain why the quadratic weighted kappa (QWK) is the right score for an ordinal grade, and
#   compute it from its formula.
# - Preprocess a photograph: crop to the field of view, resize, and apply Ben Graham's filter.

# %%
import matplotlib.pyplot as plt
import numpy as np
from matplotlib_inline.backend_inline import set_matplotlib_formats

from qdr_course import set_seed

rng = set_seed(0)
plt.rcParams["figure.dpi"] = 72
set_matplotlib_formats("jpeg")  # photographs: JPEG figures are 5x smaller than PNG

# %% [markdown]
# ## What a grader looks for
#
# Diabetes damages the small vessels of the retina. A fundus photograph - the back of the eye,
# seen through the pupil - shows the damage as it progresses:
#
# | lesion | what it is | looks like |
# |---|---|---|
# | microaneurysm (MA) | a bulge in a capillary wall: the earliest sign | tiny sharp red dot |
# | dot/blot hemorrhage | blood leaked into the deep retina | round dark-red spot |
# | flame hemorrhage | blood in the nerve-fibre layer, spread along the fibres | streak pointing at the disc |
# | hard exudate | lipid and protein left by leaking vessels; near the fovea it threatens vision | sharp yellow deposits, clusters, rings |
# | cotton-wool spot | a small infarct: nerve fibres swollen by lack of blood | fluffy white patch |
# | venous beading | veins with alternating wide and narrow segments: severe ischaemia | "string of sausages" |
# | IRMA | intraretinal microvascular abnormalities: tortuous shunt vessels | thin squiggles in the retina |
# | neovascularisation (NVD / NVE) | fragile new vessels at the disc or elsewhere, grown because the retina is starved of oxygen | fine tangled loops |
# | pre-retinal / vitreous hemorrhage | the new vessels bleed in front of the retina | a "boat" of blood with a flat top; a red haze |
#
# The **ICDR scale** turns these into a grade:
#
# | grade | name | rule |
# |---|---|---|
# | 0 | No DR | no abnormalities |
# | 1 | Mild NPDR | microaneurysms only |
# | 2 | Moderate NPDR | more than microaneurysms, less than severe |
# | 3 | Severe NPDR | any of the *4-2-1 rule*: more than 20 intraretinal hemorrhages in each of 4 quadrants; definite venous beading in 2 or more quadrants; prominent IRMA in 1 or more quadrants - and no sign of proliferative DR |
# | 4 | Proliferative DR | neovascularisation, or vitreous / pre-retinal hemorrhage |
#
# (NPDR = non-proliferative DR.) The scale has a second axis: **diabetic macular edema (DME)**,
# fluid leaking into the macula, the commonest cause of vision loss in diabetes. It can occur at
# any DR grade. A photograph cannot show the swelling itself; its marker is **hard exudates
# near the fovea** - screening programmes (and Gulshan et al. 2016) grade referable DME as hard
# exudates within one disc diameter of the fovea.
#
# **Referable DR** is usually defined as *moderate NPDR or worse, and/or referable DME*: the
# patient should see an ophthalmologist. APTOS 2019 and RetinaMNIST carry **no DME label**, so in
# this course "referable" means grade $\ge 2$ - a narrower definition that would miss DME in an
# eye with mild NPDR.
#
# Grades are *ordinal*, and QWK (below) charges an error by its distance: calling PDR "severe
# NPDR" costs one step, calling it "no DR" four. Clinically even the one step matters: PDR is
# urgent (new vessels bleed and detach the retina; it needs treatment within weeks), while severe
# NPDR is followed closely.

# %% [markdown]
# ## Synthetic fundus photographs
#
# Real DR datasets need a download (often a Kaggle account), and a Binder session should not wait
# for one. So the course draws its own photographs with `qdr_course.retina.fundus`: a dark circular
# field of view with vignetting, the optic disc and its cup, the macula and fovea, a branching
# vessel tree (arteries thinner and brighter than veins), left or right eye, varied
# pigmentation, illumination, blur and colour cast - and the lesions of the grade, following the
# rules above. Each image comes with a boolean **mask per lesion type**.
#
# They are a teaching model, not patients: the lesions are cleaner than real ones, and drawn at
# least about one pixel wide, so a 64-pixel image still shows them (a downsampled real
# photograph would not). Everything you learn here carries over to real data, which we load at
# the end.

# %%
from qdr_course.retina import (
    GRADE_NAMES,
    LESION_COLOURS,
    LESION_TYPES,
    overlay_lesions,
    synthetic_fundus,
)

examples = [synthetic_fundus(grade=g, size=192, seed=10 + g) for g in range(5)]
fig, axes = plt.subplots(2, 5, figsize=(12.5, 5.6))
for g, (img, grade, masks) in enumerate(examples):
    axes[0, g].imshow(img)
    axes[0, g].set_title(f"{grade} · {GRADE_NAMES[grade]}")
    axes[1, g].imshow(overlay_lesions(img, masks, alpha=0.8))
    present = [name for name in LESION_TYPES if masks[name].any()]
    axes[1, g].set_title("\n".join(", ".join(present[i:i + 2]) for i in range(0, len(present), 2)) or "no lesions",
                         fontsize=8)
for ax in axes.flat:
    ax.axis("off")
handles = [plt.Rectangle((0, 0), 1, 1, color=np.array(c) / 255) for c in LESION_COLOURS.values()]
fig.legend(handles, list(LESION_COLOURS), loc="lower center", ncol=5, fontsize=9)
plt.tight_layout(rect=(0, 0.07, 1, 1))
plt.show()

# %% [markdown]
# Top: one photograph per grade. Bottom: the same with each lesion mask painted in its colour.
# Sanity check - the masks follow the ICDR rules:

# %%
lesions = [{name for name in LESION_TYPES if masks[name].any()} for _, _, masks in examples]
assert lesions[0] == set()                                    # grade 0: nothing
assert lesions[1] == {"microaneurysms"}                       # grade 1: microaneurysms only
assert "hemorrhages" in lesions[2] and not lesions[2] & {"neovascularisation", "venous_beading", "irma"}
assert "neovascularisation" not in lesions[3]                 # severe NPDR: no new vessels yet
assert lesions[3] & {"venous_beading", "irma"}                # ... and one 4-2-1 criterion
assert "neovascularisation" in lesions[4]                     # proliferative
for g, found in enumerate(lesions):
    print(g, sorted(found))

# %% [markdown]
# Every synthetic severe-NPDR image meets one criterion of the 4-2-1 rule that a drawing can
# show: beaded veins in two or more quadrants, or IRMA. (The hemorrhage criterion - more than 20
# in *each* quadrant of the whole retina - is not drawn: a grade-3 image has 20-40 hemorrhages in
# all.) Hard exudates near the fovea, DME's marker, appear at grades 2-4 in the generator's
# vocabulary; `exudates_near_fovea` applies the one-disc-diameter rule to an image's masks:

# %%
from qdr_course.retina import exudates_near_fovea, synthetic_fundus

for g in range(5):
    marked = [exudates_near_fovea(*synthetic_fundus(grade=g, size=64, seed=s, return_info=True)[2:])
              for s in range(40)]
    print(f"grade {g}: hard exudates within one disc diameter of the fovea in {np.mean(marked):.0%}")
    assert (g < 2) == (not any(marked))

# %% [markdown]
# ## One loader for every source
#
# `load_grading_data` returns train / validation / test splits of `uint8 (N, H, W, 3)` images
# and `int64` grades, whatever the source:
#
# ```python
# load_grading_data("synthetic", size=64, n=2000)        # offline, default
# load_grading_data("retinamnist", size=64)              # MedMNIST (DeepDRiD), official splits,
#                                                        # downloaded once, MD5-checked, cached
# load_grading_data("aptos:/data/aptos2019")             # train.csv + train_images/*.png
# load_grading_data("eyepacs:/data/eyepacs")             # trainLabels.csv + train/*.jpeg
# ```
#
# In a terminal, `qdr-course data download retinamnist` fetches RetinaMNIST, and
# `qdr-course data synth --n 2000 --size 224 --out data/synth` writes the synthetic set as an
# APTOS-format folder. Without network the RetinaMNIST download stops with an error that points
# back to the synthetic set. Here we use 700 synthetic images of 64 x 64 pixels, drawn with the
# class frequencies of APTOS 2019.

# %%
from qdr_course.retina import load_grading_data

data = load_grading_data("synthetic", size=64, n=700, seed=0)
print(data.summary())

# %% [markdown]
# ## Class imbalance
#
# Most screened eyes are healthy: in APTOS 2019, 49 % of the 3,662 images are grade 0 and only
# 5 % grade 3. A model that always says "no DR" is right half of the time. Two standard remedies
# are oversampling the rare grades and **weighting the loss**. The inverse-frequency weights
#
# $$w_c = \frac{N}{K\, n_c}$$
#
# ($N$ images, $K = 5$ grades, $n_c$ images of grade $c$) give every grade the same total weight
# $w_c n_c = N / K$ in a weighted cross-entropy.

# %%
import torch

from qdr_course.retina import APTOS_COUNTS, class_weights, grade_counts

counts = grade_counts(data.train.grades)
weights = class_weights(data.train.grades)
fig, axes = plt.subplots(1, 2, figsize=(10, 3))
axes[0].bar(range(5), np.array(APTOS_COUNTS) / sum(APTOS_COUNTS), color="tab:blue")
axes[0].set_title("APTOS 2019: share of each grade")
axes[1].bar(range(5), weights.numpy(), color="tab:orange")
axes[1].set_title("class weights N / (K n_c), our training split")
for ax in axes:
    ax.set_xticks(range(5))
    ax.set_xlabel("grade")
plt.tight_layout()
plt.show()
total = weights * torch.tensor(counts, dtype=torch.float32)
assert torch.allclose(total, total[0])  # sanity check: equal total weight per grade
print("counts", counts.tolist(), " weights", [round(w, 2) for w in weights.tolist()])

# %% [markdown]
# ## Bug 1 of the original: labels in alphabetical order
#
# Public copies of APTOS store one folder per class: `No_DR`, `Mild`, `Moderate`, `Severe`,
# `Proliferate_DR`. The original project read them with a folder loader that numbers classes in
# **alphabetical** order: Mild=0, Moderate=1, No_DR=2, Proliferate_DR=3, Severe=4. Cross-entropy
# does not care about order, so nothing crashed - but every "grade" was wrong, and any ordinal
# metric or regression loss becomes meaningless.
#
# ### Exercise 4.1 - labels in severity order
# Complete `label_map(folder_names)` so that it returns `{folder name: ICDR grade}` for the five
# folder names, in whatever order they are listed.

# %% tags=["exercise"]
from qdr_course.checks import check_label_map


def label_map(folder_names):
    """{folder name: ICDR grade 0-4} by meaning, not by position or alphabet."""
    ### BEGIN SOLUTION
    order = ["No_DR", "Mild", "Moderate", "Severe", "Proliferate_DR"]
    return {name: order.index(name) for name in folder_names}
    ### END SOLUTION


check_label_map(label_map)

# %% [markdown]
# How much does the wrong order hurt? Take a *perfect* grader, and score its predictions against
# the alphabetically numbered labels:

# %%
from qdr_course.retina import grade_from_folder_name, quadratic_weighted_kappa

folders = ["No_DR", "Mild", "Moderate", "Severe", "Proliferate_DR"]
alphabetical = {name: i for i, name in enumerate(sorted(folders))}
true_grades = data.train.grades
wrong_labels = np.array([alphabetical[folders[g]] for g in true_grades])
assert [grade_from_folder_name(f) for f in folders] == [0, 1, 2, 3, 4]
print("alphabetical numbering:", alphabetical)
kappa = quadratic_weighted_kappa(true_grades, wrong_labels)
print(f"QWK of a perfect grader against the alphabetical labels: {kappa:.3f}")
assert kappa < 0.3

# %% [markdown]
# A perfect grader would look barely better than chance: healthy eyes became "2", mild ones
# "0", proliferative ones "3" - the numbers no longer mean severity.
#
# ## Bug 2: a split that removed a grade from training
#
# The original baselines cut an unshuffled image list: `split = int(0.2 * len(indices))`,
# `valid = indices[:split]`, `train = indices[split:]`. The list came from a folder loader, so it
# was sorted by class folder in alphabetical order - `Mild`, `Moderate`, `No_DR`,
# `Proliferate_DR`, `Severe`. Validation therefore got the **first** 20 %: for APTOS 2019 (3,662
# images) that is all 370 Mild images and 362 of the 999 Moderate ones, and training got **no
# Mild image at all**. Its validation images also got the training augmentation, and there was no
# test set.
#
# That is not a *leak* - the two sets share no image. It is a **distribution shift with a
# missing class**: the model is trained on four grades and validated mostly on one it never saw.
# (A leak is the opposite failure - the same eye or photograph on both sides - and is the subject
# of the next section.) Let us reproduce the cut, first on the APTOS class counts, then on ours:

# %%
aptos_listing = np.repeat(np.arange(5), APTOS_COUNTS)
aptos_listing = aptos_listing[np.argsort([folders[g] for g in aptos_listing], kind="stable")]
split = int(0.2 * len(aptos_listing))
print(f"APTOS 2019, valid = first {split} of the folder-sorted list:",
      np.bincount(aptos_listing[:split], minlength=5).tolist())
print("APTOS 2019, train = the rest:                        ",
      np.bincount(aptos_listing[split:], minlength=5).tolist())
assert np.bincount(aptos_listing[:split], minlength=5).tolist() == [0, 370, 362, 0, 0]

listing = true_grades[np.argsort([folders[g] for g in true_grades], kind="stable")]
split = int(0.2 * len(listing))
print("our data, valid:", np.bincount(listing[:split], minlength=5).tolist(),
      " train:", np.bincount(listing[split:], minlength=5).tolist())
assert np.bincount(listing[split:], minlength=5)[1] == 0  # no Mild image left for training

# %% [markdown]
# ### Exercise 4.2 - a stratified split
# Complete `split_indices(grades, val_fraction, seed)`: shuffle the indices **within each grade**
# with `np.random.default_rng(seed)` and send `round(val_fraction * n_g)` of each grade to
# validation. Return `(train_idx, val_idx)`, two integer arrays that are disjoint and together
# cover every image.

# %% tags=["exercise"]
from qdr_course.checks import check_stratified_split


def split_indices(grades, val_fraction, seed):
    """(train_idx, val_idx): shuffled within each grade, the same fraction of each in validation."""
    ### BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    train, val = [], []
    for g in np.unique(grades):
        idx = rng.permutation(np.flatnonzero(grades == g))
        n_val = int(round(val_fraction * len(idx)))
        val.append(idx[:n_val])
        train.append(idx[n_val:])
    return np.concatenate(train), np.concatenate(val)
    ### END SOLUTION


check_stratified_split(split_indices)

# %% [markdown]
# The package's `stratified_split` does the same for three parts (train / validation / test) and
# refuses a grade with fewer than three images. `load_grading_data` uses it for the synthetic
# data (every image a different eye), and `make_loaders` augments the training split only:

# %%
from qdr_course.retina import make_loaders, stratified_split

train_idx, val_idx, test_idx = stratified_split(listing, 0.15, 0.15, seed=0)
for name, idx in (("train", train_idx), ("val", val_idx), ("test", test_idx)):
    print(f"{name:5s}", np.bincount(listing[idx], minlength=5).tolist())
assert not (set(train_idx) & set(val_idx) or set(train_idx) & set(test_idx) or set(val_idx) & set(test_idx))
assert all(set(listing[idx]) == {0, 1, 2, 3, 4} for idx in (train_idx, val_idx, test_idx))

loaders = make_loaders(data, batch_size=64, augment=True, seed=0)
x, y = next(iter(loaders["train"]))
print("a training batch:", tuple(x.shape), x.dtype, "grades", y[:8].tolist())

# %% [markdown]
# ## The leak that matters in DR: one patient, one photograph
#
# A **validation leak** happens when an image in validation or test is, in effect, also in
# training, and the score comes out too good. Two common ways in fundus data:
#
# - **Both eyes of one patient.** EyePACS names its images `<patient>_left` and `<patient>_right`;
#   the two eyes' grades are highly correlated, and so are the pictures (same camera, same
#   pigment, same session). A split by image puts many patients on both sides.
# - **Copies of one photograph.** APTOS 2019 holds exact and near-duplicate images (resized,
#   re-compressed), some with *different* grades.
#
# The cure is a **patient-level split**, by *group*: every image of one patient, and every copy of
# one photograph, goes to the same split. Copies are found with a **perceptual hash**: shrink the
# grey image to 32 x 32, take its 2-D discrete cosine transform, keep the 12 x 12 lowest
# frequencies without the constant term and record, for each of those 143 coefficients, whether it
# is above their median. Resizing, recompression and small brightness changes barely move those
# signs; a different photograph changes about half of them. We call two images copies when
# their hashes differ in at most `NEAR_DUPLICATE_BITS` = 12 bits, and we check that threshold on
# our own data:

# %%
from qdr_course.retina import NEAR_DUPLICATE_BITS, perceptual_hash
from qdr_course.retina.splits import hamming_distances


def near_copy(image, seed):
    """Brighter, noisier inside the field of view: a re-saved copy of a photograph."""
    noise = np.random.default_rng(seed).normal(0, 4, image.shape) * (image.max(2, keepdims=True) > 10)
    return np.clip(image * 1.1 + noise, 0, 255).astype(np.uint8)


eyes = data.train.images[:300]
hashes = np.array([perceptual_hash(im) for im in eyes])
(_, distances), = hamming_distances(hashes, chunk=len(hashes))
np.fill_diagonal(distances, 10**6)
copy_distance = [int((perceptual_hash(im) != perceptual_hash(near_copy(im, i))).sum())
                 for i, im in enumerate(eyes[:100])]
print(f"different eyes: at least {distances.min()} of {hashes.shape[1]} bits apart")
print(f"a near copy:    at most {max(copy_distance)} bits apart   (threshold {NEAR_DUPLICATE_BITS})")
assert max(copy_distance) <= NEAR_DUPLICATE_BITS < distances.min()

# %% [markdown]
# (`imagehash` offers the same hash; a few lines of numpy and scipy save a dependency.) Now a
# small EyePACS-style collection: 100 patients with both eyes (paired with an eye of the same
# grade, as is usual), plus near copies of five images, one of them filed under another grade. A split by image puts many patients and copies on
# both sides; `leak_groups` + `grouped_split` cannot, and `conflicting_groups` reports the copies
# whose grades disagree. `load_grading_data` does all of this for APTOS and EyePACS folders (and
# warns about conflicting copies); RetinaMNIST comes with official splits.

# %%
from qdr_course.retina import conflicting_groups, grouped_split, leak_groups, patient_of
from qdr_course.retina.splits import duplicate_groups

order = np.argsort(data.train.grades[:200], kind="stable")  # neighbours share a grade
ids = [f"{p}_{side}" for p in range(100) for side in ("left", "right")]
images = list(data.train.images[order])
grades = list(data.train.grades[order])
for k, i in enumerate([3, 57, 90, 144, 181]):
    ids.append(f"copy{k}")
    images.append(near_copy(images[i], k))
    grades.append(grades[i] if k else (grades[i] + 2) % 5)  # copy0: filed under another grade
images, grades = np.stack(images), np.array(grades)

by_image = stratified_split(grades, 0.2, 0.2, seed=0)
groups = leak_groups(images, ids)
by_group = grouped_split(grades, groups, 0.2, 0.2, seed=0)


def groups_across(parts):
    """How many groups have images in more than one split."""
    where = {}
    for k, part in enumerate(parts):
        for g in groups[part]:
            where.setdefault(g, set()).add(k)
    return sum(len(v) > 1 for v in where.values())


print(f"{len(ids)} images, {len(set(map(patient_of, ids)))} patients or files, {groups.max() + 1} groups")
print("groups cut across splits - by image:", groups_across(by_image), " by group:", groups_across(by_group))
print("copies with conflicting grades:", conflicting_groups(grades, duplicate_groups(images), ids))
assert groups_across(by_group) == 0 and groups_across(by_image) > 10

# %% [markdown]
# Augmentation must keep the grade: flips and rotations move lesions but keep their number and
# type; a brightness change mimics the camera. All of it is written in plain torch
# (`qdr_course.retina.augment_batch`):

# %%
from qdr_course.retina import augment_batch

image = torch.from_numpy(synthetic_fundus(grade=3, size=96, seed=13)[0]).permute(2, 0, 1).float()[None] / 255
views = augment_batch(image.repeat(5, 1, 1, 1), generator=torch.Generator().manual_seed(0))
fig, axes = plt.subplots(1, 6, figsize=(12, 2.4))
for ax, view in zip(axes, torch.cat([image, views])):
    ax.imshow(view.permute(1, 2, 0).clamp(0, 1).numpy())
    ax.axis("off")
axes[0].set_title("original (grade 3)")
plt.show()

# %% [markdown]
# ## Why the quadratic weighted kappa
#
# Accuracy counts every mistake the same. For an ordinal grade we want "4 called 3" to cost
# little and "4 called 0" a lot, and we want chance-level guessing to score zero. Cohen's kappa
# with quadratic weights does both. With $O$ the $K\times K$ confusion matrix (rows: true grade,
# columns: predicted), $E_{ij} = (\sum_j O_{ij})(\sum_i O_{ij}) / N$ the counts expected if
# predictions were independent of the truth, and $W_{ij} = (i-j)^2/(K-1)^2$,
#
# $$\kappa_w = 1 - \frac{\sum_{ij} W_{ij} O_{ij}}{\sum_{ij} W_{ij} E_{ij}} .$$
#
# $\kappa_w = 1$ is perfect agreement, $0$ chance level, negative worse than chance. It was the
# APTOS 2019 competition metric (the winners reached about 0.93).
#
# ### Exercise 4.3 - QWK from its formula
# Complete `qwk(y_true, y_pred)` with numpy, for grades 0-4. (`np.add.at(O, (y_true, y_pred), 1)`
# fills a confusion matrix.)

# %% tags=["exercise"]
from qdr_course.checks import check_qwk


def qwk(y_true, y_pred):
    """Quadratic weighted kappa of integer grades 0-4."""
    ### BEGIN SOLUTION
    K = 5
    O = np.zeros((K, K))
    np.add.at(O, (y_true, y_pred), 1)
    i, j = np.indices((K, K))
    W = (i - j) ** 2 / (K - 1) ** 2
    E = np.outer(O.sum(axis=1), O.sum(axis=0)) / O.sum()
    return 1 - (W * O).sum() / (W * E).sum()
    ### END SOLUTION


check_qwk(qwk)

# %% [markdown]
# Three graders on our validation split show the difference between accuracy and QWK:

# %%
from qdr_course.retina import grading_report

y_val = data.val.grades
graders = {
    "always 'no DR'": np.zeros_like(y_val),
    "off by one, always": np.where(y_val < 4, y_val + 1, 3),
    "random guesses": np.random.default_rng(0).integers(0, 5, len(y_val)),
}
for name, y_hat in graders.items():
    r = grading_report(y_val, y_hat)
    print(f"{name:20s} accuracy {r['accuracy']:.3f}   QWK {r['qwk']:+.3f}")
assert grading_report(y_val, graders["always 'no DR'"])["qwk"] == 0
assert grading_report(y_val, graders["off by one, always"])["accuracy"] == 0

# %% [markdown]
# "Always no DR" is right half of the time and worthless (QWK 0); "off by one" is never exactly
# right, yet its grades carry most of the information (QWK about 0.7); random guessing scores
# about 0.
#
# ## Preprocessing real photographs
#
# Real photographs differ in size, in the black border around the circular field of view
# (FOV), and in illumination. The usual pipeline (`qdr_course.retina.preprocessing`):
#
# 1. `crop_to_fov` - cut away the black border (pixels darker than a threshold);
# 2. `pad_to_square` and `resize` - a square of the network's input size;
# 3. `ben_graham` - the local-average subtraction with which Ben Graham won the 2015 Kaggle DR
#    competition:
#
# $$\text{out} = 4\,I - 4\,G_\sigma * I + 128,$$
#
# rounded and limited to 0..255, where $G_\sigma * I$ is the image blurred by a Gaussian of width
# $\sigma$. Graham first scaled each photograph to a field-of-view radius $r$ of 300 pixels, used
# $\sigma = r/30$ (10 pixels, about 1/60 of the field's diameter), and then set everything beyond
# $0.9\,r$ to grey: the filter draws a bright ring along the edge of the field of view, which
# that mask removes. `ben_graham` does the same at any size: it measures $r$ as he did (along the
# middle row), and greys out beyond `rim=0.9` of it. Where the image equals its local average the
# output is grey (128), so slow illumination and pigmentation changes vanish; small structures -
# vessels, dots, exudates - keep their contrast, four times amplified. (The seed used a Kaggle
# copy of APTOS called "Gaussian filtered" that looks like this filter's output; that it was made
# with exactly these settings is our guess - the copy does not say.)
#
# ### Exercise 4.4 - Ben Graham's filter
# Complete `ben_graham(image, sigma)` for a `uint8 (H, W, 3)` image. Blur each colour channel
# separately with `scipy.ndimage.gaussian_filter(x, sigma=(sigma, sigma, 0))`.

# %% tags=["exercise"]
from scipy.ndimage import gaussian_filter

from qdr_course.checks import check_ben_graham


def ben_graham(image, sigma):
    """4 I - 4 G_sigma * I + 128, rounded, limited to 0..255, as uint8."""
    ### BEGIN SOLUTION
    x = image.astype(np.float64)
    out = 4 * x - 4 * gaussian_filter(x, sigma=(sigma, sigma, 0)) + 128
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
    ### END SOLUTION


check_ben_graham(ben_graham)

# %% [markdown]
# Now the whole pipeline on a "camera frame": a synthetic photograph placed off-centre in a wide
# black frame, with uneven illumination (brighter on the right).

# %%
from qdr_course.retina import preprocessing as pp

photo = synthetic_fundus(grade=2, size=224, seed=21)[0]
ramp = np.linspace(0.6, 1.3, 224)[None, :, None]
lit = np.clip(photo * ramp, 0, 255).astype(np.uint8)
frame = np.pad(lit, ((8, 16), (70, 30), (0, 0)))
square = pp.resize(pp.pad_to_square(pp.crop_to_fov(frame)), 224)
filtered = pp.ben_graham(square)
with_rim = pp.ben_graham(square, rim=None)
fig, axes = plt.subplots(1, 4, figsize=(13, 3.6))
for ax, im, title in zip(axes, [frame, square, with_rim, filtered],
                         [f"camera frame {frame.shape[1]} x {frame.shape[0]}", "cropped, squared, resized",
                          "filter, rim kept", "Graham: grey beyond 0.9 r"]):
    ax.imshow(im)
    ax.set_title(title)
    ax.axis("off")
plt.show()

# %% [markdown]
# Sanity check: the illumination ramp changes the raw photograph a lot, but its filtered
# version much less; and the ring between $0.9\,r$ and $r$ that the filter brightens is grey
# after Graham's mask.

# %%
r = pp.fov_radius(square)
ring = pp.circular_mask(224, r / 112) & ~pp.circular_mask(224, 0.9 * r / 112)
print(f"FOV radius {r:.0f} px, sigma {r / 30:.1f} px; mean |out - 128| in the rim ring: "
      f"kept {np.abs(with_rim[ring] - 128.0).mean():.0f}, masked {np.abs(filtered[ring] - 128.0).mean():.0f}")
assert np.all(filtered[ring] == 128) and np.abs(with_rim[ring] - 128.0).mean() > 5

inside = pp.circular_mask(224, 0.7)
raw_change = np.abs(lit.astype(float) - photo)[inside].mean()
filtered_change = np.abs(pp.ben_graham(lit).astype(float) - pp.ben_graham(photo))[inside].mean()
print(f"mean change from the illumination ramp: raw {raw_change:.1f}, filtered {filtered_change:.1f} grey levels")
assert filtered_change < 0.5 * raw_change

# %% [markdown]
# ## A first baseline and the screening view
#
# A real model comes in lesson 05. To see the whole report on real predictions, here is a quick
# baseline built on what the filter reveals: for each image, the histograms of the
# Ben-Graham-filtered red and green values inside the field of view (dark values = red lesions
# and vessels, bright values = exudates and cotton-wool spots), fed to a logistic regression
# with the balanced class weights. Besides QWK, `grading_report` gives the **screening** view:
# is the eye referable (grade >= 2 here, since our data have no DME label)? Sensitivity (the
# fraction of referable eyes that are referred), specificity (the fraction of non-referable eyes
# - no DR *or mild NPDR*, which is not healthy - that are not referred) and the ROC AUC of the
# predicted probability of grade >= 2.

# %%
from sklearn.linear_model import LogisticRegression

from qdr_course.retina import format_report, plot_confusion_matrix

fov = pp.circular_mask(64, 0.85)


def lesion_histograms(images):
    """Log-histograms of Ben-Graham-filtered green (16 bins) and red (8 bins) values in the FOV."""
    features = []
    for im in images:
        filtered_fov = pp.ben_graham(im, sigma=3)[fov].astype(float)
        green = np.histogram(filtered_fov[:, 1], bins=np.linspace(0, 256, 17))[0]
        red = np.histogram(filtered_fov[:, 0], bins=np.linspace(0, 256, 9))[0]
        features.append(np.concatenate([green, red]) / fov.sum())
    return np.log(np.array(features) + 1e-3)


baseline = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000)
baseline.fit(lesion_histograms(data.train.images), data.train.grades)
scores = baseline.predict_proba(lesion_histograms(data.test.images))
y_hat = scores.argmax(axis=1)
report = grading_report(data.test.grades, y_hat, scores)
print(format_report(report))
plot_confusion_matrix(data.test.grades, y_hat, title=f"histogram baseline, QWK {report['qwk']:.2f}")
plt.show()

# %% [markdown]
# Counting dark and bright pixels already separates referable from non-referable eyes well, but
# it confuses neighbouring grades: a few microaneurysms barely change a histogram, and *where*
# lesions are (four quadrants? at the disc?) is lost. The confusion matrix shows where a model
# fails, which QWK alone hides. Lesson 05 trains networks that see the whole image - and
# compares a hybrid quantum-classical one with an honest classical twin.
#
# %% [markdown]
# ## Real data, when you are online
#
# RetinaMNIST (MedMNIST v2, CC BY 4.0) holds 1,600 fundus images from the DeepDRiD challenge,
# graded 0-4, with official splits (1,080 / 120 / 400) and sizes 28, 64, 128 and 224 px. The
# published test results are modest - accuracy about 0.49-0.53 and AUC about 0.69-0.75 for
# ResNets and AutoML tools - real grading is hard, and a small hybrid model is not expected to
# beat them. To use it (the first call downloads about 3-60 MB, then it is cached):
#
# ```python
# data = load_grading_data("retinamnist", size=64)
# ```
#
# For APTOS 2019 (3,662 images, Kaggle) or EyePACS (35,126), unpack the competition files and
# pass the folder; unreadable images stop the loader with their names, or are skipped and listed
# with `on_error="skip"`.

# %% [markdown]
# ## Key points
# - DR is graded on the ordinal ICDR scale: 0 none, 1 microaneurysms only, 2 moderate, 3 severe
#   (the 4-2-1 rule), 4 proliferative (new vessels, pre-retinal / vitreous blood; urgent).
#   Referable DR is moderate NPDR or worse and/or referable DME (hard exudates near the fovea in
#   a photograph); without a DME label, as here, referable means grade >= 2.
# - `synthetic_fundus` draws labelled photographs with lesion masks offline;
#   `load_grading_data` gives the same train / val / test splits for synthetic data, RetinaMNIST,
#   APTOS and EyePACS.
# - Map class names to grades by meaning: alphabetical order scrambled the original's labels.
# - Split by grade, shuffled, disjoint, with a test set; augment the training split only. The
#   original's unshuffled cut sent all Mild images to validation: a missing class in training,
#   not a leak.
# - A leak is one patient or one photograph on both sides of a split: split by patient and by
#   perceptual-hash duplicate group (at most 12 of 143 bits apart), and check copies whose grades
#   disagree.
# - The data are imbalanced (49 % grade 0): use class weights $N/(K n_c)$ or resampling, and never
#   judge by accuracy alone.
# - QWK $= 1 - \sum W O / \sum W E$ rewards near misses and scores chance at 0; report it with
#   the confusion matrix and the referable sensitivity / specificity / AUC.
# - Crop to the field of view, square, resize; Ben Graham's filter ($\sigma = r/30$, grey beyond
#   $0.9\,r$) removes illumination and keeps lesions.
#
# ## Further reading
# - C. P. Wilkinson et al., "Proposed international clinical diabetic retinopathy and diabetic
#   macular edema disease severity scales", *Ophthalmology* 110 (2003) 1677-1682 - the ICDR scale.
# - V. Gulshan et al., "Development and validation of a deep learning algorithm for detection of
#   diabetic retinopathy in retinal fundus photographs", *JAMA* 316 (2016) 2402-2410 - referable
#   DR and DME from photographs.
# - B. Graham, "Kaggle Diabetic Retinopathy Detection competition report" (2015) - the
#   preprocessing above.
# - J. Yang et al., "MedMNIST v2 - a large-scale lightweight benchmark for 2D and 3D biomedical
#   image classification", *Scientific Data* 10 (2023) 41 - RetinaMNIST.
