"""`qdr-course site`: the course as a website, built offline from the executed notebooks."""

import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from qdr_course.authoring import BEGIN, find_leaks, find_regions
from qdr_course.cli import main
from qdr_course.site import (
    MARKER,
    SiteError,
    build_site,
    check_out_folder,
    site_markdown,
    solution_cells_for_site,
)
from qdr_course.utils import REPO_ROOT

pytest.importorskip("sphinx", reason="the site needs the course's full environment (Sphinx)")

SOLUTIONS = sorted((REPO_ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
BINDER = "https://mybinder.org/v2/gh/qdr-course/qdr-course/main?urlpath=lab/tree/lessons/{}"


class Page(HTMLParser):
    """One HTML page: its links, image sources, element ids, scripts and visible text."""

    def __init__(self, text: str):
        super().__init__()
        self.links, self.sources, self.ids, self.scripts, self.chunks = [], [], set(), [], []
        self._skip = 0
        self.feed(text)
        self.text = "".join(self.chunks)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "link" and attrs.get("href"):
            self.sources.append(attrs["href"])
        if tag in ("img", "script") and attrs.get("src"):
            self.sources.append(attrs["src"])
        if tag == "script":
            self.scripts.append(attrs.get("src", ""))
        if tag in ("script", "style", "template"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.chunks.append(data)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "html"
    assert main(["site", "--out", str(out), "--root", str(REPO_ROOT)]) == 0
    return out


def _local(url: str) -> bool:
    return not re.match(r"^(https?:|mailto:|javascript:|data:|#)", url) and bool(url)


def test_every_lesson_has_a_page_with_its_binder_button(site):
    assert len(SOLUTIONS) >= 8
    for notebook in SOLUTIONS:
        page = site / "lessons" / notebook.with_suffix(".html").name
        assert page.is_file(), f"no page for {notebook.name}"
        parsed = Page(page.read_text(encoding="utf-8"))
        assert BINDER.format(notebook.name) in parsed.links, f"{page.name}: no Binder link"
        title = nbformat.read(notebook, as_version=4).cells[0].source.splitlines()[0]
        assert title.lstrip("# ").split(":")[0] in parsed.text
    for doc in (REPO_ROOT / "docs").glob("*.md"):
        assert (site / "docs" / doc.with_suffix(".html").name).is_file()
    assert (site / "index.html").is_file() and (site / MARKER).is_file()


def test_every_internal_link_and_image_resolves(site):
    pages = sorted(p for p in site.rglob("*.html") if "_static" not in p.parts)
    ids = {page: Page(page.read_text(encoding="utf-8")).ids for page in pages}
    broken, checked = [], 0
    for page in pages:
        parsed = Page(page.read_text(encoding="utf-8"))
        for url in parsed.links + parsed.sources:
            if not _local(url):
                continue
            parts = urlsplit(url)
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            checked += 1
            if not target.is_file():
                broken.append(f"{page.relative_to(site)} -> {url}")
            elif parts.fragment and target.suffix == ".html" and parts.fragment not in ids.get(
                    target, set()):
                broken.append(f"{page.relative_to(site)} -> {url} (no such anchor)")
    assert checked > 500
    assert not broken, "\n".join(broken[:20])


def test_hidden_solutions_are_not_visible_and_stubs_are(site):
    for notebook in SOLUTIONS:
        source = notebook.with_suffix(".py")
        text = source.read_text(encoding="utf-8")
        regions = find_regions(text, source)
        page_text = Page((site / "lessons" / f"{notebook.stem}.html").read_text("utf-8")).text
        assert not find_leaks(regions, text, page_text), f"{notebook.name}: a solution shows"
        if any(not region.markdown for region in regions):
            assert "Exercise: complete this" in page_text, f"{notebook.name}: no exercise stub"


def test_search_and_equations_work_offline(site):
    index = (site / "searchindex.js").read_text(encoding="utf-8")
    assert (site / "search.html").is_file()
    assert "parameter" in index and "kappa" in index
    page = Page((site / "lessons" / "02_parameter_shift.html").read_text(encoding="utf-8"))
    mathjax = [s for s in page.scripts if "MathJax.js" in s]
    assert mathjax and (site / "lessons" / mathjax[0].split("?")[0]).is_file()
    assert page.text.count("\\(") >= 10  # inline equations, typeset by the local MathJax
    for html in site.rglob("*.html"):
        remote = [s for s in Page(html.read_text("utf-8")).scripts if s.startswith("http")]
        assert not remote, f"{html.name} loads scripts from the network: {remote}"


def test_collapse_and_show_keep_the_solution_and_hide_does_not():
    nb = nbformat.read(SOLUTIONS[0], as_version=4)
    exercise = next(i for i, c in enumerate(nb.cells) if BEGIN in c.source and
                    c.cell_type == "code")
    solution_line = nb.cells[exercise].source.split(BEGIN)[1].strip().splitlines()[0]
    collapsed = solution_cells_for_site(nb, "collapse").cells[exercise]
    assert "hide-input" in collapsed.metadata["tags"] and solution_line in collapsed.source
    shown = solution_cells_for_site(nb, "show").cells[exercise]
    assert solution_line in shown.source and BEGIN not in shown.source
    hidden = solution_cells_for_site(nb, "hide").cells[exercise]
    assert solution_line not in hidden.source and "NotImplementedError" in hidden.source
    assert hidden.outputs == nb.cells[exercise].outputs  # outputs kept in every mode
    markdown = nbformat.v4.new_markdown_cell(f"Why?\n{BEGIN}\nBecause.\n### END SOLUTION")
    nb.cells = [markdown]
    assert "<details" in solution_cells_for_site(nb, "collapse").cells[0].source
    with pytest.raises(SiteError, match="choose one of hide, collapse, show"):
        solution_cells_for_site(nb, "peek")


def test_links_follow_pages_and_other_files_go_to_github():
    pages = {"index.md": "index.md", "README.md": "index.md", "docs/glossary.md":
             "docs/glossary.md"}
    text = "[a](../README.md) [b](glossary.md#q) [c](../binder/requirements.txt) [d](https://x.y)"
    assert site_markdown(text, "docs/learner-setup.md", pages) == (
        "[a](../index.md) [b](glossary.md#q) "
        "[c](https://github.com/qdr-course/qdr-course/blob/main/binder/requirements.txt) "
        "[d](https://x.y)")


def test_a_folder_it_did_not_build_is_never_overwritten(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SiteError, match="not built by 'qdr-course site'"):
        check_out_folder(tmp_path)
    with pytest.raises(SiteError, match="course's own folder"):
        build_site(REPO_ROOT, REPO_ROOT / "docs" / "site")
    (tmp_path / MARKER).write_text("")
    check_out_folder(tmp_path)  # a site it built may be replaced
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_no_solutions_folder_is_a_one_line_error(tmp_path, capsys):
    assert main(["site", "--out", str(tmp_path / "out"), "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "no executed solution notebooks" in err and len(err.strip().splitlines()) == 1
    assert not Path(tmp_path / "out").exists()


def test_equations_are_typeset_in_a_browser_with_no_network(site):
    """Chromium opens a lesson from disk with every network request refused; MathJax typesets."""
    chromium = Path(os.environ.get("QDR_CHROMIUM", "/usr/bin/chromium"))
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not chromium.exists():
        pytest.skip(f"no Chromium at {chromium} (tests/test_browser.py installs it in CI)")
    remote = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        page = browser.new_page()
        page.route(re.compile(r"^https?://"), lambda route: (remote.append(route.request.url),
                                                              route.abort()))
        page.goto((site / "lessons" / "02_parameter_shift.html").as_uri())
        page.wait_for_function("window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0"
                               " && document.querySelectorAll('.MathJax_Display').length > 0",
                               timeout=60_000)
        typeset = page.evaluate("document.querySelectorAll('.MathJax, .MathJax_Display').length")
        errors = page.evaluate("document.querySelectorAll('.MathJax_Error, merror').length")
        browser.close()
    assert typeset >= 20 and errors == 0
    assert not [url for url in remote if "mathjax" in url.lower()]
