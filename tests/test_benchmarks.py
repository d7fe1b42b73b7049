"""The benchmark runner executes a notebook headless and tabulates the metrics it recorded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_runner_executes_00_setup_and_writes_results(tmp_path):
    env = {**os.environ, "COURSE_OFFLINE": os.environ.get("COURSE_OFFLINE", "1")}
    result = subprocess.run(
        [sys.executable, "benchmarks/run.py", "00_setup", "--output-dir", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    entry = results["00_setup"]
    assert entry["status"] == "ok" and entry["kind"] == "notebook" and entry["wall_seconds"] > 0
    assert entry["metrics"]["mnist_train_images"]["value"] == 60000
    table = (tmp_path / "RESULTS.md").read_text()
    assert "| 00_setup | notebook | ok |" in table and "mnist_train_images = 60,000" in table
    assert entry["cpu"] and f"| {entry['cpu']} |" in table  # which CPU measured the row's seconds


def test_runner_rejects_an_unknown_item(tmp_path):
    result = subprocess.run(
        [sys.executable, "benchmarks/run.py", "no_such_notebook", "--output-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2 and "no item matches" in result.stderr
