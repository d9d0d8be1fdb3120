"""Argument validators shared by every module: one wording for one mistake, said once.

Each raises a one-line ``ValueError`` that names the argument, what it must be and what it
got, e.g. ``shots must be a positive integer, got 0``; each returns the value it accepted.
"""

from __future__ import annotations

import numpy as np

__all__ = ["digit_pair", "integer", "int_at_least", "is_integer", "non_negative_int",
           "positive_int", "positive_number", "shots"]


def is_integer(value, numpy: bool = True) -> bool:
    """True for an int (and, with ``numpy``, a NumPy integer); never for a bool."""
    kinds = (int, np.integer) if numpy else int
    return isinstance(value, kinds) and not isinstance(value, bool)


def integer(name: str, value, minimum: int, what: str, numpy: bool = True,
            allow_none: bool = False):
    """``value`` if it is an integer >= ``minimum`` (or None when allowed), else "{name} must be
    {what}".
    """
    if value is None and allow_none:
        return None
    if not is_integer(value, numpy) or value < minimum:
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return value


def positive_int(name: str, value, numpy: bool = True):
    """An integer >= 1: "{name} must be a positive integer, got ..." otherwise."""
    return integer(name, value, 1, "a positive integer", numpy)


def non_negative_int(name: str, value, numpy: bool = True):
    """An integer >= 0 (a seed, say): "{name} must be a non-negative integer, got ..." otherwise."""
    return integer(name, value, 0, "a non-negative integer", numpy)


def int_at_least(name: str, value, minimum: int = 1, numpy: bool = False):
    """An integer >= ``minimum``: "{name} must be an integer >= {minimum}, got ..." otherwise."""
    return integer(name, value, minimum, f"an integer >= {minimum}", numpy)


def positive_number(name: str, value) -> float:
    """A finite real number > 0: "{name} must be a positive finite number, got ..." otherwise."""
    if is_integer(value) or (isinstance(value, (float, np.floating)) and np.isfinite(value)):
        if value > 0:
            return float(value)
    raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def shots(value, allow_none: bool = False):
    """A number of shots, an integer >= 1 (or None, the primitive's default, when allowed)."""
    what = "a positive integer or None" if allow_none else "a positive integer"
    return integer("shots", value, 1, what, numpy=True, allow_none=allow_none)


def digit_pair(digits) -> tuple[int, int]:
    """Validate a pair of distinct digits 0-9 (lessons 03 and 06); return it as ints."""
    digits = tuple(digits)
    if len(digits) != 2 or not all(is_integer(d) and 0 <= d <= 9 for d in digits):
        raise ValueError(f"digits must be two digits between 0 and 9, e.g. (8, 9); got {digits!r}")
    if digits[0] == digits[1]:
        raise ValueError(f"digits must be two different digits, got {digits!r}")
    return int(digits[0]), int(digits[1])
