"""How an exercise check reports: one line a learner can act on. See lesson 00.

A check never raises into the notebook, so "Run All" always reaches the end of a lesson:
it prints what is right or wrong and returns a :class:`CheckResult`, true when the answer is right.
"""

from __future__ import annotations

import functools
import traceback
from typing import Callable

PASS, FAIL, TODO = "✅", "❌", "⏳"
# The verdict in words beside each symbol: for screen readers, and readable without an emoji font.
VERDICT = {PASS: "Correct", FAIL: "Not yet", TODO: "Not attempted yet"}


class CheckResult:
    """The outcome of a check: true when the answer is right; shows nothing in a notebook.

    The check has already printed its verdict, so a cell that ends with a check call does not
    also display ``True`` or ``False`` under it.
    """

    def __init__(self, passed: bool):
        self.passed = bool(passed)

    def __bool__(self) -> bool:
        return self.passed

    def __eq__(self, other) -> bool:
        return self.passed == bool(other) if isinstance(other, (bool, CheckResult)) else NotImplemented

    def __hash__(self) -> int:
        return hash(self.passed)

    def __repr__(self) -> str:
        return f"CheckResult(passed={self.passed})"

    def _ipython_display_(self) -> None:
        pass


class ExerciseError(AssertionError):
    """A learner's answer is wrong; the message says how and what to try."""


def exercise_check(title: str) -> Callable[[Callable[..., str | None]], Callable[..., CheckResult]]:
    """Turn a function that asserts things about an answer into a friendly check.

    The wrapped function raises :class:`ExerciseError` (or ``AssertionError``) with a
    helpful message when the answer is wrong and may return a short success message.
    """

    def decorate(check: Callable[..., str | None]) -> Callable[..., CheckResult]:
        @functools.wraps(check)
        def wrapper(*args, **kwargs) -> CheckResult:
            try:
                message = check(*args, **kwargs)
            except NotImplementedError:
                print(f"{TODO} {VERDICT[TODO]} - {title}: replace the `raise "
                      "NotImplementedError(...)` line with your code and run the cell again.")
                return CheckResult(False)
            except AssertionError as error:
                print(f"{FAIL} {VERDICT[FAIL]} - {title}: {error}")
                return CheckResult(False)
            except Exception as error:  # the learner's code crashed: show where, briefly
                frame = traceback.extract_tb(error.__traceback__)[-1]
                print(f"{FAIL} {VERDICT[FAIL]} - {title}: your code raised "
                      f"{type(error).__name__}: {error} (line {frame.lineno}: {frame.line})")
                return CheckResult(False)
            print(f"{PASS} {VERDICT[PASS]} - {title}" + (f": {message}" if message else "."))
            return CheckResult(True)

        wrapper.title = title
        return wrapper

    return decorate
