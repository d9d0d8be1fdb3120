"""Run folders: what one training run leaves behind. See lesson 05.

A run folder holds ``checkpoint.pt`` (the model, loadable with ``weights_only=True``),
``metrics.json`` (test metrics, history, data and model settings), ``confusion_matrix.png``
and ``learning_curve.png``. Nothing in an existing folder is ever overwritten:
:func:`create_run_dir` refuses a folder that exists, :func:`unique_run_dir` picks a fresh name.
:func:`compare_graders` repeats a run over several seeds and :func:`summarise_runs` gives the
mean +- standard deviation of each metric.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from qdr_course.retina.metrics import plot_confusion
from qdr_course.retina.models import _Grader
from qdr_course.retina.training import evaluate_grader, train_grader
from qdr_course.utils import set_seed

CHECKPOINT, METRICS = "checkpoint.pt", "metrics.json"
CONFUSION_PNG, CURVE_PNG = "confusion_matrix.png", "learning_curve.png"


def create_run_dir(path) -> Path:
    """Create a new, empty run folder; refuse one that already exists."""
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"run folder {path} already exists; choose another folder (--out) or "
                              "delete it yourself: runs are never overwritten")
    path.mkdir(parents=True)
    return path


def unique_run_dir(root, name: str) -> Path:
    """``root/name``, or ``root/name-2``, ``-3``, ... if taken (not created)."""
    if not name or "/" in name or name in (".", ".."):
        raise ValueError(f"run name must be a plain folder name, got {name!r}")
    root = Path(root)
    candidate, k = root / name, 1
    while candidate.exists():
        k += 1
        candidate = root / f"{name}-{k}"
    return candidate


def _jsonable(value):
    """NumPy / torch values -> plain JSON types (NaN -> None)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars, torch tensors
        return _jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def plot_learning_curve(history, ax=None):
    """Training loss and validation loss / QWK per epoch. See lesson 05."""
    import matplotlib.pyplot as plt

    h = history if isinstance(history, dict) else history.as_dict()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.2))
    epochs = np.arange(1, len(h["train_loss"]) + 1)
    ax.plot(epochs, h["train_loss"], "o-", label="train loss")
    if h.get("val_loss"):
        ax.plot(epochs, h["val_loss"], "s-", label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    if h.get("val_qwk"):
        twin = ax.twinx()
        twin.plot(epochs, h["val_qwk"], "^-", color="tab:green", label="validation QWK")
        twin.set_ylabel("QWK")
        twin.set_ylim(min(0.0, min(h["val_qwk"])), 1.0)
        twin.legend(loc="center right")
    ax.legend(loc="upper right")
    ax.set_title("learning curve")
    return ax


def write_run(run_dir, *, report: dict, history, settings: dict) -> Path:
    """Write ``metrics.json`` and the two figures into a run folder.

    The checkpoint itself is written by :func:`qdr_course.retina.training.save_checkpoint`; the JSON
    file is written last and never replaces an existing one.
    """
    import matplotlib.pyplot as plt

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run folder {run_dir} does not exist; create it with "
                                "create_run_dir")
    metrics_path = run_dir / METRICS
    if metrics_path.exists():
        raise FileExistsError(f"{metrics_path} already exists; runs are never overwritten")
    h = history if isinstance(history, dict) else history.as_dict()

    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    plot_confusion(report["confusion"], ax=ax)  # rows true, columns predicted
    fig.tight_layout()
    fig.savefig(run_dir / CONFUSION_PNG, dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 3.2))
    plot_learning_curve(h, ax=ax)
    fig.tight_layout()
    fig.savefig(run_dir / CURVE_PNG, dpi=110)
    plt.close(fig)

    payload = {"settings": settings, "test": report, "history": h}
    metrics_path.write_text(json.dumps(_jsonable(payload), indent=2) + "\n")
    return run_dir


def read_run(run_dir) -> dict:
    """Read a run folder's ``metrics.json``; check the checkpoint is there."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"no run folder at {run_dir}")
    missing = [name for name in (METRICS, CHECKPOINT) if not (run_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{run_dir} is not a complete run folder: missing "
                                f"{', '.join(missing)} (was the training interrupted?)")
    try:
        return json.loads((run_dir / METRICS).read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{run_dir / METRICS} is not valid JSON: {error}") from error


# ------------------------------------------------------------------------ several seeds
SUMMARY_METRICS = ("qwk", "accuracy", "referable_sensitivity", "referable_specificity",
                   "referable_auc")


def compare_graders(builders: dict[str, Callable[[], _Grader]], data,
                    seeds: Iterable[int] = (0, 1, 2), **train_kwargs) -> dict[str, list[dict]]:
    """Train and test every model once per seed; return ``{name: [report per seed]}``.

    See lesson 05.

    ``builders`` maps a name to a function that builds a fresh model (called after seeding,
    so the initial weights depend on the seed). ``data`` has ``.train``, ``.val`` and ``.test``.
    """
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


def summarise_runs(results: dict[str, list[dict]],
                   metrics: Iterable[str] = SUMMARY_METRICS) -> dict:
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
    """A text table of :func:`summarise_runs`: one row per metric, one column per model."""
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
