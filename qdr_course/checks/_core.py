"""How an exercise check reports: one line a learner can act on. See lesson 00.

A check never raises into the notebook, so "Run All" always reaches the end of a lesson:
it prints what is right or wrong and returns ``True`` or ``False``.
"""

from __future__ import annotations

import functools
import traceback
from typing import Callable

PASS, FAIL, TODO = "✅", "❌", "⏳"


class ExerciseError(AssertionError):
    """A learner's answer is wrong; the message says how and what to try."""


def exercise_check(title: str) -> Callable[[Callable[..., str | None]], Callable[..., bool]]:
    """Turn a function that asserts things about an answer into a friendly check.

    The wrapped function raises :class:`ExerciseError` (or ``AssertionError``) with a
    helpful message when the answer is wrong and may return a short success message.
    """

    def decorate(check: Callable[..., str | None]) -> Callable[..., bool]:
        @functools.wraps(check)
        def wrapper(*args, **kwargs) -> bool:
            try:
                message = check(*args, **kwargs)
            except NotImplementedError:
                print(f"{TODO} {title}: not attempted yet. Replace the "
                      "`raise NotImplementedError(...)` line with your code and run the cell again.")
                return False
            except AssertionError as error:
                print(f"{FAIL} {title}: {error}")
                return False
            except Exception as error:  # the learner's code crashed: show where, briefly
                frame = traceback.extract_tb(error.__traceback__)[-1]
                print(f"{FAIL} {title}: your code raised {type(error).__name__}: {error} "
                      f"(line {frame.lineno}: {frame.line})")
                return False
            print(f"{PASS} {title}: correct." + (f" {message}" if message else ""))
            return True

        wrapper.title = title
        return wrapper

    return decorate
