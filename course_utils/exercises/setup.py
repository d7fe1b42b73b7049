"""Exercises of notebooks/00_setup.ipynb (tensors, broadcasting, GradientTape)."""

from __future__ import annotations

import numpy as np

from course_utils.exercises import Case, Exercise


def _normalization_layer(x):
    """Keras's Normalization layer adapted to ``x``: the independent reference for standardising columns."""
    import keras

    layer = keras.layers.Normalization(axis=-1)
    layer.adapt(x)
    return np.asarray(layer(x))


def _standardize_cases():
    rng = np.random.default_rng(0)
    small = np.array([[1.0, 10.0, -2.0], [3.0, 20.0, 0.0], [5.0, 60.0, 2.0], [7.0, 30.0, 4.0]])
    wide = rng.normal(5.0, 3.0, size=(100, 6))
    return [
        Case("4x3 matrix", args=(small,), expected=_normalization_layer(small), atol=1e-5),
        Case("100x6 random matrix", args=(wide,), expected=_normalization_layer(wide), atol=1e-5),
    ]


EXERCISES = {
    "setup.standardize_columns": Exercise(
        title="standardise every column with broadcasting",
        hint="x.mean(axis=0) has shape (columns,); subtracting it from x (rows, columns) broadcasts over the rows. "
        "Divide by x.std(axis=0) the same way.",
        cases=_standardize_cases,
    ),
    "setup.tape_derivative": Exercise(
        title="d/dx (x**3 + 2x) at x = 2 with tf.GradientTape",
        hint="x = tf.Variable(2.0); with tf.GradientTape() as tape: y = x**3 + 2 * x; then float(tape.gradient(y, x)).",
        cases=lambda: [Case("closed form 3x**2 + 2 at x = 2", expected=3 * 2.0**2 + 2, atol=1e-5)],
    ),
}
