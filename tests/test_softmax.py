"""Tests for course_utils.softmax, each against an independent reference (TensorFlow, Keras, finite differences)."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_utils import softmax as sm

RNG = np.random.default_rng(0)
LOGITS = RNG.normal(size=(6, 5)) * 3.0
LABELS = np.array([0, 4, 2, 2, 1, 3])
HUGE = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -1002.0], [0.0, 1000.0, -1000.0]])


def test_naive_softmax_overflows_on_huge_logits():
    # The reason the stable version exists: the formula as written gives nan.
    assert np.all(np.isnan(sm.naive_softmax([1000.0, 1001.0, 1002.0])))
    assert np.all(np.isnan(sm.naive_softmax([-1000.0, -1001.0, -1002.0])))
    # ... while on small logits it agrees with TensorFlow.
    np.testing.assert_allclose(sm.naive_softmax(LOGITS), tf.nn.softmax(LOGITS).numpy(), rtol=1e-12)


@pytest.mark.parametrize("logits", [LOGITS, HUGE], ids=["normal", "huge"])
def test_softmax_matches_tensorflow(logits):
    ours = sm.softmax(logits)
    assert np.all(np.isfinite(ours))
    np.testing.assert_allclose(ours, tf.nn.softmax(logits).numpy(), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(ours.sum(axis=-1), 1.0, rtol=1e-12)


def test_softmax_other_axis_and_1d():
    np.testing.assert_allclose(sm.softmax(LOGITS, axis=0), tf.nn.softmax(LOGITS, axis=0).numpy(), rtol=1e-12)
    np.testing.assert_allclose(sm.softmax([1000.0, 1001.0, 1002.0]), [0.09003057, 0.24472847, 0.66524096], rtol=1e-7)


@pytest.mark.parametrize("temperature", [0.1, 0.5, 2.0, 10.0])
def test_softmax_temperature_matches_tensorflow(temperature):
    expected = tf.nn.softmax(LOGITS / temperature).numpy()
    np.testing.assert_allclose(sm.softmax(LOGITS, temperature=temperature), expected, rtol=1e-12, atol=1e-300)


def test_softmax_temperature_limits():
    logits = np.array([1.0, 3.0, 2.0])
    np.testing.assert_allclose(sm.softmax(logits, temperature=1e-3), [0.0, 1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(sm.softmax(logits, temperature=1e6), np.full(3, 1 / 3), atol=1e-6)


@pytest.mark.parametrize("logits", [LOGITS, HUGE], ids=["normal", "huge"])
def test_logsumexp_and_log_softmax_match_tensorflow(logits):
    np.testing.assert_allclose(sm.logsumexp(logits), tf.reduce_logsumexp(logits, axis=-1).numpy(), rtol=1e-12)
    np.testing.assert_allclose(
        sm.logsumexp(logits, axis=0, keepdims=True),
        tf.reduce_logsumexp(logits, axis=0, keepdims=True).numpy(),
        rtol=1e-12,
    )
    ours = sm.log_softmax(logits)
    assert np.all(np.isfinite(ours))
    np.testing.assert_allclose(ours, tf.nn.log_softmax(logits).numpy(), rtol=1e-12)


def test_logsumexp_known_value():
    # log(e^0 + e^0) = ln 2, also after shifting by a huge constant
    np.testing.assert_allclose(sm.logsumexp([0.0, 0.0]), np.log(2.0), rtol=1e-15)
    np.testing.assert_allclose(sm.logsumexp([1e4, 1e4]), 1e4 + np.log(2.0), rtol=1e-15)


def test_one_hot_matches_tensorflow():
    np.testing.assert_array_equal(sm.one_hot(LABELS, 5), tf.one_hot(LABELS, 5).numpy())


@pytest.mark.parametrize("logits", [LOGITS, HUGE[:, :3]], ids=["normal", "huge"])
def test_cross_entropy_matches_tensorflow_and_keras(logits):
    labels = LABELS[: len(logits)] % logits.shape[1]
    per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits).numpy()
    np.testing.assert_allclose(sm.cross_entropy(logits, labels, reduction="none"), per_example, rtol=1e-12)
    keras_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
    np.testing.assert_allclose(sm.cross_entropy(logits, labels), float(keras_loss), rtol=1e-6)


def test_cross_entropy_of_uniform_logits_is_ln_k():
    assert sm.cross_entropy(np.zeros((4, 10)), [0, 3, 9, 5]) == pytest.approx(np.log(10.0), rel=1e-15)


def test_cross_entropy_grad_matches_finite_differences():
    step = 1e-6
    numeric = np.zeros_like(LOGITS)
    for index in np.ndindex(LOGITS.shape):
        plus, minus = LOGITS.copy(), LOGITS.copy()
        plus[index] += step
        minus[index] -= step
        numeric[index] = (sm.cross_entropy(plus, LABELS) - sm.cross_entropy(minus, LABELS)) / (2 * step)
    np.testing.assert_allclose(sm.cross_entropy_grad(LOGITS, LABELS), numeric, atol=1e-8)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_grad_matches_gradient_tape(smoothing):
    logits = tf.Variable(LOGITS)
    targets = tf.one_hot(LABELS, LOGITS.shape[1], dtype=tf.float64)
    with tf.GradientTape() as tape:
        loss = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing, dtype="float64")(
            targets, logits
        )
    expected = tape.gradient(loss, logits).numpy()
    np.testing.assert_allclose(sm.cross_entropy_grad(LOGITS, LABELS, label_smoothing=smoothing), expected, atol=1e-12)


def test_cross_entropy_grad_huge_logits_is_finite():
    grad = sm.cross_entropy_grad(HUGE, [0, 1, 2])
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-15)  # rows of p - y sum to 0


@pytest.mark.parametrize("smoothing", [0.05, 0.1, 0.3])
def test_label_smoothing_matches_keras(smoothing):
    targets = tf.one_hot(LABELS, LOGITS.shape[1], dtype=tf.float64)
    expected = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing, dtype="float64")(
        targets, LOGITS
    )
    np.testing.assert_allclose(sm.cross_entropy(LOGITS, LABELS, label_smoothing=smoothing), float(expected), rtol=1e-9)
    np.testing.assert_allclose(sm.smooth_labels(np.eye(4)[[1]], 0.2), [[0.05, 0.85, 0.05, 0.05]], rtol=1e-15)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: sm.softmax(3.0), r"logits must have at least 1 dimension\(s\), got shape \(\)"),
        (lambda: sm.softmax([]), "must not be empty"),
        (lambda: sm.softmax(["a", "b"]), "real numbers"),
        (lambda: sm.softmax([1.0, 2.0], axis=1), "out of range"),
        (lambda: sm.softmax([1.0, 2.0], temperature=0.0), "temperature"),
        (lambda: sm.softmax([1.0, 2.0], temperature=-1.0), "temperature"),
        (lambda: sm.softmax([1.0, 2.0], temperature=float("nan")), "temperature"),
        (lambda: sm.logsumexp([[1.0]], axis=2), "out of range"),
        (lambda: sm.cross_entropy(np.zeros(3), [0]), "2-D"),
        (lambda: sm.cross_entropy(np.zeros((2, 3)), [0.0, 1.0]), "integer"),
        (lambda: sm.cross_entropy(np.zeros((2, 3)), [0, 3]), r"\[0, 3\)"),
        (lambda: sm.cross_entropy(np.zeros((2, 3)), [-1, 0]), r"\[0, 3\)"),
        (lambda: sm.cross_entropy(np.zeros((2, 3)), [0, 1, 2]), "entries"),
        (lambda: sm.cross_entropy(np.zeros((2, 3)), [[0], [1]]), "1-D"),
        (lambda: sm.cross_entropy(np.zeros((2, 3)), [0, 1], reduction="sum"), "reduction"),
        (lambda: sm.cross_entropy(np.zeros((2, 3)), [0, 1], label_smoothing=1.0), "smoothing"),
        (lambda: sm.cross_entropy_grad(np.zeros((2, 3)), [0.5, 1]), "integer"),
        (lambda: sm.cross_entropy_grad(np.zeros((2, 3)), [0, 7]), r"\[0, 3\)"),
        (lambda: sm.one_hot([0, 1], 0), "num_classes"),
        (lambda: sm.one_hot([True, False], 2), "integer"),
        (lambda: sm.smooth_labels(np.eye(3), -0.1), "smoothing"),
        (lambda: sm.smooth_labels(np.ones(3), 0.1), "2-D"),
    ],
)
def test_invalid_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
