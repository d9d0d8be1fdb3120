"""Exercise checks report right, wrong, crashed and not-attempted answers without raising."""

import numpy as np

from qdr_course.checks import check_probability_of_one, exercise_check


@exercise_check("Exercise 9.9 (double)")
def check_double(fn):
    assert fn(2) == 4, f"double(2) should be 4, got {fn(2)}"
    return "well done."


def test_right_wrong_crash_and_todo(capsys):
    assert check_double(lambda x: 2 * x) == True
    assert capsys.readouterr().out == "✅ Correct - Exercise 9.9 (double): well done.\n"
    assert check_double(lambda x: x + 1) == False
    assert "❌ Not yet - Exercise 9.9 (double): double(2) should be 4, got 3" \
        in capsys.readouterr().out

    def crash(x):
        return x / 0

    assert check_double(crash) == False
    out = capsys.readouterr().out
    assert "raised ZeroDivisionError" in out and "return x / 0" in out

    def todo(x):
        raise NotImplementedError("Exercise: complete this")

    assert check_double(todo) == False
    assert capsys.readouterr().out.startswith("⏳ Not attempted yet - Exercise 9.9 (double): "
                                              "replace")


def test_probability_of_one_check(capsys):
    assert check_probability_of_one(lambda t: np.sin(t / 2) ** 2)
    assert not check_probability_of_one(lambda t: np.sin(t) ** 2)  # forgot the half angle
    assert "P(1) =" in capsys.readouterr().out
    assert not check_probability_of_one(lambda t: None)
    assert "forget `return`" in capsys.readouterr().out


def test_check_result_is_truthy_and_shows_nothing_in_a_notebook():
    from IPython.core.formatters import DisplayFormatter

    from qdr_course.checks import CheckResult

    assert CheckResult(True) and not CheckResult(False)
    assert CheckResult(True) == True and CheckResult(False) == False  # noqa: E712
    data, _ = DisplayFormatter().format(CheckResult(True))
    assert data == {}, "a check's result must not be displayed under the cell"
