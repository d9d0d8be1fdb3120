"""The learner and instructor pages stay usable: glossary complete and sorted, links resolve."""

import re

from qdr_course.utils import REPO_ROOT

DOCS = REPO_ROOT / "docs"


def glossary_terms() -> list[str]:
    text = (DOCS / "glossary.md").read_text()
    return re.findall(r"^\*\*(.+?)\*\*", text, flags=re.MULTILINE)


def test_glossary_has_the_core_terms_in_order():
    terms = glossary_terms()
    assert terms == sorted(terms, key=str.lower), "keep the glossary alphabetical"
    for term in ("Qubit", "Expectation value", "Parameter-shift rule",
                 "Neural tangent kernel (NTK)", "Condition number",
                 "Quadratic weighted kappa (QWK)", "ICDR grade", "HHL"):
        assert any(t.startswith(term) for t in terms), f"{term} is missing from the glossary"


def test_relative_links_in_docs_and_readme_resolve():
    for page in [REPO_ROOT / "README.md", *DOCS.glob("*.md")]:
        for target in re.findall(r"\]\(([^)#]+)\)", page.read_text()):
            if target.startswith(("http://", "https://")):
                continue
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def test_readme_lesson_table_matches_the_lessons():
    from qdr_course.lesson_source import lesson_summary as summarise

    readme = (REPO_ROOT / "README.md").read_text()
    for source in sorted((REPO_ROOT / "solutions").glob("[0-9][0-9]_*.py")):
        lesson = summarise(source)
        rows = (line for line in readme.splitlines() if line.startswith(f"| {lesson.number} |"))
        row = next(rows, None)
        assert row, f"lesson {lesson.number} is missing from the README's lesson table"
        assert f"lessons/{source.stem}.ipynb" in row
        assert f"{lesson.teaching} + {lesson.exercises} min" in row, \
            f"README minutes of {lesson.number} are stale"
