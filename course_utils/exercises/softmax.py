"""Exercises of notebooks/02_softmax_cross_entropy.ipynb (stable losses, temperature, softmax twice)."""

from __future__ import annotations

import numpy as np

from course_utils.exercises import Case, Exercise


def _binary_cases():
    import keras

    logits = np.array([-1000.0, -2.0, 0.0, 3.0, 1000.0, -30.0])
    labels = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    expected = keras.losses.BinaryCrossentropy(from_logits=True, reduction=None, dtype="float64")(
        labels[:, None], logits[:, None]
    ).numpy()
    return [
        Case("logits from -1000 to 1000 (Keras from_logits=True)", args=(logits, labels), expected=expected, atol=1e-9)
    ]


def _tempered_cases():
    import tensorflow as tf

    cases = []
    logits = np.random.default_rng(1).normal(size=(4, 5)) * 2.0
    labels = np.array([1, 0, 4, 2])
    for temperature in (2.5, 0.5):
        variable = tf.Variable(logits)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=variable / temperature)
            )
        expected = tape.gradient(loss, variable).numpy()
        cases.append(
            Case(
                f"4x5 logits, T = {temperature} (GradientTape)",
                args=(logits, labels, temperature),
                expected=expected,
                atol=1e-12,
            )
        )
    return cases


def _floor_cases():
    from course_utils.softmax import cross_entropy, softmax

    cases = []
    for num_classes in (10, 1000, 50_000):
        perfect = np.zeros((1, num_classes))
        perfect[0, 7] = 1e4  # a perfectly confident, correct first softmax
        expected = cross_entropy(softmax(perfect), [7])  # softmax applied twice, measured
        cases.append(Case(f"K = {num_classes}", args=(num_classes,), expected=expected, atol=1e-9))
    return cases


EXERCISES = {
    "softmax.binary_cross_entropy": Exercise(
        title="a stable binary cross-entropy from logits",
        hint="-[y log σ(z) + (1 - y) log(1 - σ(z))] = max(z, 0) - y z + log(1 + exp(-|z|)); use np.log1p.",
        cases=_binary_cases,
    ),
    "softmax.tempered_gradient": Exercise(
        title="the gradient of the cross-entropy of z / T",
        hint="The chain rule through z / T: (softmax(z / T) - y) / T, divided by the batch size for the mean.",
        cases=_tempered_cases,
    ),
    "softmax.double_softmax_floor": Exercise(
        title="the lowest loss reachable with softmax applied twice",
        hint="A perfect first softmax gives (1, 0, ..., 0); the second gives the true class e / (e + K - 1).",
        cases=_floor_cases,
    ),
}
