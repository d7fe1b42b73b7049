"""A GPT from scratch: a decoder-only Transformer language model, as Keras layers.

Explained in notebooks/08_gpt_from_scratch.ipynb, which defines the same layers in its cells (a test,
tests/test_lesson_code.py, keeps the two copies identical). The pieces, in reading order:

- :class:`TokenAndPositionEmbedding`: a learned vector per token id plus a learned vector per
  position (GPT-2's ``wte`` and ``wpe``);
- :class:`CausalSelfAttention`: multi-head scaled dot-product attention in which position ``t``
  sees only positions ``≤ t`` (the mask is applied to the scores, before the softmax), with a
  :meth:`~CausalSelfAttention.decode_step` that reads and extends a key/value cache;
- :class:`DecoderBlock`: pre-LayerNorm residual block, ``x + attention(LN(x))`` then
  ``x + MLP(LN(x))`` with the MLP at ``4·d``;
- :class:`GPT`: embeddings, ``L`` blocks, a final LayerNorm and an output head tied to the token
  embedding (``logits = h Eᵀ``), so the model ends in logits.

Sequences are ``(batch, time)`` integer ids in, ``(batch, time, vocabulary)`` logits out.
"""

from __future__ import annotations

import math
import time

import keras
from keras import layers, ops

from course_utils import _checks

__all__ = [
    "GPT",
    "CausalSelfAttention",
    "DecoderBlock",
    "TokenAndPositionEmbedding",
    "WarmupCosineBudget",
    "custom_objects",
    "gpt_parameter_count",
    "kv_cache_bytes",
]

_INIT = keras.initializers.RandomNormal(stddev=0.02)  # GPT-2's initialisation


def _check_sizes(d_model, num_heads=1, **positive) -> None:
    for name, value in {"d_model": d_model, "num_heads": num_heads, **positive}.items():
        _checks.positive_int(name, value)
    if d_model % num_heads:
        raise ValueError(f"d_model ({d_model}) must be divisible by num_heads ({num_heads})")


# package copy of the lesson's cells starts here (tests/test_lesson_code.py compares them)


def gpt_parameter_count(vocabulary_size, context_length, d_model, num_layers):
    """Parameters of :class:`GPT` by formula: ``L (12 d² + 13 d) + (V + T) d + 2 d``.

    Per block: attention ``4 d² + 4 d`` (query/key/value and output projections with biases), MLP
    ``8 d² + 5 d`` (``d → 4d → d`` with biases), two LayerNorms ``4 d``. Then the token and position
    embeddings and the final LayerNorm; the tied output head adds nothing.
    """
    _check_sizes(d_model, num_layers=num_layers, vocabulary_size=vocabulary_size, context_length=context_length)
    d = d_model
    return num_layers * (12 * d * d + 13 * d) + (vocabulary_size + context_length) * d + 2 * d


def kv_cache_bytes(num_layers, context_length, d_model, batch_size=1, bytes_per_value=4):
    """Memory of a key/value cache: ``2 · L · T · d · batch · bytes`` (keys and values, every layer,
    every position, all heads together)."""
    _check_sizes(
        d_model,
        num_layers=num_layers,
        context_length=context_length,
        batch_size=batch_size,
        bytes_per_value=bytes_per_value,
    )
    return 2 * num_layers * context_length * d_model * batch_size * bytes_per_value


class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, vocabulary_size, context_length, d_model, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size, self.context_length, self.d_model = vocabulary_size, context_length, d_model
        self.token_embeddings = self.add_weight(
            shape=(vocabulary_size, d_model), initializer=_INIT, name="token_embeddings"
        )
        self.position_embeddings = self.add_weight(
            shape=(context_length, d_model), initializer=_INIT, name="position_embeddings"
        )

    def call(self, token_ids, start=0):
        positions = start + ops.arange(ops.shape(token_ids)[-1])
        tokens = ops.take(self.token_embeddings, token_ids, axis=0)
        return tokens + ops.take(self.position_embeddings, positions, axis=0)

    def get_config(self):
        sizes = {"vocabulary_size": self.vocabulary_size, "context_length": self.context_length}
        return {**super().get_config(), **sizes, "d_model": self.d_model}


class CausalSelfAttention(layers.Layer):
    def __init__(self, d_model, num_heads, **kwargs):
        super().__init__(**kwargs)
        self.d_model, self.num_heads, self.head_size = d_model, num_heads, d_model // num_heads
        self.qkv = layers.Dense(3 * d_model, kernel_initializer=_INIT, name="qkv")  # W_q | W_k | W_v
        self.proj = layers.Dense(d_model, kernel_initializer=_INIT, name="proj")  # W_o
        self.qkv.build((None, d_model))  # the sizes are known: create the weights now
        self.proj.build((None, d_model))

    def split_heads(self, x):  # (batch, T, d) -> (batch, heads, T, head_size)
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        return ops.transpose(ops.reshape(x, (batch, length, self.num_heads, self.head_size)), (0, 2, 1, 3))

    def merge_heads(self, x):  # (batch, heads, T, head_size) -> (batch, T, d)
        batch, length = ops.shape(x)[0], ops.shape(x)[2]
        return ops.reshape(ops.transpose(x, (0, 2, 1, 3)), (batch, length, self.d_model))

    def attend(self, q, k, v, visible):
        scores = ops.matmul(q, ops.transpose(k, (0, 1, 3, 2))) / math.sqrt(self.head_size)
        scores = ops.where(visible, scores, -1e9)  # the mask goes on the scores, BEFORE the softmax
        weights = ops.softmax(scores, axis=-1)
        return ops.matmul(weights, v), weights

    def call(self, x, return_weights=False):
        q, k, v = (self.split_heads(part) for part in ops.split(self.qkv(x), 3, axis=-1))
        length = ops.shape(x)[1]
        visible = ops.tril(ops.ones((length, length), dtype="bool"))  # query t sees keys 0..t
        output, weights = self.attend(q, k, v, visible)
        output = self.proj(self.merge_heads(output))
        return (output, weights) if return_weights else output

    def decode_step(self, x, key_cache, value_cache, index):
        """x: (batch, n, d) at positions index .. index + n - 1; caches: (batch, heads, T_max, head_size)."""
        q, k, v = (self.split_heads(part) for part in ops.split(self.qkv(x), 3, axis=-1))
        key_cache = ops.slice_update(key_cache, (0, 0, index, 0), k)  # write slots index .. index + n - 1
        value_cache = ops.slice_update(value_cache, (0, 0, index, 0), v)
        positions = index + ops.arange(ops.shape(x)[1])
        visible = ops.arange(ops.shape(key_cache)[2])[None, :] <= positions[:, None]  # causal; empty slots hidden
        output, _ = self.attend(q, key_cache, value_cache, visible)
        return self.proj(self.merge_heads(output)), key_cache, value_cache

    def get_config(self):
        return {**super().get_config(), "d_model": self.d_model, "num_heads": self.num_heads}


class DecoderBlock(layers.Layer):
    def __init__(self, d_model, num_heads, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.d_model, self.num_heads, self.dropout_rate = d_model, num_heads, dropout
        self.norm1 = layers.LayerNormalization(epsilon=1e-5, name="norm1")
        self.attention = CausalSelfAttention(d_model, num_heads, name="attention")
        self.norm2 = layers.LayerNormalization(epsilon=1e-5, name="norm2")
        self.mlp_in = layers.Dense(4 * d_model, activation="gelu", kernel_initializer=_INIT, name="mlp_in")
        self.mlp_out = layers.Dense(d_model, kernel_initializer=_INIT, name="mlp_out")
        self.dropout = layers.Dropout(dropout)
        for layer, width in [
            (self.norm1, d_model),
            (self.norm2, d_model),
            (self.mlp_in, d_model),
            (self.mlp_out, 4 * d_model),
        ]:
            layer.build((None, width))

    def mlp(self, x):
        return self.mlp_out(self.mlp_in(x))

    def call(self, x, training=None):
        x = x + self.dropout(self.attention(self.norm1(x)), training=training)
        return x + self.dropout(self.mlp(self.norm2(x)), training=training)

    def decode_step(self, x, key_cache, value_cache, index):
        attended, key_cache, value_cache = self.attention.decode_step(self.norm1(x), key_cache, value_cache, index)
        x = x + attended
        return x + self.mlp(self.norm2(x)), key_cache, value_cache

    def get_config(self):
        sizes = {"d_model": self.d_model, "num_heads": self.num_heads}
        return {**super().get_config(), **sizes, "dropout": self.dropout_rate}


class GPT(keras.Model):
    def __init__(self, vocabulary_size, context_length, d_model, num_layers, num_heads, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        _check_sizes(
            d_model, num_heads, vocabulary_size=vocabulary_size, context_length=context_length, num_layers=num_layers
        )
        self.sizes = {
            "vocabulary_size": vocabulary_size,
            "context_length": context_length,
            "d_model": d_model,
            "num_layers": num_layers,
            "num_heads": num_heads,
            "dropout": dropout,
        }
        self.embedding = TokenAndPositionEmbedding(vocabulary_size, context_length, d_model, name="embedding")
        self.blocks = [DecoderBlock(d_model, num_heads, dropout, name=f"block{i}") for i in range(num_layers)]
        self.final_norm = layers.LayerNormalization(epsilon=1e-5, name="final_norm")
        self.final_norm.build((None, d_model))
        self.built = True  # every weight exists already: nothing is left for Keras to build

    def unembed(self, h):  # the output head is the token embedding, transposed: logits = h Eᵀ
        return ops.matmul(self.final_norm(h), ops.transpose(self.embedding.token_embeddings))

    def call(self, token_ids, training=None):
        x = self.embedding(token_ids)
        for block in self.blocks:
            x = block(x, training=training)
        return self.unembed(x)

    def decode_step(self, token_ids, caches, index):
        """token_ids: (batch, n) at positions index .. index + n - 1; caches: one (keys, values) per block."""
        x = self.embedding(token_ids, start=index)
        new_caches = []
        for block, (key_cache, value_cache) in zip(self.blocks, caches, strict=True):
            x, key_cache, value_cache = block.decode_step(x, key_cache, value_cache, index)
            new_caches.append((key_cache, value_cache))
        return self.unembed(x), new_caches

    def empty_caches(self, batch_size):  # room for keys and values at every position of the context
        heads, d_model = self.sizes["num_heads"], self.sizes["d_model"]
        shape = (batch_size, heads, self.sizes["context_length"], d_model // heads)
        return [(ops.zeros(shape), ops.zeros(shape)) for _ in self.blocks]

    def get_config(self):
        return {**super().get_config(), **self.sizes}


class WarmupCosineBudget(keras.callbacks.Callback):
    """Learning rate: linear warm-up over ``warmup_steps`` steps, then half a cosine from ``peak`` to
    ``final_fraction · peak`` over the wall-clock budget of ``seconds``; training stops at the budget
    (but not before ``min_steps``). Every ``evaluate_every`` seconds, ``evaluate()`` is recorded in
    ``curve`` as ``(seconds, steps, value)`` with the clock paused."""

    def __init__(
        self, peak, seconds, warmup_steps, final_fraction=0.1, min_steps=0, evaluate_every=None, evaluate=None
    ):
        super().__init__()
        self.peak, self.seconds, self.warmup_steps, self.final_fraction = peak, seconds, warmup_steps, final_fraction
        self.min_steps, self.evaluate_every, self.evaluate = min_steps, evaluate_every, evaluate
        self.steps, self.elapsed, self.curve = 0, 0.0, []  # curve: (seconds, steps, held-out loss)

    def learning_rate(self):
        warmup = min(1.0, (self.steps + 1) / self.warmup_steps)
        cosine = 0.5 * (1 + math.cos(math.pi * min(1.0, self.elapsed / self.seconds)))
        return self.peak * warmup * (self.final_fraction + (1 - self.final_fraction) * cosine)

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate.assign(self.learning_rate())

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        self.elapsed = time.perf_counter() - self.started
        if self.evaluate and self.elapsed >= self.evaluate_every * (len(self.curve) + 1):
            paused = time.perf_counter()
            self.curve.append((self.elapsed, self.steps, self.evaluate()))
            self.started += time.perf_counter() - paused  # the clock stops while we measure
        if self.elapsed >= self.seconds and self.steps >= self.min_steps:
            self.model.stop_training = True


# package copy ends here


def custom_objects() -> dict:
    """The classes ``keras.models.load_model`` needs to rebuild a saved :class:`GPT`."""
    return {cls.__name__: cls for cls in (TokenAndPositionEmbedding, CausalSelfAttention, DecoderBlock, GPT)}
