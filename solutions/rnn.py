"""Worked solutions to the exercises of notebooks/05_lstm_text_generator.ipynb."""

from __future__ import annotations

import numpy as np


def _sigmoid(z):
    return 0.5 * (1 + np.tanh(z / 2))  # overflow-free


def gru_step(x, h, kernel, recurrent_kernel, bias):
    x_z, x_r, x_h = np.split(x @ kernel + bias[0], 3, axis=-1)  # Keras's order: update, reset, candidate
    h_z, h_r, h_h = np.split(h @ recurrent_kernel + bias[1], 3, axis=-1)  # reset_after=True: r gates h U + b
    z, r = _sigmoid(x_z + h_z), _sigmoid(x_r + h_r)
    candidate = np.tanh(x_h + r * h_h)
    return z * h + (1 - z) * candidate


def word_nats_per_character(logits, targets, characters):
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    total = -np.take_along_axis(log_probabilities, np.asarray(targets)[..., None], axis=-1).sum()
    return float(total / characters)


SOLUTIONS = {"rnn.gru_step": gru_step, "rnn.word_nats_per_character": word_nats_per_character}
