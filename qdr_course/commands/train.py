"""``qdr-course train``: train a grader, test it, write a run folder. See lesson 05."""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import math
import os
import shutil
import sys
from pathlib import Path

DATA_KINDS = ("synthetic", "retinamnist", "aptos", "eyepacs")
_NEEDS_DIR = ("aptos", "eyepacs")


def parse_data_spec(spec: str) -> tuple[str, Path | None]:
    """``"synthetic"``, ``"retinamnist[:FILE]"``, ``"aptos:DIR"``, ``"eyepacs:DIR"`` -> (kind, p).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError("--data must be one of synthetic, retinamnist, retinamnist:FILE.npz, "
                         "aptos:DIR, eyepacs:DIR; got an empty value")
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
    if kind == "retinamnist" and sep:
        if not rest:
            raise ValueError(f"--data {spec!r}: give the .npz file after the colon, "
                             "e.g. --data retinamnist:~/Downloads/retinamnist_64.npz")
        file = Path(rest).expanduser()
        if not file.is_file():
            raise ValueError(f"--data {spec!r}: {file} is not a file; give the path of a MedMNIST "
                             "retinamnist .npz (or --data retinamnist to download it)")
        return kind, file
    if sep:
        raise ValueError(f"--data {spec!r}: {kind} takes no folder (write just --data {kind})")
    return kind, None


def data_spec_string(kind: str, folder: Path | None) -> str:
    """The spec string :func:`qdr_course.retina.datasets.load_grading_data` understands."""
    return kind if folder is None else f"{kind}:{folder}"


def _bounded(convert, what: str, minimum: float, inclusive: bool, maximum: float | None = None):
    """An argparse ``type`` that converts with ``convert`` and accepts only [minimum, maximum]."""

    def parse(text: str):
        try:
            value = convert(text)
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value != value or value in (math.inf, -math.inf):
            raise argparse.ArgumentTypeError(f"expected {what} (a finite number), got {text!r}")
        if value < minimum or (value == minimum and not inclusive):
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}, more than "
                                             f"{_number(maximum)}, the largest accepted")
        return value

    return parse


def _number(value: float) -> str:
    """``1000``, ``4294967295``, ``10``: a limit as a reader types it."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


#: The largest values ``train`` accepts: beyond them a run is a typo, not an experiment.
MIN_SIZE = 8  # the smallest image the preprocessing accepts
LIMITS = {"size": 512, "n": 100_000, "epochs": 1000, "batch_size": 4096, "lr": 10.0,
          "patience": 1000, "n_qubits": 64, "n_layers": 100, "seed": 2**32 - 1, "threads": 256}
_positive_int = _bounded(int, "a positive integer", 1, inclusive=True)
_non_negative_int = _bounded(int, "a non-negative integer", 0, inclusive=True)
_positive_float = _bounded(float, "a positive number", 0.0, inclusive=False)


def _limited_int(name: str, minimum: int = 1):
    """A positive (or non-negative) integer at most ``LIMITS[name]``."""
    what = "a positive integer" if minimum == 1 else "a non-negative integer"
    return _bounded(int, f"{what} up to {LIMITS[name]}", minimum, inclusive=True,
                    maximum=LIMITS[name])


#: What a run may hold, option by option: the command line's own converters and limits, used
#: again on a run's settings.json (``--resume``) and a checkpoint's config (``evaluate``).
_SETTING_TYPES = {name: _limited_int(name) for name in
                  ("n", "epochs", "batch_size", "patience", "n_qubits", "n_layers")}
_SETTING_TYPES["size"] = _bounded(int, f"an integer from {MIN_SIZE} to {LIMITS['size']}",
                                  MIN_SIZE, inclusive=True, maximum=LIMITS["size"])
_SETTING_TYPES["seed"] = _limited_int("seed", minimum=0)
_SETTING_TYPES["lr"] = _bounded(float, f"a positive number up to {_number(LIMITS['lr'])}", 0.0,
                                inclusive=False, maximum=LIMITS["lr"])
_SETTING_CHOICES = {"model": ("hybrid", "classical"),
                    "class_weighting": ("loss", "sampler", "none"), "augment": (False, True)}
#: A checkpoint's config key -> the option whose limit it obeys.
_CONFIG_LIMITS = {"n_qubits": "n_qubits", "num_inputs": "n_qubits", "num_outputs": "n_qubits",
                  "n_layers": "n_layers", "image_size": "size"}


def _checked_setting(name: str, value, where) -> None:
    """Refuse one recorded value that the command line itself would refuse."""
    if name in _SETTING_CHOICES:
        ok = any(value is c or (value == c and type(value) is type(c))
                 for c in _SETTING_CHOICES[name])
        if not ok:
            raise ValueError(f"{where}: {name} = {value!r} is not one of "
                             f"{list(_SETTING_CHOICES[name])}; it was edited: train the run again")
        return
    numeric = float if name == "lr" else int
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            numeric is int and not isinstance(value, int)):
        what = "a number" if numeric is float else "an integer"
        raise ValueError(f"{where}: {name} = {value!r} is not {what}; it was edited: train the "
                         "run again")
    try:
        _SETTING_TYPES[name](repr(value))
    except argparse.ArgumentTypeError as error:
        raise ValueError(f"{where}: {name} = {value!r}: {error}; it was edited: train the run "
                         "again") from None


def validate_settings(settings: dict, where) -> None:
    """Refuse a hand-edited ``settings.json`` outside the command line's limits."""
    for name in RUN_OPTIONS:
        if name == "data":
            parse_data_spec(settings[name])
        else:
            _checked_setting(name, settings[name], where)


def validate_config(config: dict, where) -> None:
    """Refuse a checkpoint's model config outside the command line's limits, before building."""
    for key, option in _CONFIG_LIMITS.items():
        if key in config:
            _checked_setting(option, config[key], f"{where} (model config)")
    channels = config.get("channels", [])
    if not (isinstance(channels, list | tuple) and 1 <= len(channels) <= 8 and all(
            isinstance(c, int) and not isinstance(c, bool) and 1 <= c <= 1024 for c in channels)):
        raise ValueError(f"{where} (model config): channels = {channels!r} is not a list of 1-8 "
                         "channel counts between 1 and 1024; it was edited: train the run again")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="train a hybrid or classical retinopathy grader and write a run folder",
        description="Train a grader (CNN -> circuit or classical bottleneck -> 5 grades), keep the "
        "epoch with the best validation QWK, test it on the held-out split, print the metrics and "
        "write a run folder (settings.json, checkpoint.pt, metrics.json, confusion_matrix.png, "
        "learning_curve.png). With no arguments it trains the hybrid grader on synthetic fundus "
        "images, offline. An interrupted run is finished with --resume RUN_DIR.")
    parser.add_argument("--model", choices=("hybrid", "classical"), default="hybrid",
                        help="hybrid (quantum circuit bottleneck) or classical (Linear+tanh twin); "
                        "default hybrid")
    parser.add_argument("--data", default="synthetic", metavar="SPEC",
                        help="synthetic (default, offline), retinamnist (downloads once), "
                        "retinamnist:FILE.npz (a file you have), aptos:DIR or eyepacs:DIR")
    parser.add_argument("--size", type=_SETTING_TYPES["size"], default=64,
                        help=f"image side in pixels, {MIN_SIZE}-{LIMITS['size']} (default 64; "
                        "RetinaMNIST: 28, 64, 128 or 224)")
    parser.add_argument("--n", type=_limited_int("n"), default=2000,
                        help="number of synthetic images to generate, all splits, at most "
                        f"{LIMITS['n']} (default 2000)")
    parser.add_argument("--epochs", type=_limited_int("epochs"), default=10,
                        help=f"maximum epochs, at most {LIMITS['epochs']} (default 10)")
    parser.add_argument("--batch-size", type=_limited_int("batch_size"), default=32,
                        help=f"at most {LIMITS['batch_size']} (default 32)")
    max_lr = _number(LIMITS["lr"])
    parser.add_argument("--lr", type=_bounded(float, f"a positive number up to {max_lr}", 0.0,
                                              inclusive=False, maximum=LIMITS["lr"]),
                        default=1e-2, help=f"peak learning rate, finite, at most {max_lr} "
                        "(default 1e-2)")
    parser.add_argument("--patience", type=_limited_int("patience"), default=3,
                        help="stop after this many epochs without a better validation QWK (default "
                        "3)")
    parser.add_argument("--class-weighting", choices=("loss", "sampler", "none"), default="loss",
                        help="weighted cross-entropy (default), a balanced sampler, or none")
    parser.add_argument("--n-qubits", type=_limited_int("n_qubits"), default=3,
                        help="hybrid: qubits (default 3); refused when the exact simulation would "
                        "not fit in the memory available")
    parser.add_argument("--n-layers", type=_limited_int("n_layers"), default=2,
                        help=f"hybrid: circuit layers, at most {LIMITS['n_layers']} (default 2)")
    parser.add_argument("--seed", type=_limited_int("seed", minimum=0), default=0,
                        help="random seed (default 0)")
    parser.add_argument("--out", default=None,
                        help="run folder to create (must not exist; ~ is expanded); default "
                        "runs/MODEL-DATA-sSEED with -2, -3, ... appended if taken")
    parser.add_argument("--augment", action="store_true",
                        help="flip, rotate and brighten training images (off by default: it blurs "
                        "microaneurysms at small sizes)")
    parser.add_argument("--resume", type=Path, default=None, metavar="RUN_DIR",
                        help="finish an interrupted run: continue RUN_DIR's checkpoint with the "
                        "settings in RUN_DIR/settings.json (give no other training options)")
    parser.add_argument("--threads", type=_limited_int("threads"), default=1,
                        help="torch threads (default 1: fastest for these small models)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)
    _DEFAULTS.update({name: parser.get_default(name) for name in RUN_OPTIONS + ("out",)})


#: The parser's defaults: ``--resume`` refuses any training option that differs from them.
_DEFAULTS: dict = {}
#: The settings a run folder records; ``--resume`` takes them from there.
RUN_OPTIONS = ("model", "data", "size", "n", "epochs", "batch_size", "lr", "patience",
               "class_weighting", "n_qubits", "n_layers", "seed", "augment")


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
    lines += [f"{name:<{width}}  {format_metric(value)}" for name, value in rows]
    return "\n".join(lines)


def format_metric(value) -> str:
    """A metric with 3 decimals; "n/a" for one that is undefined (NaN, stored as null)."""
    return "n/a" if value is None or not math.isfinite(float(value)) else f"{float(value):.3f}"


def fail(command: str, error: BaseException) -> int:
    """Print ``error`` as one line on stderr, prefixed by the command; return exit code 2."""
    text = " ".join(part.strip() for part in str(error).splitlines() if part.strip())
    if isinstance(error, OSError) and not text:
        text = type(error).__name__
    print(f"qdr-course {command}: error: {text or type(error).__name__}", file=sys.stderr)
    return 2


def describe_os_error(error: OSError, what: str) -> str:
    """One line for a failed write: a full disk, a permission, or whatever the system said."""
    where = f" {error.filename}" if error.filename else ""
    if error.errno == errno.ENOSPC:
        return (f"no space left on the disk while writing{where or ' ' + what}; free some space "
                "or choose --out on another disk")
    if isinstance(error, PermissionError):
        return (f"no permission to write{where or ' ' + what}; choose --out in a folder you "
                "can write")
    reason = error.strerror or str(error)
    return f"could not write {what}{where}: {reason}"


ERRORS = (ValueError, TypeError, FileExistsError, FileNotFoundError, MemoryError, ConnectionError)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except ERRORS as error:
        return fail("train", error)
    except OSError as error:
        return fail("train", describe_os_error(error, "the run folder") + " (nothing half-written "
                    "was kept)")
    except RuntimeError as error:  # torch's allocator says RuntimeError, not MemoryError
        if "allocate" not in str(error):
            raise
        return fail("train", "ran out of memory while training (nothing half-written was kept); "
                    "use a smaller --batch-size, --size or --n-qubits")


def _check_out(text: str) -> Path:
    """Expand ``~`` and check a new run folder could be made there: before any slow work."""
    if not str(text).strip() or "\0" in str(text):
        raise ValueError(f"--out {text!r} is not a usable folder name; give a path such as "
                         "runs/my-run")
    out = Path(text).expanduser()
    if out.exists():
        raise FileExistsError(f"run folder {out} already exists; choose another folder (--out) or "
                              "delete it yourself: runs are never overwritten")
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"--out {out}: {parent} is a file, not a folder; choose --out in a folder")
    return out


def _make_run_dir(out: Path) -> tuple[Path, Path]:
    """Create the run folder and any missing parents; return it and the topmost folder created."""
    top = out
    while not top.parent.exists() and top.parent != top.parent.parent:
        top = top.parent
    try:
        out.mkdir(parents=True)
    except FileExistsError:
        raise FileExistsError(f"run folder {out} already exists; choose another folder "
                              "(--out)") from None
    except OSError as error:
        if error.errno == errno.ENAMETOOLONG:
            raise ValueError(f"--out {out}: the name is too long for this file system") from None
        if error.errno == errno.ENOSPC:
            raise
        reason = error.strerror or error
        raise ValueError(f"--out {out}: cannot create this folder ({reason}); choose --out in a "
                         "folder you can write") from None
    return out, top


def _run(args: argparse.Namespace) -> int:
    if args.resume is not None:
        return _resume(args)
    kind, path = parse_data_spec(args.data)
    out = _check_out(args.out) if args.out is not None else unique_default_out(args, kind)
    _check_before_data(args, kind, path)
    run_dir, top = _make_run_dir(out)
    try:
        settings = {name: getattr(args, name) for name in RUN_OPTIONS}
        # an absolute folder: evaluate finds the data from any working folder
        settings["data"] = data_spec_string(kind, path.expanduser().resolve() if path else None)
        from qdr_course.retina.runs import SETTINGS, write_json_atomic

        write_json_atomic(run_dir / SETTINGS, settings)
        return _train_into(run_dir, settings, threads=args.threads, progress=not args.no_progress,
                           resume=False)
    except BaseException as error:
        _keep_or_remove(run_dir, top, error)
        raise


def unique_default_out(args: argparse.Namespace, kind: str) -> Path:
    """``runs/MODEL-DATA-sSEED`` (with -2, -3, ... if taken)."""
    from qdr_course.retina.runs import unique_run_dir

    return unique_run_dir("runs", f"{args.model}-{kind}-s{args.seed}")


def _keep_or_remove(run_dir: Path, top: Path, error: BaseException) -> None:
    """After a failed or interrupted run: keep a run with a finished epoch (it can be resumed),
    removing only half-written files; remove a run without one, and the folders made for it."""
    from qdr_course.retina.runs import CHECKPOINT

    if not (run_dir / CHECKPOINT).is_file():
        shutil.rmtree(top, ignore_errors=True)  # nothing worth keeping
        return
    for half_written in run_dir.glob("*.tmp"):
        half_written.unlink(missing_ok=True)
    why = ("interrupted" if isinstance(error, KeyboardInterrupt)
           else "the disk is full" if getattr(error, "errno", None) == errno.ENOSPC
           else "stopped by an error")
    then = ("" if isinstance(error, KeyboardInterrupt)
            else "free some space, then " if why == "the disk is full"
            else "fix the error below, then ")
    print(f"{why}: {run_dir} keeps its last finished epoch; {then}finish the run with "
          f"qdr-course train --resume {run_dir}", file=sys.stderr)


@contextlib.contextmanager
def _locked(run_dir: Path):
    """Hold an exclusive lock on the run folder: two trainings never write one run at once."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks on folders; runs are not shared there
        yield
        return
    fd = os.open(run_dir, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunInUseError(f"{run_dir} is being trained by another qdr-course train right "
                                "now; wait for it to finish (one run folder, one training at a "
                                "time)") from None
        yield
    finally:
        os.close(fd)  # closing releases the lock


class RunInUseError(ValueError):
    """Another process holds the run folder's lock."""


def _check_before_data(args: argparse.Namespace, kind: str, path: Path | None) -> None:
    """Every check that needs no data: run before the data are loaded or downloaded."""
    from qdr_course.retina.sources import RETINAMNIST_FILES

    if kind == "retinamnist" and path is None and args.size not in RETINAMNIST_FILES:
        raise ValueError(f"RetinaMNIST comes in sizes {sorted(RETINAMNIST_FILES)}, got --size "
                         f"{args.size}; pass one of them")
    if args.model == "hybrid":
        from qdr_course.retina.models import validate_statevector_fits

        validate_statevector_fits(args.n_qubits, args.n_layers, args.batch_size)


def _load_data(settings: dict):
    """The run's data; a failed download becomes one line that says what to do instead."""
    from qdr_course.retina.datasets import load_grading_data
    from qdr_course.retina.sources import _ZENODO, RETINAMNIST_FILES

    spec = settings["data"]
    if spec == "retinamnist":  # pooch would log its own line on stderr; say it once, on stdout
        import logging

        import pooch

        pooch.get_logger().setLevel(logging.WARNING)
        print("RetinaMNIST: downloaded once (checksum-verified) into the data cache", flush=True)
    try:
        return load_grading_data(spec, size=settings["size"], n=settings["n"],
                                 seed=settings["seed"])
    except ConnectionError as error:
        name = RETINAMNIST_FILES.get(settings["size"], ("retinamnist_64.npz",))[0]
        cause = error.__cause__
        reason = type(cause).__name__ if cause is not None else "no connection"
        raise ConnectionError(
            f"could not reach {_ZENODO.format(name=name)} to download RetinaMNIST ({reason}); "
            f"download {name} on a machine with network and pass --data "
            f"retinamnist:PATH/{name}, or train offline with --data synthetic") from None


def _train_into(run_dir: Path, settings: dict, *, threads: int, progress: bool,
                resume: bool) -> int:
    """Load the data, build the model, train (or continue) into ``run_dir``, test, write the run."""
    with _locked(run_dir):
        return _train_locked(run_dir, settings, threads=threads, progress=progress, resume=resume)


def _train_locked(run_dir: Path, settings: dict, *, threads: int, progress: bool,
                  resume: bool) -> int:
    """:func:`_train_into` once the run folder is locked."""
    import matplotlib
    import torch

    torch.set_num_threads(threads)
    matplotlib.use("Agg")
    from qdr_course.retina.models import count_parameters
    from qdr_course.retina.runs import CHECKPOINT, write_run
    from qdr_course.retina.training import evaluate_grader, train_grader
    from qdr_course.utils import set_seed

    args = argparse.Namespace(**settings)
    set_seed(args.seed)
    print(f"loading data: {args.data} ({args.size}x{args.size})", flush=True)
    data = _load_data(settings)
    side = data.train.images.shape[1:3]
    if tuple(side) != (args.size, args.size):
        raise ValueError(f"the images of {args.data} are {side[0]}x{side[1]} pixels but --size is "
                         f"{args.size}; pass --size {side[0]}")
    set_seed(args.seed)
    model = build_model(args)
    print(f"model: {model.kind}, {count_parameters(model)} parameters "
          f"({model.bottleneck_parameters()} in the bottleneck); "
          "train/val/test = "
          f"{len(data.train.grades)}/{len(data.val.grades)}/{len(data.test.grades)}", flush=True)
    weighting = None if args.class_weighting == "none" else args.class_weighting
    history = train_grader(model, data.train, data.val, epochs=args.epochs, lr=args.lr,
                           batch_size=args.batch_size, class_weighting=weighting,
                           patience=args.patience, seed=args.seed, checkpoint=run_dir / CHECKPOINT,
                           resume=resume, augment=args.augment, progress=progress)
    report = evaluate_grader(model, data.test)
    stored = {**settings, "kind": model.kind, "config": model.config,
              "data_source": str(getattr(data, "source", args.data))}
    # the results first: a disk that fills while the figures are written cannot take them away
    print(f"trained {history.epochs} epochs in {sum(history.seconds):.1f} s; best validation QWK "
          f"{history.best_qwk:.3f} at epoch {history.best_epoch + 1}"
          + (" (stopped early)" if history.stopped_early else ""))
    print(format_run_report(report, title=f"test ({len(data.test.grades)} images)"), flush=True)
    write_run(run_dir, report=report, history=history, settings=stored)
    print(f"run folder: {run_dir}")
    return 0


def _resume(args: argparse.Namespace) -> int:
    """``train --resume RUN_DIR``: continue the run's checkpoint with the run's own settings."""
    from qdr_course.retina.runs import CHECKPOINT, METRICS, SETTINGS

    given = [f"--{name.replace('_', '-')}" for name in RUN_OPTIONS + ("out",)
             if getattr(args, name) != _DEFAULTS.get(name)]
    if given:
        raise ValueError("--resume takes its settings from the run folder; drop "
                         f"{', '.join(given)}")
    run_dir = args.resume.expanduser()
    if not run_dir.is_dir():
        raise FileNotFoundError(f"--resume {run_dir}: no run folder there")
    if (run_dir / METRICS).exists():
        raise ValueError(f"{run_dir} is complete (it has {METRICS}); nothing to resume: evaluate "
                         f"it with qdr-course evaluate {run_dir}")
    try:
        settings = json.loads((run_dir / SETTINGS).read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{run_dir} has no {SETTINGS}: it was not started by qdr-course "
                                "train (or by an older version); train it again") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{run_dir / SETTINGS} is not valid JSON ({error}); train the run "
                         "again") from None
    missing = [name for name in RUN_OPTIONS if name not in settings] if isinstance(settings, dict) \
        else list(RUN_OPTIONS)
    if missing:
        raise ValueError(f"{run_dir / SETTINGS} lacks {', '.join(missing)}; train the run again")
    validate_settings(settings, run_dir / SETTINGS)
    kind, path = parse_data_spec(settings["data"])
    _check_before_data(argparse.Namespace(**settings), kind, path)
    has_epoch = (run_dir / CHECKPOINT).is_file()
    done = "its last finished epoch" if has_epoch else "no finished epoch"
    print(f"resuming {run_dir} from {done}", flush=True)
    try:
        return _train_into(run_dir, settings, threads=args.threads, progress=not args.no_progress,
                           resume=True)
    except RunInUseError:
        raise  # the other training owns the folder: touch nothing
    except BaseException as error:
        _keep_or_remove(run_dir, run_dir, error)
        raise
