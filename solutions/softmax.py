"""Worked solutions to the exercises of notebooks/02_softmax_cross_entropy.ipynb."""

from __future__ import annotations

import numpy as np


def binary_cross_entropy(logits, labels):
    logits, labels = np.asarray(logits, dtype=np.float64), np.asarray(labels, dtype=np.float64)
    return np.maximum(logits, 0.0) - labels * logits + np.log1p(np.exp(-np.abs(logits)))


def tempered_gradient(logits, labels, temperature):
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    probabilities = np.exp(scaled - scaled.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    probabilities[np.arange(len(labels)), labels] -= 1.0
    return probabilities / len(labels) / temperature


def double_softmax_floor(num_classes):
    return float(np.log(1 + (num_classes - 1) / np.e))


SOLUTIONS = {
    "softmax.binary_cross_entropy": binary_cross_entropy,
    "softmax.tempered_gradient": tempered_gradient,
    "softmax.double_softmax_floor": double_softmax_floor,
}
