"""Argument checks shared by the course_utils modules; each raises ValueError saying what was expected.

``bool`` is refused wherever a number is expected (``True`` is an ``int`` in Python, never a
meaningful size or rate).
"""

from __future__ import annotations

import numpy as np

_INTEGER = (int, np.integer)
_REAL = (int, float, np.integer, np.floating)


def positive_int(name: str, value) -> int:
    """``value`` as an ``int`` if it is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, _INTEGER) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def non_negative_int(name: str, value) -> int:
    """``value`` as an ``int`` if it is an integer >= 0."""
    if isinstance(value, bool) or not isinstance(value, _INTEGER) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def positive_number(name: str, value) -> float:
    """``value`` as a ``float`` if it is a finite real number > 0."""
    if isinstance(value, bool) or not isinstance(value, _REAL):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def fraction(name: str, value, meaning: str = "") -> float:
    """``value`` as a ``float`` if it is a real number in [0, 1); ``meaning`` is added to the message."""
    if isinstance(value, bool) or not isinstance(value, _REAL):
        raise ValueError(f"{name} must be a real number in [0, 1), got {value!r}")
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{name} must be in [0, 1){meaning}, got {value!r}")
    return float(value)
