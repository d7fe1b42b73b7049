"""keras.distribution's ModelParallel under the JAX backend (a subprocess): the course GPT split over two
CPU devices computes the same logits, gradients and AdamW steps as the unsplit model on one device."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("jax") is None, reason="jax is not installed (route (b) of lesson 11 needs jax/jaxlib)"
)


@pytest.fixture(scope="module")
def report():
    environment = {**os.environ, "KERAS_BACKEND": "jax", "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    finished = subprocess.run(
        [sys.executable, "-m", "course_utils.jax_parallel", "--json", "--steps", "2"],
        env=environment, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr[-3000:]
    return json.loads(finished.stdout.strip().splitlines()[-1])


def test_split_weights_are_halves_on_two_devices(report):
    assert report["backend"] == "jax" and len(report["devices"]) == 2
    placement = report["placement"]
    d = 32
    expected = {  # weight -> the shape of the piece on each device
        "block0/qkv/kernel": [d, 3 * d // 2],
        "block0/mlp_in/kernel": [d, 2 * d],
        "block0/mlp_in/bias": [2 * d],
        "block0/proj/kernel": [d // 2, d],
        "block0/mlp_out/kernel": [2 * d, d],
        "block0/norm1/gamma": [d],  # not in the layout map: replicated, whole on both
    }
    for name, shard_shape in expected.items():
        shards = placement[name]["shards"]
        assert sorted(device for device, _ in shards) == sorted(report["devices"]), name
        assert all(shape == shard_shape for _, shape in shards), (name, shards)
    counts = report["parameters_per_device"]
    assert len(counts) == 2 and len(set(counts.values())) == 1  # the same share on each device


def test_sharded_model_equals_the_single_device_model(report):
    assert report["largest_gradient"] > 1e-3  # the comparison is not between zeros
    assert report["training_moved_weights_by"] > 1e-4  # the training steps changed the weights
    assert report["logits_max_abs_diff"] < 1e-5
    assert report["gradients_max_abs_diff"] < 1e-5
    assert report["weights_after_training_max_abs_diff"] < 1e-5
    assert abs(report["loss_single"] - report["loss_sharded"]) < 1e-5
