"""Pretrained BERT weights (Hugging Face safetensors layout) into a Keras BERT, and an independent
NumPy reference of the BERT forward pass that proves the conversion.

Explained in notebooks/07_bert_classifier.ipynb. The Keras side is
:func:`course_utils.bert.build_bert_encoder` (or ``keras_hub.models.BertBackbone``, which has the
same layer names). Only NumPy is imported at module level.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping

import numpy as np

from course_utils.attention import gelu, layer_norm

__all__ = [
    "bert_sizes_from_config",
    "load_bert_weights",
    "read_safetensors",
    "reference_bert_forward",
]


def bert_sizes_from_config(config: Mapping | str | os.PathLike) -> dict[str, int]:
    """The ``build_bert_encoder`` / ``BertBackbone`` sizes of a Hugging Face BERT ``config.json``.

    ``config`` is the parsed dictionary or the path of the file. Explained in
    notebooks/07_bert_classifier.ipynb.
    """
    if not isinstance(config, Mapping):
        with open(config, encoding="utf-8") as stream:
            config = json.load(stream)
    keys = {
        "vocabulary_size": "vocab_size",
        "num_layers": "num_hidden_layers",
        "num_heads": "num_attention_heads",
        "hidden_dim": "hidden_size",
        "intermediate_dim": "intermediate_size",
        "max_sequence_length": "max_position_embeddings",
        "num_segments": "type_vocab_size",
    }
    missing = [hf_key for hf_key in keys.values() if hf_key not in config]
    if missing:
        raise ValueError(f"config lacks {missing}; expected a BERT config.json")
    if config.get("hidden_act", "gelu") != "gelu":
        raise ValueError(f"expected hidden_act 'gelu' (exact), got {config.get('hidden_act')!r}")
    return {keras_key: int(config[hf_key]) for keras_key, hf_key in keys.items()}


def read_safetensors(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """All tensors of a ``.safetensors`` file as NumPy arrays, without a leading ``bert.`` prefix.

    Explained in notebooks/07_bert_classifier.ipynb.
    """
    from safetensors.numpy import load_file

    tensors = load_file(str(path))
    return {name.removeprefix("bert."): array for name, array in tensors.items()}


def _mapping(model) -> list[tuple[object, str, str]]:
    """(Keras variable, Hugging Face tensor name, how to transform it) for every BERT weight."""
    entries = [
        (model.get_layer("token_embedding").embeddings, "embeddings.word_embeddings.weight", "copy"),
        (model.get_layer("position_embedding").position_embeddings, "embeddings.position_embeddings.weight", "copy"),
        (model.get_layer("segment_embedding").embeddings, "embeddings.token_type_embeddings.weight", "copy"),
        (model.get_layer("embeddings_layer_norm").gamma, "embeddings.LayerNorm.weight", "copy"),
        (model.get_layer("embeddings_layer_norm").beta, "embeddings.LayerNorm.bias", "copy"),
    ]
    index = 0
    while True:
        try:
            block = model.get_layer(f"transformer_layer_{index}")
        except ValueError:
            break
        attention = block._self_attention_layer
        prefix = f"encoder.layer.{index}."
        for keras_name, hf_name in (("query", "query"), ("key", "key"), ("value", "value")):
            dense = getattr(attention, f"{keras_name}_dense")
            entries.append((dense.kernel, f"{prefix}attention.self.{hf_name}.weight", "transpose"))
            entries.append((dense.bias, f"{prefix}attention.self.{hf_name}.bias", "copy"))
        entries += [
            (attention.output_dense.kernel, f"{prefix}attention.output.dense.weight", "transpose"),
            (attention.output_dense.bias, f"{prefix}attention.output.dense.bias", "copy"),
            (block._self_attention_layer_norm.gamma, f"{prefix}attention.output.LayerNorm.weight", "copy"),
            (block._self_attention_layer_norm.beta, f"{prefix}attention.output.LayerNorm.bias", "copy"),
            (block._feedforward_intermediate_dense.kernel, f"{prefix}intermediate.dense.weight", "transpose"),
            (block._feedforward_intermediate_dense.bias, f"{prefix}intermediate.dense.bias", "copy"),
            (block._feedforward_output_dense.kernel, f"{prefix}output.dense.weight", "transpose"),
            (block._feedforward_output_dense.bias, f"{prefix}output.dense.bias", "copy"),
            (block._feedforward_layer_norm.gamma, f"{prefix}output.LayerNorm.weight", "copy"),
            (block._feedforward_layer_norm.beta, f"{prefix}output.LayerNorm.bias", "copy"),
        ]
        index += 1
    if index == 0:
        raise ValueError("model has no layer named transformer_layer_0: expected a BERT encoder")
    pooled = model.get_layer("pooled_dense")
    entries += [(pooled.kernel, "pooler.dense.weight", "transpose"), (pooled.bias, "pooler.dense.bias", "copy")]
    return entries


def load_bert_weights(model, weights: Mapping[str, np.ndarray]) -> dict[str, str]:
    """Assign Hugging Face BERT tensors to a Keras BERT built by ``bert.build_bert_encoder`` (or a
    ``keras_hub.models.BertBackbone``, same layer names); return ``{keras variable path: tensor name}``.

    PyTorch ``Linear`` weights are stored (out, in) and Keras kernels (in, out): they are transposed,
    then reshaped to the Keras shape (the attention projections keep separate head axes, e.g.
    (384, 12, 32)). A missing tensor, or one whose size does not fit, raises ValueError before any
    variable is changed. Explained in notebooks/07_bert_classifier.ipynb.
    """
    plan = []
    for variable, name, how in _mapping(model):
        if name not in weights:
            raise ValueError(f"tensor {name!r} is missing from the weights (needed for {variable.path})")
        tensor = np.asarray(weights[name], dtype=np.float32)
        if how == "transpose":
            if tensor.ndim != 2:
                raise ValueError(f"{name} must be a 2-D (out, in) matrix, got shape {tensor.shape}")
            tensor = tensor.T
        target_shape = tuple(variable.shape)
        if how == "transpose":  # (in, out) may be split into (in, heads, head_dim) or (heads, head_dim, out)
            inputs, outputs = tensor.shape
            fits = (target_shape[0] == inputs and math.prod(target_shape[1:]) == outputs) or (
                math.prod(target_shape[:-1]) == inputs and target_shape[-1] == outputs
            )
        else:  # same shape, or a bias vector split into (heads, head_dim)
            fits = tensor.shape == target_shape or (tensor.ndim == 1 and tensor.size == math.prod(target_shape))
        if not fits:
            raise ValueError(
                f"{name} has shape {weights[name].shape}, which does not fit {variable.path} {target_shape}"
            )
        plan.append((variable, name, tensor.reshape(target_shape)))
    for variable, _, value in plan:
        variable.assign(value)
    return {variable.path: name for variable, name, _ in plan}


def reference_bert_forward(
    weights: Mapping[str, np.ndarray],
    token_ids: np.ndarray,
    segment_ids: np.ndarray,
    mask: np.ndarray,
    num_heads: int = 12,
    layer_norm_epsilon: float = 1e-12,
    return_attention: bool = False,
):
    """The BERT encoder written from its formulas in NumPy (float64), reading Hugging Face tensor names.

    ``token_ids``, ``segment_ids`` and ``mask`` are integer arrays of shape (batch, length); ``mask``
    is 1 on real tokens. For each layer: scaled dot-product attention over ``num_heads`` heads with
    padded keys excluded, output projection, residual + LayerNorm, then the GELU (erf) feed-forward
    network, residual + LayerNorm. Returns the sequence output (batch, length, hidden); with
    ``return_attention=True`` also the attention probabilities of every layer, each (batch, heads,
    length, length). Rows of padded positions are not meaningful (implementations differ there).
    Explained in notebooks/07_bert_classifier.ipynb.
    """
    token_ids, segment_ids, mask = (np.asarray(a) for a in (token_ids, segment_ids, mask))
    for label, array in (("token_ids", token_ids), ("segment_ids", segment_ids), ("mask", mask)):
        if array.ndim != 2 or not np.issubdtype(array.dtype, np.integer):
            raise ValueError(f"{label} must be a 2-D integer array, got shape {array.shape} dtype {array.dtype}")
    if not token_ids.shape == segment_ids.shape == mask.shape:
        raise ValueError(f"shapes differ: {token_ids.shape}, {segment_ids.shape}, {mask.shape}")

    def w(name: str) -> np.ndarray:
        if name not in weights:
            raise ValueError(f"tensor {name!r} is missing from the weights")
        return np.asarray(weights[name], dtype=np.float64)

    word = w("embeddings.word_embeddings.weight")
    batch, length = token_ids.shape
    hidden = word.shape[1]
    if hidden % num_heads:
        raise ValueError(f"hidden size {hidden} is not divisible by num_heads {num_heads}")
    if token_ids.min() < 0 or token_ids.max() >= word.shape[0]:
        raise ValueError(f"token ids must be in [0, {word.shape[0]})")
    head_dim = hidden // num_heads

    x = (
        word[token_ids]
        + w("embeddings.position_embeddings.weight")[:length]
        + w("embeddings.token_type_embeddings.weight")[segment_ids]
    )
    x = layer_norm(x, w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"), layer_norm_epsilon)
    key_is_padding = (mask == 0)[:, None, None, :]  # (batch, 1, 1, key)
    attentions = []
    layer = 0
    while f"encoder.layer.{layer}.attention.self.query.weight" in weights:
        p = f"encoder.layer.{layer}."

        def linear(inputs: np.ndarray, name: str, prefix: str = p) -> np.ndarray:
            return inputs @ w(f"{prefix}{name}.weight").T + w(f"{prefix}{name}.bias")  # PyTorch Linear: x W^T + b

        def heads(inputs: np.ndarray) -> np.ndarray:  # (batch, length, hidden) -> (batch, heads, length, head_dim)
            return inputs.reshape(batch, length, num_heads, head_dim).transpose(0, 2, 1, 3)

        query = heads(linear(x, "attention.self.query"))
        key = heads(linear(x, "attention.self.key"))
        value = heads(linear(x, "attention.self.value"))
        scores = query @ key.transpose(0, 1, 3, 2) / math.sqrt(head_dim)
        scores = np.where(key_is_padding, -np.inf, scores)
        scores = scores - scores.max(axis=-1, keepdims=True)
        probabilities = np.exp(scores)
        probabilities /= probabilities.sum(axis=-1, keepdims=True)
        attentions.append(probabilities)
        context = (probabilities @ value).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
        x = layer_norm(
            x + linear(context, "attention.output.dense"),
            w(f"{p}attention.output.LayerNorm.weight"),
            w(f"{p}attention.output.LayerNorm.bias"),
            layer_norm_epsilon,
        )
        feed_forward = linear(gelu(linear(x, "intermediate.dense")), "output.dense")
        x = layer_norm(
            x + feed_forward, w(f"{p}output.LayerNorm.weight"), w(f"{p}output.LayerNorm.bias"), layer_norm_epsilon
        )
        layer += 1
    if layer == 0:
        raise ValueError("no encoder.layer.0.* tensors found: expected BERT weights in Hugging Face layout")
    return (x, attentions) if return_attention else x
