"""Worked solutions to the exercises of notebooks/06_attention_transformer.ipynb (topic ``attention``)."""

from __future__ import annotations

import numpy as np


def causal_mask(T):
    """True = may attend: everything except the strict upper triangle."""
    return ~np.triu(np.ones((T, T), dtype=bool), k=1)


def mha_parameter_count(d_model, num_heads, key_dim):
    """Q, K, V projections (weights and biases), then the output projection back to d_model."""
    inner = num_heads * key_dim
    return 3 * (d_model * inner + inner) + inner * d_model + d_model


def masked_mean(x, mask):
    """Mean over the positions where mask is True: (batch, T, d), (batch, T) -> (batch, d)."""
    weights = np.asarray(mask, dtype=np.float64)[..., None]
    return (np.asarray(x) * weights).sum(axis=1) / weights.sum(axis=1)


SOLUTIONS = {
    "attention.causal_mask": causal_mask,
    "attention.mha_parameter_count": mha_parameter_count,
    "attention.masked_mean": masked_mean,
}
