"""Retinopathy data for torch: datasets, augmentation, loaders and class weights. See lessons 04-05.

The one way from a data split to torch: :func:`as_dataset` (used by :func:`make_loaders` and by
the training loop alike), so training and evaluation see exactly the same pixel scaling.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, TensorDataset

from qdr_course.retina.grades import NUM_GRADES, grade_array
from qdr_course.retina.splits import GradingData, _validate_images
from qdr_course.threads import configure_torch
from qdr_course.validate import positive_int

configure_torch()  # torch threads = the CPUs this process may use (quota, affinity)

__all__ = ["FundusDataset", "as_dataset", "augment_batch", "class_weights", "grades_of",
           "make_loaders"]



def augment_batch(x, generator=None, max_angle: float = 180.0, brightness: float = 0.2):
    """Grade-preserving augmentation of a float batch (B, 3, H, W): flips, rotation, brightness.

    See lesson 04.

    Each image is flipped left-right and up-down with probability 1/2, rotated about its centre
    by a uniform angle in ``[-max_angle, max_angle]`` degrees (black fills the corners, as
    outside the field of view) and multiplied by a uniform brightness factor in
    ``[1 - brightness, 1 + brightness]`` (values are not clipped). Lesions keep their type and
    number, so the grade is unchanged.
    """
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"x must be a float batch (B, 3, H, W), got shape {tuple(x.shape)}")
    if not 0 <= brightness < 1:
        raise ValueError(f"brightness must be in [0, 1), got {brightness}")
    b = x.shape[0]
    rand = torch.rand(b, 4, generator=generator, dtype=x.dtype)
    flip_lr = torch.where(rand[:, 0] < 0.5, -1.0, 1.0).to(x.dtype)
    flip_ud = torch.where(rand[:, 1] < 0.5, -1.0, 1.0).to(x.dtype)
    angle = (rand[:, 2] * 2 - 1) * (max_angle * torch.pi / 180)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.zeros(b, 2, 3, dtype=x.dtype)  # output -> input sampling coordinates
    theta[:, 0, 0], theta[:, 0, 1] = cos * flip_lr, -sin * flip_ud
    theta[:, 1, 0], theta[:, 1, 1] = sin * flip_lr, cos * flip_ud
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    factor = 1 + (rand[:, 3] * 2 - 1) * brightness
    return out * factor[:, None, None, None]


class FundusDataset(Dataset):
    """A torch ``Dataset`` of fundus images: item = (float32 (3, H, W) in 0..1, int64 grade).

    See lesson 05.

    ``augment=True`` applies :func:`augment_batch` (flips, rotation, brightness) to each item,
    for training only; validation and test sets must not be augmented.

    >>> import numpy as np
    >>> ds = FundusDataset(np.zeros((4, 16, 16, 3), np.uint8), np.array([0, 1, 2, 4]))
    >>> x, y = ds[3]; tuple(x.shape), int(y), len(ds)
    ((3, 16, 16), 4, 4)
    """

    def __init__(self, images, grades, augment: bool = False, generator=None):
        images = _validate_images(np.asarray(images))
        grades = grade_array(grades)
        if len(images) != len(grades):
            raise ValueError(f"{len(images)} images but {len(grades)} grades; they must pair up "
                             "one to one")
        if not isinstance(augment, bool):
            raise TypeError(f"augment must be True or False, got {augment!r}")
        self.images = torch.from_numpy(np.ascontiguousarray(images))
        self.grades = torch.from_numpy(grades)
        self.augment = augment
        self.generator = generator

    def __len__(self) -> int:
        return len(self.grades)

    def __getitem__(self, index):
        x = self.images[index].permute(2, 0, 1).float().div_(255)
        if self.augment:
            x = augment_batch(x[None], generator=self.generator)[0]
        return x, self.grades[index]


def make_loaders(data: GradingData, batch_size: int = 64, augment: bool = True, seed: int = 0,
                 num_workers: int = 0) -> dict:
    """DataLoaders: shuffled (seeded), optionally augmented ``train``; plain ``val`` and ``test``.

    See lesson 04.
    """
    if not isinstance(data, GradingData):
        raise TypeError("data must be a GradingData from load_grading_data, got "
                        f"{type(data).__name__}")
    positive_int("batch_size", batch_size, numpy=False)
    generator = torch.Generator().manual_seed(seed)
    aug_generator = torch.Generator().manual_seed(seed + 1)
    loaders = {"train": DataLoader(FundusDataset(data.train.images, data.train.grades, augment,
                                                 aug_generator),
                                   batch_size=batch_size, shuffle=True, generator=generator,
                                   num_workers=num_workers)}
    for name in ("val", "test"):
        split = getattr(data, name)
        loaders[name] = DataLoader(FundusDataset(split.images, split.grades), batch_size=batch_size,
                                   shuffle=False, num_workers=num_workers)
    return loaders


def class_weights(grades, num_classes: int = NUM_GRADES):
    """Inverse-frequency weights ``w_c = N / (K n_c)`` as a float32 tensor (K,). See lesson 04.

    (scikit-learn's "balanced" weights.) A weighted cross-entropy with them gives each grade
    the same total weight. Every grade needs at least one example.
    """
    grades = grade_array(grades)
    counts = np.bincount(grades, minlength=num_classes)
    if len(counts) > num_classes:
        raise ValueError(f"grades go up to {grades.max()} but num_classes = {num_classes}")
    if np.any(counts == 0):
        missing = np.flatnonzero(counts == 0).tolist()
        raise ValueError(f"grade(s) {missing} have no examples, so their weight N / (K n_c) is "
                         "infinite; check the split (every grade must be in training) or merge "
                         "grades deliberately")
    return torch.tensor(len(grades) / (num_classes * counts), dtype=torch.float32)


def grades_of(dataset) -> np.ndarray:
    """The integer grades of a dataset (its ``grades`` attribute, or by iterating)."""
    if hasattr(dataset, "grades"):
        grades = dataset.grades
    elif isinstance(dataset, TensorDataset):
        grades = dataset.tensors[1]
    else:
        grades = [int(dataset[i][1]) for i in range(len(dataset))]
    grades = np.asarray(torch.as_tensor(grades).cpu().numpy(), dtype=np.int64).reshape(-1)
    if grades.size and (grades.min() < 0 or grades.max() >= NUM_GRADES):
        raise ValueError(f"grades must be integers 0..{NUM_GRADES - 1}, got values from "
                         f"{grades.min()} to {grades.max()}")
    return grades


def as_dataset(data, augment: bool = False) -> Dataset:
    """A torch Dataset from a Dataset, a data split (``.images``, ``.grades``) or a pair.

    uint8 images (N, H, W, 3) go through :class:`~qdr_course.retina.datasets.FundusDataset`, so
    training and evaluation see exactly the same pixel scaling.
    """
    if isinstance(data, Dataset):
        dataset = data
    else:
        if hasattr(data, "images") and hasattr(data, "grades"):
            images, grades = data.images, data.grades
        elif isinstance(data, (tuple, list)) and len(data) == 2:
            images, grades = data
        else:
            raise TypeError("expected a torch Dataset, a data split with .images and .grades, or a "
                            f"pair (images, grades); got {type(data).__name__}")
        dataset = FundusDataset(images, grades, augment=augment)
    if len(dataset) == 0:
        raise ValueError("the dataset is empty: there is nothing to train or evaluate on; check "
                         "the data split (e.g. n= large enough for every split)")
    return dataset
