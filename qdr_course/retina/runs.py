"""Run folders: what one training run leaves behind. See lesson 05.

A run folder holds ``settings.json`` (how the run was asked for, written first, so an
interrupted run can be finished with ``qdr-course train --resume``), ``checkpoint.pt`` (the
model, loadable with ``weights_only=True``), ``metrics.json`` (test metrics, history, settings
and the checkpoint's SHA-256), ``confusion_matrix.png`` and ``learning_curve.png``. Nothing in
an existing folder is ever overwritten: :func:`create_run_dir` refuses a folder that exists,
:func:`unique_run_dir` picks a fresh name. :func:`compare_graders` repeats a run over several
seeds and :func:`summarise_runs` gives the mean +- standard deviation of each metric.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from qdr_course.retina.metrics import plot_confusion, qwk_from_confusion
from qdr_course.retina.models import _Grader
from qdr_course.retina.training import evaluate_grader, train_grader
from qdr_course.utils import OKABE_ITO, set_seed

CHECKPOINT, METRICS, SETTINGS = "checkpoint.pt", "metrics.json", "settings.json"
CONFUSION_PNG, CURVE_PNG = "confusion_matrix.png", "learning_curve.png"
#: Keys ``metrics.json`` must have for ``qdr-course evaluate``.
REQUIRED_KEYS = {"settings": ("kind", "config", "data", "size", "n", "seed"),
                 "test": ("qwk", "accuracy", "confusion", "per_grade_recall",
                          "referable_sensitivity", "referable_specificity", "referable_auc", "n")}
#: Absolute tolerance when a re-evaluation is compared with the stored metrics (counts: exact).
REPRODUCE_TOLERANCE = 1e-6


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


def file_sha256(path) -> str:
    """SHA-256 of a file's bytes, hex (torch does not check its zip CRCs; this catches damage)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_title(settings: dict | None, split: str) -> str:
    """``"HybridGrader · synthetic · test split · seed 0"``: what a figure of a run shows."""
    if not settings:
        return f"{split} split"
    kind = settings.get("kind") or settings.get("model", "grader")
    data = str(settings.get("data", "?"))
    source, sep, where = data.partition(":")
    if sep:  # a folder or file: its name is enough in a title
        data = f"{source}:{Path(where).name}"
    return f"{kind} · {data} · {split} split · seed {settings.get('seed', '?')}"


def plot_learning_curve(history, ax=None, title: str = "learning curve"):
    """Training loss and validation loss / QWK per epoch, legend below the axes. See lesson 05."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    h = history if isinstance(history, dict) else history.as_dict()
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.8))
    epochs = np.arange(1, len(h["train_loss"]) + 1)
    # Okabe-Ito colours, each curve with its own marker and line style: never colour alone
    ax.plot(epochs, h["train_loss"], "o-", color=OKABE_ITO[4], label="train loss")
    if h.get("val_loss"):
        ax.plot(epochs, h["val_loss"], "s--", color=OKABE_ITO[5], label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    handles, labels = ax.get_legend_handles_labels()
    if h.get("val_qwk"):
        twin = ax.twinx()
        twin.plot(epochs, h["val_qwk"], "^:", color=OKABE_ITO[2], label="validation QWK")
        twin.set_ylabel("QWK")
        twin.set_ylim(min(0.0, min(h["val_qwk"])), 1.0)
        more = twin.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
    # one legend for both axes, under the x label: it can never cover a line
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=len(labels),
              frameon=False, fontsize="small")
    ax.set_title(title, fontsize="medium")
    return ax


def write_run(run_dir, *, report: dict, history, settings: dict) -> Path:
    """Write ``metrics.json`` and the two figures into a run folder.

    The checkpoint itself is written by :func:`qdr_course.retina.training.save_checkpoint`; its
    SHA-256
    goes into ``metrics.json``, which is written last, atomically, and never replaces an existing
    one. If writing fails (a full disk), the file being written is removed and the files already
    written whole are kept; ``train --resume`` then writes the rest.
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
    started: list[Path] = []
    try:
        fig, ax = plt.subplots(figsize=(4.6, 4.2))
        counts = np.asarray(report["confusion"], dtype=int)  # rows true, columns predicted
        plot_confusion(counts, ax=ax)
        ax.set_title(f"{run_title(settings, 'test')}\nQWK {qwk_from_confusion(counts):.3f}, "
                     f"{int(counts.sum())} images", fontsize="small")
        started.append(run_dir / CONFUSION_PNG)
        _save_figure(fig, started[-1])

        fig, ax = plt.subplots(figsize=(5.5, 3.8))
        plot_learning_curve(h, ax=ax, title=run_title(settings, "train/validation"))
        started.append(run_dir / CURVE_PNG)
        _save_figure(fig, started[-1])

        payload = {"settings": settings, "test": report, "history": h}
        if (run_dir / CHECKPOINT).is_file():
            payload["checkpoint_sha256"] = file_sha256(run_dir / CHECKPOINT)
        started.append(metrics_path)
        write_json_atomic(metrics_path, _jsonable(payload))
    except BaseException:
        if started:
            started[-1].unlink(missing_ok=True)  # the one being written; the others are whole
        raise
    return run_dir


def _save_figure(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    try:
        fig.tight_layout()
        fig.savefig(path, dpi=110, bbox_inches="tight")
    finally:
        plt.close(fig)


def write_json_atomic(path, payload) -> Path:
    """Write JSON to ``path`` through a temporary file and a rename: whole or not at all."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(payload, indent=2) + "\n")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def read_run(run_dir) -> dict:
    """Read a run folder's ``metrics.json``; check the checkpoint is there."""
    run_dir = Path(run_dir).expanduser()
    if not run_dir.is_dir():
        raise FileNotFoundError(f"no run folder at {run_dir}")
    missing = [name for name in (METRICS, CHECKPOINT) if not (run_dir / name).is_file()]
    if missing:
        resumable = (run_dir / SETTINGS).is_file() and METRICS in missing
        hint = (f"finish it with: qdr-course train --resume {run_dir}" if resumable
                else "was the training interrupted?")
        raise FileNotFoundError(f"{run_dir} is not a complete run folder: missing "
                                f"{', '.join(missing)} ({hint})")
    try:
        meta = json.loads((run_dir / METRICS).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{run_dir / METRICS} is not valid JSON ({error}); it was damaged or "
                         "edited: train the run again") from None
    return meta


def validate_run_metadata(meta, path) -> dict:
    """Refuse a ``metrics.json`` that lacks a key ``qdr-course evaluate`` needs, naming them all."""
    if not isinstance(meta, dict):
        raise ValueError(f"{path} holds a {type(meta).__name__}, not the object qdr-course train "
                         "writes; train the run again")
    missing = [f"{part}.{key}" for part, keys in REQUIRED_KEYS.items() for key in keys
               if not isinstance(meta.get(part), dict) or key not in meta[part]]
    if missing:
        raise ValueError(f"{path} lacks {', '.join(missing)}: it was not written by this version "
                         "of qdr-course train, or was edited; train the run again")
    for key, value in meta["test"].items():  # numbers, lists of numbers, or null (undefined)
        flat = np.asarray(value if value is not None else np.nan, dtype=object).ravel().tolist()
        if not all(v is None or (isinstance(v, int | float) and not isinstance(v, bool))
                   for v in flat):
            raise ValueError(f"{path}: test.{key} = {value!r} is not a number; the file was "
                             "edited: train the run again")
    return meta


def compare_reports(stored: dict, now: dict, tol: float = REPRODUCE_TOLERANCE) -> list[str]:
    """Every stored test metric that the re-evaluation does not reproduce (empty: all agree).

    Real values must agree within ``tol`` (absolute), counts (``n``, ``confusion``) exactly,
    and a missing value (NaN, stored as null) must be missing in both.
    """
    now = _jsonable(now)
    differences = []
    for key in REQUIRED_KEYS["test"]:
        a, b = stored.get(key), now.get(key)
        flat_a = np.asarray(a if a is not None else np.nan, dtype=object).ravel().tolist()
        flat_b = np.asarray(b if b is not None else np.nan, dtype=object).ravel().tolist()
        exact = key in ("n", "confusion")
        same = len(flat_a) == len(flat_b) and all(
            _same_value(x, y, 0.0 if exact else tol) for x, y in zip(flat_a, flat_b))
        if not same:
            differences.append(f"{key} {_show(a)} stored, {_show(b)} now")
    return differences


def _same_value(a, b, tol: float) -> bool:
    missing_a = a is None or (isinstance(a, float) and math.isnan(a))
    missing_b = b is None or (isinstance(b, float) and math.isnan(b))
    if missing_a or missing_b:
        return missing_a and missing_b
    return abs(float(a) - float(b)) <= tol


def _show(value) -> str:
    if isinstance(value, float):
        return f"{value:.6f}"
    return json.dumps(value)


# ------------------------------------------------------------------------ several seeds
SUMMARY_METRICS = ("qwk", "accuracy", "referable_sensitivity", "referable_specificity",
                   "referable_auc")


def compare_graders(builders, data, seeds: Iterable[int] = (0, 1, 2), keep_models: bool = False,
                    **train_kwargs) -> dict[str, list[dict]]:
    """Train and test every model once per seed; return ``{name: [report per seed]}``.

    See lesson 05.

    ``builders`` maps a name to a function that builds a fresh model (called after seeding,
    so the initial weights depend on the seed), or is one function ``build(seed)`` returning
    ``{name: model}`` - for twins that must start from the same weights (e.g.
    ``ClassicalGrader.matching(hybrid, copy_weights=True)``). Every model of one seed sees the
    same batches in the same order. ``data`` has ``.train``, ``.val`` and ``.test``. Each report
    also holds the test grades (``y_true``), the grade probabilities on the test and validation
    images (``probs``, ``val_probs``) and the validation grades (``val_true``);
    ``keep_models=True`` keeps each trained model in its report (``model``).
    """
    from qdr_course.retina.loaders import as_dataset
    from qdr_course.retina.training import _predict

    seeds = list(seeds)
    if not builders:
        raise ValueError("builders is empty: give at least one {name: function returning a model}")
    if not seeds:
        raise ValueError("seeds is empty: give at least one seed")
    results: dict[str, list[dict]] = {}
    for seed in seeds:
        set_seed(seed)
        if callable(builders):
            models = builders(seed)
        else:
            models = {}
            for name, build in builders.items():
                set_seed(seed)
                models[name] = build()
        for name, model in models.items():
            history = train_grader(model, data.train, data.val, seed=seed, **train_kwargs)
            report = evaluate_grader(model, data.test)
            report["y_true"], report["probs"], _ = _predict(model, as_dataset(data.test), 64)
            report["val_true"], report["val_probs"], _ = _predict(model, as_dataset(data.val), 64)
            report["epochs"] = history.epochs
            report["seconds"] = float(sum(history.seconds))
            report["val_qwk"] = list(history.val_qwk)
            report["train_loss"] = list(history.train_loss)
            report["best_epoch"] = history.best_epoch
            if keep_models:
                report["model"] = model
            results.setdefault(name, []).append(report)
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


#: RetinaMNIST test results published with MedMNIST v2 (Yang et al. 2023, Table 3): the range
#: over ResNet-18/50 at 28 and 224 px, auto-sklearn, AutoKeras and Google AutoML Vision.
RETINAMNIST_PUBLISHED = {"accuracy": (0.491, 0.531), "auc": (0.690, 0.750)}


def real_data_scores(model, split) -> dict:
    """QWK, accuracy and MedMNIST's AUC (one-vs-rest, averaged over grades) on a test split."""
    from sklearn.metrics import roc_auc_score

    from qdr_course.retina.metrics import quadratic_weighted_kappa
    from qdr_course.retina.training import predict_grades

    y_pred, probs = predict_grades(model, split)
    y = np.asarray(split.grades)
    present = np.unique(y)
    aucs = [roc_auc_score(y == g, probs[:, g]) for g in present] if len(present) > 1 else []
    return {"qwk": float(quadratic_weighted_kappa(y, y_pred)),
            "accuracy": float(np.mean(y_pred == y)),
            "auc": float(np.mean(aucs)) if aucs else float("nan")}


def train_and_score(builders: dict[str, Callable[[], _Grader]], data, seed: int = 0,
                    **train_kwargs) -> dict[str, dict]:
    """Train each model once on ``data.train`` (early stopping on ``data.val``) and score it on
    ``data.test`` with :func:`real_data_scores` (RetinaMNIST, when online).
    """
    rows = {}
    for name, build in builders.items():
        set_seed(seed)
        model = build()
        train_grader(model, data.train, data.val, seed=seed, **train_kwargs)
        rows[name] = real_data_scores(model, data.test)
    return rows


def format_real_scores(rows: dict[str, dict]) -> str:
    """Our test scores beside the published RetinaMNIST range (which reports no QWK)."""
    (a_lo, a_hi), (u_lo, u_hi) = RETINAMNIST_PUBLISHED["accuracy"], RETINAMNIST_PUBLISHED["auc"]
    lines = [f"{'':24s} {'QWK':>6s} {'accuracy':>10s} {'AUC':>12s}"]
    for name, r in rows.items():
        lines.append(f"{name:24s} {r['qwk']:6.3f} {r['accuracy']:10.3f} {r['auc']:12.3f}")
    lines.append(f"{'published (MedMNIST v2)':24s} {'-':>6s} {f'{a_lo:.2f}-{a_hi:.2f}':>10s} "
                 f"{f'{u_lo:.2f}-{u_hi:.2f}':>12s}")
    return "\n".join(lines)


def paired_seed_difference(results: dict[str, list[dict]], a: str, b: str, metric: str = "qwk",
                           level: float = 0.95) -> dict:
    """Mean of ``metric(a) - metric(b)`` over paired seeds, with its t confidence interval.

    (Lesson 05 now bootstraps seeds and test images together: see ``retina.screening``.)

    Run ``i`` of both models must share seed ``i`` (as :func:`compare_graders` makes them), so
    each difference removes what the seed does to both. Returns ``{"mean", "low", "high",
    "differences", "n"}``; needs at least 2 pairs.
    """
    from scipy.stats import t as student_t

    for name in (a, b):
        if name not in results:
            raise ValueError(f"no runs named {name!r}; have {sorted(results)}")
    if len(results[a]) != len(results[b]):
        raise ValueError(f"{a!r} has {len(results[a])} runs and {b!r} {len(results[b])}; "
                         "pairs need one run of each per seed")
    if len(results[a]) < 2:
        raise ValueError("a confidence interval needs at least 2 paired seeds")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    d = np.array([float(ra[metric]) - float(rb[metric])
                  for ra, rb in zip(results[a], results[b])])
    half = student_t.ppf((1 + level) / 2, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    mean = float(d.mean())
    return {"mean": mean, "low": mean - float(half), "high": mean + float(half),
            "differences": d.tolist(), "n": len(d)}


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
