"""`qdr-course site`: the course as a website, built offline from the executed notebooks."""

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from qdr_course.authoring import BEGIN, find_leaks, find_regions
from qdr_course.checks.concepts import QUESTIONS
from qdr_course.cli import main
from qdr_course.site import (
    ASK_CALL,
    MARKER,
    SiteError,
    add_alt_text,
    alt_lines,
    build_site,
    cells_depending_on_exercises,
    check_out_folder,
    concept_questions,
    exercise_cells,
    figure_alt_problems,
    figure_alt_texts,
    install_site,
    read_manifest,
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
    assert nb.cells[exercise].outputs and hidden.outputs == []  # its verdict gives it away
    assert collapsed.outputs == shown.outputs == nb.cells[exercise].outputs
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


def test_no_solutions_folder_is_a_one_line_error(tmp_path, capsys):
    assert main(["site", "--out", str(tmp_path / "out"), "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "no executed solution notebooks" in err and len(err.strip().splitlines()) == 1
    assert not Path(tmp_path / "out").exists()


# --------------------------------------------------------------------------- in a browser

CHROMIUM = Path(os.environ.get("QDR_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def chromium() -> Path:
    """Debian's Chromium; in CI install it when missing and fail if that fails; else skip."""
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if CHROMIUM.exists():
        return CHROMIUM
    if not os.environ.get("CI"):
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (see the README), or "
                    "set QDR_CHROMIUM to a Chromium executable")
    from test_browser import _apt_install_chromium  # the same apt-get steps

    reason = _apt_install_chromium()
    if reason or not CHROMIUM.exists():
        pytest.fail(f"CI needs Chromium at {CHROMIUM} for the site's browser tests: "
                    f"{reason or 'apt-get did not install it there'}")
    return CHROMIUM


def test_equations_are_typeset_in_a_browser_with_no_network(site):
    """Chromium opens a lesson from disk with every network request refused; MathJax typesets."""
    from playwright.sync_api import sync_playwright

    remote = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium()), args=CHROMIUM_ARGS)
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


#: Pages on which axe-core also checks colour contrast, its slowest rule (20-30 s a lesson page
#: on a busy 2-core machine): the theme's colours, the code highlighting and the outputs'
#: styles are the same on every page, so these cover each kind of page and of output.
CONTRAST_PAGES = ("index.html", "search.html", "docs/instructor-guide.html",
                  "lessons/00_welcome.html", "lessons/05_hybrid_grader.html")


def test_axe_core_finds_no_serious_or_critical_violation(site):
    """axe-core (the copy axe-playwright-python ships) on every page of the hidden-solutions
    site, offline, after MathJax has typeset it: zero serious or critical violations. Every rule
    runs on every page, except colour contrast, which runs on CONTRAST_PAGES."""
    from playwright.sync_api import sync_playwright

    axe = pytest.importorskip("axe_playwright_python", reason="axe-playwright-python is not "
                              "installed (the test extra)")
    axe_js = Path(axe.__file__).parent / "axe.min.js"
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                   if "_static" not in p.parts)
    assert set(CONTRAST_PAGES) <= set(pages)
    found, rules_run = [], set()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium()), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.route(re.compile(r"^https?://"), lambda route: route.abort())
        for name in pages:
            page.goto((site / name).as_uri())
            page.wait_for_function("!window.MathJax || (MathJax.Hub && "
                                   "MathJax.Hub.queue.pending === 0)", timeout=60_000)
            page.add_script_tag(path=str(axe_js))
            contrast = "true" if name in CONTRAST_PAGES else "false"
            result = page.evaluate("axe.run(document, {resultTypes: ['violations'], rules: "
                                   f"{{'color-contrast': {{enabled: {contrast}}}}}}})")
            rules_run |= {r["id"] for kind in ("passes", "incomplete", "inapplicable",
                                               "violations") for r in result[kind]}
            found += [f"{name}: {v['id']} ({v['impact']}, {len(v['nodes'])} element(s)): "
                      f"{v['help']}; first: {v['nodes'][0]['html'][:120]}"
                      for v in result["violations"] if v["impact"] in ("serious", "critical")]
        version = page.evaluate("axe.version")
        browser.close()
    assert len(pages) >= 15 and {"image-alt", "color-contrast", "link-name"} <= rules_run
    assert not found, f"axe-core {version}:\n" + "\n".join(found)


# --------------------------------------------------------------------------- answers stay hidden

class Outputs(HTMLParser):
    """The text inside a page's code-cell output areas (myst-nb's ``div.cell_output``)."""

    def __init__(self, text: str):
        super().__init__()
        self.chunks, self._depth = [], 0
        self.feed(text)
        self.text = "".join(self.chunks)

    def handle_starttag(self, tag, attrs):
        if tag != "div":
            return
        if self._depth:
            self._depth += 1
        elif "cell_output" in (dict(attrs).get("class") or "").split():
            self._depth = 1

    def handle_endtag(self, tag):
        if tag == "div" and self._depth:
            self._depth -= 1

    def handle_data(self, data):
        if self._depth:
            self.chunks.append(data)


def _output_lines(cell) -> list[str]:
    """The distinctive lines of a cell's text outputs (long enough not to occur by chance)."""
    lines = []
    for output in cell.get("outputs", []):
        text = output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
        lines += [line.strip() for line in text.splitlines() if len(line.strip()) >= 20]
    return lines


def test_the_hidden_site_shows_no_verdict_and_no_exercise_output(site):
    """Every lesson: no check verdict in any output, no exercise cell's output, no solution."""
    verdicts = re.compile(r"[✅❌⏳]|\b(Correct|Not yet|Not attempted yet) - ")
    checked = 0
    for notebook in SOLUTIONS:
        nb = nbformat.read(notebook, as_version=4)
        html = (site / "lessons" / f"{notebook.stem}.html").read_text("utf-8")
        outputs = Outputs(html).text
        assert outputs.strip(), f"{notebook.name}: the page shows no outputs at all"
        assert not verdicts.search(outputs), f"{notebook.name}: a check verdict shows"
        for key in ASK_CALL.findall("\n".join(c.source for c in nb.cells)):
            assert f"Concept check {key}:" in outputs, f"{notebook.name}: question {key} missing"
        hidden = exercise_cells(nb) | cells_depending_on_exercises(nb)
        for index in sorted(hidden):
            shown = {line.strip() for question in concept_questions(nb.cells[index].source)
                     for line in question.text.splitlines()}  # the question stays, by design
            for line in _output_lines(nb.cells[index]):
                if line in shown:
                    continue
                checked += 1
                assert line not in outputs, f"{notebook.name} cell {index} output shows: {line}"
        # the notebook the page offers for download is the hidden one too
        offered = nbformat.read(site / "_sources" / "lessons" / notebook.name, as_version=4)
        for i in hidden:  # nothing but the concept question a cell asks, if it asks one
            questions = [q.text for q in concept_questions(offered.cells[i].source)]
            assert [o.get("text") for o in offered.cells[i].get("outputs", [])] in ([], questions)
        source = notebook.with_suffix(".py").read_text(encoding="utf-8")
        offered_text = "\n".join(cell.source for cell in offered.cells)
        assert not find_leaks(find_regions(source, notebook), source, offered_text)
    assert checked >= 30  # every lesson's check lines were looked for


def test_outputs_that_use_an_exercise_answer_are_hidden_too():
    """A later cell reading what an exercise defined (directly or through another name) hides;
    one that redefines the name from the package, or only imports, keeps its outputs."""
    cells = [nbformat.v4.new_code_cell(src) for src in (
        f"def answer(x):\n    {BEGIN}\n    y = 2 * x\n    return y\n    ### END SOLUTION\n"
        "check_answer(answer)",
        "table = [answer(x) for x in range(3)]\nprint(table)",   # uses it: hidden
        "print(sum(table))",                                        # uses it indirectly: hidden
        "y = 5\nprint(y)",                                          # a local of the solution
        "from qdr_course import answer\nprint(answer(1))",         # an import: kept hidden
        "answer = reference\nprint(reference(2))",                   # redefined: shown
        "print(answer(3))",                                          # the reference now: shown
        "%time answer(4)",                                           # a magic: read as text
    )]
    nb = nbformat.v4.new_notebook(cells=cells)
    assert exercise_cells(nb) == {0}
    assert cells_depending_on_exercises(nb) == {1, 2, 4}
    for cell in nb.cells:
        cell.outputs = [nbformat.v4.new_output("stream", text="shown\n")]
    hidden = solution_cells_for_site(nb, "hide")
    assert [bool(c.outputs) for c in hidden.cells] == [False, False, False, True, False, True,
                                                        True, True]
    # a concept check in one cell: the question stays, the verdict (it names the answer) goes
    concept = nbformat.v4.new_code_cell(
        'ask("1.1")\n\ndef my_choice():\n    ### BEGIN SOLUTION\n    return "b"\n'
        '    ### END SOLUTION\n\ncheck_concept_1_1(my_choice)')
    concept.metadata["tags"] = ["exercise", "concept"]
    concept.outputs = [nbformat.v4.new_output("stream", text="Concept check 1.1: ...\n"
                                              "✅ Correct - Concept check 1.1: right: ...\n")]
    tagged = nbformat.v4.new_notebook(cells=[concept])
    assert exercise_cells(tagged) == {0}
    shown = solution_cells_for_site(tagged, "hide").cells[0].outputs
    question = QUESTIONS["1.1"].question
    assert len(shown) == 1 and shown[0].text.startswith(f"Concept check 1.1: {question}")
    assert "(a)" in shown[0].text and "✅" not in shown[0].text
    assert QUESTIONS["1.1"].feedback[QUESTIONS["1.1"].right] not in shown[0].text


# --------------------------------------------------------------------------- alt text

@pytest.mark.parametrize("notebook", SOLUTIONS, ids=[nb.stem for nb in SOLUTIONS])
def test_every_lesson_figure_has_its_alt_line(notebook):
    """Each code cell that shows figures in the executed solution notebook has one
    '# alt: <sentence>' line per figure (the site's <img alt>, a comment in JupyterLab)."""
    problems = figure_alt_problems(nbformat.read(notebook, as_version=4), notebook.name)
    assert not problems, f"{len(problems)} figure cell(s) without alt text:\n" + "\n".join(problems)


def test_alt_lines_are_matched_to_figures_and_reach_the_img_tag(tmp_path):
    png = base64.b64encode(b"\x89PNG fake figure").decode()
    figure = nbformat.v4.new_output("display_data", data={"image/png": png})
    good = nbformat.v4.new_code_cell("# alt: A line plot of loss against epoch, falling to 0.2.\n"
                                     "# alt: A bar chart of counts per grade, grade 0 the most.\n"
                                     "plot()", outputs=[figure, figure])
    short = nbformat.v4.new_code_cell("# alt: a plot\nplot()", outputs=[figure])
    missing = nbformat.v4.new_code_cell("plot()", outputs=[figure])
    plain = nbformat.v4.new_code_cell("print(1)", outputs=[])
    nb = nbformat.v4.new_notebook(cells=[good, plain])
    assert figure_alt_problems(nb, "x.ipynb") == []
    assert alt_lines(good.source)[1].startswith("A bar chart")
    assert alt_lines("# alt: A curve of loss against epoch,\n#      falling to 0.2.\n"
                     "# not part of it\n# alt: Counts per grade.") == [
        "A curve of loss against epoch, falling to 0.2.", "Counts per grade."]
    problems = figure_alt_problems(nbformat.v4.new_notebook(cells=[short, missing]), "x.ipynb")
    assert len(problems) == 2 and "too short" in problems[0] and "has 0 '# alt:'" in problems[1]
    texts = figure_alt_texts(nb)
    digest = hashlib.sha256(base64.b64decode(png)).hexdigest()
    assert texts == {digest: "A line plot of loss against epoch, falling to 0.2."}
    (tmp_path / "lessons").mkdir()
    page = tmp_path / "lessons" / "x.html"
    page.write_text(f'<p><img alt="../_images/{digest}.png" src="../_images/{digest}.png" />'
                    '<img alt="Binder logo" src="../_static/logo.svg"></p>')
    assert add_alt_text(tmp_path, {"lessons/x.html": texts}) == 1
    assert 'alt="A line plot of loss against epoch, falling to 0.2."' in page.read_text()
    assert 'alt="Binder logo"' in page.read_text()


def test_every_figure_on_the_site_has_a_description(site):
    """No <img> on the site without alt text, or with a file name for alt text."""
    bad = []
    for html in site.rglob("*.html"):
        for tag in re.findall(r"<img\b[^>]*>", html.read_text("utf-8")):
            alt = re.search(r'\balt="([^"]*)"', tag)
            if alt is None or not alt.group(1).strip() or "_images/" in alt.group(1):
                bad.append(f"{html.relative_to(site)}: {tag[:120]}")
    assert not bad, "\n".join(bad[:20])


# --------------------------------------------------------------------------- the output folder

def _fake_html(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def test_a_rebuild_keeps_the_users_files_and_replaces_its_own(tmp_path):
    out = tmp_path / "out"
    first = _fake_html(tmp_path / "a", {"index.html": "1", "lessons/old.html": "old",
                                        "_static/x.css": "x"})
    second = _fake_html(tmp_path / "b", {"index.html": "2", "_static/x.css": "x"})
    install_site(first, out, check_out_folder(out), "hide")
    (out / "CNAME").write_text("course.example.org\n")  # GitHub Pages' custom domain
    _fake_html(out, {".git/HEAD": "ref: refs/heads/gh-pages\n", "_static/mine.css": "m"})
    install_site(second, out, check_out_folder(out), "hide")
    assert (out / "index.html").read_text() == "2"
    assert not (out / "lessons").exists()  # the earlier site's page and its empty folder: gone
    assert (out / "CNAME").read_text() == "course.example.org\n"
    assert (out / ".git" / "HEAD").is_file() and (out / "_static" / "mine.css").is_file()
    assert set(read_manifest(out / MARKER)) == {"index.html", "_static/x.css"}


def test_a_folder_it_did_not_build_or_an_edited_page_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SiteError, match=r"not empty \(notes.txt\) and was not built"):
        check_out_folder(tmp_path)
    with pytest.raises(SiteError, match="course's own folder"):
        build_site(REPO_ROOT, REPO_ROOT / "docs" / "site")
    publishing = tmp_path / "gh-pages"  # a clone of the publishing branch: .git and CNAME only
    _fake_html(publishing, {".git/HEAD": "x", "CNAME": "course.example.org"})
    assert check_out_folder(publishing) is None
    clash = _fake_html(tmp_path / "c", {"CNAME": "the site's own"})
    with pytest.raises(SiteError, match=r"would overwrite .*\(CNAME\)"):
        install_site(clash, publishing, None, "hide")
    assert (publishing / "CNAME").read_text() == "course.example.org"
    out = tmp_path / "out"
    install_site(_fake_html(tmp_path / "d", {"index.html": "site"}), out, None, "hide")
    (out / "index.html").write_text("edited by hand")
    with pytest.raises(SiteError, match=r"edited since it was built \(index.html\)"):
        check_out_folder(out)
    legacy = _fake_html(tmp_path / "legacy", {MARKER: "built by qdr-course site\n",
                                              "index.html": "old", "CNAME": "x"})
    assert check_out_folder(legacy) is None  # a site from before the manifest: replaced ...
    install_site(_fake_html(tmp_path / "e", {"index.html": "new"}), legacy, None, "hide")
    assert (legacy / "index.html").read_text() == "new" and (legacy / "CNAME").exists()  # ... kept


@pytest.mark.parametrize("out", ["/proc/qdr-site-x", "/sys/qdr-site-x", "FILE/x"])
def test_an_unwritable_out_is_one_line_before_anything_is_built(out, tmp_path, capsys,
                                                               monkeypatch):
    import qdr_course.site as site_module

    if out.startswith("FILE"):
        (tmp_path / "FILE").write_text("a file")
        out = str(tmp_path / out)
    elif not Path(out).parent.is_dir():
        pytest.skip(f"no {Path(out).parent} on this system")

    def no_build(*args):
        raise AssertionError("the site was built before --out was checked")

    monkeypatch.setattr(site_module, "stage", no_build)
    assert main(["site", "--out", out, "--root", str(REPO_ROOT)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "cannot write there" in err, err
    assert "Traceback" not in err


# --------------------------------------------------------------------------- the Pages workflow

WORKFLOW = REPO_ROOT / "deploy" / "github-pages" / "site.yml"
RECORD_IMPORTS = """
import atexit, json, sys
from qdr_course.cli import main
atexit.register(lambda: open(sys.argv[1], "w").write(json.dumps(sorted(sys.modules))))
sys.exit(main(sys.argv[2:]))
"""


def workflow_build_steps() -> tuple[list[str], str, str]:
    """The Pages workflow's build job: its shell lines, the site command, the uploaded folder."""
    yaml = pytest.importorskip("yaml")
    steps = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["build"]["steps"]
    lines = [line.strip() for step in steps for line in step.get("run", "").splitlines()
             if line.strip()]
    site_line = next(line for line in lines if " site " in f"{line} ")
    upload = next(step["with"]["path"] for step in steps
                  if step.get("uses", "").startswith("actions/upload-pages-artifact"))
    return lines, site_line, upload


def _pins(lock: Path) -> set[str]:
    return {canonical(line.split("==")[0]) for line in lock.read_text().splitlines()
            if "==" in line and not line.lstrip().startswith("#")}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_pages_workflow_installs_what_the_site_needs():
    """The workflow sets up the course, then installs a lock that holds the site's packages
    (`bootstrap.py setup` alone installs the learner's lock, which has no Sphinx)."""
    lines, site_line, upload = workflow_build_steps()
    assert lines[0] == "python3 scripts/bootstrap.py setup"
    locks = [REPO_ROOT / word for line in lines[1:] for word in line.split()
             if word.startswith("binder/requirements")]
    assert locks and all(lock.is_file() for lock in locks), locks
    installed = _pins(REPO_ROOT / "binder" / "requirements.txt").union(*map(_pins, locks))
    site_extra = ["sphinx", "myst-nb", "sphinx-book-theme", "jupyter-server-mathjax"]
    assert not set(site_extra) & _pins(REPO_ROOT / "binder" / "requirements.txt")
    assert set(site_extra) <= installed, "the workflow does not install the site's packages"
    assert site_line.split()[:2] == [".venv/bin/qdr-course", "site"]
    assert "--solutions hide" in site_line and f"--out {upload}" in site_line


def test_the_pages_workflow_builds_the_site_and_a_rebuild_keeps_cname_and_git(tmp_path):
    """The workflow's site command, run as written in a copy of the course: it builds; every
    package the build imported is pinned in what the workflow installs; then, as a publishing
    folder, a rebuild keeps the user's CNAME and .git."""
    from importlib.metadata import packages_distributions

    _, site_line, upload = workflow_build_steps()
    course = tmp_path / "course"
    shutil.copytree(REPO_ROOT / "docs", course / "docs")
    (course / "solutions").mkdir()
    for notebook in SOLUTIONS:
        shutil.copy(notebook, course / "solutions")
    for page in ("README.md", "CONTRIBUTING.md"):
        shutil.copy(REPO_ROOT / page, course)
    record = tmp_path / "imports.json"
    command = [sys.executable, "-c", RECORD_IMPORTS, str(record), *site_line.split()[1:]]
    done = subprocess.run(command, cwd=course, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    out = course / upload
    assert (out / "index.html").is_file() and len(list(out.glob("lessons/*.html"))) == len(
        SOLUTIONS)
    # every third-party distribution the build imported is installed by the workflow
    owners = packages_distributions()
    imported = {name.split(".")[0] for name in json.loads(record.read_text())}
    needed = {canonical(dist) for name in imported - set(sys.stdlib_module_names)
              for dist in owners.get(name, [])}
    locks = REPO_ROOT / "binder"
    lines, _, _ = workflow_build_steps()
    installed = _pins(locks / "requirements.txt") | _pins(locks / "requirements-no-deps.txt")
    installed |= {"torch", "qdr-course"}.union(*(_pins(REPO_ROOT / word) for line in lines
                                                  for word in line.split()
                                                  if word.startswith("binder/requirements")))
    # Distributions no lock pins are in this environment by hand (another tool's entry points
    # get loaded): a fresh environment does not have them, and the build needs none of them.
    pinned = _pins(locks / "requirements-test.txt") | installed
    assert {"sphinx", "myst-nb", "jupyter-server-mathjax"} <= needed
    missing = (needed & pinned) - installed
    assert not missing, f"the build imported, the workflow does not install: {sorted(missing)}"
    # GitHub Pages' custom domain and a clone's git data survive a rebuild
    (out / "CNAME").write_text("course.example.org")
    _fake_html(out, {".git/HEAD": "ref: refs/heads/gh-pages\n", "lessons/notes.md": "mine"})
    assert main(["site", "--out", str(out), "--root", str(course)]) == 0
    assert (out / "CNAME").read_text() == "course.example.org"
    assert (out / ".git" / "HEAD").is_file() and (out / "lessons" / "notes.md").is_file()
    written = read_manifest(out / MARKER)
    assert "index.html" in written and not {"CNAME", ".git/HEAD"} & set(written)


def test_a_full_disk_while_copying_is_one_line_and_keeps_the_list_of_files(tmp_path, capsys,
                                                                            monkeypatch):
    """The disk fills after the first copied page: one line; the manifest already names the
    copied file, so the next build may replace it and the user's files are untouched."""
    import errno

    import qdr_course.site as site_module

    html = _fake_html(tmp_path / "html", {"a.html": "a", "b.html": "b"})
    out = _fake_html(tmp_path / "out", {"CNAME": "course.example.org"})
    real_copy, copied = shutil.copyfile, []

    def copy_until_full(source, target):
        if copied:
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        copied.append(real_copy(source, target))

    monkeypatch.setattr(site_module.shutil, "copyfile", copy_until_full)
    with pytest.raises(OSError):
        install_site(html, out, check_out_folder(out), "hide")
    assert set(read_manifest(out / MARKER)) == {"a.html", "b.html"}
    assert (out / "CNAME").read_text() == "course.example.org"
    monkeypatch.setattr(site_module.shutil, "copyfile", real_copy)
    install_site(html, out, check_out_folder(out), "hide")  # the next build goes through
    assert (out / "b.html").read_text() == "b"

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device", str(out / "b.html"))

    monkeypatch.setattr(site_module, "build_site", full)
    assert main(["site", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "No space left on device" in err and "b.html" in err
