"""Exercises of notebooks/05_lstm_text_generator.ipynb (a GRU step in NumPy, a word model's loss per character)."""

from __future__ import annotations

import numpy as np

from course_utils.exercises import Case, Exercise


def _gru_cases():
    import keras

    cases = []
    rng = np.random.default_rng(7)
    for batch, input_dim, units in ((1, 3, 2), (4, 5, 3)):
        inputs = rng.normal(size=(batch, 1, input_dim))
        h = rng.normal(size=(batch, units))
        layer = keras.layers.GRU(units, return_state=True, dtype="float64")  # reset_after=True (Keras's default)
        layer.build(inputs.shape)
        kernel, recurrent_kernel, _ = layer.get_weights()
        bias = rng.normal(size=(2, 3 * units))  # an input bias and a recurrent bias, as reset_after=True keeps
        layer.set_weights([kernel, recurrent_kernel, bias])
        _, expected = layer(inputs, initial_state=[h])
        cases.append(
            Case(
                f"batch {batch}, {input_dim} inputs, {units} units (keras.layers.GRU)",
                args=(inputs[:, 0], h, kernel, recurrent_kernel, bias),
                expected=np.asarray(expected),
                atol=1e-9,
            )
        )
    return cases


def _word_cases():
    import keras

    cases = []
    rng = np.random.default_rng(8)
    for windows, length, vocabulary, characters in ((2, 5, 7, 61), (3, 4, 11, 70)):
        logits = rng.normal(size=(windows, length, vocabulary)) * 2
        targets = rng.integers(0, vocabulary, size=(windows, length))
        total = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum", dtype="float64")
        expected = float(total(targets, logits)) / characters
        cases.append(
            Case(
                f"{windows}x{length} words over {characters} characters (Keras, reduction='sum')",
                args=(logits, targets, characters),
                expected=expected,
                atol=1e-9,
            )
        )
    return cases


EXERCISES = {
    "rnn.gru_step": Exercise(
        title="one GRU step in NumPy with Keras's weights",
        hint="Blocks in Keras's order z, r, h: x W and h U (+ their biases, bias[0] and bias[1]) split in three; "
        "z = σ(x_z + h_z), r = σ(x_r + h_r), candidate = tanh(x_h + r * h_h), h_new = z * h + (1 - z) * candidate.",
        cases=_gru_cases,
    ),
    "rnn.word_nats_per_character": Exercise(
        title="a word model's held-out loss in nats per character",
        hint="Sum the cross-entropy -log softmax(logits)[target] over every predicted word (use a stable "
        "log-softmax), then divide by the number of characters, not of words.",
        cases=_word_cases,
    ),
}
