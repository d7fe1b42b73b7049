"""Exercises of notebooks/04_mnist_cnn.ipynb (convolution parameters, folding BatchNorm into a convolution)."""

from __future__ import annotations

import numpy as np

from course_utils.exercises import Case, Exercise


def _parameter_cases():
    import keras

    conv = keras.layers.Conv2D(48, 5, use_bias=False)  # BatchNorm follows, so no bias
    shape = (None, 28, 28, 1)
    conv.build(shape)
    for layer in [conv, keras.layers.MaxPooling2D(), keras.layers.Conv2D(64, 3), keras.layers.MaxPooling2D()]:
        shape = layer.compute_output_shape(shape)
    expected = (conv.count_params(), int(np.prod(shape[1:])))
    return [Case("conv1 = Conv2D(48, 5, use_bias=False) in 04's network (Keras)", expected=expected, atol=0)]


def _fold_cases():
    import keras

    cases = []
    rng = np.random.default_rng(4)
    for c_in, c_out in ((1, 3), (3, 5)):
        x = rng.normal(size=(2, 7, 7, c_in))
        kernel = rng.normal(size=(3, 3, c_in, c_out))
        gamma, beta = rng.normal(size=c_out), rng.normal(size=c_out)
        mean, variance = rng.normal(size=c_out), rng.uniform(0.2, 3.0, size=c_out)
        conv = keras.layers.Conv2D(c_out, 3, use_bias=False, dtype="float64")
        norm = keras.layers.BatchNormalization(epsilon=1e-3, dtype="float64")
        conv.build(x.shape)
        conv.set_weights([kernel])
        norm.build((None, 5, 5, c_out))
        norm.set_weights([gamma, beta, mean, variance])
        expected = np.asarray(norm(conv(x), training=False))  # Keras: convolution, then BatchNorm (inference)

        def test(got, x=x, expected=expected, c_out=c_out):
            if not isinstance(got, tuple) or len(got) != 2:
                return "return a pair (kernel, bias)"
            folded = keras.layers.Conv2D(c_out, 3, dtype="float64")
            folded.build(x.shape)
            try:
                folded.set_weights([np.asarray(got[0], np.float64), np.asarray(got[1], np.float64)])
            except ValueError as error:
                return f"wrong shapes: {error}"
            difference = float(np.abs(np.asarray(folded(x)) - expected).max())
            return (
                None if difference < 1e-9 else f"Conv2D with your kernel and bias differs by max |Δ| = {difference:.2e}"
            )

        cases.append(
            Case(
                f"{c_in} → {c_out} channels: Conv2D(kernel', bias') == BatchNorm(Conv2D(kernel)) in Keras",
                args=(kernel, gamma, beta, mean, variance),
                kwargs={"epsilon": 1e-3},
                test=test,
            )
        )
    return cases


EXERCISES = {
    "cnn.parameters_5x5_48": Exercise(
        title="parameters of a 5x5, 48-filter first convolution, and the flattened size",
        hint="k·k·c_in·c_out weights (no bias before BatchNorm); 28 → 24 → pool 12 → 10 → pool 5. "
        "Answer with a pair (parameters, flattened_values).",
        cases=_parameter_cases,
    ),
    "cnn.fold_batch_norm": Exercise(
        title="fold an inference-mode BatchNorm into the convolution before it",
        hint="BatchNorm at inference is y = γ (z - μ)/√(σ² + ε) + β, linear in z: scale each output channel's "
        "kernel column by s = γ/√(σ² + ε) and use the bias β - s μ.",
        cases=_fold_cases,
    ),
}
