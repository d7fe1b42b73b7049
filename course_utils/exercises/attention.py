"""Exercises of notebooks/06_attention_transformer.ipynb (topic ``attention``).

Expected values come from independent references: NumPy's ``np.tril`` for the causal mask,
``keras.layers.MultiHeadAttention.count_params()`` for the parameter count, and
``keras.layers.GlobalAveragePooling1D`` with a mask for the masked mean.
"""

from __future__ import annotations

import numpy as np

from course_utils.exercises import Case, Exercise


def _causal_mask_cases():
    return [Case(f"T={T}", args=(T,), expected=np.tril(np.ones((T, T), dtype=bool))) for T in (1, 2, 7)]


def _keras_mha_count(d_model: int, num_heads: int, key_dim: int) -> int:
    import keras

    layer = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=key_dim)
    inputs = np.zeros((1, 2, d_model), dtype="float32")
    layer(inputs, inputs)  # build
    return int(layer.count_params())


def _parameter_count_cases():
    sizes = [(384, 12, 32), (64, 4, 16), (10, 3, 5), (48, 8, 4)]
    return [
        Case(f"d_model={d}, heads={h}, key_dim={k}", args=(d, h, k), expected=_keras_mha_count(d, h, k), atol=0)
        for d, h, k in sizes
    ]


def _keras_masked_mean(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    import keras

    return np.asarray(keras.layers.GlobalAveragePooling1D()(x.astype("float32"), mask=mask), dtype=np.float64)


def _masked_mean_cases():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(3, 6, 4))
    x[1, 4:] = 100.0  # padding with large values: an unmasked mean would be far off
    mask = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0], [1, 0, 0, 0, 0, 0]], dtype=bool)
    single = rng.normal(size=(1, 5, 2))
    single_mask = np.array([[1, 1, 1, 0, 0]], dtype=bool)
    return [
        Case("three reviews, padded", args=(x, mask), expected=_keras_masked_mean(x, mask), atol=1e-5),
        Case(
            "one review, 3 of 5 real",
            args=(single, single_mask),
            expected=_keras_masked_mean(single, single_mask),
            atol=1e-5,
        ),
    ]


EXERCISES = {
    "attention.causal_mask": Exercise(
        title="a causal mask from np.triu",
        hint="the blocked entries are the strict upper triangle: np.triu(np.ones((T, T), dtype=bool), k=1); "
        "return the opposite (True = may attend)",
        cases=_causal_mask_cases,
    ),
    "attention.mha_parameter_count": Exercise(
        title="parameters of multi-head attention",
        hint="three projections d_model -> num_heads * key_dim with biases, and one output projection "
        "num_heads * key_dim -> d_model with a bias",
        cases=_parameter_count_cases,
    ),
    "attention.masked_mean": Exercise(
        title="mean over the real tokens only",
        hint="multiply x (batch, T, d) by the mask as floats (batch, T, 1), sum over T, divide by the number "
        "of real tokens per sequence",
        cases=_masked_mean_cases,
    ),
}
