"""Record the figures a notebook reaches, for benchmarks/RESULTS.md.

Explained in notebooks/00_setup.ipynb ("Recording results"). ``record_metric`` appends one JSON
object per line to the file named by ``$COURSE_METRICS_FILE``; when that variable is unset it
does nothing, so a learner running a notebook by hand writes no files.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np

__all__ = ["ENV_METRICS_FILE", "read_metrics", "record_metric"]

ENV_METRICS_FILE = "COURSE_METRICS_FILE"
ENV_NOTEBOOK = "COURSE_NOTEBOOK"


def record_metric(name: str, value: float, unit: str = "") -> None:
    """Append ``{"name", "value", "unit", "notebook", "time"}`` to ``$COURSE_METRICS_FILE``.

    ``name`` is a non-empty string such as ``"test_accuracy"``; ``value`` a finite real number.
    Returns nothing, so that a call as the last line of a notebook cell prints nothing (nbval
    compares cell output). Explained in notebooks/00_setup.ipynb.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"value must be a real number, got {type(value).__name__}: {value!r}")
    if not math.isfinite(float(value)):
        raise ValueError(f"value must be finite, got {value!r}")
    if not isinstance(unit, str):
        raise ValueError(f"unit must be a string, got {unit!r}")
    target = os.environ.get(ENV_METRICS_FILE)
    if not target:
        return
    record = {
        "name": name.strip(),
        "value": float(value) if isinstance(value, (float, np.floating)) else int(value),
        "unit": unit,
        "notebook": os.environ.get(ENV_NOTEBOOK, ""),
        "time": round(time.time(), 3),
    }
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record) + "\n"
    # One write of one short line in append mode: concurrent writers do not interleave lines.
    with open(path, "a", encoding="utf-8") as stream:
        stream.write(line)


def read_metrics(path: str | os.PathLike) -> list[dict]:
    """All records of a metrics file, in the order they were written (used by benchmarks/run.py)."""
    records = []
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{number} is not a JSON object: {exc}") from exc
    return records
