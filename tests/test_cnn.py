"""course_utils.cnn (notebook 04's NumPy layers) against the Keras layers they explain."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from course_utils import cnn

RNG = np.random.default_rng(0)


@pytest.mark.parametrize(
    ("stride", "kernel_size", "c_in", "c_out"), [(1, 3, 1, 1), (1, 3, 3, 5), (2, 3, 4, 2), (1, 5, 2, 3)]
)
def test_conv2d_equals_keras_conv2d(stride, kernel_size, c_in, c_out):
    x = RNG.normal(size=(2, 9, 8, c_in))
    kernel = RNG.normal(size=(kernel_size, kernel_size, c_in, c_out))
    bias = RNG.normal(size=c_out)
    layer = keras.layers.Conv2D(c_out, kernel_size, strides=stride, padding="valid", dtype="float64")
    layer.build(x.shape)
    layer.set_weights([kernel, bias])
    expected = np.asarray(layer(x))
    got = cnn.conv2d(x, kernel, bias, stride)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-10)


def test_conv2d_without_bias_and_by_the_sum_formula():
    x = RNG.normal(size=(1, 4, 4, 2))
    kernel = RNG.normal(size=(2, 2, 2, 3))
    y = cnn.conv2d(x, kernel)
    by_sum = sum(x[0, 1 + u, 2 + v, c] * kernel[u, v, c, 1] for u in range(2) for v in range(2) for c in range(2))
    assert y[0, 1, 2, 1] == pytest.approx(by_sum, abs=1e-12)


def test_max_pool_equals_keras_including_odd_sizes():
    for shape in [(2, 6, 6, 3), (1, 7, 5, 2)]:
        x = RNG.normal(size=shape)
        expected = np.asarray(keras.layers.MaxPooling2D(2, dtype="float64")(x))
        np.testing.assert_array_equal(cnn.max_pool2d(x, 2), expected)


@pytest.mark.parametrize("shape", [(16, 5), (4, 3, 3, 6)])
def test_batch_norm_training_and_inference_equal_keras(shape):
    x = RNG.normal(loc=2.0, scale=3.0, size=shape)
    channels = shape[-1]
    gamma, beta = RNG.normal(size=channels), RNG.normal(size=channels)
    mean, variance = RNG.normal(size=channels), RNG.uniform(0.5, 2.0, size=channels)
    layer = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-3, dtype="float64")
    layer.build(x.shape)
    layer.set_weights([gamma, beta, mean, variance])
    inference = np.asarray(layer(x, training=False))
    got, same_mean, same_variance = cnn.batch_norm(x, gamma, beta, mean, variance, training=False)
    np.testing.assert_allclose(got, inference, atol=1e-10)
    assert np.array_equal(same_mean, mean) and np.array_equal(same_variance, variance)
    training = np.asarray(layer(x, training=True))
    keras_mean, keras_variance = (np.asarray(w) for w in layer.get_weights()[2:])
    got, new_mean, new_variance = cnn.batch_norm(x, gamma, beta, mean, variance, training=True)
    np.testing.assert_allclose(got, training, atol=1e-9)
    np.testing.assert_allclose(new_mean, keras_mean, atol=1e-12)
    np.testing.assert_allclose(new_variance, keras_variance, atol=1e-12)


def test_dropout_is_inverted_and_matches_keras_scaling():
    x = RNG.uniform(1.0, 2.0, size=(200, 50))
    assert np.array_equal(cnn.dropout(x, 0.3, training=False), x)
    y = cnn.dropout(x, 0.3, training=True, rng=np.random.default_rng(1))
    kept = y != 0
    assert abs(1 - kept.mean() - 0.3) < 0.01
    np.testing.assert_allclose(y[kept], x[kept] / 0.7, rtol=1e-15)
    assert abs(y.mean() / x.mean() - 1) < 0.01  # E[y] = x
    keras_y = np.asarray(keras.layers.Dropout(0.3, seed=3, dtype="float64")(x, training=True))
    keras_kept = keras_y != 0
    np.testing.assert_allclose(keras_y[keras_kept], x[keras_kept] / 0.7, rtol=1e-12)


def test_fold_batch_norm_equals_conv_then_batch_norm_in_keras():
    x = RNG.normal(size=(2, 6, 6, 3))
    kernel = RNG.normal(size=(3, 3, 3, 4))
    gamma, beta = RNG.normal(size=4), RNG.normal(size=4)
    mean, variance = RNG.normal(size=4), RNG.uniform(0.5, 2.0, size=4)
    conv = keras.layers.Conv2D(4, 3, use_bias=False, dtype="float64")
    norm = keras.layers.BatchNormalization(dtype="float64")
    conv.build(x.shape)
    conv.set_weights([kernel])
    norm.build((None, 4, 4, 4))
    norm.set_weights([gamma, beta, mean, variance])
    expected = np.asarray(norm(conv(x), training=False))
    folded_kernel, folded_bias = cnn.fold_batch_norm(kernel, gamma, beta, mean, variance)
    np.testing.assert_allclose(cnn.conv2d(x, folded_kernel, folded_bias), expected, atol=1e-10)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: cnn.conv2d(np.zeros((4, 4, 1)), np.zeros((3, 3, 1, 1))), r"batch of images \(batch, height"),
        (lambda: cnn.conv2d(np.zeros((1, 4, 4, 2)), np.zeros((3, 3, 1, 1))), r"c_in=2"),
        (lambda: cnn.conv2d(np.zeros((1, 2, 2, 1)), np.zeros((3, 3, 1, 1))), "larger than the image"),
        (lambda: cnn.conv2d(np.zeros((1, 4, 4, 1)), np.zeros((3, 3, 1, 2)), np.zeros(3)), "one value per output"),
        (lambda: cnn.conv2d(np.zeros((1, 4, 4, 1)), np.zeros((3, 3, 1, 1)), stride=0), "stride must be a positive"),
        (lambda: cnn.conv2d(np.full((1, 4, 4, 1), np.nan), np.zeros((3, 3, 1, 1))), "x must be finite"),
        (lambda: cnn.max_pool2d(np.zeros((1, 1, 4, 1)), 2), "larger than the image"),
        (lambda: cnn.batch_norm(np.zeros((2, 3)), *[np.zeros(2)] * 4, training=True), "one value per channel"),
        (lambda: cnn.batch_norm(np.zeros((2, 3)), *[np.zeros(3)] * 4, training="yes"), "training must be True"),
        (lambda: cnn.batch_norm(np.zeros((2, 3)), *[np.zeros(3)] * 4, training=True, momentum=1.0), "momentum"),
        (lambda: cnn.dropout(np.zeros(3), 1.0, training=True), r"rate \(the dropped fraction\) must be in"),
    ],
)
def test_bad_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
