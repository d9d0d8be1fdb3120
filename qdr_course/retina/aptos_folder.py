"""Writing an APTOS-2019 folder (train.csv + PNGs), as `qdr-course data synth` does. See lesson 04.

A folder is only ever replaced when this module wrote it: :data:`SYNTH_MANIFEST` lists its
files, and only those are removed; a new set is written to a staging folder first.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from qdr_course.retina.grades import grade_array
from qdr_course.retina.sources import _unsafe_id
from qdr_course.retina.splits import _validate_images

__all__ = ["SYNTH_MANIFEST", "save_aptos_folder", "validate_aptos_target"]

#: The list of files a synthetic APTOS folder was written with; ``--overwrite`` removes only those.
SYNTH_MANIFEST = "synth_manifest.json"


def _manifest_files(out: Path) -> list[str]:
    """The files a previous synth wrote into ``out`` (from its manifest), checked to stay inside."""
    import json

    manifest = out / SYNTH_MANIFEST
    try:
        files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise FileExistsError(f"{manifest} is unreadable ({error}), so the files of the previous "
                              "synthetic set are unknown; choose another folder") from None
    ok = all(isinstance(f, str) and (f == "train.csv" or (
        f.startswith("train_images/") and f.count("/") == 1 and not _unsafe_id(f[13:])))
        for f in files) if isinstance(files, list) else False
    if not ok:
        raise FileExistsError(f"{manifest} lists files outside train.csv and train_images/; it "
                              "was not written by qdr-course - choose another folder")
    return files


def validate_aptos_target(out, n: int, prefix: str = "synth",
                          overwrite: bool = False) -> list[Path]:
    """Files that ``n`` new synthetic images replace in ``out``; or an error.

    A new or empty folder is fine; any other folder without a set is refused, naming what it
    holds (issue 25 item 6). A folder with ``train.csv`` or ``train_images`` needs
    ``overwrite=True`` *and* a :data:`SYNTH_MANIFEST` (written by :func:`save_aptos_folder`):
    only the files listed there are replaced, and a file of the user's that a new image would
    overwrite is refused. Nothing is changed here, so a command can check before slow work.
    """
    out = Path(out).expanduser()
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} is a file, not a folder: name a new or empty folder")
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise FileExistsError(f"{out}: {parent} is a file, not a folder: name a new or empty "
                              "folder")
    existing = [p.name for p in (out / "train.csv", out / "train_images") if p.exists()]
    if not existing:
        others = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
        if others:  # an unrelated folder: the set would be mixed into someone's files
            shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3
                                            else "")
            raise FileExistsError(f"{out} is not empty (it holds {shown}) and holds no "
                                  "synthetic set: name a new or empty folder")
        return []
    if not overwrite:
        raise FileExistsError(f"{out} already holds {existing}; choose another folder or pass "
                              "overwrite=True (--overwrite) to replace it")
    if not (out / SYNTH_MANIFEST).is_file():
        raise FileExistsError(f"{out} holds {existing} that qdr-course data synth did not write "
                              f"(no {SYNTH_MANIFEST}), so --overwrite will not touch them; "
                              "choose another folder (or move them away yourself)")
    old = set(_manifest_files(out))
    width = max(5, len(str(n)))
    clash = [f"train_images/{prefix}_{i:0{width}d}.png" for i in range(n)]
    clash = [f for f in clash if f not in old and (out / f).exists()]
    if clash:
        raise FileExistsError(f"{out} holds {len(clash)} file(s) that the new set would overwrite "
                              f"but the previous synth did not write, e.g. {clash[0]}; choose "
                              "another folder (or move them away yourself)")
    return [out / f for f in sorted(old) if (out / f).exists()]


def save_aptos_folder(images, grades, out, prefix: str = "synth", overwrite: bool = False,
                      progress: bool = False) -> Path:
    """Write images and grades as an APTOS-2019 folder (``train.csv`` + PNGs).

    Refuses to write into a folder that already has a ``train.csv`` or ``train_images`` unless
    ``overwrite=True`` and the folder was written by this function (see
    :func:`validate_aptos_target`): then the previous set's files, and only those, are removed, so
    no stale image is left. The new set is written to a staging folder first: a failure (a full
    disk) leaves the previous set as it was and nothing half-written.
    """
    import json
    import shutil

    from PIL import Image

    images = _validate_images(images)
    grades = grade_array(grades)
    if len(images) != len(grades):
        raise ValueError(f"{len(images)} images but {len(grades)} grades")
    if _unsafe_id(prefix) or "/" in prefix or "\\" in prefix:
        raise ValueError(f"prefix must be a plain file-name prefix, got {prefix!r}")
    out = Path(out).expanduser()
    old = validate_aptos_target(out, len(images), prefix, overwrite)
    created = not out.exists()
    staging = out / f".synth-staging-{os.getpid()}"

    def clean_up():
        shutil.rmtree(staging, ignore_errors=True)
        if created:
            shutil.rmtree(out, ignore_errors=True)

    try:
        (staging / "train_images").mkdir(parents=True, exist_ok=True)
    except OSError as error:
        clean_up()
        raise PermissionError(f"cannot create {out / 'train_images'}: {error}") from error
    width = max(5, len(str(len(images))))
    names = [f"{prefix}_{i:0{width}d}" for i in range(len(images))]
    iterator = range(len(images))
    if progress:
        from qdr_course.progress import progress_bar

        tqdm = progress_bar()

        iterator = tqdm(iterator, desc=f"writing {out.name}", unit="img")
    try:
        for i in iterator:  # lossless; compress_level 3 is faster than the default
            Image.fromarray(images[i]).save(staging / "train_images" / f"{names[i]}.png",
                                            compress_level=3)
        with open(staging / "train.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id_code", "diagnosis"])
            writer.writerows(zip(names, grades.tolist()))
        files = ["train.csv"] + [f"train_images/{name}.png" for name in names]
        writer_name = "qdr-course data synth (qdr_course.retina.aptos_folder.save_aptos_folder)"
        manifest = {"written_by": writer_name, "files": files}
        (staging / SYNTH_MANIFEST).write_text(json.dumps(manifest, indent=0), encoding="utf-8")
    except BaseException:
        clean_up()
        raise
    for path in old:  # the previous synth's files, and nothing else
        path.unlink()
    (out / "train_images").mkdir(exist_ok=True)
    for name in names:
        os.replace(staging / "train_images" / f"{name}.png", out / "train_images" / f"{name}.png")
    os.replace(staging / "train.csv", out / "train.csv")
    os.replace(staging / SYNTH_MANIFEST, out / SYNTH_MANIFEST)
    shutil.rmtree(staging, ignore_errors=True)
    return out
