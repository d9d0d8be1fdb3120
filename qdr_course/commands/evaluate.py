"""``qdr-course evaluate RUN_DIR``: re-evaluate a trained grader's checkpoint. See lesson 05."""

from __future__ import annotations

import argparse
from pathlib import Path

from qdr_course.commands.train import _bounded

#: More shots than this per expectation value is a typo: 10^6 already gives 0.001 precision.
MAX_SHOTS = 1_000_000
#: Shots per expectation value unless --shots says otherwise.
DEFAULT_SHOTS = 4000


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="re-evaluate the checkpoint of a run folder written by `qdr-course train`",
        description="Load RUN_DIR/checkpoint.pt safely (weights_only), check it is the run's own "
        "(model type and SHA-256 recorded at training), rebuild the run's test split (or the data "
        "given with --data) and print the metrics next to the ones stored at training time; "
        "'reproduced' means every stored metric agrees within 1e-6 (counts exactly). With --device "
        "the hybrid grader's circuit runs on a noisy fake IBM device; the training-time QWK, the "
        "exact QWK on the same images and a bootstrap 95% interval of the difference are printed. "
        "With --ibm-backend it runs on IBM Quantum hardware through qiskit-ibm-runtime, after a "
        "cost estimate in QPU seconds and your confirmation.")
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR",
                        help="a folder written by qdr-course train")
    parser.add_argument("--data", default=None, metavar="SPEC",
                        help="evaluate on other data (synthetic, retinamnist[:FILE.npz], "
                        "aptos:DIR, eyepacs:DIR); "
                        "default: the run's own test split")
    parser.add_argument("--device", default=None, metavar="FAKE_DEVICE",
                        help="hybrid only: run the circuit on this fake IBM device, e.g. "
                        "FakeManilaV2 (noisy, slow: combine with --limit)")
    parser.add_argument("--ibm-backend", default=None, metavar="NAME",
                        help="hybrid only: run the circuit on this IBM Quantum backend through "
                        "qiskit-ibm-runtime (your saved account or QISKIT_IBM_TOKEN), all images "
                        "in one job; a Fake... name runs its local testing mode offline. The "
                        "QPU seconds are estimated and you are asked before anything is sent")
    parser.add_argument("--mitigation", choices=("none", "trex", "zne"), default=None,
                        help="error mitigation with --ibm-backend: trex (measurement-error "
                        "mitigation, default), zne (adds zero-noise extrapolation) or none")
    parser.add_argument("--yes", action="store_true",
                        help="with --ibm-backend: submit without asking (the estimate is still "
                        "printed)")
    parser.add_argument("--shots", type=_bounded(int, f"a positive integer up to {MAX_SHOTS}", 1,
                                                 inclusive=True, maximum=MAX_SHOTS),
                        default=None, help=f"shots per expectation value with --device or "
                        f"--ibm-backend, at most "
                        f"{MAX_SHOTS} (default 4000)")
    parser.add_argument("--limit", type=int, default=None,
                        help="evaluate only the first N test images (N >= 2)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from qdr_course.commands.train import ERRORS, fail

    try:
        return _run(args)
    except ERRORS as error:
        return fail("evaluate", error)
    except OSError as error:
        return fail("evaluate", f"could not read {error.filename or args.run_dir}: "
                    f"{error.strerror or error}")


def _load_verified_model(run_dir: Path, meta: dict):
    """The run's checkpoint: its bytes checked against the SHA-256 in ``metrics.json`` first,
    then its model against the run's record and the command line's limits, then loaded."""
    from qdr_course.commands.train import validate_config
    from qdr_course.retina.runs import CHECKPOINT, file_sha256
    from qdr_course.retina.training import load_checkpoint, read_checkpoint

    path = run_dir / CHECKPOINT
    expected = meta.get("checkpoint_sha256")
    if expected is not None and file_sha256(path) != expected:  # torch does not check zip CRCs
        raise ValueError(f"{path} is not the checkpoint this run wrote: its SHA-256 differs from "
                         "the one in metrics.json (damaged or changed bytes); restore it or train "
                         "again")
    if expected is None:
        print(f"note: {run_dir} stores no checkpoint checksum (written by an older qdr-course); "
              "the checkpoint could not be verified")
    payload = read_checkpoint(path)  # weights only, no code; an empty or damaged file says so
    settings = meta["settings"]
    if payload["kind"] != settings["kind"] or dict(payload["config"]) != dict(settings["config"]):
        raise ValueError(f"{path} holds a {payload['kind']} {payload['config']}, but metrics.json "
                         f"says the run trained a {settings['kind']} {settings['config']}: the "
                         "checkpoint was replaced; restore the run's own checkpoint or train again")
    validate_config(payload["config"], path)  # before anything is built from it
    return load_checkpoint(path, payload=payload)


def _run(args: argparse.Namespace) -> int:
    from qdr_course.commands.train import (
        data_spec_string,
        format_metric,
        format_run_report,
        parse_data_spec,
    )
    from qdr_course.retina.datasets import load_grading_data
    from qdr_course.retina.metrics import grading_report
    from qdr_course.retina.runs import (
        METRICS,
        REPRODUCE_TOLERANCE,
        compare_reports,
        read_run,
        validate_run_metadata,
    )
    from qdr_course.retina.training import predict_grades

    run_dir = args.run_dir.expanduser()
    _check_device_options(args)
    if args.limit is not None and args.limit < 2:
        raise ValueError(f"--limit must be at least 2 images, got {args.limit}")
    if args.shots < 1:
        raise ValueError(f"--shots must be a positive integer, got {args.shots}")
    meta = validate_run_metadata(read_run(run_dir), run_dir / METRICS)
    settings = meta["settings"]
    spec = settings["data"] if args.data is None else data_spec_string(*parse_data_spec(args.data))
    exact = _load_verified_model(run_dir, meta)
    model = exact
    if args.device is not None and args.ibm_backend is not None:
        raise ValueError("give --device (a fake device through Aer) or --ibm-backend (IBM "
                         "Runtime), not both")
    if args.device is not None:
        if exact.kind != "HybridGrader":
            raise ValueError(f"--device needs a hybrid grader; {run_dir} holds a {exact.kind}")
        model = exact.on_device(args.device, shots=args.shots, seed=settings.get("seed", 0))
    if args.ibm_backend is not None and exact.kind != "HybridGrader":
        raise ValueError(f"--ibm-backend needs a hybrid grader; {run_dir} holds a {exact.kind}")
    data = load_grading_data(spec, size=settings["size"], n=settings["n"], seed=settings["seed"])
    images, grades = data.test.images, data.test.grades
    if args.limit is not None:
        images, grades = images[: args.limit], grades[: args.limit]
    batch_size = 64
    if args.ibm_backend is not None:
        model = _on_ibm_backend(exact, args, len(images), settings.get("seed", 0))
        if model is None:
            return 1
        batch_size = len(images)  # every image in ONE job
    predicted, probs = predict_grades(model, (images, grades), batch_size=batch_size)
    report = grading_report(grades, predicted, y_score=probs)
    where = "statevector" if args.device is None else f"{args.device}, {args.shots} shots"
    if args.ibm_backend is not None:
        where = f"{args.ibm_backend} via IBM Runtime, {args.shots} shots, {args.mitigation}"
        _print_jobs(model.quantum.backend)
    print(f"{model.kind} from {run_dir} on {spec} test split ({len(grades)} images, {where})")
    print(format_run_report(report, title="now"))
    stored = meta["test"]
    if args.data is None and args.limit is None and where == "statevector":
        differences = compare_reports(stored, report)
        if differences:
            print(f"stored at training time: QWK {format_metric(stored['qwk'])}; DIFFERENT: "
                  f"{'; '.join(differences)} (data or code changed since training)")
        else:
            print(f"stored at training time: QWK {format_metric(stored['qwk'])}; reproduced: every "
                  f"stored metric ({', '.join(stored_metric_names())}) agrees within "
                  f"{REPRODUCE_TOLERANCE:g}, counts exactly")
    if args.device is not None or args.ibm_backend is not None:
        print(f"training-time QWK (statevector, {stored['n']} test images): "
              f"{format_metric(stored['qwk'])}")
        _compare_with_exact(exact, predicted, images, grades, report)
    return 0


def _check_device_options(args: argparse.Namespace) -> None:
    """Refuse options that would be silently ignored, and an empty backend name (one line)."""
    for option, value in (("--ibm-backend", args.ibm_backend), ("--device", args.device)):
        if value is not None and not value.strip():
            raise ValueError(f"{option} is empty: give a backend name such as FakeManilaV2 "
                             "(offline) or a device of your IBM Quantum account (ibm_...)")
    if args.mitigation is not None and args.ibm_backend is None:
        raise ValueError(f"--mitigation {args.mitigation} only acts with --ibm-backend; the "
                         "statevector and --device runs have no error mitigation: add "
                         "--ibm-backend NAME or drop --mitigation")
    if args.shots is not None and args.ibm_backend is None and args.device is None:
        raise ValueError(f"--shots {args.shots} only acts with --device or --ibm-backend; the "
                         "statevector run is exact: add one of them or drop --shots")
    args.mitigation = "trex" if args.mitigation is None else args.mitigation
    args.shots = DEFAULT_SHOTS if args.shots is None else args.shots


def _on_ibm_backend(exact, args: argparse.Namespace, n_images: int, seed: int):
    """The grader on the IBM backend after the checks, the cost estimate and the user's yes;
    None when the user declines.
    """
    from qdr_course.quantum import ibm

    backend = ibm.ibm_backend(args.ibm_backend)
    if ibm.is_local(backend):
        print(f"note: {args.ibm_backend} is a fake device: qiskit-ibm-runtime's local testing "
              "mode runs the same job on this computer (Aer with the device's noise), offline")
    cost = ibm.grader_cost(exact, backend, n_images, args.mitigation, args.shots)
    print(f"estimate for {n_images} images at {args.shots} shots with {args.mitigation}: {cost}")
    if not args.yes and not _confirmed():
        print("nothing submitted")
        return None
    return ibm.ibm_grader(exact, backend, n_images, confirm=True, mitigation=args.mitigation,
                          shots=args.shots, seed=seed if ibm.is_local(backend) else None)


def _confirmed() -> bool:
    """The user's answer to "Submit?"; refuses when there is no terminal to ask."""
    import sys

    if not sys.stdin.isatty():
        raise ValueError("nothing submitted: no terminal to ask for confirmation; run again "
                         "with --yes to submit this job")
    try:
        answer = input("Submit this job? [y/N] ")
    except EOFError:  # Ctrl-D: no answer is a no
        print()
        return False
    return answer.strip().lower() in ("y", "yes")


def _print_jobs(estimator) -> None:
    """The submitted jobs' ids (real backends), for IBM's dashboard and job.usage()."""
    from qdr_course.quantum.ibm import is_local

    if not is_local(estimator.backend):
        ids = ", ".join(job.job_id() for job in estimator.jobs)
        print(f"submitted in one batch: job {ids}; IBM's measured usage: "
              "QiskitRuntimeService().job(ID).usage()")


def stored_metric_names() -> list[str]:
    """The metrics a reproduction compares."""
    from qdr_course.retina.runs import REQUIRED_KEYS

    return list(REQUIRED_KEYS["test"])


def _compare_with_exact(exact, pred_noisy, images, grades, report) -> None:
    """The exact grader on the same images, and whether the device's difference is within chance."""
    from qdr_course.retina.metrics import qwk_difference_interval
    from qdr_course.retina.training import predict_grades

    pred_exact, _ = predict_grades(exact, (images, grades))
    diff, low, high = qwk_difference_interval(grades, pred_noisy, pred_exact)
    exact_qwk = float(report["qwk"]) - diff
    print(f"exact statevector on the same {len(grades)} images: QWK {exact_qwk:.3f}")
    if diff == 0 or diff != diff:
        same = (pred_noisy == pred_exact).all()
        print("device and exact run give " + ("the same grades" if same else "the same QWK"))
        return
    if low != low:
        print(f"device - exact = {diff:+.3f}; too few images to estimate whether this is within "
              "chance (use a larger --limit)")
        return
    verdict = ("within chance: the interval contains 0" if low <= 0 <= high else
               "more than chance: the interval excludes 0")
    print(f"device - exact = {diff:+.3f}, paired bootstrap 95% interval [{low:+.3f}, {high:+.3f}] "
          f"over the {len(grades)} images (2000 resamples): {verdict}")
