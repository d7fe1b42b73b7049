"""MultiWorkerMirroredStrategy on loopback: two worker processes train like one process on the global batch."""

from __future__ import annotations

import socket
import subprocess

import numpy as np
import pytest

from course_utils import multiworker


@pytest.fixture
def started(monkeypatch):
    """Record every worker process the launcher starts, to check that none outlives it."""
    processes = []

    class RecordingPopen(subprocess.Popen):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if "course_utils.multiworker" in args[0]:
                processes.append(self)

    monkeypatch.setattr(multiworker.subprocess, "Popen", RecordingPopen)
    return processes


def test_free_ports_are_distinct_and_bindable():
    ports = multiworker.free_ports(3)
    assert len(set(ports)) == 3
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # raises if the port were taken


def test_tf_config_names_the_cluster_and_the_task():
    config = multiworker.tf_config(["10.0.0.1:12345", "10.0.0.2:12345"], 1)
    assert config == {
        "cluster": {"worker": ["10.0.0.1:12345", "10.0.0.2:12345"]},
        "task": {"type": "worker", "index": 1},
    }
    with pytest.raises(ValueError, match="index must be an integer in"):
        multiworker.tf_config(["a:1", "b:2"], 2)
    with pytest.raises(ValueError, match="host:port"):
        multiworker.tf_config(["no-port"], 0)
    with pytest.raises(ValueError, match="start must list worker indices"):
        multiworker.run_local_cluster(2, start=[2])


def test_two_loopback_workers_equal_one_process_on_the_global_batch(started):
    results = multiworker.run_local_cluster(2, steps=3, batch_size=64, timeout=300)
    reference, reference_losses = multiworker.train(None, steps=3, batch_size=64)
    initial = multiworker.train(None, steps=1, batch_size=64)[0]
    for weights, losses in results:
        difference = max(float(np.abs(a - b).max()) for a, b in zip(weights, reference, strict=True))
        assert difference < 1e-5, difference
        np.testing.assert_allclose(losses, reference_losses, atol=1e-5)
    moved = max(float(np.abs(a - b).max()) for a, b in zip(reference, initial, strict=True))
    assert moved > 1e-3  # training changed the weights: equality is not trivial
    assert len(started) == 2 and all(p.poll() is not None for p in started)


def test_a_worker_that_never_starts_gives_a_timeout_not_a_hang(started):
    with pytest.raises(TimeoutError, match=r"did not finish within 20 s \(worker \[1\] was never started\)"):
        multiworker.run_local_cluster(2, steps=1, timeout=20, start=[0])
    assert len(started) == 1 and started[0].poll() is not None  # killed, not left waiting
