"""Megatron-style tensor parallelism by hand: the split GPT computes what the single-device GPT computes."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

try:  # two logical CPU devices, if TensorFlow has not initialised its devices yet in this process
    tf.config.set_logical_device_configuration(
        tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 2
    )
except RuntimeError:
    pass

import keras

from course_utils import gpt, parallel

CPUS = [device.name for device in tf.config.list_logical_devices("CPU")]
DEVICES = CPUS[:2] if len(CPUS) >= 2 else [CPUS[0], CPUS[0]]  # the arithmetic is the same on one device


def dense(gradient):
    return tf.convert_to_tensor(gradient).numpy()


def test_megatron_mlp_equals_the_unsplit_mlp():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 8)).astype("float32")
    w1, b1 = rng.normal(size=(8, 32)).astype("float32"), rng.normal(size=32).astype("float32")
    w2, b2 = rng.normal(size=(32, 8)).astype("float32"), rng.normal(size=8).astype("float32")
    expected = keras.activations.gelu(x @ w1 + b1).numpy() @ w2 + b2
    got = parallel.megatron_mlp(
        x, parallel.column_split(w1, 2), parallel.column_split(b1, 2), parallel.row_split(w2, 2), b2, DEVICES
    )
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-4)
    assert [part.shape for part in parallel.column_split(w1, 2)] == [(8, 16), (8, 16)]
    assert [part.shape for part in parallel.row_split(w2, 2)] == [(16, 8), (16, 8)]


def test_split_gpt_forward_and_backward_equal_the_single_device_gpt():
    keras.utils.set_random_seed(0)
    model = gpt.GPT(20, 16, 32, 2, 4)
    rng = np.random.default_rng(1)
    ids, targets = (tf.constant(rng.integers(0, 20, (3, 16)), tf.int32) for _ in range(2))
    split = parallel.TensorParallelGPT(model, DEVICES)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.GradientTape() as tape:
        single_loss = loss(targets, model(ids))
    single = [dense(g) for g in tape.gradient(single_loss, model.trainable_variables)]
    with tf.GradientTape() as tape:
        split_logits = split(ids)
        split_loss = loss(targets, split_logits)
    reassembled = split.full_gradients(tape.gradient(split_loss, split.variables))
    assert float(tf.reduce_max(tf.abs(split_logits - model(ids)))) < 1e-5
    for variable, a, b in zip(model.trainable_variables, single, reassembled, strict=True):
        assert a.shape == b.shape, variable.path
        assert np.abs(a - b).max() < 1e-5, variable.path
    assert max(np.abs(g).max() for g in single) > 1e-3  # the gradients are not all zero
    shards = {name: device for name, _, device in split.placement() if "/shard" in name}
    assert shards["block0/mlp_in_kernel/shard0:0"] == DEVICES[0].rpartition("/")[2]
    assert shards["block0/mlp_in_kernel/shard1:0"] == DEVICES[1].rpartition("/")[2]


def test_heads_must_divide_over_the_devices():
    model = gpt.GPT(20, 16, 24, 1, 3)
    with pytest.raises(ValueError, match=r"num_heads \(3\) must be divisible by the number of devices \(2\)"):
        parallel.TensorParallelGPT(model, DEVICES)
