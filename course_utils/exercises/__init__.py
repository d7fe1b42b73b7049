"""Exercise checks for the lessons: a stub the learner fills in, then one call to :func:`check`.

A lesson's Exercises section holds a stub (a function whose body raises ``NotImplementedError``,
or a variable set to ``None``) followed by a check cell::

    exercises.check("gpt.top_p", top_p_filter)

* not attempted yet (the stub still raises ``NotImplementedError``, or the answer is ``None`` or
  ``...``): a hint is printed and nothing fails, so an untouched lesson runs under nbval;
* a wrong attempt: :class:`ExerciseError` says which case failed, with the expected and the
  received value;
* a right one: every case is reported with the size of its difference.

Each exercise is registered under ``"<topic>.<name>"`` in the module ``course_utils.exercises.<topic>``
(a dict ``EXERCISES``), so ids survive a renumbering of the lessons. The worked solutions live
outside the lessons, in ``solutions/<topic>.py`` (a dict ``SOLUTIONS`` with the same ids), and
``tests/test_exercises.py`` runs every check against its solution.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Case", "Exercise", "ExerciseError", "check", "exercise", "registered_ids"]


class ExerciseError(AssertionError):
    """A wrong attempt: the message names the case, the expected and the received value."""


@dataclass(frozen=True)
class Case:
    """One case of an exercise.

    ``attempt(*args, **kwargs)`` is compared with ``expected`` (numbers and arrays within ``atol``,
    anything else with ``==``). For a value exercise (the attempt is not callable) the attempt itself
    is compared. ``raises``: the case expects that exception type instead of a value. ``test``: a
    function of the received value that returns ``None`` when it is right, else a message (for
    answers with many right values, such as a trained loss below a floor).
    """

    label: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    expected: Any = None
    atol: float = 1e-6
    raises: type[BaseException] | None = None
    test: Callable[[Any], str | None] | None = None


@dataclass(frozen=True)
class Exercise:
    """A registered exercise: a title, a hint for a learner who has not started, and its cases
    (a function returning them, so that building them costs nothing until the check runs)."""

    title: str
    hint: str
    cases: Callable[[], Sequence[Case]]


def _module_for(exercise_id: str):
    if not isinstance(exercise_id, str) or exercise_id.count(".") != 1 or not all(exercise_id.split(".")):
        raise ValueError(f"an exercise id is '<topic>.<name>', e.g. 'gpt.top_p', got {exercise_id!r}")
    topic = exercise_id.split(".")[0]
    try:
        return importlib.import_module(f"course_utils.exercises.{topic}")
    except ModuleNotFoundError as error:
        raise ValueError(f"no exercises are registered for topic {topic!r} (id {exercise_id!r})") from error


def exercise(exercise_id: str) -> Exercise:
    """The registered :class:`Exercise` called ``exercise_id``; ``ValueError`` if there is none."""
    module = _module_for(exercise_id)
    if exercise_id not in module.EXERCISES:
        raise ValueError(f"unknown exercise {exercise_id!r}; known: {sorted(module.EXERCISES)}")
    return module.EXERCISES[exercise_id]


def registered_ids() -> list[str]:
    """Every registered exercise id, from every ``course_utils.exercises.<topic>`` module."""
    import pkgutil

    ids = []
    for info in pkgutil.iter_modules(__path__):
        ids.extend(importlib.import_module(f"{__name__}.{info.name}").EXERCISES)
    return sorted(ids)


def _not_attempted(value) -> bool:
    return value is None or value is Ellipsis


def _difference(expected, got) -> float | None:
    """max |expected - got| for numbers and arrays of the same shape, None when not numeric."""
    try:
        expected_array = np.asarray(expected, dtype=np.float64)
        got_array = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if expected_array.shape != got_array.shape:
        return math.inf
    if expected_array.size == 0:
        return 0.0
    same_nan = np.isnan(expected_array) & np.isnan(got_array)
    same_inf = np.isinf(expected_array) & (expected_array == got_array)
    differences = np.where(same_nan | same_inf, 0.0, np.abs(expected_array - got_array))
    return float(np.nan_to_num(differences, nan=math.inf).max())


def _short(value) -> str:
    text = np.array2string(value, precision=6, threshold=12) if isinstance(value, np.ndarray) else repr(value)
    return text if len(text) <= 300 else text[:297] + "..."


def check(exercise_id: str, attempt) -> bool:
    """Check ``attempt`` (a function, or a value) against exercise ``exercise_id``.

    Returns ``True`` when every case passes (each printed with its ``max |Δ|``), ``False`` after
    printing the hint when the exercise is not attempted yet; raises :class:`ExerciseError` on the
    first wrong case.
    """
    item = exercise(exercise_id)
    if _not_attempted(attempt):
        print(f"Exercise {exercise_id!r} ({item.title}) is not attempted yet.\nHint: {item.hint}")
        return False
    cases = list(item.cases())
    lines = []
    for case in cases:
        try:
            got = attempt(*case.args, **case.kwargs) if callable(attempt) else attempt
        except NotImplementedError:
            print(f"Exercise {exercise_id!r} ({item.title}) is not attempted yet.\nHint: {item.hint}")
            return False
        except Exception as error:
            if case.raises is not None and isinstance(error, case.raises):
                lines.append(f"  ok  {case.label}: raised {type(error).__name__}")
                continue
            raise ExerciseError(
                f"case '{case.label}' raised {type(error).__name__}: {error}"
                + (f" (expected {case.raises.__name__})" if case.raises else "")
            ) from error
        if case.raises is not None:
            raise ExerciseError(f"case '{case.label}': expected {case.raises.__name__}, got the value {_short(got)}")
        if _not_attempted(got):
            print(f"Exercise {exercise_id!r} ({item.title}) is not attempted yet.\nHint: {item.hint}")
            return False
        if case.test is not None:
            message = case.test(got)
            if message:
                raise ExerciseError(f"case '{case.label}': {message} (got {_short(got)})")
            lines.append(f"  ok  {case.label}: {_short(got)}")
            continue
        difference = _difference(case.expected, got)
        if difference is None:
            if got != case.expected:
                raise ExerciseError(f"case '{case.label}': expected {_short(case.expected)}, got {_short(got)}")
            lines.append(f"  ok  {case.label}")
        elif not difference <= case.atol:
            shape = np.shape(case.expected), np.shape(got)
            detail = f" (shapes {shape[0]} vs {shape[1]})" if shape[0] != shape[1] else f" (max |Δ| = {difference:.2e})"
            raise ExerciseError(
                f"case '{case.label}': expected {_short(np.asarray(case.expected))}, got {_short(np.asarray(got))}{detail}"
            )
        else:
            lines.append(f"  ok  {case.label}: max |Δ| = {difference:.1e}")
    print(f"Exercise {exercise_id!r} ({item.title}): all {len(cases)} cases pass")
    print("\n".join(lines))
    return True
