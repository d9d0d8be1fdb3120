"""Issue 12, item 7: concept checks answer at once, and a wrong choice never learns the answer."""

import pytest

from qdr_course import checks
from qdr_course.checks import QUESTIONS, ask


def check_concept(key, choose):
    return getattr(checks, f"check_concept_{key.replace('.', '_')}")(choose)


@pytest.mark.parametrize("key", sorted(QUESTIONS))
def test_the_right_letter_passes_and_every_wrong_one_fails_without_the_answer(key, capsys):
    q = QUESTIONS[key]
    assert check_concept(key, lambda: q.right)
    assert "✅ Correct - Concept check" in capsys.readouterr().out
    for letter in q.options:
        if letter == q.right:
            continue
        assert not check_concept(key, lambda letter=letter: letter)
        out = capsys.readouterr().out
        assert out.startswith(f"❌ Not yet - Concept check {key}: not ({letter}):"), out
        assert f"({q.right})" not in out and q.options[q.right] not in out
        assert "right:" not in out


@pytest.mark.parametrize("answer, says", [
    (None, "returns None"), ("e", "return one of the letters a, b, c, d"),
    (float("nan"), "NaN")])
def test_a_bad_answer_says_what_to_return(answer, says, capsys):
    assert not check_concept("2.1", lambda: answer)
    out = capsys.readouterr().out
    assert out.startswith("❌ Not yet") and says in out, out


def test_unattempted_and_forgiving_letters(capsys):
    def unanswered():
        raise NotImplementedError("Exercise: complete this")

    assert not check_concept("1.1", unanswered)
    assert "⏳ Not attempted yet - Concept check 1.1" in capsys.readouterr().out
    right = QUESTIONS["1.1"].right
    assert check_concept("1.1", lambda: f" ({right.upper()}) ")


def test_ask_prints_the_question_and_every_option(capsys):
    ask("3.1")
    out = capsys.readouterr().out
    assert out.startswith("Concept check 3.1: ")
    for letter, text in QUESTIONS["3.1"].options.items():
        assert f"  ({letter}) {text}" in out
    with pytest.raises(KeyError, match="no concept question '9.9'"):
        ask("9.9")


def test_the_right_answers_are_not_all_the_same_letter():
    assert len({q.right for q in QUESTIONS.values()}) >= 2
