"""``qdr-course train``: train a grader, test it, write a run folder. See lesson 05."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DATA_KINDS = ("synthetic", "retinamnist", "aptos", "eyepacs")
_NEEDS_DIR = ("aptos", "eyepacs")


def parse_data_spec(spec: str) -> tuple[str, Path | None]:
    """``"synthetic"``, ``"retinamnist"``, ``"aptos:DIR"``, ``"eyepacs:DIR"`` -> (kind, dir)."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError("--data must be one of synthetic, retinamnist, aptos:DIR, eyepacs:DIR; "
                         "got an empty value")
    kind, sep, rest = spec.strip().partition(":")
    kind = kind.lower()
    if kind not in DATA_KINDS:
        raise ValueError(f"cannot parse --data {spec!r}: the kind must be one of "
                         f"{', '.join(DATA_KINDS)} (aptos and eyepacs need a folder, e.g. "
                         "aptos:~/data/aptos)")
    if kind in _NEEDS_DIR:
        if not sep or not rest:
            raise ValueError(f"--data {spec!r}: {kind} needs the folder of the downloaded data, "
                             f"e.g. --data {kind}:/path/to/{kind}")
        folder = Path(rest).expanduser()
        if not folder.is_dir():
            raise ValueError(f"--data {spec!r}: {folder} is not a folder")
        return kind, folder
    if sep:
        raise ValueError(f"--data {spec!r}: {kind} takes no folder (write just --data {kind})")
    return kind, None


def data_spec_string(kind: str, folder: Path | None) -> str:
    """The spec string :func:`qdr_course.retina.datasets.load_grading_data` understands."""
    return kind if folder is None else f"{kind}:{folder}"


def _bounded(convert, what: str, minimum: float, inclusive: bool):
    """An argparse ``type`` that converts with ``convert`` and rejects values below ``minimum``."""

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < minimum or (value == minimum and not inclusive) or value != value:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value

    return parse


_positive_int = _bounded(int, "a positive integer", 1, inclusive=True)
_non_negative_int = _bounded(int, "a non-negative integer", 0, inclusive=True)
_positive_float = _bounded(float, "a positive number", 0.0, inclusive=False)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="train a hybrid or classical retinopathy grader and write a run folder",
        description="Train a grader (CNN -> circuit or classical bottleneck -> 5 grades), keep the "
        "epoch with the best validation QWK, test it on the held-out split, print the metrics and "
        "write a run folder (checkpoint.pt, metrics.json, confusion_matrix.png, "
        "learning_curve.png). With no arguments it trains the hybrid grader on synthetic fundus "
        "images, offline.")
    parser.add_argument("--model", choices=("hybrid", "classical"), default="hybrid",
                        help="hybrid (quantum circuit bottleneck) or classical (Linear+tanh twin); "
                        "default hybrid")
    parser.add_argument("--data", default="synthetic", metavar="SPEC",
                        help="synthetic (default, offline), retinamnist (downloads once), "
                        "aptos:DIR or eyepacs:DIR")
    parser.add_argument("--size", type=_positive_int, default=64,
                        help="image side in pixels (default 64)")
    parser.add_argument("--n", type=_positive_int, default=2000,
                        help="number of synthetic images to generate, all splits (default 2000)")
    parser.add_argument("--epochs", type=_positive_int, default=10,
                        help="maximum epochs (default 10)")
    parser.add_argument("--batch-size", type=_positive_int, default=32, help="default 32")
    parser.add_argument("--lr", type=_positive_float, default=1e-2,
                        help="peak learning rate (default 1e-2)")
    parser.add_argument("--patience", type=_positive_int, default=3,
                        help="stop after this many epochs without a better validation QWK (default "
                        "3)")
    parser.add_argument("--class-weighting", choices=("loss", "sampler", "none"), default="loss",
                        help="weighted cross-entropy (default), a balanced sampler, or none")
    parser.add_argument("--n-qubits", type=_positive_int, default=3,
                        help="hybrid: qubits (default 3)")
    parser.add_argument("--n-layers", type=_positive_int, default=2,
                        help="hybrid: circuit layers (default 2)")
    parser.add_argument("--seed", type=_non_negative_int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", type=Path, default=None,
                        help="run folder to create (must not exist); default runs/MODEL-DATA-sSEED "
                        "with -2, -3, ... appended if taken")
    parser.add_argument("--augment", action="store_true",
                        help="flip, rotate and brighten training images (off by default: it blurs "
                        "microaneurysms at small sizes)")
    parser.add_argument("--threads", type=_positive_int, default=1,
                        help="torch threads (default 1: fastest for these small models)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def build_model(args: argparse.Namespace):
    """The model the arguments ask for."""
    from qdr_course.retina.models import ClassicalGrader, HybridGrader

    hybrid = HybridGrader(n_qubits=args.n_qubits, n_layers=args.n_layers, image_size=args.size)
    if args.model == "hybrid":
        return hybrid
    return ClassicalGrader.matching(hybrid)


def format_run_report(report: dict, title: str = "test") -> str:
    """A two-column table of the headline metrics of a grading report."""
    rows = [("QWK", report["qwk"]), ("accuracy", report["accuracy"]),
            ("referable sensitivity", report["referable_sensitivity"]),
            ("referable specificity", report["referable_specificity"]),
            ("referable AUC", report["referable_auc"])]
    width = max(len(r[0]) for r in rows)
    lines = [f"{'metric':<{width}}  {title}"]
    lines += [f"{name:<{width}}  {float(value):.3f}" for name, value in rows]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except (ValueError, TypeError, FileExistsError, FileNotFoundError) as error:
        print(f"qdr-course train: error: {error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import torch

    from qdr_course.retina.datasets import load_grading_data
    from qdr_course.retina.models import count_parameters
    from qdr_course.retina.runs import CHECKPOINT, create_run_dir, unique_run_dir, write_run
    from qdr_course.retina.training import evaluate_grader, train_grader
    from qdr_course.utils import set_seed

    torch.set_num_threads(args.threads)
    kind, folder = parse_data_spec(args.data)
    spec = data_spec_string(kind, folder)
    if args.out is not None and args.out.exists():  # fail before the slow part
        create_run_dir(args.out)
    set_seed(args.seed)
    print(f"loading data: {spec} ({args.size}x{args.size})", flush=True)
    data = load_grading_data(spec, size=args.size, n=args.n, seed=args.seed)
    set_seed(args.seed)
    model = build_model(args)
    print(f"model: {model.kind}, {count_parameters(model)} parameters "
          f"({model.bottleneck_parameters()} in the bottleneck); "
          "train/val/test = "
          f"{len(data.train.grades)}/{len(data.val.grades)}/{len(data.test.grades)}", flush=True)
    run_dir = create_run_dir(args.out if args.out is not None
                             else unique_run_dir("runs", f"{args.model}-{kind}-s{args.seed}"))
    weighting = None if args.class_weighting == "none" else args.class_weighting
    history = train_grader(model, data.train, data.val, epochs=args.epochs, lr=args.lr,
                           batch_size=args.batch_size, class_weighting=weighting,
                           patience=args.patience, seed=args.seed, checkpoint=run_dir / CHECKPOINT,
                           augment=args.augment, progress=not args.no_progress)
    report = evaluate_grader(model, data.test)
    settings = {"model": args.model, "kind": model.kind, "config": model.config, "data": spec,
                "data_source": str(getattr(data, "source", spec)), "size": args.size, "n": args.n,
                "seed": args.seed, "epochs": args.epochs, "batch_size": args.batch_size,
                "lr": args.lr, "patience": args.patience, "class_weighting": args.class_weighting,
                "augment": args.augment}
    write_run(run_dir, report=report, history=history, settings=settings)
    print(f"trained {history.epochs} epochs in {sum(history.seconds):.1f} s; best validation QWK "
          f"{history.best_qwk:.3f} at epoch {history.best_epoch + 1}"
          + (" (stopped early)" if history.stopped_early else ""))
    print(format_run_report(report, title=f"test ({len(data.test.grades)} images)"))
    print(f"run folder: {run_dir}")
    return 0
