"""Training and evaluating retinopathy graders. See lesson 05.

:func:`train_grader` is a plain PyTorch loop with the parts a real grader needs: seeds,
class weighting (or a balanced sampler), a warm-up + cosine learning-rate schedule, early stopping
on
the validation quadratic weighted kappa (QWK), and checkpoints that are written atomically,
loaded with ``torch.load(weights_only=True)`` (no pickled code runs) and can be resumed.
:func:`evaluate_grader` returns the full grading report; runs over several seeds are in
:mod:`qdr_course.retina.runs`.
"""

from __future__ import annotations

import dataclasses
import io
import math
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, WeightedRandomSampler

from qdr_course.retina.grades import NUM_GRADES, REFERABLE_GRADE
from qdr_course.retina.loaders import as_dataset, class_weights, grades_of
from qdr_course.retina.metrics import grading_report, quadratic_weighted_kappa
from qdr_course.retina.models import GRADERS, _Grader, build_grader, validate_images
from qdr_course.validate import non_negative_int, positive_int

CHECKPOINT_FORMAT = "qdr-course-grader/1"
CLASS_WEIGHTING = ("loss", "sampler", None)


@dataclasses.dataclass
class History:
    """What happened in each epoch of :func:`train_grader`."""

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


def _loader(dataset: Dataset, batch_size: int, *, shuffle: bool = False, sampler=None,
            generator: torch.Generator | None = None) -> DataLoader:
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle and sampler is None,
                      sampler=sampler, generator=generator, num_workers=0)


# ---------------------------------------------------------------------------- checkpoints
def save_checkpoint(path, model: _Grader, **state) -> Path:
    """Save a grader (its kind, config and weights) plus training state, atomically.

    Everything stored is a tensor or a plain Python value, so :func:`load_checkpoint` can use
    ``torch.load(weights_only=True)``. The file is written to ``path.tmp`` and then renamed,
    so an interrupted save never leaves a half-written checkpoint.
    """
    if not isinstance(model, _Grader):
        raise TypeError("model must be a HybridGrader or ClassicalGrader, got "
                        f"{type(model).__name__}")
    path = Path(path)
    payload = {"format": CHECKPOINT_FORMAT, "kind": model.kind, "config": model.config,
               "state_dict": model.state_dict(), **state}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    buffer = io.BytesIO()  # serialised in memory, so a full disk is Python's OSError (ENOSPC),
    torch.save(payload, buffer)  # not torch's opaque "unexpected pos" RuntimeError
    try:
        with open(tmp, "wb") as file:
            file.write(buffer.getbuffer())
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # never leave a half-written file behind
        raise
    return path


def _first_line(error: BaseException) -> str:
    """The first non-empty line of an error's message, or its type name when it has none."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # torch colours some of its messages
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def read_checkpoint(path) -> dict:
    """Read a checkpoint safely (``weights_only=True``) and check it is a grader's."""
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
    kinds = {cls.kind for cls in GRADERS.values()}
    shapes = {"kind": str, "config": dict, "state_dict": dict}
    wrong = [key for key, kind in shapes.items() if not isinstance(payload.get(key), kind)]
    if wrong or payload["kind"] not in kinds:
        raise ValueError(f"{path} is damaged or was edited: "
                         + (f"{', '.join(wrong)} missing or of the wrong type" if wrong
                            else f"unknown model kind {payload['kind']!r}")
                         + "; train again, or restore the run's own checkpoint")
    return payload


def load_checkpoint(path, model: _Grader | None = None, *, best: bool = True,
                    payload: dict | None = None) -> _Grader:
    """Load a grader from a checkpoint: into ``model`` if given, else a new one. See lesson 05.

    With ``best=True`` the weights of the best validation epoch are loaded (if the checkpoint
    has them). A checkpoint written by another kind of model, or with another configuration,
    is refused with an error that says which. ``payload``: what :func:`read_checkpoint` already
    returned for ``path`` (the file is then not read again).
    """
    payload = read_checkpoint(path) if payload is None else payload
    if model is None:
        model = build_grader(payload["kind"], **payload["config"])
    elif not isinstance(model, _Grader):
        raise TypeError("model must be a HybridGrader or ClassicalGrader, got "
                        f"{type(model).__name__}")
    if payload["kind"] != model.kind:
        raise ValueError(f"{path} holds a {payload['kind']}, not a {model.kind}; build a "
                         f"{payload['kind']} (or call load_checkpoint(path) without a model)")
    if dict(payload["config"]) != dict(model.config):
        raise ValueError(f"{path} was saved from a {model.kind} with config {payload['config']}, "
                         f"but this model has {model.config}")
    state = payload.get("best_state_dict") if best else None
    state = state if state is not None else payload["state_dict"]
    if not all(torch.is_tensor(v) and bool(torch.isfinite(v).all()) for v in state.values()
               if torch.is_tensor(v) and v.is_floating_point()):
        raise ValueError(f"{path} holds NaN or infinite weights: the training that wrote it "
                         "diverged; train again with a smaller --lr")
    try:
        model.load_state_dict(state)
    except RuntimeError as error:  # missing, unexpected or wrongly shaped tensors
        raise ValueError(f"{path}: its weights do not fit a {model.kind} {model.config} "
                         f"({_first_line(error)}); the checkpoint was edited or damaged: train "
                         "again") from None
    return model


# ------------------------------------------------------------------------------ training
def warmup_cosine(total_steps: int, warmup: float = 0.1,
                  final: float = 0.02) -> Callable[[int], float]:
    """Learning-rate factor: linear warm-up for 10 % of the steps, then cosine decay to 2 %."""
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
    positive_int("epochs", epochs, numpy=False)
    if not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    positive_int("batch_size", batch_size, numpy=False)
    if patience is not None and (not isinstance(patience, int) or patience < 1):
        raise ValueError("patience must be a positive integer or None (no early stopping), got "
                         f"{patience!r}")
    if class_weighting not in CLASS_WEIGHTING:
        raise ValueError(f"class_weighting must be one of {CLASS_WEIGHTING}, got "
                         f"{class_weighting!r}")
    non_negative_int("seed", seed, numpy=False)


def train_grader(model: _Grader, train_data, val_data=None, *, epochs: int = 10, lr: float = 1e-2,
                 batch_size: int = 32, weight_decay: float = 1e-4,
                 class_weighting: str | None = "loss", patience: int | None = 3, seed: int = 0,
                 checkpoint=None, resume: bool = False, augment: bool = False,
                 progress: bool = True) -> History:
    """Train a grader with cross-entropy; keep the weights of the best validation QWK.

    See lesson 05.

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
    if not isinstance(model, _Grader):
        raise TypeError("model must be a HybridGrader or ClassicalGrader, got "
                        f"{type(model).__name__}")
    _validate_training_args(epochs, lr, batch_size, patience, class_weighting, seed)
    train_set, val_set = _checked_sets(model, train_data, val_data, augment)
    grades = grades_of(train_set)

    torch.manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    weight = class_weights(grades) if class_weighting == "loss" else None
    loss_fn = nn.CrossEntropyLoss(weight=weight)
    steps_per_epoch = math.ceil(len(train_set) / batch_size)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer,
                                                  warmup_cosine(epochs * steps_per_epoch))
    settings = dict(epochs=epochs, lr=lr, batch_size=batch_size, weight_decay=weight_decay,
                    class_weighting=class_weighting, seed=seed, n_train=len(train_set))
    state = _TrainingState(History(), None, 0, 0)
    if checkpoint is not None:
        checkpoint = Path(checkpoint)
        if checkpoint.exists() and not resume:
            raise FileExistsError(f"checkpoint {checkpoint} exists; pass resume=True to continue "
                                  "that run, or choose another path (it is never overwritten "
                                  "silently)")
        if resume and checkpoint.exists():
            state = _resume(checkpoint, model, optimizer, scheduler, settings)
            if state.history.stopped_early or state.start_epoch >= epochs:
                return _finish(model, state)

    from qdr_course.progress import progress_bar  # widget or text, never a warning

    tqdm = progress_bar()

    bar = tqdm(total=(epochs - state.start_epoch) * steps_per_epoch, desc=f"{model.kind}",
               unit="batch", leave=False,
               **({} if progress else {"disable": True}))  # or TQDM_DISABLE=1
    try:
        for epoch in range(state.start_epoch, epochs):
            started = time.perf_counter()
            loader = _epoch_loader(train_set, grades, batch_size, class_weighting,
                                   _seed_epoch(seed, epoch))
            state.history.train_loss.append(
                _train_epoch(model, loader, optimizer, scheduler, loss_fn, bar, epoch))
            state.history.lr.append(float(optimizer.param_groups[0]["lr"]))
            _validate_epoch(model, val_set, batch_size, loss_fn, state, epoch, patience, epochs,
                            bar)
            state.history.seconds.append(time.perf_counter() - started)
            if checkpoint is not None:
                save_checkpoint(checkpoint, model, optimizer=optimizer.state_dict(),
                                scheduler=scheduler.state_dict(), history=state.history.as_dict(),
                                best_state_dict=state.best_state, bad_epochs=state.bad_epochs,
                                settings=settings)
            if state.history.stopped_early:
                break
    finally:
        bar.close()
    return _finish(model, state)


@dataclasses.dataclass
class _TrainingState:
    """What carries over from epoch to epoch (and through a checkpoint)."""

    history: History
    best_state: dict | None
    start_epoch: int
    bad_epochs: int


def _checked_sets(model: _Grader, train_data, val_data, augment: bool):
    """The training and validation Datasets, checked against the model before the first epoch."""
    train_set = as_dataset(train_data, augment=augment)
    val_set = as_dataset(val_data) if val_data is not None else None
    for name, dataset in (("training", train_set), ("validation", val_set)):
        if dataset is not None:  # fail now, with the model's own message, not after an epoch
            try:
                validate_images(dataset[0][0].unsqueeze(0), model.image_size)
            except (ValueError, TypeError) as error:
                raise type(error)(f"{name} images do not fit the model: {error}") from None
    return train_set, val_set


def _resume(checkpoint: Path, model: _Grader, optimizer, scheduler,
            settings: dict) -> _TrainingState:
    """Continue from ``checkpoint``, which must have been written with the same settings."""
    payload = read_checkpoint(checkpoint)
    load_checkpoint(checkpoint, model, best=False, payload=payload)
    if payload["settings"] != settings:
        raise ValueError(f"cannot resume {checkpoint}: it was trained with {payload['settings']}, "
                         f"now called with {settings}")
    optimizer.load_state_dict(payload["optimizer"])
    scheduler.load_state_dict(payload["scheduler"])
    history = History(**payload["history"])
    return _TrainingState(history, payload.get("best_state_dict"), history.epochs,
                          payload["bad_epochs"])


def _epoch_loader(train_set: Dataset, grades: np.ndarray, batch_size: int, class_weighting,
                  generator: torch.Generator) -> DataLoader:
    """The shuffled training batches of one epoch (balanced by a sampler if asked)."""
    sampler = None
    if class_weighting == "sampler":
        counts = np.bincount(grades, minlength=NUM_GRADES).astype(float)
        sample_weights = torch.as_tensor(1.0 / np.maximum(counts[grades], 1.0), dtype=torch.double)
        sampler = WeightedRandomSampler(sample_weights, len(grades), generator=generator)
    return _loader(train_set, batch_size, shuffle=True, sampler=sampler, generator=generator)


def _train_epoch(model: _Grader, loader: DataLoader, optimizer, scheduler, loss_fn, bar,
                 epoch: int) -> float:
    """One pass over the training batches; return the mean training loss."""
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
    return total / count


def _validate_epoch(model: _Grader, val_set, batch_size: int, loss_fn, state: _TrainingState,
                    epoch: int, patience, epochs: int, bar) -> None:
    """Validation QWK of this epoch; keep the best weights; decide on early stopping."""
    history = state.history
    if val_set is not None:
        y_true, y_prob, val_loss = _predict(model, val_set, batch_size, loss_fn)
        qwk = float(quadratic_weighted_kappa(y_true, y_prob.argmax(1)))
        history.val_loss.append(val_loss)
        history.val_qwk.append(qwk)
    else:
        qwk = math.nan  # without validation data, keep the last epoch
    if val_set is None or qwk > history.best_qwk or state.best_state is None:
        history.best_qwk, history.best_epoch, state.bad_epochs = qwk, epoch, 0
        state.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    else:
        state.bad_epochs += 1
    if val_set is not None:
        bar.set_postfix(epoch=epoch + 1, val_qwk=f"{qwk:.3f}")
    if val_set is not None and patience is not None and state.bad_epochs >= patience:
        history.stopped_early = epoch + 1 < epochs


def _finish(model: _Grader, state: _TrainingState) -> History:
    """Load the best weights, switch to evaluation mode, return the history."""
    if state.best_state is not None:
        model.load_state_dict(state.best_state)
    model.eval()
    return state.history


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
            probs.append(torch.softmax(model.grade_logits(logits), dim=1))
            y_true.append(y)
    finally:
        model.train(was_training)
    y_true = torch.cat(y_true).numpy().astype(np.int64)
    return y_true, torch.cat(probs).double().numpy(), loss_sum / len(y_true)


def predict_grades(model: _Grader, data, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Predicted grades (N,) and grade probabilities (N, 5) for a dataset or split.

    See lesson 05.
    """
    _, probs, _ = _predict(model, as_dataset(data), batch_size)
    return probs.argmax(1), probs


def referable_score(probs: np.ndarray) -> np.ndarray:
    """P(grade >= 2), referable DR (moderate or worse), from grade probabilities."""
    probs = np.asarray(probs)
    if probs.ndim != 2 or probs.shape[1] != NUM_GRADES:
        raise ValueError(f"probs must have shape (N, {NUM_GRADES}), got {probs.shape}")
    return probs[:, REFERABLE_GRADE:].sum(axis=1)


def evaluate_grader(model: _Grader, data, batch_size: int = 64) -> dict:
    """The grading report (QWK, accuracy, confusion, referable-DR sensitivity/specificity/AUC).

    See lesson 05.
    """
    y_true, probs, _ = _predict(model, as_dataset(data), batch_size)
    return grading_report(y_true, probs.argmax(1), y_score=probs)
