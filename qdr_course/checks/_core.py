"""How an exercise check reports: one line a learner can act on. See lesson 00.

A check never raises into the notebook, so "Run All" always reaches the end of a lesson:
it prints what is right or wrong and returns a :class:`CheckResult`, true when the answer is right.
"""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np

_CHECKS_DIR = Path(__file__).resolve().parent  # the checks' own code, as opposed to a learner's
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
        if not isinstance(other, (bool, CheckResult)):
            return NotImplemented
        return self.passed == bool(other)

    def __hash__(self) -> int:
        return hash(self.passed)

    def __repr__(self) -> str:
        return f"CheckResult(passed={self.passed})"

    def _ipython_display_(self) -> None:
        pass


class ExerciseError(AssertionError):
    """A learner's answer is wrong; the message says how and what to try."""


_NOT_FINITE_ADVICE = ("a right answer is always finite: look for a division by zero, the log "
                      "of 0 or of a negative number, or an overflow (exp of a large number)")


def non_finite_kind(value, _depth: int = 0) -> str | None:
    """``"NaN"`` or ``"an infinite value"`` if an answer holds one, by any route it can arrive.

    Numbers, NumPy, torch and JAX arrays (anything with ``__array__``), containers, and strings
    that a check's own ``float()`` would read as NaN or infinity (``"nan"``, ``"-inf"``) are all
    turned into NumPy first and looked at in one place.
    """
    if _depth > 4 or isinstance(value, (bool, bytes)) or value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None  # a name or a letter, not a number
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return next((k for k in (non_finite_kind(v, _depth + 1) for v in value) if k), None)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        value = value.detach().cpu().resolve_conj().resolve_neg().numpy()
    if not isinstance(value, (int, float, complex, np.ndarray, np.generic)):
        if not hasattr(value, "__array__"):  # a JAX array, a pandas object, ...
            return None
        try:
            value = np.asarray(value)
        except Exception:  # noqa: BLE001 - not an array after all: nothing to judge here
            return None
    array = np.asarray(value)
    if array.dtype.kind not in "fc":
        return None
    if np.isnan(array).any():
        return "NaN"
    return "an infinite value" if np.isinf(array).any() else None


class _FiniteWatch:
    """Wraps the learner's functions and remembers the first non-finite value they return."""

    def __init__(self):
        self.found: str | None = None
        self.where = "your function returned"

    def verdict(self) -> str:
        """What is wrong, without the expected answer."""
        return f"{self.where} {self.found}; {_NOT_FINITE_ADVICE}"

    def wrap(self, value):
        """A learner's callable, watched: a function, ``np.vectorize(f)``, ``jax.jit(f)``, an
        object with ``__call__``; classes, modules and plain values pass unchanged."""
        if not callable(value) or isinstance(value, type):
            return value

        @functools.wraps(value)
        def watched(*args, **kwargs):
            result = value(*args, **kwargs)
            if self.found is None:
                self.found = non_finite_kind(result)
            return result

        return watched

    def check_argument(self, value) -> None:
        """An answer passed as a value (not a function) is looked at directly."""
        if self.found is None and not callable(value):
            self.found = non_finite_kind(value)
            self.where = "your answer contains"


def exercise_check(title: str) -> Callable[[Callable[..., str | None]], Callable[..., CheckResult]]:
    """Turn a function that asserts things about an answer into a friendly check.

    The wrapped function raises :class:`ExerciseError` (or ``AssertionError``) with a
    helpful message when the answer is wrong and may return a short success message.
    Every check fails an answer that is or returns NaN or an infinite value, even where a
    comparison with NaN would let it through (``abs(nan - x) > tol`` is False); the message
    says so and never shows the expected answer.
    """

    def decorate(check: Callable[..., str | None]) -> Callable[..., CheckResult]:
        @functools.wraps(check)
        def wrapper(*args, **kwargs) -> CheckResult:
            watch = _FiniteWatch()
            for value in (*args, *kwargs.values()):
                watch.check_argument(value)
            args = tuple(watch.wrap(a) for a in args)
            kwargs = {k: watch.wrap(v) for k, v in kwargs.items()}
            try:
                if watch.found:
                    raise ExerciseError(watch.verdict())
                message = check(*args, **kwargs)
                if watch.found:
                    raise ExerciseError(watch.verdict())
            except NotImplementedError:
                print(f"{TODO} {VERDICT[TODO]} - {title}: replace the `raise "
                      "NotImplementedError(...)` line with your code and run the cell again.")
                return CheckResult(False)
            except AssertionError as error:
                # with NaN about, the check's own message might quote the expected answer
                print(f"{FAIL} {VERDICT[FAIL]} - {title}: "
                      f"{watch.verdict() if watch.found else error}")
                return CheckResult(False)
            except Exception as error:  # the learner's code crashed: show where, briefly
                if watch.found:
                    print(f"{FAIL} {VERDICT[FAIL]} - {title}: {watch.verdict()}")
                    return CheckResult(False)
                frame = traceback.extract_tb(error.__traceback__)[-1]
                if Path(frame.filename).resolve().is_relative_to(_CHECKS_DIR):
                    # the check itself could not read the answer: not a crash of the learner's
                    print(f"{FAIL} {VERDICT[FAIL]} - {title}: the check could not use what your "
                          f"function returned ({type(error).__name__}: {error}); return the "
                          "kind of value the exercise asks for (a number, an array ...)")
                    return CheckResult(False)
                print(f"{FAIL} {VERDICT[FAIL]} - {title}: your code raised "
                      f"{type(error).__name__}: {error} (line {frame.lineno}: {frame.line})")
                return CheckResult(False)
            print(f"{PASS} {VERDICT[PASS]} - {title}" + (f": {message}" if message else "."))
            return CheckResult(True)

        wrapper.title = title
        return wrapper

    return decorate
