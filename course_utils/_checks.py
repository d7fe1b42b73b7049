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

# ------------------------------------------------------------------ numbers and arrays (issue 16)
# Shared by text, compression, explain and compute; usable by any module that must refuse NaN, inf,
# strings and empty input with a ValueError that says what was expected.


def finite_number(name: str, value) -> float:
    """``value`` as a ``float`` if it is a finite real number (NumPy scalars included, ``bool`` refused)."""
    if isinstance(value, bool) or not isinstance(value, _REAL):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def non_negative_number(name: str, value) -> float:
    """``value`` as a ``float`` if it is a finite real number >= 0."""
    if finite_number(name, value) < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def unit_interval(name: str, value) -> float:
    """``value`` as a ``float`` if it is a real number in [0, 1] (both ends allowed)."""
    if not 0.0 <= finite_number(name, value) <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return float(value)


def finite_array(name: str, values, *, min_ndim: int = 0, allow_empty: bool = False, dtype=np.float64) -> np.ndarray:
    """``values`` as a ``dtype`` array of real, finite numbers with at least ``min_ndim`` axes.

    Refused with a ValueError: strings, objects, complex numbers, booleans, NaN and ±inf, fewer
    than ``min_ndim`` axes, and (unless ``allow_empty``) no elements.
    """
    try:
        array = np.asarray(values)
    except ValueError as error:  # ragged nested lists
        raise ValueError(f"{name} must be an array of real numbers, got a ragged {type(values).__name__}") from error
    if array.dtype == np.bool_ or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise ValueError(f"{name} must be an array of real numbers, got dtype {array.dtype}")
    if array.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape {array.shape}")
    if array.size == 0 and not allow_empty:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    array = array.astype(dtype)
    bad = int(np.count_nonzero(~np.isfinite(array)))
    if bad:
        raise ValueError(f"{name} must be finite, got {bad} NaN or infinite value(s) in shape {array.shape}")
    return array


def integer_array(name: str, values, *, low: int | None = None, high: int | None = None) -> np.ndarray:
    """``values`` as an ``int64`` array of integers in ``[low, high)`` (either end may be None)."""
    array = np.asarray(values)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must be an array of integers, got dtype {array.dtype}")
    if array.size and low is not None and array.min() < low:
        raise ValueError(f"{name} must be >= {low}, got {array.min()}")
    if array.size and high is not None and array.max() >= high:
        raise ValueError(f"{name} must be < {high}, got {array.max()}")
    return array.astype(np.int64)


# ------------------------------------------------------------------ optimizer hyperparameters


def _flag(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _rate(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, _REAL):
        raise ValueError(f"{name} must be a real number >= 0, got {value!r}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


_HYPERPARAMETERS = {
    "learning_rate": _rate,
    "weight_decay": _rate,
    "momentum": fraction,
    "rho": fraction,
    "beta_1": fraction,
    "beta_2": fraction,
    "epsilon": positive_number,
    "nesterov": _flag,
    "bias_correction": _flag,
}


def hyperparameters(**values) -> dict:
    """Each optimizer hyperparameter checked by its name: learning_rate and weight_decay >= 0,
    momentum, rho, beta_1 and beta_2 in [0, 1), epsilon > 0, nesterov and bias_correction booleans."""
    unknown = sorted(set(values) - set(_HYPERPARAMETERS))
    if unknown:
        raise ValueError(f"unknown hyperparameters {unknown}; known: {sorted(_HYPERPARAMETERS)}")
    return {name: _HYPERPARAMETERS[name](name, value) for name, value in values.items()}
