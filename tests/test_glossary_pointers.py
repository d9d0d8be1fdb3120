"""Issue 12: every glossary entry points to the lesson that introduces its term, and that lesson
really names it in its prose (not only in code)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "docs" / "glossary.md"
ENTRY = re.compile(r"^\*\*(?P<term>[^*]+)\*\*[^(\n]*?\((?P<lessons>\d\d(?:, \d\d)*)\) - ", re.M)


def entries() -> list[tuple[str, list[str]]]:
    return [(m["term"], m["lessons"].split(", ")) for m in ENTRY.finditer(GLOSSARY.read_text())]


def spellings(term: str) -> list[str]:
    """The names a lesson may use: 'Diabetic retinopathy (DR)' -> ['Diabetic retinopathy', 'DR']."""
    names = re.findall(r"\(([^)]+)\)", term) + [re.sub(r"\s*\([^)]*\)", "", term)]
    out = []
    for name in names:
        out += [part.strip() for part in re.split(r",| / ", name) if part.strip()]
    return out


def lesson_prose(number: str) -> str:
    """The markdown cells of solutions/NN_*.py, joined."""
    (path,) = sorted((ROOT / "solutions").glob(f"{number}_*.py"))
    cells = re.split(r"^# %%", path.read_text(), flags=re.M)
    markdown = [c for c in cells if c.startswith(" [markdown]")]
    return "\n".join(line.lstrip("# ") for c in markdown for line in c.splitlines())


def test_the_glossary_parses_into_many_entries():
    assert len(entries()) >= 50
    assert spellings("Diabetic retinopathy (DR)") == ["DR", "Diabetic retinopathy"]
    assert spellings("CNOT, CZ") == ["CNOT", "CZ"]
    assert re.search(pattern("Post-selection"), normalise("we post-select on the flag"))
    assert re.search(pattern("Hard exudates"), normalise("a *hard* exudate"))
    assert not re.search(pattern("Bloch sphere"), normalise("a sphere"))


def normalise(text: str) -> str:
    """Lower case, without emphasis, possessives or hyphens: "*Fake* devices" -> "fake devices"."""
    text = re.sub(r"[*_`]", "", text.lower()).replace("'s ", " ").replace("’s ", " ")
    return re.sub(r"[-\s]+", " ", text)


def pattern(name: str) -> str:
    """Each word by its stem, so plurals and verb forms count: 'post-selection' ~ 'post-select'."""
    words = normalise(name + " ").split()
    stems = [re.escape(w[:max(4, len(w) - 3)]) if len(w) > 4 else re.escape(w) for w in words]
    return r"(?<!\w)" + r"\w*\W+".join(stems)


@pytest.mark.parametrize("term, lessons", entries(), ids=[t for t, _ in entries()])
def test_the_first_lesson_of_an_entry_names_the_term_in_its_prose(term, lessons):
    prose = normalise(lesson_prose(lessons[0]))
    names = spellings(term)
    found = [n for n in names if re.search(pattern(n), prose)]
    assert found, (f"glossary: '{term}' points to lesson {lessons[0]}, whose prose never names "
                   f"it ({' / '.join(names)}): point it to the lesson that defines it")
