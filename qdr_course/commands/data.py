"""``qdr-course data``: write the synthetic fundus set, download RetinaMNIST, summarise a data
source.

Examples::

    qdr-course data synth --n 500 --size 128 --out data/synth      # an APTOS-format folder
    qdr-course data download retinamnist --size 64                  # cached, checksum-verified
    qdr-course data info aptos:data/synth --size 64                 # images per grade and split
    qdr-course data idrid --verify                                  # check the shipped IDRiD copy
    qdr-course data idrid --from IDRiD --out idrid-copy             # rebuild it from a download
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    """Add the ``data`` command and its sub-commands."""
    parser = subparsers.add_parser("data",
                                   help="synthetic fundus images, RetinaMNIST download, data "
                                   "summaries", description="Retinopathy data helpers (lesson 04).")
    sub = parser.add_subparsers(title="data commands", metavar="ACTION")
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])

    synth = sub.add_parser("synth",
                           help="write synthetic fundus photographs as an APTOS-2019 folder",
                           description="Write N synthetic fundus images (train.csv + "
                           "train_images/*.png, the APTOS 2019 layout), readable with "
                           "load_grading_data('aptos:DIR').")
    synth.add_argument("--n", type=int, required=True,
                       help="number of images: at least 51 with the APTOS prior, 15 balanced "
                       "(every grade needs 3, for train, validation and test)")
    synth.add_argument("--size", type=int, default=224,
                       help="image size in pixels, 28-512 (default 224)")
    synth.add_argument("--out", required=True, help="output folder (created)")
    synth.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    synth.add_argument("--prior", choices=["aptos", "balanced"], default="aptos",
                       help="grade distribution: APTOS 2019's (49%% grade 0, default) or balanced")
    synth.add_argument("--overwrite", action="store_true",
                       help="replace the set a previous synth wrote there (only its files; a "
                       "folder synth did not write is refused)")
    synth.add_argument("--no-progress", action="store_true", help="no progress bar")
    synth.set_defaults(func=_synth)

    download = sub.add_parser("download",
                              help="download a real dataset into the cache (needs network)")
    download.add_argument("name", choices=["retinamnist"], help="dataset")
    download.add_argument("--size", type=int, default=64, choices=[28, 64, 128, 224],
                          help="image size (default 64)")
    download.add_argument("--cache-dir", default=None,
                          help="cache folder (default: $QDR_COURSE_DATA or the "
                          "user cache directory)")
    download.set_defaults(func=_download)

    idrid = sub.add_parser("idrid", help="verify the shipped IDRiD copy, or rebuild it from a "
                           "full IDRiD download",
                           description="With --from and --out: write the course's downsized "
                           "IDRiD copy (and its SHA-256 manifest) from a full IDRiD download laid "
                           "out as its archive ('B. Disease Grading', 'A. Segmentation'); the "
                           "result equals the shipped copy byte for byte (with the locked "
                           "Pillow). With --verify: check every shipped file's SHA-256.")
    idrid.add_argument("--from", dest="source", default=None,
                       help="folder holding IDRiD's 'A. Segmentation' and 'B. Disease Grading'")
    idrid.add_argument("--out", default=None, help="output folder (new, or --overwrite)")
    idrid.add_argument("--overwrite", action="store_true",
                       help="replace an IDRiD copy this command wrote there before")
    idrid.add_argument("--verify", nargs="?", const="", default=None, metavar="DIR",
                       help="check an IDRiD copy against its manifest (default: the shipped one)")
    idrid.set_defaults(func=_idrid)

    info = sub.add_parser("info", help="images per grade and split of a data source")
    info.add_argument("source",
                      help="'synthetic', 'idrid', 'retinamnist', 'retinamnist:FILE.npz', "
                      "'aptos:DIR' or 'eyepacs:DIR'")
    info.add_argument("--size", type=int, default=64, help="image size, 8-512 (default 64)")
    info.add_argument("--n", type=int, default=2000, help="synthetic set size (default 2000)")
    info.add_argument("--skip-bad", action="store_true",
                      help="leave unreadable images out (and list them) "
                      "instead of stopping")
    info.set_defaults(func=_info)


def _synth(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np

    from qdr_course.retina.aptos_folder import save_aptos_folder, validate_aptos_target
    from qdr_course.retina.datasets import validate_synthetic_n
    from qdr_course.retina.fundus import _validate_size, synthetic_fundus_dataset

    if args.n < 1:
        print(f"error: --n must be at least 1, got {args.n}", file=sys.stderr)
        return 2
    out = Path(args.out).expanduser()
    try:
        # check everything before spending time on images: a set the other commands accept,
        # and a target folder we may write
        _validate_size(args.size)
        validate_synthetic_n(args.n, args.prior, balanced="--prior balanced")
        _check_memory(args.n, args.size)
        validate_aptos_target(out, args.n, overwrite=args.overwrite)
        images, grades = synthetic_fundus_dataset(args.n, args.size, args.seed, args.prior,
                                                  progress=not args.no_progress)
        save_aptos_folder(images, grades, out, overwrite=args.overwrite,
                          progress=not args.no_progress)
    except (ValueError, TypeError, OSError, MemoryError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    counts = np.bincount(grades, minlength=5)
    print(f"wrote {args.n} images ({args.size} px) to {out}: grades 0-4 = {counts.tolist()}")
    return 0


def _check_memory(n: int, size: int) -> None:
    """MemoryError (saying how much is needed) if n images of size^2 RGB pixels do not fit."""
    import os

    need = n * size * size * 3
    try:
        free = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not Linux: let numpy try
        return
    if need > 0.8 * free:
        raise MemoryError(f"{n} images of {size} x {size} pixels need {need / 2**30:.1f} GiB "
                          f"of memory and {free / 2**30:.1f} GiB are free; use a smaller --n or "
                          "--size")


def _download(args: argparse.Namespace) -> int:
    from qdr_course.retina.sources import fetch_retinamnist

    try:
        path = fetch_retinamnist(args.size, cache_dir=args.cache_dir, progress=True)
    except (ConnectionError, PermissionError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"RetinaMNIST {args.size} px: {path}")
    return 0


def _idrid(args: argparse.Namespace) -> int:
    from qdr_course.retina.idrid import build_idrid_copy, verify_idrid

    try:
        if args.verify is not None:
            if args.source or args.out:
                print("error: --verify checks a copy; give it alone (or --from and --out to "
                      "build one)", file=sys.stderr)
                return 2
            count = verify_idrid(args.verify or None)
            print(f"IDRiD copy verified: {count} files match their SHA-256")
            return 0
        if not (args.source and args.out):
            print("error: give --from DIR and --out DIR (or --verify)", file=sys.stderr)
            return 2
        count = build_idrid_copy(args.source, args.out, overwrite=args.overwrite)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {count} files and MANIFEST.sha256 to {args.out}")
    return 0


def _info(args: argparse.Namespace) -> int:
    from qdr_course.retina.datasets import load_grading_data, validate_synthetic_n

    try:
        if not 8 <= args.size <= 512:  # the size is every image's, in memory at once
            raise ValueError(f"--size must be from 8 to 512 pixels, got {args.size}")
        if args.source.strip().lower() == "synthetic":
            validate_synthetic_n(args.n, balanced=None)  # this command has no --prior
        data = load_grading_data(args.source, size=args.size, n=args.n,
                                 on_error="skip" if args.skip_bad else "raise")
    except (ValueError, TypeError, OSError) as error:
        message = str(error).replace("pass on_error='skip'", "pass --skip-bad")  # our words
        print(f"error: {message}", file=sys.stderr)
        return 1
    print(data.summary())
    for problem in data.skipped:
        print(f"skipped: {problem}")
    return 0
