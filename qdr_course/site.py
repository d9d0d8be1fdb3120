"""The course as a website: every executed solution notebook and the docs, rendered with Sphinx.

Nothing is executed: the pages show the outputs stored in ``solutions/NN_topic.ipynb``.
Sphinx with myst-nb reads the notebooks and the Markdown, sphinx-book-theme gives each lesson a
launch-on-Binder button and a search box (Sphinx's local search index), and equations are
rendered by the MathJax copy that the ``jupyter-server-mathjax`` package ships, so a build needs
no network and the site works offline. See ``docs/instructor-guide.md`` (the course as a website).
"""

from __future__ import annotations

import ast
import base64
import copy
import errno
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from html import escape
from pathlib import Path

import nbformat

from qdr_course.authoring import (
    BEGIN,
    END,
    EXERCISE_TAG,
    drop_test_markers,
    strip_solutions,
)

REPOSITORY = "https://github.com/qdr-course/qdr-course"
BRANCH = "main"
BINDERHUB = "https://mybinder.org"
SOLUTION_MODES = ("hide", "collapse", "show")
#: Written into every site this module builds: the manifest of the files it wrote (JSON), which a
#: rebuild replaces; every other file in the folder is kept.
MARKER = ".qdr-course-site"
#: What a folder may hold before the first build besides nothing: the publishing machinery
#: (GitHub Pages' custom domain, a clone's git data). The site never writes or removes them.
PUBLISHING_FILES = (".git", "CNAME", ".github", ".gitignore", ".gitattributes", "README.md",
                    "LICENSE")
#: Markdown pages besides the lessons, with the site path of each (README.md is the home page).
PAGES = {"README.md": "index.md", "CONTRIBUTING.md": "CONTRIBUTING.md"}
#: The course's own folders: --out may not be one of them or inside one.
OWN_FOLDERS = ("solutions", "lessons", "docs", "qdr_course", "tests", "binder", "deploy")
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full"
# [text](target) with a relative target: group 1 the target, group 2 an optional #anchor.
LOCAL_LINK = re.compile(r"\]\((?!https?:|mailto:|#)([^)#\s]+)(#[^)\s]*)?\)")


class SiteError(Exception):
    """A site cannot be built: the message says what was wrong and what to do."""


@dataclass
class SiteResult:
    """What a build wrote: the output folder, its lesson pages, and the seconds it took."""
    out: Path
    lessons: list[Path]
    seconds: float


# --------------------------------------------------------------------------- the pages

def solution_cells_for_site(nb: nbformat.NotebookNode, mode: str) -> nbformat.NotebookNode:
    """A solution notebook for the site: solutions hidden (stubs), collapsed or shown.

    With ``hide`` no answer shows, in the source or in an output: every exercise cell loses its
    outputs (the checks' verdicts print the answer), and so does every later cell that uses
    what an exercise cell defined (:func:`cells_depending_on_exercises`).
    """
    if mode not in SOLUTION_MODES:
        raise SiteError(f"unknown --solutions {mode!r}: choose one of {', '.join(SOLUTION_MODES)}")
    nb = copy.deepcopy(nb)
    hidden = exercise_cells(nb) | cells_depending_on_exercises(nb) if mode == "hide" else set()
    for index, cell in enumerate(nb.cells):
        if index in hidden:
            cell.outputs, cell.execution_count = concept_questions(cell.source), None
        drop_test_markers(cell)
        if BEGIN not in cell.source:
            continue
        if mode == "hide":
            cell.source = strip_solutions(cell.source, cell.cell_type == "markdown")
        elif cell.cell_type == "code":
            cell.source = _without_markers(cell.source)
            if mode == "collapse":
                cell.metadata.setdefault("tags", []).append("hide-input")
        else:
            cell.source = _collapsed_markdown(cell.source) if mode == "collapse" \
                else _without_markers(cell.source)
    return nb


ASK_CALL = re.compile(r"\bask\(\s*[\"']([^\"']+)[\"']\s*\)")


def concept_questions(source: str) -> list[nbformat.NotebookNode]:
    """The printed concept questions of a cell's ``ask("N.k")`` calls (never their answers).

    A hidden exercise cell keeps these: the question is the exercise, the verdict under it is
    the answer.
    """
    from qdr_course.checks.concepts import ask

    outputs = []
    for key in ASK_CALL.findall(source):
        text = io.StringIO()
        with redirect_stdout(text):
            ask(key)
        outputs.append(nbformat.v4.new_output("stream", name="stdout", text=text.getvalue()))
    return outputs


def exercise_cells(nb: nbformat.NotebookNode) -> set[int]:
    """Indices of the code cells a learner completes: tagged ``exercise`` or with a solution."""
    return {i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and (
        BEGIN in cell.source or EXERCISE_TAG in cell.metadata.get("tags", []))}


def cells_depending_on_exercises(nb: nbformat.NotebookNode) -> set[int]:
    """Indices of the non-exercise code cells that read a name an exercise cell defined.

    Followed through the notebook in order: a cell that reads such a name taints the names it
    defines; a cell that redefines a name without reading a tainted one (the package's reference
    implementation, say) clears it. Imports never taint. A cell Python cannot parse (a magic)
    counts as reading every tainted name its text mentions.
    """
    exercises, tainted, dependent = exercise_cells(nb), set(), set()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        reads, binds = _names(cell.source)
        if index in exercises:
            tainted |= binds
        elif reads & tainted:
            dependent.add(index)
            tainted |= binds
        else:
            tainted -= binds
    return dependent


def _names(source: str) -> tuple[set[str], set[str]]:
    """The names a cell reads anywhere and the names it binds at its top level (not imports)."""
    code = "\n".join(line for line in source.splitlines()
                     if not line.lstrip().startswith(("%", "!")))
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set(re.findall(r"[A-Za-z_]\w*", source)), set()
    reads = {node.id for node in ast.walk(tree)
             if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Store)}
    binds: set[str] = set()
    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp,
              ast.SetComp, ast.DictComp, ast.GeneratorExp)
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            binds.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            binds.add(node.id)
        if not isinstance(node, scopes):
            pending.extend(ast.iter_child_nodes(node))
    return reads, binds


def _without_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if line.strip() not in (BEGIN, END))


def _collapsed_markdown(source: str) -> str:
    """A Markdown cell whose solution regions sit in a closed <details> block."""
    out = []
    for line in source.splitlines():
        if line.strip() == BEGIN:
            out += ["", "<details class=\"solution\"><summary>Solution</summary>", ""]
        elif line.strip() == END:
            out += ["", "</details>", ""]
        else:
            out.append(line)
    return "\n".join(out)


def site_markdown(text: str, page: str, site_pages: dict[str, str]) -> str:
    """Markdown whose links follow pages to their site paths, and other files to GitHub."""
    folder = Path(page).parent

    def rewrite(match: re.Match) -> str:
        target, anchor = match.group(1), match.group(2) or ""
        resolved = _normalise(folder / target)
        if resolved == site_pages.get(resolved):
            return match.group(0)
        if resolved in site_pages:
            return f"]({os.path.relpath(site_pages[resolved], folder)}{anchor})"
        return f"]({REPOSITORY}/blob/{BRANCH}/{resolved}{anchor})"

    return LOCAL_LINK.sub(rewrite, text)


def _normalise(path: Path) -> str:
    parts: list[str] = []
    for part in path.as_posix().split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


def stage(root: Path, src: Path, mode: str,
          alt_texts: dict[str, dict[str, str]] | None = None) -> list[Path]:
    """Write the site's sources into ``src``; return the lesson notebooks' site paths.

    ``alt_texts``, when given, receives each lesson page's figure descriptions
    (:func:`figure_alt_texts`).
    """
    alt_texts = {} if alt_texts is None else alt_texts
    notebooks = sorted((root / "solutions").glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise SiteError(f"no executed solution notebooks in {root / 'solutions'}: run "
                        "'qdr-course site' from the course's root folder, after "
                        "'qdr-course build --execute'")
    docs = sorted((root / "docs").glob("*.md"))
    repo_pages = {**PAGES, **{f"docs/{d.name}": f"docs/{d.name}"
                                                       for d in docs}}
    repo_pages.update({f"lessons/{nb.name}": f"lessons/{nb.name}" for nb in notebooks})
    lessons = []
    for notebook in notebooks:
        nb = solution_cells_for_site(nbformat.read(notebook, as_version=4), mode)
        alt_texts[f"lessons/{notebook.stem}.html"] = figure_alt_texts(nb)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = site_markdown(cell.source, f"lessons/{notebook.name}",
                                            repo_pages)
        target = src / "lessons" / notebook.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        lessons.append(Path("lessons") / notebook.name)
    for repo_path in [*PAGES, *(f"docs/{d.name}" for d in docs)]:
        source = root / repo_path
        if not source.is_file():
            continue
        text = site_markdown(source.read_text(encoding="utf-8"), repo_path, repo_pages)
        target = src / PAGES.get(repo_path, repo_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_with_toctree(text, lessons, docs) if repo_path == "README.md"
                          else text, encoding="utf-8")
    return lessons


def _with_toctree(text: str, lessons: list[Path], docs: list[Path]) -> str:
    """The home page: README.md with the site's table of contents (lessons, then docs) appended."""
    entries = [p.with_suffix("").as_posix() for p in lessons]
    guides = [f"docs/{d.stem}" for d in docs] + ["CONTRIBUTING"]
    return (text + "\n\n```{toctree}\n:caption: Lessons\n:hidden:\n\n" + "\n".join(entries)
            + "\n```\n\n```{toctree}\n:caption: Guides\n:hidden:\n\n" + "\n".join(guides)
            + "\n```\n")


# --------------------------------------------------------------------------- alt text

#: A figure's description in its code cell, one per figure shown, in figure order: a line
#: ``# alt: <text>``, continued on comment lines indented by at least two spaces (``#   more``).
#: The site puts it into the figure's <img alt=...>; in JupyterLab it is a comment by the code.
ALT_LINE = re.compile(r"^\s*#\s*alt:(.*)$")
ALT_CONTINUATION = re.compile(r"^\s*#\s{2,}(\S.*)$")
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")
MIN_ALT_WORDS = 6  # "one sentence saying what the figure shows, its axes and its message"
#: The alt of a figure whose cell has no description: says so rather than show a file name.
MISSING_ALT = "A figure made by the code above (its description is missing)"


def alt_lines(source: str) -> list[str]:
    """The ``# alt: <text>`` descriptions of a code cell (with their continuation lines)."""
    texts: list[str] = []
    continuing = False
    for line in source.splitlines():
        if start := ALT_LINE.match(line):
            texts.append(start.group(1).strip())
            continuing = True
        elif continuing and (more := ALT_CONTINUATION.match(line)):
            texts[-1] += " " + more.group(1).strip()
        else:
            continuing = False
    return texts


def figure_outputs(cell: nbformat.NotebookNode) -> list[str]:
    """The SHA-256 of each figure a code cell shows, in order (as myst-nb names their files)."""
    digests = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        mime = next((m for m in IMAGE_TYPES if m in data), None)
        if mime is None:
            continue
        content = data[mime]
        if isinstance(content, list):
            content = "".join(content)
        raw = content.encode() if mime == "image/svg+xml" else base64.b64decode(content)
        digests.append(hashlib.sha256(raw).hexdigest())
    return digests


def figure_alt_problems(nb: nbformat.NotebookNode, name: str) -> list[str]:
    """One line per code cell of an executed notebook whose figures and alt lines disagree."""
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        figures, alts = len(figure_outputs(cell)), alt_lines(cell.source)
        first = next((line for line in cell.source.splitlines() if line.strip()), "")[:60]
        where = f"{name} cell {index} ({first!r})"
        if figures != len(alts):
            problems.append(f"{where}: shows {figures} figure(s) but has {len(alts)} '# alt:' "
                            "line(s); give one per figure, in figure order")
        problems += [f"{where}: '# alt: {alt}' is too short to say what the figure shows "
                     f"(at least {MIN_ALT_WORDS} words)" for alt in alts
                     if len(alt.split()) < MIN_ALT_WORDS]
    return problems


def figure_alt_texts(nb: nbformat.NotebookNode) -> dict[str, str]:
    """``{figure SHA-256: its description}`` for the figures of a notebook's code cells."""
    texts: dict[str, str] = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            alts = alt_lines(cell.source)
            for number, digest in enumerate(figure_outputs(cell)):
                texts.setdefault(digest, alts[number] if number < len(alts) else MISSING_ALT)
    return texts


IMG_TAG = re.compile(r'<img\s+alt="[^"]*"\s+src="([^"]*_images/([0-9a-f]{64})\.\w+)"')


def add_alt_text(html: Path, alt_texts: dict[str, dict[str, str]]) -> int:
    """Put each lesson figure's description into its <img alt=...>; return how many were set."""
    count = 0
    for page, texts in alt_texts.items():
        path = html / page
        if not path.is_file():
            continue

        def replace(match: re.Match, texts: dict[str, str] = texts) -> str:
            nonlocal count
            text = texts.get(match.group(2))
            if text is None:
                return match.group(0)
            count += 1
            return f'<img alt="{escape(text, quote=True)}" src="{match.group(1)}"'

        path.write_text(IMG_TAG.sub(replace, path.read_text(encoding="utf-8")), encoding="utf-8")
    return count


# --------------------------------------------------------------------------- Sphinx

def sphinx_config(mathjax_dir: str) -> dict:
    """Sphinx settings: notebooks never executed, book theme with Binder, local MathJax 2."""
    return {
        "project": "qdr-course",
        "author": "qdr-course developers",
        "extensions": ["myst_nb", "sphinx.ext.mathjax"],
        "nb_execution_mode": "off",
        "myst_enable_extensions": ["dollarmath", "amsmath", "html_image"],
        "myst_update_mathjax": False,
        "myst_heading_anchors": 3,
        "mathjax_path": f"{mathjax_dir}/MathJax.js?config={MATHJAX_CONFIG}",
        "mathjax3_config": None,
        # jupyter-server-mathjax ships MathJax 2 with the STIX-Web fonts only, as Jupyter used it.
        "mathjax2_config": {"HTML-CSS": {"availableFonts": [], "webFont": "STIX-Web",
                                         "preferredFont": None, "imageFont": None},
                            "SVG": {"font": "STIX-Web"}},
        "html_theme": "sphinx_book_theme",
        "html_title": "qdr-course",
        "html_static_path": ["_static"],
        "html_theme_options": {
            "repository_url": REPOSITORY, "repository_branch": BRANCH, "path_to_docs": "",
            "use_repository_button": True,
            "launch_buttons": {"binderhub_url": BINDERHUB, "notebook_interface": "jupyterlab"},
        },
        "exclude_patterns": ["_build", "**.ipynb_checkpoints"],
        "suppress_warnings": ["myst.header", "misc.highlighting_failure"],
        "html_copy_source": True,  # the download button offers the page's notebook
        "html_show_sourcelink": False,
    }


def copy_mathjax(static: Path) -> str:
    """Copy the MathJax that jupyter-server-mathjax ships into ``static``; return its folder name.
    """
    try:
        import jupyter_server_mathjax
    except ImportError:
        raise SiteError("jupyter-server-mathjax is not installed: install the test "
                        "environment (python3 scripts/bootstrap.py test, "
                        "binder/requirements-test.txt) or pip install 'qdr-course[site]'") from None
    shutil.copytree(Path(jupyter_server_mathjax.__file__).parent / "static", static / "mathjax")
    return "mathjax"


def run_sphinx(src: Path, out: Path, doctrees: Path, config: dict) -> list[str]:
    """Build HTML with Sphinx in this process; return its warnings."""
    try:
        from sphinx.application import Sphinx
    except ImportError:
        raise SiteError("Sphinx is not installed: install the test environment (python3 "
                        "scripts/bootstrap.py test, binder/requirements-test.txt) or pip "
                        "install 'qdr-course[site]'") from None
    (src / "conf.py").write_text("".join(f"{k} = {v!r}\n" for k, v in config.items()))
    warnings, log = io.StringIO(), io.StringIO()
    with redirect_stdout(log), redirect_stderr(log):
        app = Sphinx(str(src), str(src), str(out), str(doctrees), "html", status=log,
                     warning=warnings, freshenv=True, verbosity=0, parallel=1)
        app.build()
    if app.statuscode:
        raise SiteError(f"Sphinx failed (status {app.statuscode}):\n{log.getvalue()[-2000:]}")
    return [line for line in warnings.getvalue().splitlines() if line.strip()]


# --------------------------------------------------------------------------- the output folder

def check_out_folder(out: Path) -> dict[str, list[str]] | None:
    """Check, before any slow work, that ``out`` can take a site; return the earlier site's files.

    ``out`` may be missing, empty, a folder an earlier build made (its :data:`MARKER` lists
    what it wrote), or a publishing folder holding only :data:`PUBLISHING_FILES`. Anything else
    is refused, and so is a file of an earlier build that was edited since. The folder is made
    if missing and must take a file. Returns the earlier build's ``{path: [sha256, ...]}``, or
    None when there is none (or its marker predates the manifest).
    """
    if out.exists() and not out.is_dir():
        raise SiteError(f"--out {out} is a file: choose a folder for --out")
    marker = out / MARKER
    if out.is_dir() and not marker.is_file():
        foreign = sorted(p.name for p in out.iterdir() if p.name not in PUBLISHING_FILES)
        if foreign:
            raise SiteError(f"--out {out} is not empty ({_some(foreign)}) and was not built by "
                            "'qdr-course site': choose another --out, or empty that folder "
                            "yourself")
    _probe_writable(out)
    earlier = read_manifest(marker) if marker.is_file() else None
    if earlier:
        edited = [path for path, hashes in earlier.items()
                  if (out / path).is_file() and _sha256(out / path) not in hashes]
        if edited:
            raise SiteError(f"--out {out}: {len(edited)} file(s) of the earlier site were edited "
                            f"since it was built ({_some(edited)}); a rebuild would overwrite "
                            "them: move them out of --out first")
    return earlier


def _probe_writable(out: Path) -> None:
    """Make ``out`` (and missing parents) and write a file into it; one line if that fails."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as error:
        reason = "no space left on the disk" if error.errno == errno.ENOSPC else \
            error.strerror or type(error).__name__
        raise SiteError(f"--out {out}: cannot write there ({reason}); choose --out in a folder "
                        "you can write") from None


def _some(names: list[str], limit: int = 5) -> str:
    """The first few of ``names``, comma separated, with how many more."""
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest(marker: Path) -> dict[str, list[str]] | None:
    """The files an earlier build wrote, from its marker: ``{path: [sha256, ...]}``, or None."""
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
        files = data["files"]
        return {str(path): list(hashes) for path, hashes in files.items()}
    except (ValueError, KeyError, TypeError, AttributeError, OSError):
        return None  # a marker from before the manifest: only its name says a site was here


def _write_manifest(out: Path, files: dict[str, list[str]], mode: str) -> None:
    marker = {"built_by": f"qdr-course site --solutions {mode}",
              "note": "the files this site wrote; a rebuild replaces them and keeps all others",
              "files": dict(sorted(files.items()))}
    (out / MARKER).write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")


def install_site(html: Path, out: Path, earlier: dict[str, list[str]] | None, mode: str) -> None:
    """Copy the built ``html`` into ``out``: replace the earlier site's files, keep all others.

    A file in ``out`` that the new site would overwrite and no earlier build wrote is refused by
    name before anything is written. Files of the earlier build that the new one does not write
    are removed, with the folders they leave empty.
    """
    new = {p.relative_to(html).as_posix(): _sha256(p) for p in html.rglob("*") if p.is_file()}
    ours = set(earlier or ())
    legacy = earlier is None and (out / MARKER).is_file()  # the folder is a site; no list
    clash = sorted(path for path in new if (out / path).exists() and path not in ours
                   and not (legacy and (out / path).is_file()))
    if clash:
        raise SiteError(f"--out {out} holds file(s) the site would overwrite and that no earlier "
                        f"'qdr-course site' wrote ({_some(clash)}): move them, or choose "
                        "another --out")
    out.mkdir(parents=True, exist_ok=True)
    # While copying, either version of a file counts as the site's (an interrupted copy).
    during = {path: sorted({new[path], *(earlier or {}).get(path, [])}) for path in new}
    _write_manifest(out, {**(earlier or {}), **during}, mode)
    for path in sorted(new):
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(html / path, target)
    for path in sorted(ours - set(new)):
        (out / path).unlink(missing_ok=True)
        for folder in (out / path).parents:
            if folder == out or not folder.is_dir() or any(folder.iterdir()):
                break
            folder.rmdir()
    _write_manifest(out, {path: [digest] for path, digest in new.items()}, mode)


def build_site(root: Path, out: Path, mode: str = "hide") -> tuple[SiteResult, list[str]]:
    """Render the course's site into ``out``; return what was built and Sphinx's warnings.

    ``out`` is checked (and made) before the build; the user's own files in it are kept.
    """
    start = time.perf_counter()
    root, out = Path(root).resolve(), Path(out).expanduser().resolve()
    if out == root or any(out == root / d or root / d in out.parents for d in OWN_FOLDERS):
        raise SiteError(f"--out {out} is the course's own folder: choose another (e.g. _site)")
    if mode not in SOLUTION_MODES:
        raise SiteError(f"unknown --solutions {mode!r}: choose one of {', '.join(SOLUTION_MODES)}")
    created = _topmost_missing(out)
    try:
        earlier = check_out_folder(out)
        with tempfile.TemporaryDirectory(prefix="qdr-site-") as tmp:
            src, html = Path(tmp) / "src", Path(tmp) / "html"
            (src / "_static").mkdir(parents=True)
            alt_texts: dict[str, dict[str, str]] = {}
            lessons = stage(root, src, mode, alt_texts)
            mathjax = copy_mathjax(src / "_static")
            warnings = run_sphinx(src, html, Path(tmp) / "doctrees", sphinx_config(mathjax))
            (html / ".buildinfo").unlink(missing_ok=True)
            (html / MARKER).unlink(missing_ok=True)
            (html / ".nojekyll").write_text("")  # GitHub Pages: serve _static/ as is
            add_alt_text(html, alt_texts)
            warnings += _alt_warnings(root / "solutions")
            install_site(html, out, earlier, mode)
    except BaseException:
        if created is not None and created.is_dir() and not any(created.rglob("*.html")):
            shutil.rmtree(created, ignore_errors=True)  # only what this build made, still empty
        raise
    pages = [out / p.with_suffix(".html") for p in lessons]
    return SiteResult(out, pages, time.perf_counter() - start), warnings


def _alt_warnings(solutions: Path) -> list[str]:
    """One warning per lesson whose figures lack descriptions (see :func:`figure_alt_problems`)."""
    warnings = []
    for notebook in sorted(solutions.glob("[0-9][0-9]_*.ipynb")):
        problems = figure_alt_problems(nbformat.read(notebook, as_version=4), notebook.name)
        if problems:
            warnings.append(f"{notebook.name}: {len(problems)} figure cell(s) without a proper "
                            f"'# alt:' line, first: {problems[0]}")
    return warnings


def _topmost_missing(path: Path) -> Path | None:
    """The outermost folder of ``path`` that does not exist yet (None if ``path`` exists)."""
    if path.exists():
        return None
    top = path
    while not top.parent.exists() and top.parent != top:
        top = top.parent
    return top
