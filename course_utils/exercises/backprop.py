"""Exercises of notebooks/01_forward_backward.ipynb (activation derivatives, backpropagation by hand)."""

from __future__ import annotations

import numpy as np

from course_utils.exercises import Case, Exercise


def _leaky_relu_cases():
    import tensorflow as tf

    cases = []
    z = np.linspace(-3, 3, 61) + 0.025  # avoids the kink at 0
    for alpha in (0.2, 0.05):
        variable = tf.Variable(z)
        with tf.GradientTape() as tape:
            y = tf.nn.leaky_relu(variable, alpha=alpha)
        expected = tape.gradient(y, variable).numpy()  # elementwise op: gradient of the sum
        cases.append(
            Case(f"61 points in [-3, 3], alpha={alpha}", args=(z,), kwargs={"alpha": alpha}, expected=expected)
        )
    return cases


def _close_to(expected: dict, atol: float):
    """A Case test: the attempt returns a dict with the same keys and arrays within atol."""

    def test(got):
        if not isinstance(got, dict) or set(got) != set(expected):
            return f"expected a dict with keys {sorted(expected)}"
        for key in sorted(expected):
            got_array = np.asarray(got[key], dtype=np.float64)
            if got_array.shape != expected[key].shape:
                return f"{key}: expected shape {expected[key].shape}, got {got_array.shape}"
            difference = float(np.max(np.abs(got_array - expected[key])))
            if not difference <= atol:
                return f"{key}: max |Δ| = {difference:.2e} against backprop.mlp_backward (tolerance {atol:.0e})"
        return None

    return test


def _one_hidden_layer_cases():
    from course_utils import backprop

    cases = []
    for seed, sizes, batch in [(3, [6, 5, 4], 8), (4, [10, 7, 3], 1)]:
        rng = np.random.default_rng(seed)
        params = backprop.init_mlp(sizes, rng)
        for layer in params:
            layer["b"] = rng.normal(0.0, 0.1, size=layer["b"].shape)
        x = rng.normal(size=(batch, sizes[0]))
        labels = rng.integers(0, sizes[-1], size=batch)
        _, grads = backprop.loss_and_gradients(params, x, labels, "tanh")
        expected = {"W1": grads[0]["W"], "b1": grads[0]["b"], "W2": grads[1]["W"], "b2": grads[1]["b"]}
        arrays = (params[0]["W"], params[0]["b"], params[1]["W"], params[1]["b"])
        cases.append(
            Case(
                f"{sizes[0]}-{sizes[1]}-{sizes[2]} tanh network, batch {batch}",
                args=(x, labels, *arrays),
                test=_close_to(expected, 1e-10),
            )
        )
    return cases


EXERCISES = {
    "backprop.leaky_relu_derivative": Exercise(
        title="the derivative of LeakyReLU",
        hint="LeakyReLU(z) = z for z > 0, alpha * z otherwise: its slope is 1 or alpha (np.where(z > 0, 1.0, alpha)).",
        cases=_leaky_relu_cases,
    ),
    "backprop.one_hidden_layer_gradients": Exercise(
        title="backpropagation through one tanh hidden layer, by hand",
        hint="Forward: h = tanh(x W1 + b1), p = softmax(h W2 + b2). Backward: delta2 = (p - one_hot(labels)) / N, "
        "dW2 = h.T @ delta2, delta1 = (delta2 @ W2.T) * (1 - h**2), dW1 = x.T @ delta1; biases: column sums.",
        cases=_one_hidden_layer_cases,
    ),
}
