"""Tensor (model) parallelism by hand, Megatron-style, for the course GPT on several devices.

Explained in notebooks/11_compute_and_scale.ipynb. Megatron-LM (Shoeybi et al., 2019) splits each
block's two matrix products so that a block needs only one all-reduce per sub-block:

- **MLP**: the first matrix ``W₁`` (``d × 4d``) is split by **columns**: device ``i`` holds
  ``W₁[:, part i]`` and computes its part of the hidden layer, ``GELU(x W₁ᵢ + b₁ᵢ)``; GELU acts
  element by element, so no communication is needed. The second matrix ``W₂`` (``4d × d``) is split by
  **rows** to match: device ``i`` computes ``hᵢ W₂ᵢ``, a full-size partial sum, and the **all-reduce**
  adds the partial sums, ``y = Σᵢ hᵢ W₂ᵢ + b₂``.
- **attention**: the heads are independent, so device ``i`` holds the query, key and value columns of
  its heads (a column split of ``W_qkv``) and the matching rows of the output projection ``W_o``
  (a row split): again one all-reduce.

LayerNorms, embeddings and biases added after an all-reduce are small and stay replicated (here: on
the first device). The devices are ``tf.device`` names, e.g. the two logical CPU devices of the lesson.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

__all__ = ["TensorParallelGPT", "all_reduce", "column_split", "megatron_mlp", "row_split"]


# package copy of the lesson's cells starts here (tests/test_lesson_code.py compares them)


def column_split(matrix, parts):
    """Split a ``(rows, columns)`` matrix into ``parts`` blocks of columns (a bias: into blocks of entries)."""
    return np.split(np.asarray(matrix), parts, axis=-1)


def row_split(matrix, parts):
    """Split a ``(rows, columns)`` matrix into ``parts`` blocks of rows."""
    return np.split(np.asarray(matrix), parts, axis=0)


def all_reduce(partials, devices):
    """Sum the partial results and give every device the total (here: one ``tf.add_n`` per device)."""
    totals = []
    for device in devices:
        with tf.device(device):
            totals.append(tf.add_n(partials))
    return totals


def megatron_mlp(x, w_in, b_in, w_out, b_out, devices):
    """``GELU(x W₁ + b₁) W₂ + b₂`` with ``W₁`` split by columns and ``W₂`` by rows over ``devices``:
    ``w_in``, ``b_in``, ``w_out`` are lists with one shard per device; one all-reduce at the end."""
    partials = []
    for device, w1, b1, w2 in zip(devices, w_in, b_in, w_out, strict=True):
        with tf.device(device):
            hidden = keras.activations.gelu(tf.matmul(x, w1) + b1)  # this device's columns of the hidden layer
            partials.append(tf.matmul(hidden, w2))  # a full-size partial sum
    return all_reduce(partials, devices)[0] + b_out


# package copy ends here


def _layer_norm(x, layer):
    mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
    return (x - mean) * tf.math.rsqrt(variance + layer.epsilon) * layer.gamma + layer.beta


class TensorParallelGPT:
    """A copy of a :class:`course_utils.gpt.GPT` whose attention heads and MLP columns are split over
    ``devices`` (Megatron-style), with its own ``tf.Variable`` shards placed on those devices.

    ``model(ids)`` returns the same logits as ``gpt(ids)``; :attr:`variables` are every variable the
    copy owns (shards and the replicated rest); :meth:`full_gradients` reassembles the gradients of the
    shards into the shapes of the original model's ``trainable_variables``; :meth:`placement` lists
    which weight lives on which device.
    """

    def __init__(self, gpt, devices):
        self.gpt, self.devices = gpt, list(devices)
        parts = len(self.devices)
        d, heads = gpt.sizes["d_model"], gpt.sizes["num_heads"]
        if heads % parts:
            raise ValueError(f"num_heads ({heads}) must be divisible by the number of devices ({parts})")
        self.heads_per_device, self.head_size = heads // parts, d // heads
        self.shards = []  # one dict of per-device variables per block
        for block in gpt.blocks:
            qkv_kernel, qkv_bias = block.attention.qkv.kernel.numpy(), block.attention.qkv.bias.numpy()
            # the columns of W_qkv are [Q | K | V]; each is split by heads, and device i takes its heads of all three
            q_k_v = [np.split(part, parts, axis=-1) for part in np.split(qkv_kernel, 3, axis=-1)]
            q_k_v_bias = [np.split(part, parts) for part in np.split(qkv_bias, 3)]
            shard = {name: [] for name in ("qkv_kernel", "qkv_bias", "proj_kernel", "mlp_in_kernel", "mlp_in_bias")}
            shard["mlp_out_kernel"] = []
            pieces = {
                "qkv_kernel": [np.concatenate([q_k_v[j][i] for j in range(3)], axis=-1) for i in range(parts)],
                "qkv_bias": [np.concatenate([q_k_v_bias[j][i] for j in range(3)]) for i in range(parts)],
                "proj_kernel": row_split(block.attention.proj.kernel.numpy(), parts),
                "mlp_in_kernel": column_split(block.mlp_in.kernel.numpy(), parts),
                "mlp_in_bias": column_split(block.mlp_in.bias.numpy(), parts),
                "mlp_out_kernel": row_split(block.mlp_out.kernel.numpy(), parts),
            }
            for name, values in pieces.items():
                for i, (device, value) in enumerate(zip(self.devices, values, strict=True)):
                    with tf.device(device):
                        shard[name].append(tf.Variable(value, name=f"{block.name}/{name}/shard{i}"))
            self.shards.append(shard)
        with tf.device(self.devices[0]):  # the small, replicated weights: one copy, on the first device
            self.replicated = {
                id(v): tf.Variable(v.numpy(), name=v.path.replace("/", "_"))
                for v in gpt.trainable_variables
                if not _is_split(gpt, v)
            }

    def _replica(self, variable):
        return self.replicated[id(variable)]

    def _attention(self, x, block, shard):
        batch, length = tf.shape(x)[0], tf.shape(x)[1]
        visible = tf.linalg.band_part(tf.ones((length, length), tf.bool), -1, 0)
        partials = []
        for device, w_qkv, b_qkv, w_o in zip(
            self.devices, shard["qkv_kernel"], shard["qkv_bias"], shard["proj_kernel"], strict=True
        ):
            with tf.device(device):
                q, k, v = tf.split(tf.matmul(x, w_qkv) + b_qkv, 3, axis=-1)  # this device's heads only
                q, k, v = (
                    tf.transpose(tf.reshape(t, (batch, length, self.heads_per_device, self.head_size)), (0, 2, 1, 3))
                    for t in (q, k, v)
                )
                scores = tf.matmul(q, k, transpose_b=True) / math.sqrt(self.head_size)
                weights = tf.nn.softmax(tf.where(visible, scores, -1e9), axis=-1)
                heads = tf.reshape(tf.transpose(tf.matmul(weights, v), (0, 2, 1, 3)), (batch, length, -1))
                partials.append(tf.matmul(heads, w_o))
        return all_reduce(partials, self.devices)[0] + self._replica(block.attention.proj.bias)

    def __call__(self, token_ids):
        gpt = self.gpt
        embedding = gpt.embedding
        tokens = self._replica(embedding.token_embeddings)
        with tf.device(self.devices[0]):
            positions = tf.range(tf.shape(token_ids)[-1])
            x = tf.gather(tokens, token_ids) + tf.gather(self._replica(embedding.position_embeddings), positions)
        for block, shard in zip(gpt.blocks, self.shards, strict=True):
            norm1 = _Norm(block.norm1, self)
            x = x + self._attention(_layer_norm(x, norm1), block, shard)
            h = _layer_norm(x, _Norm(block.norm2, self))
            x = x + megatron_mlp(
                h,
                shard["mlp_in_kernel"],
                shard["mlp_in_bias"],
                shard["mlp_out_kernel"],
                self._replica(block.mlp_out.bias),
                self.devices,
            )
        with tf.device(self.devices[0]):
            return tf.matmul(_layer_norm(x, _Norm(gpt.final_norm, self)), tokens, transpose_b=True)

    @property
    def variables(self):
        sharded = [v for shard in self.shards for values in shard.values() for v in values]
        return sharded + list(self.replicated.values())

    def full_gradients(self, gradients):
        """Gradients of :attr:`variables` (same order) reassembled into the original model's
        ``trainable_variables`` order and shapes."""
        dense = [tf.convert_to_tensor(g).numpy() for g in gradients]  # an embedding's gradient comes as IndexedSlices
        by_variable = dict(zip((id(v) for v in self.variables), dense, strict=True))
        parts = len(self.devices)
        full = {}
        for block, shard in zip(self.gpt.blocks, self.shards, strict=True):
            grads = {name: [by_variable[id(v)] for v in values] for name, values in shard.items()}
            kernel_parts = [np.split(g, 3, axis=-1) for g in grads["qkv_kernel"]]  # device i: [Q_i | K_i | V_i]
            bias_parts = [np.split(g, 3) for g in grads["qkv_bias"]]
            full[id(block.attention.qkv.kernel)] = np.concatenate(
                [kernel_parts[i][j] for j in range(3) for i in range(parts)], axis=-1
            )
            full[id(block.attention.qkv.bias)] = np.concatenate(
                [bias_parts[i][j] for j in range(3) for i in range(parts)]
            )
            full[id(block.attention.proj.kernel)] = np.concatenate(grads["proj_kernel"], axis=0)
            full[id(block.mlp_in.kernel)] = np.concatenate(grads["mlp_in_kernel"], axis=-1)
            full[id(block.mlp_in.bias)] = np.concatenate(grads["mlp_in_bias"])
            full[id(block.mlp_out.kernel)] = np.concatenate(grads["mlp_out_kernel"], axis=0)
        for original_id, copy in self.replicated.items():
            full[original_id] = by_variable[id(copy)]
        return [full[id(v)] for v in self.gpt.trainable_variables]

    def placement(self):
        """``(name, shape, device)`` of every variable, sharded ones first."""
        return [(v.name, tuple(v.shape), v.device.rpartition("/")[2] or v.device) for v in self.variables]


class _Norm:  # a LayerNorm's epsilon with the copy's replicated gamma and beta
    def __init__(self, layer, copy):
        self.epsilon, self.gamma, self.beta = layer.epsilon, copy._replica(layer.gamma), copy._replica(layer.beta)


def _is_split(gpt, variable) -> bool:
    split = set()
    for block in gpt.blocks:
        attention = block.attention
        for v in (attention.qkv.kernel, attention.qkv.bias, attention.proj.kernel):
            split.add(id(v))
        for v in (block.mlp_in.kernel, block.mlp_in.bias, block.mlp_out.kernel):
            split.add(id(v))
    return id(variable) in split
