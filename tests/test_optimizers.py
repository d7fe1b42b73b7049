"""Tests for course_utils.optimizers: every optimizer against keras.optimizers, schedules against
keras.optimizers.schedules, gradients against finite differences and TensorFlow, and the
ValueError paths. Explained in notebooks/03_optimizers.ipynb."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_utils import optimizers

STEPS = 100


def f32(value: float) -> float:
    """Keras casts hyperparameters through float32; float32-exact values make the match exact."""
    return float(np.float32(value))


@pytest.fixture(scope="module")
def start_and_gradients():
    generator = np.random.default_rng(0)
    start = generator.normal(size=(3, 4))
    gradients = [generator.normal(size=(3, 4)) * generator.uniform(0.1, 3.0) for _ in range(STEPS)]
    return start, gradients


def numpy_path(optimizer, start, gradients):
    points = [start]
    for gradient in gradients:
        points.append(optimizer.step(points[-1], gradient))
    return np.stack(points)


CASES = {
    "sgd": (lambda: optimizers.SGD(f32(0.01)), lambda: keras.optimizers.SGD(f32(0.01))),
    "momentum": (
        lambda: optimizers.SGD(f32(0.01), momentum=f32(0.9)),
        lambda: keras.optimizers.SGD(f32(0.01), momentum=f32(0.9)),
    ),
    "nesterov": (
        lambda: optimizers.SGD(f32(0.01), momentum=f32(0.9), nesterov=True),
        lambda: keras.optimizers.SGD(f32(0.01), momentum=f32(0.9), nesterov=True),
    ),
    "rmsprop": (
        lambda: optimizers.RMSprop(f32(0.001), rho=f32(0.9)),
        lambda: keras.optimizers.RMSprop(f32(0.001), rho=f32(0.9)),
    ),
    "rmsprop_momentum": (
        lambda: optimizers.RMSprop(f32(0.001), rho=f32(0.9), momentum=f32(0.5)),
        lambda: keras.optimizers.RMSprop(f32(0.001), rho=f32(0.9), momentum=f32(0.5)),
    ),
    "adam": (
        lambda: optimizers.Adam(f32(0.001), beta_1=f32(0.9), beta_2=f32(0.999)),
        lambda: keras.optimizers.Adam(f32(0.001), beta_1=f32(0.9), beta_2=f32(0.999)),
    ),
    "adamw": (
        lambda: optimizers.AdamW(f32(0.01), weight_decay=f32(0.5), beta_1=f32(0.9), beta_2=f32(0.999)),
        lambda: keras.optimizers.AdamW(f32(0.01), weight_decay=f32(0.5), beta_1=f32(0.9), beta_2=f32(0.999)),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_keras_on_fixed_gradients(name, start_and_gradients):
    start, gradients = start_and_gradients
    make_ours, make_keras = CASES[name]
    ours = numpy_path(make_ours(), start, gradients)
    theirs = optimizers.run_keras_optimizer(make_keras(), start, gradients=gradients)
    assert theirs.shape == ours.shape == (STEPS + 1, 3, 4)
    assert np.max(np.abs(ours[-1] - start)) > 1e-2  # the parameters really moved
    assert np.max(np.abs(ours - theirs)) <= 1e-6


@pytest.mark.parametrize(
    "make_ours, make_keras",
    [
        (lambda: optimizers.SGD(0.01, momentum=0.9), lambda: keras.optimizers.SGD(0.01, momentum=0.9)),
        (lambda: optimizers.RMSprop(0.001), lambda: keras.optimizers.RMSprop(0.001)),
        (lambda: optimizers.Adam(0.001), lambda: keras.optimizers.Adam(0.001)),
    ],
)
def test_matches_keras_with_default_style_hyperparameters(make_ours, make_keras, start_and_gradients):
    """With plain 0.9 / 0.001 Keras's float32 rounding shows, but stays well inside 1e-6."""
    start, gradients = start_and_gradients
    difference = np.max(
        np.abs(
            numpy_path(make_ours(), start, gradients)
            - optimizers.run_keras_optimizer(make_keras(), start, gradients=gradients)
        )
    )
    assert difference <= 1e-6


def test_matches_keras_with_feedback_on_rosenbrock():
    """Gradients evaluated at each side's own current point: any difference would feed back."""
    start = np.array([-1.5, 2.0])
    ours = optimizers.trajectory(
        optimizers.Adam(f32(0.05), beta_1=f32(0.9), beta_2=f32(0.999)), optimizers.rosenbrock_gradient, start, STEPS
    )
    theirs = optimizers.run_keras_optimizer(
        keras.optimizers.Adam(f32(0.05), beta_1=f32(0.9), beta_2=f32(0.999)),
        start,
        gradient_fn=optimizers.rosenbrock_gradient,
        steps=STEPS,
    )
    assert np.max(np.abs(ours - theirs)) <= 1e-6


def test_list_of_parameters_matches_keras_on_a_real_gradient():
    """Two parameter arrays (weights, bias) updated together, as in a model."""
    generator = np.random.default_rng(1)
    inputs = generator.normal(size=(32, 5))
    labels = generator.integers(0, 3, size=32)
    params = [generator.normal(size=(5, 3)), np.zeros(3)]
    adam = optimizers.Adam(f32(0.01), beta_1=f32(0.9), beta_2=f32(0.999))
    keras_adam = keras.optimizers.Adam(f32(0.01), beta_1=f32(0.9), beta_2=f32(0.999))
    variables = [keras.Variable(p, dtype="float64") for p in params]
    for _ in range(20):
        _, grads = optimizers.softmax_regression_loss_and_gradients(*params, inputs, labels)
        params = adam.step(params, grads)
        keras_grads = optimizers.softmax_regression_loss_and_gradients(*[v.numpy() for v in variables], inputs, labels)[
            1
        ]
        keras_adam.apply_gradients([(tf.constant(g), v) for g, v in zip(keras_grads, variables, strict=True)])
    for ours, variable in zip(params, variables, strict=True):
        assert np.max(np.abs(ours - variable.numpy())) <= 1e-6


def test_adamw_decay_is_not_adam_with_l2(start_and_gradients):
    """Decoupled decay differs from adding λw to the gradient (which Adam's normalisation rescales)."""
    start, gradients = start_and_gradients
    decay = f32(0.5)
    adamw = numpy_path(optimizers.AdamW(f32(0.01), weight_decay=decay), start, gradients)
    l2, adam, point = [start], optimizers.Adam(f32(0.01)), start
    for gradient in gradients:
        point = adam.step(point, gradient + decay * point)
        l2.append(point)
    assert np.max(np.abs(adamw - np.stack(l2))) > 1e-2


def test_clip_by_global_norm_matches_tensorflow():
    generator = np.random.default_rng(3)
    grads = [generator.normal(size=(3, 4)) * 10, generator.normal(size=5)]
    for max_norm in [0.5, 1e6]:
        clipped, norm = optimizers.clip_by_global_norm(grads, max_norm)
        expected, expected_norm = tf.clip_by_global_norm([tf.constant(g) for g in grads], max_norm)
        assert norm == pytest.approx(float(expected_norm), rel=1e-12)
        for ours, theirs in zip(clipped, expected, strict=True):
            np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12, atol=0)
    clipped, norm = optimizers.clip_by_global_norm([np.zeros(3)], 1.0)
    assert norm == 0.0 and not np.any(clipped[0])
    with pytest.raises(ValueError, match="max_norm must be a positive"):
        optimizers.clip_by_global_norm(grads, 0.0)


def test_adam_without_bias_correction_differs_from_keras(start_and_gradients):
    """Proves the comparison can fail: the uncorrected variant is far from Keras's Adam."""
    start, gradients = start_and_gradients
    wrong = numpy_path(optimizers.Adam(f32(0.001), bias_correction=False), start, gradients)
    theirs = optimizers.run_keras_optimizer(keras.optimizers.Adam(f32(0.001)), start, gradients=gradients)
    assert np.max(np.abs(wrong - theirs)) > 1e-2


def test_adam_uncorrected_first_step_size():
    """Known value: first uncorrected step is lr·(1−β1)/sqrt(1−β2) for any gradient; corrected ≈ lr."""
    gradient = np.array([0.5, -3.0])
    corrected = optimizers.Adam(0.001).step(np.zeros(2), gradient)
    uncorrected = optimizers.Adam(0.001, bias_correction=False).step(np.zeros(2), gradient)
    assert np.allclose(np.abs(corrected), 0.001, rtol=1e-5)
    assert np.allclose(np.abs(uncorrected), 0.001 * 0.1 / np.sqrt(0.001), rtol=1e-5)
    assert np.all(np.sign(uncorrected) == -np.sign(gradient))


def test_step_does_not_modify_inputs():
    params, grads = np.ones(3), np.ones(3)
    optimizers.SGD(0.1, momentum=0.9).step(params, grads)
    assert np.array_equal(params, np.ones(3))


def test_quadratic_closed_form():
    start = np.array([-9.0, 2.0])
    path = optimizers.trajectory(optimizers.SGD(0.05), optimizers.ill_conditioned_quadratic_gradient, start, 25)
    assert np.allclose(path, start * (1 - 0.05 * np.array([1.0, 20.0])) ** np.arange(26)[:, None])


def test_trajectory_stops_on_divergence():
    path = optimizers.trajectory(optimizers.SGD(1.0), optimizers.rosenbrock_gradient, [-1.5, 2.0], 1000)
    assert len(path) < 1001
    with np.errstate(over="ignore", invalid="ignore"):
        last_gradient = optimizers.rosenbrock_gradient(path[-1])
    assert not np.all(np.isfinite(path[-1])) or not np.all(np.isfinite(last_gradient))


@pytest.mark.parametrize(
    "function, gradient",
    [
        (optimizers.rosenbrock, optimizers.rosenbrock_gradient),
        (optimizers.ill_conditioned_quadratic, optimizers.ill_conditioned_quadratic_gradient),
    ],
)
def test_surface_gradients_match_finite_differences(function, gradient):
    step = 1e-6
    for point in [np.array([-1.5, 2.0]), np.array([0.3, -0.7]), np.array([1.0, 1.0])]:
        numeric = [(function(point + step * e) - function(point - step * e)) / (2 * step) for e in np.eye(2)]
        assert np.allclose(gradient(point), numeric, rtol=1e-6, atol=1e-5)


def test_softmax_regression_gradients_match_tensorflow():
    generator = np.random.default_rng(2)
    inputs = generator.normal(size=(16, 6))
    labels = generator.integers(0, 4, size=16)
    weights, bias = generator.normal(size=(6, 4)), generator.normal(size=4)
    loss, (grad_weights, grad_bias) = optimizers.softmax_regression_loss_and_gradients(weights, bias, inputs, labels)
    weights_tf, bias_tf = tf.Variable(weights), tf.Variable(bias)
    with tf.GradientTape() as tape:
        logits = tf.constant(inputs) @ weights_tf + bias_tf
        loss_tf = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
    expected_weights, expected_bias = tape.gradient(loss_tf, [weights_tf, bias_tf])
    assert loss == pytest.approx(float(loss_tf), abs=1e-12)
    assert np.allclose(grad_weights, expected_weights.numpy(), atol=1e-12)
    assert np.allclose(grad_bias, expected_bias.numpy(), atol=1e-12)


# ----------------------------------------------------------------------------- schedules


@pytest.mark.parametrize(
    "arguments",
    [
        dict(initial_learning_rate=0.0, decay_steps=900, alpha=0.1, warmup_target=0.01, warmup_steps=100),
        dict(initial_learning_rate=1e-4, decay_steps=300, alpha=0.0, warmup_target=3e-3, warmup_steps=50),
        dict(initial_learning_rate=0.02, decay_steps=500, alpha=0.05),
    ],
)
def test_warmup_cosine_decay_matches_keras(arguments):
    schedule = keras.optimizers.schedules.CosineDecay(**arguments)
    steps = np.arange(0, 1300, 7)
    expected = np.array([float(schedule(int(step))) for step in steps])
    assert np.max(np.abs(optimizers.warmup_cosine_decay(steps, **arguments) - expected)) <= 1e-8


def test_schedule_known_values():
    assert optimizers.linear_warmup(50, 100, 0.0, 0.01) == pytest.approx(0.005)
    assert optimizers.cosine_decay(0, 100, 0.01) == pytest.approx(0.01)
    assert optimizers.cosine_decay(50, 100, 0.01) == pytest.approx(0.005)
    assert optimizers.cosine_decay(100, 100, 0.01, alpha=0.1) == pytest.approx(0.001)
    assert optimizers.cosine_decay(10_000, 100, 0.01, alpha=0.1) == pytest.approx(0.001)


def test_wrong_schedule_would_fail():
    """A decay that forgets alpha is detectably different from Keras's."""
    schedule = keras.optimizers.schedules.CosineDecay(0.01, 100, alpha=0.2)
    assert abs(optimizers.cosine_decay(100, 100, 0.01, alpha=0.0) - float(schedule(100))) > 1e-3


# ----------------------------------------------------------------------------- ValueError paths


@pytest.mark.parametrize(
    "make",
    [
        lambda: optimizers.SGD(-0.1),
        lambda: optimizers.SGD(float("nan")),
        lambda: optimizers.SGD("0.1"),
        lambda: optimizers.SGD(0.1, momentum=1.0),
        lambda: optimizers.SGD(0.1, momentum=-0.1),
        lambda: optimizers.SGD(0.1, nesterov="yes"),
        lambda: optimizers.RMSprop(-1e-3),
        lambda: optimizers.RMSprop(1e-3, rho=1.5),
        lambda: optimizers.RMSprop(1e-3, epsilon=0.0),
        lambda: optimizers.Adam(-1e-3),
        lambda: optimizers.Adam(1e-3, beta_1=1.0),
        lambda: optimizers.Adam(1e-3, beta_2=-0.5),
        lambda: optimizers.Adam(1e-3, epsilon=-1e-7),
        lambda: optimizers.Adam(1e-3, bias_correction=None),
        lambda: optimizers.AdamW(1e-3, weight_decay=-0.1),
    ],
)
def test_invalid_hyperparameters_raise(make):
    with pytest.raises(ValueError, match=r"must be|hyperparameters"):
        make()


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match="shape"):
        optimizers.Adam().step(np.zeros((3, 4)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="gradient arrays"):
        optimizers.SGD(0.1).step([np.zeros(2), np.zeros(3)], [np.zeros(2)])
    adam = optimizers.Adam()
    adam.step(np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match="started on shapes"):
        adam.step(np.zeros(3), np.ones(3))


def test_non_finite_gradient_raises():
    with pytest.raises(ValueError, match="NaN"):
        optimizers.RMSprop().step(np.zeros(2), np.array([1.0, np.nan]))


@pytest.mark.parametrize(
    "call",
    [
        lambda: optimizers.rosenbrock(np.zeros(3)),
        lambda: optimizers.ill_conditioned_quadratic(np.zeros(2), curvatures=(1.0, -2.0)),
        lambda: optimizers.trajectory("adam", optimizers.rosenbrock_gradient, [0.0, 0.0], 5),
        lambda: optimizers.trajectory(optimizers.SGD(0.1), optimizers.rosenbrock_gradient, [0.0, 0.0], -1),
        lambda: optimizers.run_keras_optimizer(keras.optimizers.SGD(), np.zeros(2)),
        lambda: optimizers.run_keras_optimizer(keras.optimizers.SGD(), np.zeros(2), gradients=[np.zeros(3)]),
        lambda: optimizers.warmup_cosine_decay(-1, 0.01, 100),
        lambda: optimizers.warmup_cosine_decay(5, 0.01, 100, warmup_target=0.1, warmup_steps=0),
        lambda: optimizers.cosine_decay(5, 0, 0.01),
        lambda: optimizers.cosine_decay(5, 10, 0.01, alpha=2.0),
        lambda: optimizers.linear_warmup(5, 10, -0.01, 0.1),
        lambda: optimizers.softmax_regression_loss_and_gradients(
            np.zeros((4, 3)), np.zeros(3), np.zeros((2, 5)), np.zeros(2, int)
        ),
        lambda: optimizers.softmax_regression_loss_and_gradients(
            np.zeros((4, 3)), np.zeros(3), np.zeros((2, 4)), np.array([0, 3])
        ),
        lambda: optimizers.softmax_regression_loss_and_gradients(
            np.zeros((4, 3)), np.zeros(3), np.zeros((2, 4)), np.zeros(2)
        ),
        lambda: optimizers.Adam().step_size(0),
    ],
)
def test_invalid_arguments_raise(call):
    with pytest.raises(ValueError, match=r"must|expected|give exactly|needs|labels|out of range"):
        call()
