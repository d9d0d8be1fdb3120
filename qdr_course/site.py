"""The course as a website: every executed solution notebook and the docs, rendered with Sphinx.

Nothing is executed: the pages show the outputs stored in ``solutions/NN_topic.ipynb``.
Sphinx with myst-nb reads the notebooks and the Markdown, sphinx-book-theme gives each lesson a
launch-on-Binder button and a search box (Sphinx's local search index), and equations are
rendered by the MathJax copy that the ``jupyter-server-mathjax`` package ships, so a build needs
no network and the site works offline. See ``docs/instructor-guide.md`` (the course as a website).
"""

from __future__ import annotations

import copy
import io
import os
import re
import shutil
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import nbformat

from qdr_course.authoring import BEGIN, END, drop_test_markers, strip_solutions

REPOSITORY = "https://github.com/qdr-course/qdr-course"
BRANCH = "main"
BINDERHUB = "https://mybinder.org"
SOLUTION_MODES = ("hide", "collapse", "show")
#: Written into every site this module builds: a folder with it may be replaced by a new build.
MARKER = ".qdr-course-site"
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
    """A solution notebook for the site: solutions hidden (stubs), collapsed or shown; outputs kept.
    """
    if mode not in SOLUTION_MODES:
        raise SiteError(f"unknown --solutions {mode!r}: choose one of {', '.join(SOLUTION_MODES)}")
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
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


def stage(root: Path, src: Path, mode: str) -> list[Path]:
    """Write the site's sources into ``src``; return the lesson notebooks' site paths."""
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


def check_out_folder(out: Path) -> None:
    """Refuse to write over a folder this command did not make."""
    if out.exists() and not out.is_dir():
        raise SiteError(f"{out} is a file: choose a folder for --out")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise SiteError(f"{out} is not empty and was not built by 'qdr-course site': choose "
                        "another --out, or empty that folder yourself")


def build_site(root: Path, out: Path, mode: str = "hide") -> tuple[SiteResult, list[str]]:
    """Render the course's site into ``out``; return what was built and Sphinx's warnings."""
    start = time.perf_counter()
    root, out = Path(root).resolve(), Path(out).resolve()
    if out == root or any(out == root / d or root / d in out.parents for d in OWN_FOLDERS):
        raise SiteError(f"--out {out} is the course's own folder: choose another (e.g. _site)")
    check_out_folder(out)
    with tempfile.TemporaryDirectory(prefix="qdr-site-") as tmp:
        src, html = Path(tmp) / "src", Path(tmp) / "html"
        (src / "_static").mkdir(parents=True)
        lessons = stage(root, src, mode)
        mathjax = copy_mathjax(src / "_static")
        warnings = run_sphinx(src, html, Path(tmp) / "doctrees", sphinx_config(mathjax))
        (html / ".buildinfo").unlink(missing_ok=True)
        (html / MARKER).write_text(f"built by qdr-course site --solutions {mode}\n")
        (html / ".nojekyll").write_text("")  # GitHub Pages: serve _static/ as is
        if out.exists():
            shutil.rmtree(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(html, out)
    pages = [out / p.with_suffix(".html") for p in lessons]
    return SiteResult(out, pages, time.perf_counter() - start), warnings
