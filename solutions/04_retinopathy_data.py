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
# **Teaching:** 85 min · **Exercises:** 35 min
#
# Before any network - quantum or classical - can grade diabetic retinopathy (DR), we need to
# know what a grader looks for, what the data look like, and how to measure success. This lesson
# is also where the original hybrid-network project went wrong twice before training even began:
# its labels were in the wrong order, and its validation split took away a whole grade from
# training. We fix both, look at real photographs - the 516 graded eyes of IDRiD, shipped with
# the course - and guard against the leak that matters most in DR data: one patient's eyes, or
# copies of one photograph, on both sides of a split. IDRiD has such a copy.
#
# ## Objectives
# - Name the lesions of diabetic retinopathy and place them on the International Clinical DR
#   (ICDR) scale, grades 0-4.
# - Read real fundus photographs (IDRiD) with their DR grade, DME risk and lesion masks, beside
#   synthetic ones; load any source (synthetic, IDRiD, RetinaMNIST, APTOS 2019, EyePACS) through
#   one function.
# - Keep grades in severity order, and split data without a leak: stratified, shuffled, and by
#   patient and duplicate group, so no split holds an eye or a photograph another split has seen;
#   choose a near-duplicate threshold from measured error rates on real photographs.
# - Say what "referable" means, including diabetic macular edema (DME).
# - Explain why the quadratic weighted kappa (QWK) is the right score for an ordinal grade, and
#   compute it from its formula.
# - Preprocess a real photograph: crop to the field of view (robustly: its border is not black),
#   resize, and apply Ben Graham's filter.

# %%
import matplotlib.pyplot as plt
import numpy as np
from matplotlib_inline.backend_inline import set_matplotlib_formats

from qdr_course import set_seed
from qdr_course.utils import figure_style

rng = set_seed(0)
figure_style()
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
# fluid leaking into the macula, the commonest cause of vision loss in diabetes. A photograph
# cannot show the swelling itself; its marker is **hard exudates near the fovea** - screening
# programmes (and Gulshan et al. 2016) grade referable DME as hard exudates within one disc
# diameter of the fovea. **Referable DR** is usually defined as *moderate NPDR or worse, and/or
# referable DME*: the patient should see an ophthalmologist.
#
# ### Concept check 4.1

# %%
from qdr_course.checks import ask

ask("4.1")

# %% tags=["exercise", "concept"]
from qdr_course.checks import check_concept_4_1


def my_choice_4_1():
    """The letter of your answer to concept check 4.1."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


check_concept_4_1(my_choice_4_1)

# %% [markdown]
# Grade 1 is *microaneurysms only*: an eye showing hard exudates - DME's photographic marker - has
# "more than microaneurysms" and is at least moderate NPDR. So on a photograph, "grade $\ge 2$"
# already refers every eye in which DME can be seen; what a photograph misses is edema without
# exudates (thickening visible only in OCT or stereo images), whatever the threshold. APTOS 2019
# and RetinaMNIST carry **no DME label**, and "referable" there means grade $\ge 2$; IDRiD (below)
# grades DME risk too, and we will check that it agrees.
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
# alt: Two rows of five synthetic fundus photographs, one per ICDR grade 0 to 4: the photographs on top, and below the same with each lesion mask painted in its colour, lesions growing in number and kind with the grade.
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
# ## Real eyes: IDRiD
#
# The **Indian Diabetic Retinopathy Image Dataset** (IDRiD; Porwal, Pachade, Kokare et al.,
# *Data* 2018) comes with the course, downsized to 12 MB: 516 photographs from a screening clinic
# in Nanded, India (Kowa VX-10α camera, 50° field), each graded by experts for DR (ICDR 0-4) and
# for the **risk of macular edema** (0 none; 1 hard exudates farther than one disc diameter from
# the centre of the macula; 2 within it), in IDRiD's own split of 413 training and 103 test
# photographs; and 81 photographs with **pixel masks** of microaneurysms, hemorrhages, hard and
# soft exudates and the optic disc. IDRiD is licensed CC BY 4.0 ("IDRiD dataset (c) by Prasanna
# Porwal, Samiksha Pachade and Manesh Kokare"); the copy, its licence files and what we changed
# (resized to 385 x 256 and 771 x 512 px, masks as 1-bit images) are in
# `qdr_course/retina/bundled/idrid`, and every file is checked against its SHA-256 as it is read.
#
# One real photograph of each grade, above a synthetic one:

# %%
from qdr_course.retina import idrid_labels, load_idrid_photographs

test_ids, test_grades, test_dme = idrid_labels("test")
first_of_grade = [test_ids[int(np.argmax(test_grades == g))] for g in range(5)]
_, real_photos = load_idrid_photographs("test", ids=first_of_grade)
dme_names = ("no DME", "DME risk 1", "DME risk 2")
# alt: Two rows of five fundus photographs, one per ICDR grade 0 to 4: real IDRiD photographs on top (titled with their DR grade and DME risk), synthetic ones below; the real ones show dimmer, more varied colour and smaller lesions than the drawings.
fig, axes = plt.subplots(2, 5, figsize=(13, 5.4))
for g in range(5):
    k = test_ids.index(first_of_grade[g])
    axes[0, g].imshow(real_photos[g])
    axes[0, g].set_title(f"{first_of_grade[g]}\ngrade {g} · {dme_names[test_dme[k]]}", fontsize=9)
    axes[1, g].imshow(examples[g][0])
    axes[1, g].set_title(f"synthetic · grade {g}", fontsize=9)
for ax in axes.flat:
    ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# Real eyes are darker at the rim, more orange, and their early lesions are a few pixels across
# even at 385 px: at the 64 px the graders train on, a microaneurysm is far below one pixel. The
# grades and DME risks in numbers - and the check promised above, that no eye graded 0 or 1 has a
# DME risk:

# %%
for split in ("train", "test"):
    _, grades_s, dme_s = idrid_labels(split)
    table = np.zeros((5, 3), int)
    np.add.at(table, (grades_s, dme_s), 1)
    print(f"IDRiD {split}: rows DR grade 0-4, columns DME risk 0-2\n{table}")
    assert table[:2, 1:].sum() == 0  # DME risk only in grades >= 2, as the ICDR rules imply
assert np.bincount(test_grades, minlength=5).tolist() == [34, 5, 32, 19, 13]

# %% [markdown]
# Only 20 + 5 photographs are mild NPDR: IDRiD is not a screening population (most eyes in
# screening are grade 0), and a grader trained here sees few mild eyes.
#
# ### Real lesion masks
#
# The synthetic generator knows where it drew each lesion; IDRiD's experts marked them by hand.
# `load_idrid_segmentation` returns a `SegmentationSet`: photographs, masks `(N, 5, H, W)` in the
# order MA, HE, EX, SE, OD, and which masks IDRiD gives. The masks are the real counterpart of the
# synthetic ones, shown in the same colours (optic disc outlined in white), with a zoom on the
# macula where microaneurysms and exudates gather:

# %%
from qdr_course.retina import IDRID_LESION_NAMES, IDRID_LESIONS, IDRID_TO_SYNTHETIC, load_idrid_segmentation

segmentation = load_idrid_segmentation("train")
shown = [segmentation.ids.index(i) for i in ("IDRiD_03", "IDRiD_10")]
# alt: Four panels: two real IDRiD photographs with their expert lesion masks painted over them (microaneurysms magenta, hemorrhages blue, hard exudates yellow, soft exudates cyan, optic disc outlined in white), each followed by a zoom on its macula where the small lesions are visible.
fig, axes = plt.subplots(1, 4, figsize=(14, 3.6))
for col, k in enumerate(shown):
    masks = {IDRID_TO_SYNTHETIC[c]: segmentation.mask(c)[k] for c in IDRID_LESIONS if c != "OD"}
    painted = overlay_lesions(segmentation.images[k], masks, alpha=0.9)
    axes[2 * col].imshow(painted)
    axes[2 * col].contour(segmentation.mask("OD")[k], levels=[0.5], colors="white", linewidths=1)
    axes[2 * col].set_title(f"{segmentation.ids[k]} with its masks")
    axes[2 * col + 1].imshow(painted[170:350, 230:470])
    axes[2 * col + 1].set_title("zoom on the macula")
for ax in axes:
    ax.axis("off")
handles = [plt.Rectangle((0, 0), 1, 1, color=np.array(LESION_COLOURS[IDRID_TO_SYNTHETIC[c]]) / 255)
           for c in IDRID_LESIONS if c != "OD"]
fig.legend(handles, [IDRID_LESION_NAMES[c] for c in IDRID_LESIONS if c != "OD"], loc="lower center",
           ncol=4, fontsize=9)
plt.tight_layout(rect=(0, 0.08, 1, 1))
plt.show()

# %% [markdown]
# How much of the field do the lesions cover? Far less than in the drawings:

# %%
fov_area = (segmentation.images.max(axis=3) > 20).sum(axis=(1, 2))  # field pixels per image
for c in IDRID_LESIONS:
    share = segmentation.mask(c).sum(axis=(1, 2)) / fov_area
    print(f"{IDRID_LESION_NAMES[c]:15s} in {segmentation.annotated[:, IDRID_LESIONS.index(c)].sum():2d} "
          f"of {len(segmentation)} images, median {np.median(share[share > 0]):.2%} of the field")
assert np.median(segmentation.mask("MA").sum(axis=(1, 2)) / fov_area) < 0.005

# %% [markdown]
# ## One loader for every source
#
# `load_grading_data` returns train / validation / test splits of `uint8 (N, H, W, 3)` images
# and `int64` grades, whatever the source:
#
# ```python
# load_grading_data("synthetic", size=64, n=2000)        # offline, default
# load_grading_data("idrid", size=64)                    # IDRiD, shipped: its own split, .dme
# load_grading_data("retinamnist", size=64)              # MedMNIST (DeepDRiD), official splits,
#                                                        # downloaded once, MD5-checked, cached
# load_grading_data("aptos:/data/aptos2019")             # train.csv + train_images/*.png
# load_grading_data("eyepacs:/data/eyepacs")             # trainLabels.csv + train/*.jpeg
# ```
#
# In a terminal, `qdr-course data download retinamnist` fetches RetinaMNIST, and
# `qdr-course data synth --n 2000 --size 224 --out data/synth` writes the synthetic set as an
# APTOS-format folder. Without network the RetinaMNIST download stops with an error that points
# back to the synthetic set.
#
# Know what each source's split can promise. **APTOS 2019 has no patient ids**: its 3,662 images
# cannot be split by patient, only by content (copies, below). **RetinaMNIST's** official split
# is probably not by patient either: it comes from DeepDRiD, which has several photographs of each
# eye and both eyes of each patient, and MedMNIST does not say that it kept a patient's
# photographs together. IDRiD gives no patient ids; we check its split by content below.
#
# IDRiD keeps its own 103 test photographs (so results compare with other work on IDRiD) and
# carves a validation split, stratified by grade, out of its training photographs
# (`load_grading_data("idrid")` calls `load_idrid`; each split's `dme` holds the DME risk):

# %%
from qdr_course.retina import load_grading_data

real = load_grading_data("idrid", size=64, seed=0)
print(real.summary())
print("left out:", real.skipped)
assert len(real.test) == 103 and real.test.dme is not None

# %% [markdown]
# One training photograph was left out: it is a copy of a test photograph (the leak section
# below shows it). For the exercises and figures that follow we use 700 synthetic images of
# 64 x 64 pixels, drawn with the class frequencies of APTOS 2019 - a screening population.

# %%
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
# alt: Two bar charts over grades 0 to 4: the share of each grade in APTOS 2019 (about half grade 0, 5 % grade 3), and the class weights N / (K n_c) of our training split, highest for the rarest grades.
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

# %% tags=["exercise", "implement"]
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

# %% tags=["exercise", "implement"]
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
# one photograph, goes to the same split. Copies are found with a **perceptual hash**
# (`perceptual_hash`): take the
# green channel (where vessels and lesions are sharpest) of a square at the centre of the field
# of view, shrink it to 64 x 64, take its 2-D discrete cosine transform, keep the 16 x 16 lowest
# frequencies without the constant term and record, for each of those 255 coefficients, whether
# it is above their median. The square is placed on the field's *circle*, fitted to the rows its
# rim does not leave (`fov_circle`), so a copy with more black border or a clipped rim is read at
# the same place and scale. Two photographs are copies when their hashes differ in at most
# `NEAR_DUPLICATE_BITS` bits. Which number? That has to be measured, on real photographs:
# different eyes must stay above it, ordinary copies below.
#
# ### Exercise 4.3 - predict, then measure
# We will make eight kinds of copy of IDRiD photographs - what a second upload of a photograph
# may have undergone - and measure how many of the 255 bits each moves. Before you run it:
# which of these moves the hash most (the largest median distance)? (a) JPEG recompression at
# quality 50; (b) half the resolution; (c) a rotation by 2 degrees; (d) 15 % brighter.

# %% tags=["exercise", "predict"]
from qdr_course.checks import check_copy_prediction


def my_choice_4_3():
    """The letter of the copy you predict moves the perceptual hash most."""
    ### BEGIN SOLUTION
    return "c"
    ### END SOLUTION


check_copy_prediction(my_choice_4_3)

# %% [markdown]
# The measurement: all 132,870 pairs of IDRiD's 516 photographs (pairs of *identical files* set
# apart - IDRiD has some, below), and every kind of copy of 172 of them (every third).

# %% tags=["nbval-ignore-output"]
import hashlib

from qdr_course.retina import NEAR_DUPLICATE_BITS
from qdr_course.retina.copies import COPY_KINDS, copy_distances, error_rates, hashes_of
from qdr_course.retina.idrid import IDRID_ROOT

names, photos = [], []
for split in ("train", "test"):
    split_ids, split_photos = load_idrid_photographs(split)
    names += [f"{split}/{i}" for i in split_ids]
    photos += list(split_photos)
file_hash = [hashlib.sha256((IDRID_ROOT / "grading" / f"{n}.jpg").read_bytes()).hexdigest()
             for n in names]
bits = hashes_of(photos)
pair_i, pair_j = np.triu_indices(len(bits), 1)
pair_distance = (bits[pair_i] != bits[pair_j]).sum(axis=1)
identical = np.array([file_hash[i] == file_hash[j] for i, j in zip(pair_i, pair_j)])
different = pair_distance[~identical]
copies = copy_distances(photos[::3])
false_merge, missed = error_rates(different, copies, NEAR_DUPLICATE_BITS)
print(f"identical files: {identical.sum()} pairs, {pair_distance[identical].max()} bits apart")
print(f"other pairs: {len(different)}, closest {np.sort(different)[:4].tolist()} bits")
for kind, d in copies.items():
    print(f"{kind:24s} median {np.median(d):4.0f}   max {d.max():3d} bits   missed at "
          f"{NEAR_DUPLICATE_BITS}: {missed[kind]:.1%}")
print(f"pairs of different photographs within {NEAR_DUPLICATE_BITS} bits: "
      f"{int(round(false_merge * len(different)))} of {len(different)}")

# %%
# alt: Histogram of perceptual-hash distances in bits (0 to 255): pairs of different IDRiD photographs (grey bars, log count) lie between about 56 and 170 bits (one pair at 20), each kind of ordinary copy (box plot per kind) lies below 60, and the dashed threshold line at 54 bits separates them.
fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4), gridspec_kw={"width_ratios": [3, 2]})
left.hist(different, bins=np.arange(0, 257, 4), color="0.55", label="different photographs")
left.set_yscale("log")
left.axvline(NEAR_DUPLICATE_BITS, color="k", linestyle="--",
             label=f"threshold {NEAR_DUPLICATE_BITS} bits")
left.set_xlabel("hash distance (bits of 255)")
left.set_ylabel("pairs (log scale)")
left.set_title(f"{len(different):,} pairs of IDRiD photographs")
left.legend()
right.boxplot(list(copies.values()), orientation="horizontal", whis=(0, 100))
right.set_yticks(range(1, len(copies) + 1), list(copies))
right.axvline(NEAR_DUPLICATE_BITS, color="k", linestyle="--")
right.set_xlabel("distance to the original (bits)")
right.set_title(f"copies of {len(photos[::3])} photographs")
plt.tight_layout()
plt.show()

# %% [markdown]
# Sanity check of what the threshold's docstring states, in our run: no kind of copy is missed
# more than 1 % of the time, and at most one pair of different files lies within the threshold -
# the one pair we will see is two photographs of one eye.

# %%
assert max(missed.values()) <= 0.01
assert (different <= NEAR_DUPLICATE_BITS).sum() <= 1 and np.sort(different)[1] > NEAR_DUPLICATE_BITS

# %% [markdown]
# With the old hash of this course (grey image at 32 x 32, 12 x 12 block, 143 bits, threshold
# 12), measured the same way: different eyes came within 12-16 bits, ordinary copies moved up to
# 24 bits, and a copy with its rim clipped moved 74 bits - every clipped copy was missed.
# Reading the centre of the fitted circle, and more frequencies of the sharper green channel,
# opened a gap between the two distributions. What the measurement cannot show: IDRiD has 516
# photographs; at APTOS's 3,662 (50 times as many pairs) a few different eyes will come within
# 54 bits (a false merge only keeps two images in one split), and a *second photograph* of the
# same eye, taken minutes later, is not a copy - it may or may not hash close.
#
# ### Concept check 4.2

# %%
ask("4.2")

# %% tags=["exercise", "concept"]
from qdr_course.checks import check_concept_4_2


def my_choice_4_2():
    """The letter of your answer to concept check 4.2."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


check_concept_4_2(my_choice_4_2)

# %% [markdown]
# IDRiD's photographs, looked at by content: identical files under two names, the one close pair
# that is not identical, and which of them cross IDRiD's own train / test split.

# %%
grade_of = {f"{split}/{i}": int(g) for split in ("train", "test")
            for i, g in zip(*idrid_labels(split)[:2])}
close_pairs = [(names[i], names[j], int(d)) for i, j, d in zip(pair_i, pair_j, pair_distance)
               if d <= NEAR_DUPLICATE_BITS]
for a, b, d in close_pairs:
    kind = "identical files" if d == 0 and file_hash[names.index(a)] == file_hash[names.index(b)] \
        else f"{d} bits apart"
    across = "  <- across IDRiD's split" if a.split("/")[0] != b.split("/")[0] else ""
    print(f"{a} (grade {grade_of[a]})  {b} (grade {grade_of[b]})  {kind}{across}")
assert ("train/IDRiD_118", "test/IDRiD_064", 0) in close_pairs
assert sum(a.split("/")[0] != b.split("/")[0] for a, b, _ in close_pairs) == 1

# %%
# alt: Two pairs of IDRiD photographs side by side: training IDRiD_118 and test IDRiD_064, one identical file graded 0 and 3; and training IDRiD_013 and IDRiD_397, the same eye at a different exposure, graded 3 and 2.
fig, axes = plt.subplots(1, 4, figsize=(14, 2.9))
for ax, name in zip(axes, ["train/IDRiD_118", "test/IDRiD_064", "train/IDRiD_013", "train/IDRiD_397"]):
    ax.imshow(photos[names.index(name)])
    ax.set_title(f"{name}, grade {grade_of[name]}", fontsize=9)
    ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# In the copy of IDRiD we have, six photographs appear twice under two names, byte for byte; one
# of them crosses the split: training IDRiD_118 *is* test IDRiD_064 - graded 0 in one CSV file
# and 3 (severe NPDR) in the other. IDRiD_013 and IDRiD_397 are one eye photographed at another
# exposure (20 bits apart), graded 3 and 2. Same eye, different grades: grading is noisy even
# for experts, and a model scored on such labels has a ceiling. `load_grading_data("idrid")`
# therefore leaves IDRiD_118 out of training (keeping IDRiD's 103 test photographs, so results
# stay comparable), keeps the other groups inside one split, and lists the conflicts:

# %%
for names_in_group, grades_in_group in real.conflicts:
    print(names_in_group, "graded", grades_in_group)
assert len(real.train) + len(real.val) == 412

# %% [markdown]
# (`imagehash` offers a similar hash; a few lines of numpy and scipy save a dependency.) Now a
# small EyePACS-style collection: 100 patients with both eyes (paired with an eye of the same
# grade, as is usual), plus near copies of five images, one of them filed under another grade. A split by image puts many patients and copies on
# both sides; `leak_groups` + `grouped_split` cannot, and `conflicting_groups` reports the copies
# whose grades disagree. `load_grading_data` does all of this for APTOS and EyePACS folders (and
# warns about conflicting copies); RetinaMNIST comes with official splits.

# %%
from qdr_course.retina import conflicting_groups, grouped_split, leak_groups, patient_of
from qdr_course.retina.splits import duplicate_groups


def near_copy(image, seed):
    """Brighter, noisier inside the field of view: a re-saved copy of a photograph."""
    noise = np.random.default_rng(seed).normal(0, 4, image.shape) * (image.max(2, keepdims=True) > 10)
    return np.clip(image * 1.1 + noise, 0, 255).astype(np.uint8)


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
# alt: Six versions of one synthetic grade-3 photograph: the original and five random augmentations (flips, rotations, brightness), lesions moved but unchanged in number and kind.
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
# columns: predicted) of $N$ images, $E_{ij} = \big(\sum_{k} O_{ik}\big)\big(\sum_{k} O_{kj}\big) / N$
# the counts expected if predictions were independent of the truth (row $i$'s total times column
# $j$'s total, over $N$), and $W_{ij} = (i-j)^2/(K-1)^2$,
#
# $$\kappa_w = 1 - \frac{\sum_{ij} W_{ij} O_{ij}}{\sum_{ij} W_{ij} E_{ij}} .$$
#
# $\kappa_w = 1$ is perfect agreement, $0$ chance level, negative worse than chance. It was the
# APTOS 2019 competition metric (the winners reached about 0.93).
#
# ### Exercise 4.4 - predict two graders' QWK
# Two graders of IDRiD's 103 test eyes. **A** is never exactly right: it always answers one
# grade too high (a grade-4 eye stays 4). **B** is exactly right on every eye, except that it
# calls each of the 13 proliferative eyes "no DR". B's accuracy is 87 %, A's 13 %. Predict the
# QWK of each (two numbers between -1 and 1), then run the cell after.

# %% tags=["exercise", "predict"]
from qdr_course.checks import check_qwk_prediction


def my_prediction_4_4():
    """Your predicted (QWK of grader A, QWK of grader B)."""
    ### BEGIN SOLUTION
    return (0.8, 0.45)
    ### END SOLUTION


check_qwk_prediction(my_prediction_4_4)

# %%
from qdr_course.retina import grading_report, quadratic_weighted_kappa
from qdr_course.retina.metrics import confusion

one_up = np.minimum(test_grades + 1, 4)
pdr_missed = np.where(test_grades == 4, 0, test_grades)
for name, y_hat in (("A, one grade too high", one_up), ("B, PDR called no DR", pdr_missed)):
    print(f"{name:22s} accuracy {np.mean(y_hat == test_grades):.2f}   "
          f"QWK {quadratic_weighted_kappa(test_grades, y_hat):.2f}")
    assert abs(np.mean(y_hat == test_grades) - (0.13 if name[0] == "A" else 0.87)) < 0.005
O = confusion(test_grades, pdr_missed).astype(float)
i, j = np.indices(O.shape)
W = (i - j) ** 2 / 16
E = np.outer(O.sum(axis=1), O.sum(axis=0)) / O.sum()
print("B's weighted disagreement: observed", round((W * O).sum(), 1), " expected by chance",
      round((W * E).sum(), 1))
assert np.isclose(1 - (W * O).sum() / (W * E).sum(), quadratic_weighted_kappa(test_grades, pdr_missed))
assert (W * O).sum() == 13 and 23 < (W * E).sum() < 25 and (one_up != test_grades).sum() == 90
assert quadratic_weighted_kappa(test_grades, np.zeros_like(test_grades)) == 0
assert grading_report(test_grades, one_up)["accuracy"] < 0.2

# %% [markdown]
# Count what each grader's mistakes cost in $\sum W O$: an error of $d$ steps costs $d^2/16$,
# so one four-step error costs as much as sixteen one-step errors. QWK forgives a grader that
# keeps the order and punishes one that sends urgent eyes home - which is what a screening
# programme wants, and why accuracy alone misleads. A grader that always gives one answer - "no DR" for every
# eye, right for a third of IDRiD's test set and half of a screening population - scores exactly
# 0: its confusion matrix *is* its chance expectation.
#
# ## Preprocessing real photographs
#
# Real photographs differ in size, in the black border around the circular field of view
# (FOV), and in illumination. The usual pipeline (`qdr_course.retina.preprocessing`):
#
# 1. `crop_to_fov` - cut away the black border (the box of the pixels brighter than a threshold);
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
# The whole pipeline on a "camera frame": a synthetic photograph placed off-centre in a wide
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
# alt: Four panels of one synthetic photograph: the wide camera frame, the cropped and squared image, Ben Graham's filter with its bright rim ring, and the filter with the rim greyed out beyond 0.9 of the radius.
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
# ### On real photographs
#
# A real border is not black. IDRiD's holds JPEG noise of 10-20 grey levels that rises towards
# the field, whose dim rim then jumps to about 100. A fixed threshold of 10 sits inside that
# noise: the box moves when the same photograph is saved again. `fov_threshold` therefore takes
# the larger of 10 and a fifth of the photograph's 90th-percentile brightness, and `fov_box` keeps
# the rows and columns in which at least 1 % of the pixels are in the field. Measured on 30 IDRiD
# photographs, each saved again at JPEG quality 50, 70 and 90 - the box before and after, with
# the plain `> 10` rule and with the package's:

# %%
from qdr_course.retina.copies import realistic_copy


def plain_box(image, threshold=10):
    """The bounding box of the pixels brighter than threshold: the old crop_to_fov."""
    rows, cols = np.nonzero(image.max(axis=2) > threshold)
    return rows.min(), rows.max() + 1, cols.min(), cols.max() + 1


_, sample = load_idrid_photographs("train", ids=[f"IDRiD_{i:03d}" for i in range(1, 31)])
moves = {"plain > 10": [], "fov_box": []}
for photo_ in sample:
    for quality in (50, 70, 90):
        again = realistic_copy(photo_, f"jpeg {quality}")
        for name, box in (("plain > 10", plain_box), ("fov_box", pp.fov_box)):
            moves[name].append(np.abs(np.subtract(box(again), box(photo_))).max())
for name, m in moves.items():
    m = np.array(m)
    print(f"{name:11s} box moved by more than 2 px in {(m > 2).sum():2d} of {m.size}, at most {m.max()} px")
assert max(moves["fov_box"]) <= 2 and sum(np.array(moves["plain > 10"]) > 2) >= 30

# %% [markdown]
# The pipeline on a real photograph, IDRiD's test IDRiD_001 (proliferative DR), at the 224 px
# the course's graders could use:

# %%
raw = real_photos[4]
real_square = pp.preprocess_fundus(raw, 224)
real_filtered = pp.ben_graham(real_square)
# alt: Three panels of one real IDRiD photograph with proliferative DR: the raw 385 x 256 photograph with its black border, the field of view cropped, squared and resized to 224 px, and Ben Graham's filter output where vessels, hemorrhages and exudates stand out on grey.
fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
for ax, im, title in zip(axes, [raw, real_square, real_filtered],
                         [f"IDRiD photograph {raw.shape[1]} x {raw.shape[0]}",
                          "cropped, squared, 224 px", "Ben Graham's filter"]):
    ax.imshow(im)
    ax.set_title(title)
    ax.axis("off")
plt.tight_layout()
plt.show()
print("field of view (top, bottom, left, right):", pp.fov_box(raw),
      " circle radius", round(pp.fov_circle(raw)[2]), "px")
assert real_square.shape == (224, 224, 3)

# %% [markdown]
# IDRiD's field is a circle clipped at the top and bottom by the sensor: its box is 256 rows by
# about 306 columns, and the square holds black bands above and below. The filter shows on a real
# eye what it showed on the drawing - illumination gone, vessels, hemorrhages and exudates left -
# and one thing the drawing could not: Graham's rim mask is a circle, so the *straight* edges
# where the sensor cut the field stay as bright and dark bands. A network can learn such a
# camera signature instead of lesions; mask them too (e.g. with `fov_mask`) if your cameras
# differ between grades.

# %% [markdown]
# ## A first baseline and the screening view
#
# A real model comes in lesson 05. To see the whole report on real predictions, here is a quick
# baseline built on what the filter reveals: for each image, the histograms of the
# Ben-Graham-filtered red and green values inside the field of view (dark values = red lesions
# and vessels, bright values = exudates and cotton-wool spots), fed to a logistic regression
# with the balanced class weights. Besides QWK, `grading_report` gives the **screening** view:
# is the eye referable (grade >= 2: every eye that shows DME's marker is grade 2 or more, and the
# synthetic data carry no separate DME label)? Sensitivity (the
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
# alt: Confusion matrix heat map of the histogram baseline on the synthetic test split, true grade on the rows and predicted grade on the columns, with counts in the cells and a colour bar; most mass near the diagonal, with neighbouring grades confused.
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
# ## More real data, when you are online
#
# IDRiD is small: 516 photographs, 25 of them mild NPDR. Larger sets need a download:
#
# - **RetinaMNIST** (MedMNIST v2, CC BY 4.0): 1,600 fundus images from the DeepDRiD challenge,
#   graded 0-4, official splits (1,080 / 120 / 400), sizes 28-224 px; its split is probably not
#   by patient (see above). The published test results are modest - accuracy about 0.49-0.53,
#   AUC about 0.69-0.75 for ResNets and AutoML tools. The first call downloads 3-60 MB, then it is
#   cached: `load_grading_data("retinamnist", size=64)`.
# - **APTOS 2019** (3,662 images) and **EyePACS** (35,126), from Kaggle competitions whose rules
#   forbid redistribution: unpack the competition files and pass the folder. APTOS has no patient
#   ids; EyePACS names both eyes of a patient. Unreadable images stop the loader with their names,
#   or are skipped and listed with `on_error="skip"`.

# %% [markdown]
# ## Key points
# - DR is graded on the ordinal ICDR scale: 0 none, 1 microaneurysms only, 2 moderate, 3 severe
#   (the 4-2-1 rule), 4 proliferative (new vessels, pre-retinal / vitreous blood; urgent).
#   Referable DR is moderate NPDR or worse and/or referable DME (hard exudates near the fovea in
#   a photograph); exudates are more than microaneurysms, so an eye showing them is grade >= 2 -
#   in IDRiD no eye of grade 0-1 has a DME risk.
# - `synthetic_fundus` draws labelled photographs with lesion masks offline; IDRiD's 516 real
#   graded photographs and 81 with expert lesion masks come with the course (CC BY 4.0);
#   `load_grading_data` gives the same train / val / test splits for synthetic data, IDRiD,
#   RetinaMNIST, APTOS and EyePACS.
# - Map class names to grades by meaning: alphabetical order scrambled the original's labels.
# - Split by grade, shuffled, disjoint, with a test set; augment the training split only. The
#   original's unshuffled cut sent all Mild images to validation: a missing class in training,
#   not a leak.
# - A leak is one patient or one photograph on both sides of a split: split by patient and by
#   perceptual-hash duplicate group, and check copies whose grades disagree. The threshold (54 of
#   255 bits) comes from a measurement on real photographs: no false merge of different eyes, at
#   most 1 % of ordinary copies missed. File names prove nothing: IDRiD's training IDRiD_118 is its
#   test IDRiD_064, graded 0 and 3.
# - The data are imbalanced (49 % grade 0): use class weights $N/(K n_c)$ or resampling, and never
#   judge by accuracy alone.
# - QWK $= 1 - \sum W O / \sum W E$ rewards near misses and scores chance at 0; report it with
#   the confusion matrix and the referable sensitivity / specificity / AUC.
# - Crop to the field of view (a threshold relative to the photograph: real borders hold JPEG
#   noise), square, resize; Ben Graham's filter ($\sigma = r/30$, grey beyond $0.9\,r$) removes
#   illumination and keeps lesions.
#
# ## Further reading
# - C. P. Wilkinson et al., "Proposed international clinical diabetic retinopathy and diabetic
#   macular edema disease severity scales", *Ophthalmology* 110 (2003) 1677-1682 - the ICDR scale.
# - V. Gulshan et al., "Development and validation of a deep learning algorithm for detection of
#   diabetic retinopathy in retinal fundus photographs", *JAMA* 316 (2016) 2402-2410 - referable
#   DR and DME from photographs.
# - B. Graham, "Kaggle Diabetic Retinopathy Detection competition report" (2015) - the
#   preprocessing above.
# - P. Porwal, S. Pachade, R. Kamble, M. Kokare, G. Deshmukh, V. Sahasrabuddhe, F. Meriaudeau,
#   "Indian Diabetic Retinopathy Image Dataset (IDRiD): a database for diabetic retinopathy
#   screening research", *Data* 3 (2018) 25, doi:10.3390/data3030025 - the real photographs here
#   (CC BY 4.0).
# - J. Yang et al., "MedMNIST v2 - a large-scale lightweight benchmark for 2D and 3D biomedical
#   image classification", *Scientific Data* 10 (2023) 41 - RetinaMNIST.
