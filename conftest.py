"""pytest configuration shared by tests/ and the nbval run over notebooks/.

Prints, at the end of a run, how long each notebook took under nbval (the sum of its cells).
"""

from __future__ import annotations

import os
from collections import defaultdict

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_NOTEBOOK_SECONDS: dict[str, float] = defaultdict(float)
_NOTEBOOK_FAILURES: dict[str, int] = defaultdict(int)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _NOTEBOOK_SECONDS[path] += report.duration
        if report.failed:
            _NOTEBOOK_FAILURES[path] += 1


def pytest_terminal_summary(terminalreporter):
    if not _NOTEBOOK_SECONDS:
        return
    terminalreporter.section("notebook durations (nbval)")
    for path, seconds in sorted(_NOTEBOOK_SECONDS.items()):
        status = f"{_NOTEBOOK_FAILURES[path]} failed cell(s)" if _NOTEBOOK_FAILURES[path] else "ok"
        terminalreporter.write_line(f"{seconds:8.1f} s  {path}  {status}")
    terminalreporter.write_line(f"{sum(_NOTEBOOK_SECONDS.values()):8.1f} s  total")
