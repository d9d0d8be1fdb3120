"""``qdr-course evaluate RUN_DIR``: re-evaluate a trained grader's checkpoint. See lesson 05."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qdr_course.commands.train import _positive_int


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="re-evaluate the checkpoint of a run folder written by `qdr-course train`",
        description="Load RUN_DIR/checkpoint.pt safely (weights_only), rebuild the run's test "
        "split (or the data given with --data) and print the metrics next to the ones stored at "
        "training time. With --device the hybrid grader's circuit runs on a noisy fake IBM device.")
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR",
                        help="a folder written by qdr-course train")
    parser.add_argument("--data", default=None, metavar="SPEC",
                        help="evaluate on other data (synthetic, retinamnist, aptos:DIR, "
                        "eyepacs:DIR); default: the run's own test split")
    parser.add_argument("--device", default=None, metavar="FAKE_DEVICE",
                        help="hybrid only: run the circuit on this fake IBM device, e.g. "
                        "FakeManilaV2 (noisy, slow: combine with --limit)")
    parser.add_argument("--shots", type=_positive_int, default=4000,
                        help="shots per expectation value with --device")
    parser.add_argument("--limit", type=int, default=None,
                        help="evaluate only the first N test images (N >= 2)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except (ValueError, TypeError, FileExistsError, FileNotFoundError) as error:
        print(f"qdr-course evaluate: error: {error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from qdr_course.commands.train import data_spec_string, format_run_report, parse_data_spec
    from qdr_course.retina.datasets import load_grading_data
    from qdr_course.retina.runs import CHECKPOINT, read_run
    from qdr_course.retina.training import evaluate_grader, load_checkpoint

    meta = read_run(args.run_dir)
    settings = meta["settings"]
    if args.limit is not None and args.limit < 2:
        raise ValueError(f"--limit must be at least 2 images, got {args.limit}")
    model = load_checkpoint(args.run_dir / CHECKPOINT)
    if args.device is not None:
        if model.kind != "HybridGrader":
            raise ValueError(f"--device needs a hybrid grader; {args.run_dir} holds a {model.kind}")
        model = model.on_device(args.device, shots=args.shots, seed=settings.get("seed", 0))
    spec = settings["data"] if args.data is None else data_spec_string(*parse_data_spec(args.data))
    data = load_grading_data(spec, size=settings["size"], n=settings["n"], seed=settings["seed"])
    test = data.test
    images, grades = test.images, test.grades
    if args.limit is not None:
        images, grades = images[: args.limit], grades[: args.limit]
    report = evaluate_grader(model, (images, grades))
    where = "statevector" if args.device is None else f"{args.device}, {args.shots} shots"
    print(f"{model.kind} from {args.run_dir} on {spec} test split ({len(grades)} images, {where})")
    print(format_run_report(report, title="now"))
    if args.data is None and args.limit is None and args.device is None:
        stored = meta["test"]
        same = abs(float(stored["qwk"]) - float(report["qwk"])) < 1e-9
        print(f"stored at training time: QWK {float(stored['qwk']):.3f} "
              f"({'reproduced' if same else 'DIFFERENT: data or code changed since training'})")
    return 0
