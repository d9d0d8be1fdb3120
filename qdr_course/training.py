"""Training and evaluating retinopathy graders. See lesson 05.

:func:`train_grader` is a plain PyTorch loop with the parts a real grader needs: seeds,
class weighting (or a balanced sampler), a warm-up + cosine learning-rate schedule, early stopping on
the validation quadratic weighted kappa (QWK), and checkpoints that are written atomically,
loaded with ``torch.load(weights_only=True)`` (no pickled code runs) and can be resumed.
:func:`evaluate_grader` returns the full grading report; :func:`compare_graders` repeats a
run over several seeds and :func:`summarize_runs` prints mean +- standard deviation.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import time
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset, WeightedRandomSampler

from qdr_course.models import NUM_GRADES, _Grader, build_grader, check_images

CHECKPOINT_FORMAT = "qdr-course-grader/1"
CLASS_WEIGHTING = ("loss", "sampler", None)


@dataclasses.dataclass
class History:
    """What happened in each epoch of :func:`train_grader`. See lesson 05."""

    train_loss: list[float] = dataclasses.field(default_factory=list)
    val_loss: list[float] = dataclasses.field(default_factory=list)
    val_qwk: list[float] = dataclasses.field(default_factory=list)
    lr: list[float] = dataclasses.field(default_factory=list)
    seconds: list[float] = dataclasses.field(default_factory=list)
    best_epoch: int = -1
    best_qwk: float = -math.inf
    stopped_early: bool = False

    @property
    def epochs(self) -> int:
        """Number of epochs run so far."""
        return len(self.train_loss)

    def as_dict(self) -> dict:
        """Plain types only: fits in JSON and in a ``weights_only`` checkpoint."""
        return dataclasses.asdict(self)


# --------------------------------------------------------------------------------- data
def grades_of(dataset) -> np.ndarray:
    """The integer grades of a dataset (its ``grades`` attribute, or by iterating). See lesson 05."""
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
    """A torch Dataset from a Dataset, a data split (``.images``, ``.grades``) or a pair. See lesson 05.

    uint8 images (N, H, W, 3) go through :class:`~qdr_course.datasets.FundusDataset`, so
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
        from qdr_course.datasets import FundusDataset

        dataset = FundusDataset(images, grades, augment=augment)
    if len(dataset) == 0:
        raise ValueError("the dataset is empty: there is nothing to train or evaluate on; check the "
                         "data split (e.g. n= large enough for every split)")
    return dataset


def _loader(dataset: Dataset, batch_size: int, *, shuffle: bool = False, sampler=None,
            generator: torch.Generator | None = None) -> DataLoader:
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle and sampler is None,
                      sampler=sampler, generator=generator, num_workers=0)


def _class_weights(grades: np.ndarray) -> torch.Tensor:
    from qdr_course.datasets import class_weights

    return torch.as_tensor(class_weights(grades), dtype=torch.float32)


# ---------------------------------------------------------------------------- checkpoints
def save_checkpoint(path, model: _Grader, **state) -> Path:
    """Save a grader (its kind, config and weights) plus training state, atomically. See lesson 05.

    Everything stored is a tensor or a plain Python value, so :func:`load_checkpoint` can use
    ``torch.load(weights_only=True)``. The file is written to ``path.tmp`` and then renamed,
    so an interrupted save never leaves a half-written checkpoint.
    """
    if not isinstance(model, _Grader):
        raise TypeError(f"model must be a HybridGrader or ClassicalGrader, got {type(model).__name__}")
    path = Path(path)
    payload = {"format": CHECKPOINT_FORMAT, "kind": model.kind, "config": model.config,
               "state_dict": model.state_dict(), **state}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    except (OSError, RuntimeError) as error:  # a full disk: torch says RuntimeError, Python OSError
        tmp.unlink(missing_ok=True)  # never leave a half-written file behind
        if isinstance(error, OSError):
            raise
        raise OSError(f"could not write the checkpoint {path} ({_first_line(error)}); is the disk "
                      "full?") from error
    return path


def _first_line(error: BaseException) -> str:
    """The first non-empty line of an error's message, or its type name when it has none."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # torch colours some of its messages
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def read_checkpoint(path) -> dict:
    """Read a checkpoint safely (``weights_only=True``) and check it is a grader's. See lesson 05."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    if path.stat().st_size == 0:
        raise ValueError(f"{path} is empty (0 bytes): the checkpoint was not written completely; "
                         "train again, or restore the file from a copy")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # pickle with code in it, truncated, or not a torch file at all
        raise ValueError(f"{path} is not a safe qdr-course checkpoint, or it is truncated or "
                         f"damaged ({_first_line(error)}); train again, or restore it from a "
                         "copy") from error
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a qdr-course grader checkpoint (expected format "
                         f"{CHECKPOINT_FORMAT!r}); was it written by save_checkpoint?")
    return payload


def load_checkpoint(path, model: _Grader | None = None, *, best: bool = True) -> _Grader:
    """Load a grader from a checkpoint: into ``model`` if given, else a new one. See lesson 05.

    With ``best=True`` the weights of the best validation epoch are loaded (if the checkpoint
    has them). A checkpoint written by another kind of model, or with another configuration,
    is refused with an error that says which.
    """
    payload = read_checkpoint(path)
    if model is None:
        model = build_grader(payload["kind"], **payload["config"])
    elif not isinstance(model, _Grader):
        raise TypeError(f"model must be a HybridGrader or ClassicalGrader, got {type(model).__name__}")
    if payload["kind"] != model.kind:
        raise ValueError(f"{path} holds a {payload['kind']}, not a {model.kind}; build a "
                         f"{payload['kind']} (or call load_checkpoint(path) without a model)")
    if dict(payload["config"]) != dict(model.config):
        raise ValueError(f"{path} was saved from a {model.kind} with config {payload['config']}, "
                         f"but this model has {model.config}")
    state = payload.get("best_state_dict") if best else None
    model.load_state_dict(state if state is not None else payload["state_dict"])
    return model


# ------------------------------------------------------------------------------ training
def warmup_cosine(total_steps: int, warmup: float = 0.1, final: float = 0.02) -> Callable[[int], float]:
    """Learning-rate factor: linear warm-up for 10 % of the steps, then cosine decay to 2 %. See lesson 05."""
    if total_steps < 1:
        raise ValueError(f"total_steps must be >= 1, got {total_steps}")
    n_warm = max(1, round(warmup * total_steps))

    def factor(step: int) -> float:
        if step < n_warm:
            return (step + 1) / n_warm
        progress = min(1.0, (step - n_warm) / max(1, total_steps - n_warm))
        return final + (1 - final) * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


def _seed_epoch(seed: int, epoch: int) -> torch.Generator:
    """Seed everything for one epoch so a resumed run repeats an uninterrupted one exactly."""
    epoch_seed = seed * 100_003 + epoch
    torch.manual_seed(epoch_seed)
    np.random.seed(epoch_seed % 2**32)
    return torch.Generator().manual_seed(epoch_seed)


def _validate_training_args(epochs, lr, batch_size, patience, class_weighting, seed):
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if patience is not None and (not isinstance(patience, int) or patience < 1):
        raise ValueError(f"patience must be a positive integer or None (no early stopping), got {patience!r}")
    if class_weighting not in CLASS_WEIGHTING:
        raise ValueError(f"class_weighting must be one of {CLASS_WEIGHTING}, got {class_weighting!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


def train_grader(model: _Grader, train_data, val_data=None, *, epochs: int = 10, lr: float = 1e-2,
                 batch_size: int = 32, weight_decay: float = 1e-4, class_weighting: str | None = "loss",
                 patience: int | None = 3, seed: int = 0, checkpoint=None, resume: bool = False,
                 augment: bool = False, progress: bool = True) -> History:
    """Train a grader with cross-entropy; keep the weights of the best validation QWK. See lesson 05.

    ``train_data`` / ``val_data``: torch Datasets, data splits (``.images``, ``.grades``) or
    ``(images, grades)`` pairs. ``class_weighting``: ``"loss"`` (weighted cross-entropy),
    ``"sampler"`` (balanced batches) or ``None``. Training stops when the validation QWK has not
    improved for ``patience`` epochs. ``checkpoint``: a file written after every epoch; an
    existing file is only continued with ``resume=True`` (never overwritten silently).
    ``augment=True`` applies lesson 04's flips, rotations and brightness changes to the training
    images; it is off by default because bilinear rotation blurs one-pixel microaneurysms at
    64 x 64 and, measured on the synthetic data, slowed learning.
    Returns the :class:`History`; the model ends with its best weights.
    """
    from qdr_course.metrics import quadratic_weighted_kappa

    if not isinstance(model, _Grader):
        raise TypeError(f"model must be a HybridGrader or ClassicalGrader, got {type(model).__name__}")
    _validate_training_args(epochs, lr, batch_size, patience, class_weighting, seed)
    train_set = as_dataset(train_data, augment=augment)
    val_set = as_dataset(val_data) if val_data is not None else None
    for name, dataset in (("training", train_set), ("validation", val_set)):
        if dataset is not None:  # fail now, with the model's own message, not after an epoch
            try:
                check_images(dataset[0][0].unsqueeze(0), model.image_size)
            except (ValueError, TypeError) as error:
                raise type(error)(f"{name} images do not fit the model: {error}") from None
    grades = grades_of(train_set)

    torch.manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sampler = None
    if class_weighting == "loss":
        loss_fn = nn.CrossEntropyLoss(weight=_class_weights(grades))
    else:
        loss_fn = nn.CrossEntropyLoss()
    steps_per_epoch = math.ceil(len(train_set) / batch_size)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_cosine(epochs * steps_per_epoch))
    history, best_state, start_epoch, bad_epochs = History(), None, 0, 0

    if checkpoint is not None:
        checkpoint = Path(checkpoint)
        if checkpoint.exists() and not resume:
            raise FileExistsError(f"checkpoint {checkpoint} exists; pass resume=True to continue that "
                                  "run, or choose another path (it is never overwritten silently)")
        if resume and checkpoint.exists():
            payload = read_checkpoint(checkpoint)
            load_checkpoint(checkpoint, model, best=False)
            settings = payload["settings"]
            mine = dict(epochs=epochs, lr=lr, batch_size=batch_size, weight_decay=weight_decay,
                        class_weighting=class_weighting, seed=seed, n_train=len(train_set))
            if settings != mine:
                raise ValueError(f"cannot resume {checkpoint}: it was trained with {settings}, "
                                 f"now called with {mine}")
            optimizer.load_state_dict(payload["optimizer"])
            scheduler.load_state_dict(payload["scheduler"])
            history = History(**payload["history"])
            best_state = payload.get("best_state_dict")
            start_epoch = history.epochs
            bad_epochs = payload["bad_epochs"]
            if history.stopped_early or start_epoch >= epochs:
                if best_state is not None:
                    model.load_state_dict(best_state)
                model.eval()
                return history

    from qdr_course.progress import progress_bar  # widget or text, never a warning

    tqdm = progress_bar()

    bar = tqdm(total=(epochs - start_epoch) * steps_per_epoch, desc=f"{model.kind}", unit="batch",
               leave=False, **({} if progress else {"disable": True}))  # TQDM_DISABLE=1 also works
    try:
        for epoch in range(start_epoch, epochs):
            started = time.perf_counter()
            generator = _seed_epoch(seed, epoch)
            if class_weighting == "sampler":
                counts = np.bincount(grades, minlength=NUM_GRADES).astype(float)
                sample_weights = torch.as_tensor(1.0 / np.maximum(counts[grades], 1.0), dtype=torch.double)
                sampler = WeightedRandomSampler(sample_weights, len(grades), generator=generator)
            loader = _loader(train_set, batch_size, shuffle=True, sampler=sampler, generator=generator)
            model.train()
            total, count = 0.0, 0
            for x, y in loader:
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()
                scheduler.step()
                total += loss.item() * len(y)
                count += len(y)
                bar.update(1)
                bar.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.3f}")
            history.train_loss.append(total / count)
            history.lr.append(float(optimizer.param_groups[0]["lr"]))
            if val_set is not None:
                y_true, y_prob, val_loss = _predict(model, val_set, batch_size, loss_fn)
                qwk = float(quadratic_weighted_kappa(y_true, y_prob.argmax(1)))
                history.val_loss.append(val_loss)
                history.val_qwk.append(qwk)
            else:
                qwk = math.nan  # without validation data, keep the last epoch
            history.seconds.append(time.perf_counter() - started)
            if val_set is None or qwk > history.best_qwk or best_state is None:
                history.best_qwk, history.best_epoch, bad_epochs = qwk, epoch, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                bad_epochs += 1
            if val_set is not None:
                bar.set_postfix(epoch=epoch + 1, val_qwk=f"{qwk:.3f}")
            if val_set is not None and patience is not None and bad_epochs >= patience:
                history.stopped_early = epoch + 1 < epochs
            if checkpoint is not None:
                save_checkpoint(checkpoint, model, optimizer=optimizer.state_dict(),
                                scheduler=scheduler.state_dict(), history=history.as_dict(),
                                best_state_dict=best_state, bad_epochs=bad_epochs,
                                settings=dict(epochs=epochs, lr=lr, batch_size=batch_size,
                                              weight_decay=weight_decay, class_weighting=class_weighting,
                                              seed=seed, n_train=len(train_set)))
            if history.stopped_early:
                break
    finally:
        bar.close()
    model.load_state_dict(best_state)
    model.eval()
    return history


# ---------------------------------------------------------------------------- evaluation
@torch.no_grad()
def _predict(model: _Grader, dataset: Dataset, batch_size: int, loss_fn=None):
    was_training = model.training
    model.eval()
    y_true, probs, loss_sum = [], [], 0.0
    try:
        for x, y in _loader(dataset, batch_size):
            logits = model(x)
            if loss_fn is not None:
                loss_sum += float(loss_fn(logits, y)) * len(y)
            probs.append(torch.softmax(logits, dim=1))
            y_true.append(y)
    finally:
        model.train(was_training)
    y_true = torch.cat(y_true).numpy().astype(np.int64)
    return y_true, torch.cat(probs).double().numpy(), loss_sum / len(y_true)


def predict_grades(model: _Grader, data, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Predicted grades (N,) and grade probabilities (N, 5) for a dataset or split. See lesson 05."""
    _, probs, _ = _predict(model, as_dataset(data), batch_size)
    return probs.argmax(1), probs


def referable_score(probs: np.ndarray) -> np.ndarray:
    """P(grade >= 2), referable DR (moderate or worse), from grade probabilities. See lesson 05."""
    probs = np.asarray(probs)
    if probs.ndim != 2 or probs.shape[1] != NUM_GRADES:
        raise ValueError(f"probs must have shape (N, {NUM_GRADES}), got {probs.shape}")
    return probs[:, 2:].sum(axis=1)


def evaluate_grader(model: _Grader, data, batch_size: int = 64) -> dict:
    """The grading report (QWK, accuracy, confusion, referable-DR sensitivity/specificity/AUC). See lesson 05."""
    from qdr_course.metrics import grading_report

    y_true, probs, _ = _predict(model, as_dataset(data), batch_size)
    return grading_report(y_true, probs.argmax(1), y_score=probs)


def _confusion_counts(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """The 5 x 5 confusion matrix by one bincount (fast inside a bootstrap loop)."""
    flat = np.bincount(y_true * NUM_GRADES + y_pred, minlength=NUM_GRADES**2)
    return flat.reshape(NUM_GRADES, NUM_GRADES)


def qwk_difference_interval(y_true, pred_a, pred_b, n_boot: int = 2000, level: float = 0.95,
                            seed: int = 0) -> tuple[float, float, float]:
    """QWK(a) - QWK(b) on the same images and its paired bootstrap interval. See lesson 05.

    Images are resampled with replacement ``n_boot`` times; resamples where either QWK is
    undefined (one grade only) are skipped. Returns ``(difference, low, high)``; an interval
    containing 0 means the two graders' difference is within chance on these images.
    """
    from qdr_course.metrics import quadratic_weighted_kappa, qwk_from_confusion

    y_true, pred_a, pred_b = (np.asarray(v, dtype=np.int64).reshape(-1)
                              for v in (y_true, pred_a, pred_b))
    if not len(y_true) == len(pred_a) == len(pred_b) or len(y_true) < 2:
        raise ValueError("y_true, pred_a and pred_b must have the same length, at least 2")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    diff = quadratic_weighted_kappa(y_true, pred_a) - quadratic_weighted_kappa(y_true, pred_b)
    rng = np.random.default_rng(seed)
    diffs = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for _ in range(n_boot):
            i = rng.integers(0, len(y_true), len(y_true))
            qa, qb = (qwk_from_confusion(_confusion_counts(y_true[i], p[i]))
                      for p in (pred_a, pred_b))
            if np.isfinite(qa) and np.isfinite(qb):
                diffs.append(qa - qb)
    if not diffs:
        return float(diff), math.nan, math.nan
    low, high = np.quantile(diffs, [(1 - level) / 2, (1 + level) / 2])
    return float(diff), float(low), float(high)


# ------------------------------------------------------------------------ several seeds
SUMMARY_METRICS = ("qwk", "accuracy", "referable_sensitivity", "referable_specificity", "referable_auc")


def compare_graders(builders: dict[str, Callable[[], _Grader]], data, seeds: Iterable[int] = (0, 1, 2),
                    **train_kwargs) -> dict[str, list[dict]]:
    """Train and test every model once per seed; return ``{name: [report per seed]}``. See lesson 05.

    ``builders`` maps a name to a function that builds a fresh model (called after seeding,
    so the initial weights depend on the seed). ``data`` has ``.train``, ``.val`` and ``.test``.
    """
    from qdr_course.utils import set_seed

    seeds = list(seeds)
    if not builders:
        raise ValueError("builders is empty: give at least one {name: function returning a model}")
    if not seeds:
        raise ValueError("seeds is empty: give at least one seed")
    results: dict[str, list[dict]] = {name: [] for name in builders}
    for seed in seeds:
        for name, build in builders.items():
            set_seed(seed)
            model = build()
            history = train_grader(model, data.train, data.val, seed=seed, **train_kwargs)
            report = evaluate_grader(model, data.test)
            report["epochs"] = history.epochs
            report["seconds"] = float(sum(history.seconds))
            results[name].append(report)
    return results


def summarize_runs(results: dict[str, list[dict]], metrics: Iterable[str] = SUMMARY_METRICS) -> dict:
    """Mean and sample standard deviation of each metric over seeds. See lesson 05."""
    summary = {}
    for name, reports in results.items():
        if not reports:
            raise ValueError(f"no runs for {name!r}")
        summary[name] = {}
        for metric in metrics:
            values = np.array([float(r[metric]) for r in reports], dtype=float)
            std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
            summary[name][metric] = (float(values.mean()), std)
    return summary


def format_summary(summary: dict, digits: int = 3) -> str:
    """A text table of :func:`summarize_runs`: one row per metric, one column per model."""
    names = list(summary)
    metrics = list(next(iter(summary.values())))
    width = max(len(m) for m in metrics)
    cell = 2 * digits + 8
    lines = [" " * width + "".join(f"  {n:>{cell}}" for n in names)]
    for metric in metrics:
        row = f"{metric:<{width}}"
        for name in names:
            mean, std = summary[name][metric]
            row += f"  {f'{mean:.{digits}f} ± {std:.{digits}f}':>{cell}}"
        lines.append(row)
    return "\n".join(lines)
