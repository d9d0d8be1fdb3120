"""Exercise checks report right, wrong, crashed and not-attempted answers without raising."""

import numpy as np

from qdr_course.checks import check_probability_of_one, exercise_check


@exercise_check("Exercise 9.9 (double)")
def check_double(fn):
    assert fn(2) == 4, f"double(2) should be 4, got {fn(2)}"
    return "well done."


def test_right_wrong_crash_and_todo(capsys):
    assert check_double(lambda x: 2 * x) is True
    assert capsys.readouterr().out == "✅ Exercise 9.9 (double): correct. well done.\n"
    assert check_double(lambda x: x + 1) is False
    assert "❌ Exercise 9.9 (double): double(2) should be 4, got 3" in capsys.readouterr().out

    def crash(x):
        return x / 0

    assert check_double(crash) is False
    out = capsys.readouterr().out
    assert "raised ZeroDivisionError" in out and "return x / 0" in out

    def todo(x):
        raise NotImplementedError("Exercise: complete this")

    assert check_double(todo) is False
    assert capsys.readouterr().out.startswith("⏳ Exercise 9.9 (double): not attempted yet")


def test_probability_of_one_check(capsys):
    assert check_probability_of_one(lambda t: np.sin(t / 2) ** 2)
    assert not check_probability_of_one(lambda t: np.sin(t) ** 2)  # forgot the half angle
    assert "P(1) =" in capsys.readouterr().out
    assert not check_probability_of_one(lambda t: None)
    assert "forget `return`" in capsys.readouterr().out
