"""Tests of course_utils.backprop against TensorFlow and centred finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import backprop

tf = pytest.importorskip("tensorflow")

TF_ACTIVATIONS = {"relu": tf.nn.relu, "sigmoid": tf.math.sigmoid, "tanh": tf.math.tanh, "linear": tf.identity}


def make_problem(layer_sizes, seed=0, batch=6):
    rng = np.random.default_rng(seed)
    params = backprop.init_mlp(layer_sizes, rng)
    for layer in params:  # non-zero biases, so their gradients are tested too
        layer["b"] = rng.normal(0.0, 0.1, size=layer["b"].shape)
    x = rng.normal(size=(batch, layer_sizes[0]))
    labels = rng.integers(0, layer_sizes[-1], size=batch)
    return params, x, labels


def loss_only(params, x, labels, activation):
    logits, _ = backprop.mlp_forward(params, x, activation)
    return backprop.softmax_cross_entropy(logits, labels)[0]


def tf_loss_and_gradients(params, x, labels, activation):
    """The same network written directly in TensorFlow ops, differentiated by tf.GradientTape."""
    variables = [(tf.Variable(layer["W"]), tf.Variable(layer["b"])) for layer in params]
    with tf.GradientTape() as tape:
        a = tf.constant(x)
        for index, (kernel, bias) in enumerate(variables):
            z = a @ kernel + bias
            a = z if index == len(variables) - 1 else TF_ACTIVATIONS[activation](z)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=a))
    gradients = tape.gradient(loss, variables)
    return float(loss), [{"W": gw.numpy(), "b": gb.numpy()} for gw, gb in gradients]


# --------------------------------------------------------------------------------------------
# Activations


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "linear"])
def test_activation_and_derivative_match_tensorflow(name):
    function, derivative = backprop.ACTIVATIONS[name]
    z = np.linspace(-6.0, 6.0, 241)  # includes 0.0, where TensorFlow's ReLU gradient is 0
    z_tf = tf.Variable(z)
    with tf.GradientTape() as tape:
        y = TF_ACTIVATIONS[name](z_tf)
    expected_derivative = tape.gradient(y, z_tf).numpy()  # elementwise op: gradient of the sum
    np.testing.assert_allclose(function(z), y.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(derivative(z), expected_derivative, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_smooth_activation_derivatives_match_finite_differences(name):
    function, derivative = backprop.ACTIVATIONS[name]
    z = np.linspace(-5.0, 5.0, 101)
    numeric = backprop.numerical_gradient(lambda v: function(v).sum(), z.copy())
    # Rounding of the sum (about 50) limits centred differences to ~1e-16 * 50 / 1e-6 = 5e-9.
    np.testing.assert_allclose(derivative(z), numeric, rtol=0, atol=1e-7)


def test_sigmoid_known_values_and_no_overflow():
    assert backprop.sigmoid(np.array(0.0)) == 0.5
    assert backprop.sigmoid_derivative(np.array(0.0)) == 0.25
    with np.errstate(all="raise"):
        values = backprop.sigmoid(np.array([-1000.0, 1000.0]))
    np.testing.assert_array_equal(values, [0.0, 1.0])


def test_relu_derivative_is_zero_at_the_kink():
    np.testing.assert_array_equal(backprop.relu_derivative(np.array([-1.0, 0.0, 2.0])), [0.0, 0.0, 1.0])


# --------------------------------------------------------------------------------------------
# Forward pass and loss


def test_init_mlp_shapes_and_scale():
    params = backprop.init_mlp([784, 128, 10], np.random.default_rng(0), dtype=np.float32)
    assert [(p["W"].shape, p["b"].shape) for p in params] == [((784, 128), (128,)), ((128, 10), (10,))]
    assert all(p["W"].dtype == np.float32 and not p["b"].any() for p in params)
    assert abs(params[0]["W"].std() - np.sqrt(2 / 784)) < 0.002  # He initialisation


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_forward_matches_keras_functional_model(activation):
    keras = pytest.importorskip("keras")
    params, x, _ = make_problem([5, 4, 3, 3], seed=1)
    inputs = keras.Input(shape=(5,), dtype="float64")
    hidden = keras.layers.Dense(4, activation=activation, dtype="float64")(inputs)
    hidden = keras.layers.Dense(3, activation=activation, dtype="float64")(hidden)
    outputs = keras.layers.Dense(3, dtype="float64")(hidden)
    model = keras.Model(inputs, outputs)
    model.set_weights([array for layer in params for array in (layer["W"], layer["b"])])
    logits, caches = backprop.mlp_forward(params, x, activation)
    np.testing.assert_allclose(logits, model(x).numpy(), rtol=0, atol=1e-12)
    assert [c["pre_activation"].shape for c in caches] == [(6, 4), (6, 3), (6, 3)]


def test_softmax_cross_entropy_matches_tensorflow():
    rng = np.random.default_rng(2)
    logits = rng.normal(scale=5.0, size=(7, 4))
    labels = rng.integers(0, 4, size=7)
    loss, grad = backprop.softmax_cross_entropy(logits, labels)
    logits_tf = tf.Variable(logits)
    with tf.GradientTape() as tape:
        expected = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits_tf))
    assert abs(loss - float(expected)) < 1e-12
    np.testing.assert_allclose(grad, tape.gradient(expected, logits_tf).numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(backprop.softmax(logits), tf.nn.softmax(logits).numpy(), rtol=0, atol=1e-12)


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    loss, grad = backprop.softmax_cross_entropy(np.array([[1000.0, 0.0]]), np.array([1]))
    assert loss == pytest.approx(1000.0) and np.isfinite(grad).all()


# --------------------------------------------------------------------------------------------
# Backpropagation: 1, 2 and 3 hidden layers


DEPTHS = {1: [5, 4, 3], 2: [5, 4, 4, 3], 3: [5, 4, 3, 4, 3]}


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("hidden_layers", [1, 2, 3])
def test_gradients_match_finite_differences(hidden_layers, activation):
    params, x, labels = make_problem(DEPTHS[hidden_layers], seed=hidden_layers)
    _, grads = backprop.loss_and_gradients(params, x, labels, activation)
    errors = []
    for layer, grad in zip(params, grads, strict=True):
        for key in ("W", "b"):
            numeric = backprop.numerical_gradient(lambda _: loss_only(params, x, labels, activation), layer[key])
            errors.append(backprop.relative_error(grad[key], numeric))
    assert max(errors) <= 1e-7, errors


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("hidden_layers", [1, 2, 3])
def test_gradients_match_tensorflow(hidden_layers, activation):
    params, x, labels = make_problem(DEPTHS[hidden_layers], seed=10 + hidden_layers)
    loss, grads = backprop.loss_and_gradients(params, x, labels, activation)
    expected_loss, expected = tf_loss_and_gradients(params, x, labels, activation)
    assert abs(loss - expected_loss) <= 1e-12
    for grad, reference in zip(grads, expected, strict=True):
        for key in ("W", "b"):
            assert grad[key].shape == reference[key].shape
            assert np.max(np.abs(grad[key] - reference[key])) <= 1e-10


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_missing_activation_derivative_is_caught_by_the_check(activation):
    """The check can fail: backprop without activation'(z) disagrees with finite differences."""
    params, x, labels = make_problem(DEPTHS[2], seed=3)
    logits, caches = backprop.mlp_forward(params, x, activation)
    _, grad_logits = backprop.softmax_cross_entropy(logits, labels)
    wrong = backprop.mlp_backward(params, caches, grad_logits, activation, omit_activation_derivative=True)
    right = backprop.mlp_backward(params, caches, grad_logits, activation)
    numeric = backprop.numerical_gradient(lambda _: loss_only(params, x, labels, activation), params[0]["W"])
    assert backprop.relative_error(right[0]["W"], numeric) <= 1e-7
    assert backprop.relative_error(wrong[0]["W"], numeric) > 1e-2
    # The last layer's gradient does not involve a hidden activation derivative: it stays right.
    np.testing.assert_allclose(wrong[-1]["W"], right[-1]["W"], rtol=0, atol=0)


def test_numerical_gradient_known_value_and_restores_input():
    x = np.array([1.0, -2.0, 3.0])
    gradient = backprop.numerical_gradient(lambda v: float((v**3).sum()), x)
    np.testing.assert_allclose(gradient, 3 * np.array([1.0, 4.0, 9.0]), rtol=1e-9)
    np.testing.assert_array_equal(x, [1.0, -2.0, 3.0])


def test_relative_error_known_values():
    assert backprop.relative_error(np.array([1.0, 0.0]), np.array([1.0, 0.0])) == 0.0
    assert backprop.relative_error(np.array([2.0]), np.array([1.0])) == pytest.approx(1 / 3)
    assert backprop.relative_error(np.zeros(3), np.zeros(3)) == 0.0


# --------------------------------------------------------------------------------------------
# Argument validation


@pytest.mark.parametrize(
    ("init", "initializer"),
    [
        ("normal", lambda: __import__("keras").initializers.RandomNormal(0.0, 1.0)),
        ("xavier", lambda: __import__("keras").initializers.GlorotNormal()),
        ("he", lambda: __import__("keras").initializers.HeNormal()),
    ],
)
def test_init_mlp_scales_match_keras_initializers(init, initializer):
    """The std of each init equals that of Keras's initializer (Keras draws Glorot/He from a truncated
    normal rescaled to the same std), measured on a 400x300 kernel."""
    kernel = backprop.init_mlp([400, 300], np.random.default_rng(0), init=init)[0]["W"]
    keras_kernel = np.asarray(initializer()(shape=(400, 300)))
    assert kernel.std() == pytest.approx(keras_kernel.std(), rel=0.02)


def test_linear_layers_collapse_into_one():
    params, x, _ = make_problem([5, 4, 3])
    logits, _ = backprop.mlp_forward(params, x, "linear")
    kernel = params[0]["W"] @ params[1]["W"]
    bias = params[0]["b"] @ params[1]["W"] + params[1]["b"]
    np.testing.assert_allclose(logits, x @ kernel + bias, rtol=0, atol=1e-12)


def test_init_mlp_rejects_bad_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"numpy\.random\.Generator"):
        backprop.init_mlp([3, 2], rng=0)
    with pytest.raises(ValueError, match="at least"):
        backprop.init_mlp([3], rng)
    with pytest.raises(ValueError, match="positive integer"):
        backprop.init_mlp([3, 0, 2], rng)
    with pytest.raises(ValueError, match="floating-point"):
        backprop.init_mlp([3, 2], rng, dtype=np.int32)
    with pytest.raises(ValueError, match="init must be one of"):
        backprop.init_mlp([3, 2], rng, init="lecun")


def test_forward_rejects_bad_shapes_and_activation():
    params, x, _ = make_problem([5, 4, 3])
    with pytest.raises(ValueError, match=r"shape \(batch, 5\)"):
        backprop.mlp_forward(params, x[:, :4])
    with pytest.raises(ValueError, match=r"shape \(batch, 5\)"):
        backprop.mlp_forward(params, x[0])
    with pytest.raises(ValueError, match="activation must be one of"):
        backprop.mlp_forward(params, x, activation="gelu")
    broken = [params[0], {"W": np.zeros((5, 3)), "b": np.zeros(3)}]
    with pytest.raises(ValueError, match="inputs but layer 0 has"):
        backprop.mlp_forward(broken, x)
    with pytest.raises(ValueError, match=r"b of shape \(n_out,\)"):
        backprop.mlp_forward([{"W": np.zeros((5, 3)), "b": np.zeros(4)}], x)


def test_loss_rejects_bad_labels():
    logits = np.zeros((3, 4))
    with pytest.raises(ValueError, match="integer class indices"):
        backprop.softmax_cross_entropy(logits, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="labels has 2 entries but logits has 3 rows"):
        backprop.softmax_cross_entropy(logits, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"in \[0, 4\)"):
        backprop.softmax_cross_entropy(logits, np.array([0, 1, 4]))
    with pytest.raises(ValueError, match=r"2-D \(batch, num_classes\)"):
        backprop.softmax_cross_entropy(np.zeros(4), np.array([0]))


def test_backward_rejects_mismatched_inputs():
    params, x, _ = make_problem([5, 4, 3])
    logits, caches = backprop.mlp_forward(params, x)
    with pytest.raises(ValueError, match="logits' shape"):
        backprop.mlp_backward(params, caches, logits[:, :2])
    with pytest.raises(ValueError, match="one per layer"):
        backprop.mlp_backward(params, caches[:1], logits)


def test_numerical_gradient_and_relative_error_reject_bad_arguments():
    with pytest.raises(ValueError, match="floating-point numpy array"):
        backprop.numerical_gradient(lambda v: 0.0, np.array([1, 2]))
    with pytest.raises(ValueError, match="floating-point numpy array"):
        backprop.numerical_gradient(lambda v: 0.0, [1.0, 2.0])
    with pytest.raises(ValueError, match="eps must be a positive"):
        backprop.numerical_gradient(lambda v: 0.0, np.zeros(2), eps=0.0)
    with pytest.raises(ValueError, match="callable"):
        backprop.numerical_gradient(None, np.zeros(2))
    with pytest.raises(ValueError, match="same shape"):
        backprop.relative_error(np.zeros(2), np.zeros(3))
