"""Attention and the Transformer encoder block from scratch, in NumPy.

The functions a lesson teaches are defined, identically, in notebooks/06_attention_transformer.ipynb
(cells marked ``# package copy: course_utils.attention``; tests/test_lesson_code.py proves the two
copies equal). Their argument checks are the ``check_*`` functions below, one call at the top of each
function, so the lesson shows the computation and nothing else. Every function is checked in the
lesson and in tests/test_attention.py against TensorFlow and Keras (``tf.nn.softmax``,
``keras.layers.MultiHeadAttention``, ``keras.layers.LayerNormalization``,
``keras_hub.layers.TransformerEncoder``, ``keras_hub.layers.SinePositionEncoding``,
``keras_hub.layers.RotaryEmbedding``).

Conventions (the same as Keras):

- Sequences are ``(batch, time, features)``; a single sequence ``(time, features)`` also works.
- A mask is boolean and **True means "may attend"**. It must broadcast to the attention weights'
  ``(..., T_q, T_k)``: a causal mask is ``(T, T)``, a padding mask is ``(batch, 1, T_k)``, and the
  two combine with ``&``. Masked scores are replaced by ``-1e9`` before the softmax, so they get
  weight 0 (a query row that may attend to nothing gets uniform weights, as with ``-1e9`` in Keras).
- Multi-head parameters are a dict of 2-D matrices: ``wq, wk, wv`` of shape
  ``(d_in, num_heads * key_dim)`` with biases ``bq, bk, bv`` of shape ``(num_heads * key_dim,)``,
  and ``wo`` ``(num_heads * key_dim, d_model)`` with ``bo`` ``(d_model,)``. Columns
  ``h * key_dim : (h + 1) * key_dim`` belong to head ``h``: this is what "splitting the heads"
  with a reshape means, and it is how :func:`params_from_keras_mha` flattens Keras' 3-D kernels.
"""

from __future__ import annotations

import math

import numpy as np

from course_utils import _checks
from course_utils._checks import finite_number, non_negative_int, positive_int, positive_number
from course_utils.softmax import softmax as stable_softmax

__all__ = [
    "causal_mask",
    "gelu",
    "init_encoder_params",
    "init_mha_params",
    "layer_norm",
    "multi_head_attention",
    "padding_mask",
    "params_from_keras_encoder",
    "params_from_keras_mha",
    "rope",
    "scaled_dot_product_attention",
    "sinusoidal_positions",
    "softmax",
    "split_heads",
    "transformer_encoder_block",
]

MASKED_SCORE = -1e9  # what a blocked score becomes before the softmax (Keras uses the same number)
MHA_KEYS = ("wq", "bq", "wk", "bk", "wv", "bv", "wo", "bo")
ENCODER_KEYS = ("attention", "ln1_gamma", "ln1_beta", "w1", "b1", "w2", "b2", "ln2_gamma", "ln2_beta")
ACTIVATIONS = ("gelu", "relu")


# ------------------------------------------------------------------ argument checks (one call per function)


def real_array(name: str, values, min_ndim: int = 1) -> np.ndarray:
    """``values`` as a float array (integers become float64); ValueError unless real numbers, ``ndim >= min_ndim``."""
    return _checks.real_array(name, values, min_ndim=min_ndim, as_float=True)


def _bool_mask(mask, target_shape: tuple[int, ...], name: str = "mask") -> np.ndarray:
    """Check that ``mask`` is boolean-like and broadcasts to ``target_shape`` (the weights' shape)."""
    array = np.asarray(mask)
    if array.dtype != np.bool_:
        if not np.issubdtype(array.dtype, np.number) or not np.isin(array, (0, 1)).all():
            raise ValueError(f"{name} must be boolean (True = may attend) or 0/1, got dtype {array.dtype}")
        array = array.astype(bool)
    if array.ndim < 2 or array.ndim > len(target_shape):
        raise ValueError(
            f"{name} must have 2 to {len(target_shape)} dimensions (..., T_q, T_k) broadcastable to "
            f"{target_shape}, got shape {array.shape}"
        )
    try:
        np.broadcast_shapes(array.shape, target_shape)
    except ValueError:
        raise ValueError(
            f"{name} of shape {array.shape} does not broadcast to the attention weights' shape {target_shape}"
        ) from None
    if np.broadcast_shapes(array.shape, target_shape) != tuple(target_shape):
        raise ValueError(f"{name} of shape {array.shape} would enlarge the attention weights' shape {target_shape}")
    return array


def check_attention_args(q, k, v, mask=None):
    """``(q, k, v, mask)`` for :func:`scaled_dot_product_attention`: float arrays, matching shapes, boolean mask."""
    q, k, v = real_array("q", q, 2), real_array("k", k, 2), real_array("v", v, 2)
    for name, array in (("q", q), ("k", k), ("v", v)):
        if np.isnan(array).any():
            raise ValueError(f"{name} contains NaN: attention would spread it to every output that attends to it")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k must have the same last dimension d_k, got q {q.shape} and k {k.shape}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"k and v must have the same number of positions T_k, got k {k.shape} and v {v.shape}")
    try:
        leading = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(f"leading axes of q {q.shape}, k {k.shape}, v {v.shape} do not broadcast") from None
    if mask is not None:
        mask = _bool_mask(mask, (*leading, q.shape[-2], k.shape[-2]))
    return q, k, v, mask


def check_padding_args(tokens_or_lengths, max_length=None) -> tuple[np.ndarray, int]:
    """``(array, T)`` for :func:`padding_mask`: 2-D integer ids, or 1-D lengths and the padded length ``T``."""
    array = np.asarray(tokens_or_lengths)
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"expected integer token ids (batch, T) or lengths (batch,), got dtype {array.dtype}")
    if array.ndim == 2:
        if max_length is not None:
            raise ValueError("max_length is only used with 1-D lengths; token ids already have a length")
        return array, array.shape[1]
    if array.ndim != 1:
        raise ValueError(
            f"expected token ids of shape (batch, T) or lengths of shape (batch,), got shape {array.shape}"
        )
    if array.size == 0 or array.min() < 0:
        raise ValueError(f"lengths must be a non-empty array of non-negative integers, got {array.tolist()}")
    length = int(array.max()) if max_length is None else max_length
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < max(1, array.max()):
        raise ValueError(f"max_length must be an integer >= the longest length {int(array.max())}, got {max_length!r}")
    return array, int(length)


def _check_mha_params(params: dict, num_heads: int, d_in_q: int, d_in_kv: int) -> tuple[int, int]:
    if not isinstance(params, dict) or any(key not in params for key in MHA_KEYS):
        raise ValueError(
            f"params must be a dict with keys {MHA_KEYS}, got {sorted(params) if isinstance(params, dict) else type(params).__name__}"
        )
    positive_int("num_heads", num_heads)
    wq, wk, wv, wo = (np.asarray(params[name]) for name in ("wq", "wk", "wv", "wo"))
    if any(w.ndim != 2 for w in (wq, wk, wv, wo)):
        raise ValueError("wq, wk, wv, wo must be 2-D matrices (see params_from_keras_mha for Keras' 3-D kernels)")
    inner = wq.shape[1]
    if inner % num_heads:
        raise ValueError(f"the projected size {inner} (wq.shape[1]) is not divisible by num_heads={num_heads}")
    if wq.shape[0] != d_in_q:
        raise ValueError(f"wq must have {d_in_q} rows (the query features), got shape {wq.shape}")
    if wk.shape != (d_in_kv, inner):
        raise ValueError(f"wk must have shape {(d_in_kv, inner)}, got {wk.shape}")
    if wv.shape[0] != d_in_kv or wv.shape[1] % num_heads:
        raise ValueError(f"wv must have {d_in_kv} rows and a multiple of num_heads columns, got {wv.shape}")
    if wo.shape[0] != wv.shape[1]:
        raise ValueError(f"wo must have {wv.shape[1]} rows (num_heads * value_dim), got shape {wo.shape}")
    for bias, weight in (("bq", wq), ("bk", wk), ("bv", wv), ("bo", wo)):
        if np.shape(params[bias]) != (weight.shape[1],):
            raise ValueError(f"{bias} must have shape {(weight.shape[1],)}, got {np.shape(params[bias])}")
    return inner // num_heads, wv.shape[1] // num_heads


def check_mha_args(x_q, x_kv, params: dict, num_heads: int, mask=None):
    """``(x_q, x_kv, mask, unbatched)`` for :func:`multi_head_attention`.

    Inputs come back batched ``(batch, T, d)`` (``unbatched`` says whether they were ``(T, d)``), and
    the mask ``(batch, 1, T_q, T_k)``-broadcastable: the same for every head.
    """
    x_q, x_kv = real_array("x_q", x_q, 2), real_array("x_kv", x_kv, 2)
    if x_q.ndim != x_kv.ndim or x_q.ndim > 3:
        raise ValueError(f"x_q and x_kv must both be (T, d) or both (batch, T, d), got {x_q.shape} and {x_kv.shape}")
    unbatched = x_q.ndim == 2
    if unbatched:
        x_q, x_kv = x_q[None], x_kv[None]
    if x_q.shape[0] != x_kv.shape[0]:
        raise ValueError(f"x_q and x_kv must have the same batch size, got {x_q.shape} and {x_kv.shape}")
    _check_mha_params(params, num_heads, x_q.shape[-1], x_kv.shape[-1])
    if mask is not None:
        mask = _bool_mask(mask, (x_q.shape[0], x_q.shape[1], x_kv.shape[1]))[..., None, :, :]
    return x_q, x_kv, mask, unbatched


def check_layer_norm_args(x, gamma, beta, eps) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x, gamma, beta)`` for :func:`layer_norm`: gamma and beta of shape ``(d,)``, ``eps > 0``."""
    x, gamma, beta = real_array("x", x), real_array("gamma", gamma), real_array("beta", beta)
    if gamma.shape != (x.shape[-1],) or beta.shape != (x.shape[-1],):
        raise ValueError(f"gamma and beta must have shape ({x.shape[-1]},), got {gamma.shape} and {beta.shape}")
    positive_number("eps", eps)
    return x, gamma, beta


def check_encoder_args(x, params: dict, activation: str) -> np.ndarray:
    """``x`` as a float array for :func:`transformer_encoder_block`; checks the parameter shapes and activation."""
    if not isinstance(params, dict) or any(key not in params for key in ENCODER_KEYS):
        raise ValueError(f"params must be a dict with keys {ENCODER_KEYS}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {list(ACTIVATIONS)}, got {activation!r}")
    x = real_array("x", x, 2)
    width = x.shape[-1]
    if np.shape(params["w1"])[0] != width or np.shape(params["w2"]) != (np.shape(params["w1"])[1], width):
        raise ValueError(
            f"w1 must be (d_model={width}, d_ff) and w2 (d_ff, d_model), got {np.shape(params['w1'])} and {np.shape(params['w2'])}"
        )
    if np.shape(params["attention"]["wo"])[-1] != width:
        raise ValueError(f"the attention output projection must map back to d_model={width} (residual connection)")
    return x


def check_positions_args(T, d, max_wavelength) -> tuple[int, int]:
    """``(T, d)`` as ints for :func:`sinusoidal_positions`: positive sizes, ``d`` even, ``max_wavelength > 1``."""
    T, d = positive_int("T", T), positive_int("d", d)
    if d % 2:
        raise ValueError(f"d must be even: the encoding is made of (sin, cos) pairs, got d={d}")
    if not finite_number("max_wavelength", max_wavelength) > 1:
        raise ValueError(f"max_wavelength must be > 1, got {max_wavelength!r}")
    return T, d


def check_rope_args(x, positions, max_wavelength) -> tuple[np.ndarray, np.ndarray]:
    """``(x, positions)`` for :func:`rope`: ``x`` is ``(..., T, d)`` with ``d`` even; positions default to ``0..T-1``."""
    x = real_array("x", x, 2)
    if x.shape[-1] % 2:
        raise ValueError(f"RoPE rotates pairs of features: the last dimension must be even, got shape {x.shape}")
    if not finite_number("max_wavelength", max_wavelength) > 1:
        raise ValueError(f"max_wavelength must be > 1, got {max_wavelength!r}")
    if positions is None:
        return x, np.arange(x.shape[-2], dtype=np.float64)
    positions = real_array("positions", positions).astype(np.float64)
    if positions.shape != (x.shape[-2],):
        raise ValueError(
            f"positions must have shape ({x.shape[-2]},), one per position of x {x.shape}, got {positions.shape}"
        )
    return x, positions


# ------------------------------------------------------------------ what the lesson teaches


def softmax(scores, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax along ``axis``: :func:`course_utils.softmax.softmax`.

    Explained in notebooks/02_softmax_cross_entropy.ipynb; used for the attention weights in
    notebooks/06_attention_transformer.ipynb.
    """
    return stable_softmax(real_array("scores", scores), axis=axis)


def scaled_dot_product_attention(q, k, v, mask=None):
    """``softmax(Q Kᵀ / √d_k) V``: returns ``(output, weights)``.

    ``q`` is ``(..., T_q, d_k)``, ``k`` ``(..., T_k, d_k)``, ``v`` ``(..., T_k, d_v)`` (leading axes such
    as batch and heads must match or broadcast). ``weights`` is ``(..., T_q, T_k)``, each row sums
    to 1; ``output`` is ``(..., T_q, d_v)``. ``mask`` (True = may attend) must broadcast to the
    weights' shape. Explained in notebooks/06_attention_transformer.ipynb.
    """
    q, k, v, mask = check_attention_args(q, k, v, mask)
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])  # (..., T_q, T_k)
    if mask is not None:
        scores = np.where(mask, scores, MASKED_SCORE)  # blocked: weight exp(-1e9) = 0
    weights = softmax(scores, axis=-1)  # every row sums to 1
    return weights @ v, weights  # output row i = sum_j weights[i, j] * v[j]


def causal_mask(T):
    """``(T, T)`` boolean lower-triangular mask: position ``i`` may attend to ``j <= i`` only.

    Explained in notebooks/06_attention_transformer.ipynb.
    """
    T = positive_int("T", T)
    return np.tril(np.ones((T, T), dtype=bool))


def padding_mask(tokens_or_lengths, pad_id=0, max_length=None):
    """Key mask ``(batch, 1, T)``: True at real tokens, False at padding. Broadcasts over queries.

    Give either a 2-D array of token ids (padding is ``pad_id``, 0 in BERT vocabularies) or a 1-D
    array of sequence lengths (then ``T`` is ``max_length``, by default the longest length).
    Combine with a causal mask by ``padding_mask(ids) & causal_mask(T)``; for Keras, which wants
    ``(batch, T_q, T_k)``, use ``np.broadcast_to(mask, (batch, T_q, T_k))``.
    Explained in notebooks/06_attention_transformer.ipynb.
    """
    array, T = check_padding_args(tokens_or_lengths, max_length)
    if array.ndim == 2:  # token ids
        return (array != pad_id)[:, None, :]
    return (np.arange(T)[None, :] < array[:, None])[:, None, :]  # lengths


def check_split_heads_args(x, num_heads) -> tuple[np.ndarray, int]:
    """``(x, num_heads)`` for :func:`split_heads`: ``x`` 3-D with a last axis divisible by ``num_heads``."""
    x, num_heads = real_array("x", x, 3), positive_int("num_heads", num_heads)
    if x.ndim != 3 or x.shape[-1] % num_heads:
        raise ValueError(f"x must be (batch, T, num_heads * depth) with num_heads={num_heads}, got shape {x.shape}")
    return x, num_heads


def split_heads(x, num_heads):
    """``(batch, T, num_heads * depth)`` -> ``(batch, num_heads, T, depth)``: head ``h`` owns columns ``h*depth:(h+1)*depth``."""
    x, num_heads = check_split_heads_args(x, num_heads)
    batch, length, width = x.shape
    return x.reshape(batch, length, num_heads, width // num_heads).transpose(0, 2, 1, 3)


_split_heads = split_heads  # the old private name


def multi_head_attention(x_q, x_kv, params, num_heads, mask=None):
    """Multi-head attention, like ``keras.layers.MultiHeadAttention(num_heads, key_dim)(x_q, x_kv)``.

    Project ``x_q`` to queries and ``x_kv`` to keys and values (``x @ w + b``), split the last axis
    into ``num_heads`` heads, run :func:`scaled_dot_product_attention` in every head at once,
    concatenate the heads and apply the output projection ``wo, bo``. Returns ``(output, weights)``
    with output ``(batch, T_q, d_model)`` and weights ``(batch, num_heads, T_q, T_k)``; unbatched
    ``(T, d)`` inputs give unbatched results. ``mask`` (True = may attend) broadcasts to
    ``(batch, T_q, T_k)``, the same for every head. Explained in notebooks/06_attention_transformer.ipynb.
    """
    x_q, x_kv, mask, unbatched = check_mha_args(x_q, x_kv, params, num_heads, mask)
    queries = split_heads(x_q @ params["wq"] + params["bq"], num_heads)  # (batch, heads, T_q, key_dim)
    keys = split_heads(x_kv @ params["wk"] + params["bk"], num_heads)
    values = split_heads(x_kv @ params["wv"] + params["bv"], num_heads)
    heads, weights = scaled_dot_product_attention(queries, keys, values, mask)  # all heads at once
    batch, _, length, depth = heads.shape
    concatenated = heads.transpose(0, 2, 1, 3).reshape(batch, length, num_heads * depth)  # undo the split
    output = concatenated @ params["wo"] + params["bo"]
    return (output[0], weights[0]) if unbatched else (output, weights)


def layer_norm(x, gamma, beta, eps=1e-5):
    """``gamma * (x - mean) / sqrt(var + eps) + beta`` over the last axis (per token).

    Same as ``keras.layers.LayerNormalization(epsilon=eps)``; note Keras' default epsilon is 1e-3,
    keras_hub's Transformer layers use 1e-5 and BERT 1e-12. Explained in
    notebooks/06_attention_transformer.ipynb.
    """
    x, gamma, beta = check_layer_norm_args(x, gamma, beta, eps)
    mean = x.mean(axis=-1, keepdims=True)
    variance = x.var(axis=-1, keepdims=True)
    return gamma * (x - mean) / np.sqrt(variance + eps) + beta


erf = np.vectorize(math.erf, otypes=[np.float64])  # the error function, element by element
_erf = erf  # the old private name


def gelu(x):
    """Exact GELU ``x · Φ(x) = x/2 · (1 + erf(x/√2))`` (``keras.activations.gelu(approximate=False)``).

    MiniLM (trained with Hugging Face) uses this exact form; Google's original BERT used the tanh
    approximation. Explained in notebooks/06_attention_transformer.ipynb.
    """
    x = real_array("x", x)
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


def transformer_encoder_block(x, params, num_heads, mask=None, norm_first=False, activation="relu", eps=1e-5):
    """One Transformer encoder block; post-norm (original paper, BERT) unless ``norm_first``.

    Post-norm:  ``h = LN1(x + MHA(x, x))``,  ``y = LN2(h + FFN(h))``.
    Pre-norm:   ``h = x + MHA(LN1(x))``,   ``y = h + FFN(LN2(h))``.
    ``FFN(h) = act(h @ w1 + b1) @ w2 + b2``. ``params`` holds ``"attention"`` (multi-head params) and
    ``ln1_gamma, ln1_beta, w1, b1, w2, b2, ln2_gamma, ln2_beta``. Same computation and defaults as
    ``keras_hub.layers.TransformerEncoder(intermediate_dim, num_heads)`` without dropout.
    Explained in notebooks/06_attention_transformer.ipynb.
    """
    x = check_encoder_args(x, params, activation)
    act = gelu if activation == "gelu" else lambda h: np.maximum(h, 0.0)

    def attend(h):
        return multi_head_attention(h, h, params["attention"], num_heads, mask)[0]

    def feed_forward(h):  # the same two-layer network on every position separately
        return act(h @ params["w1"] + params["b1"]) @ params["w2"] + params["b2"]

    def norm1(h):
        return layer_norm(h, params["ln1_gamma"], params["ln1_beta"], eps)

    def norm2(h):
        return layer_norm(h, params["ln2_gamma"], params["ln2_beta"], eps)

    if norm_first:  # pre-norm: a clean residual path x -> output
        hidden = x + attend(norm1(x))
        return hidden + feed_forward(norm2(hidden))
    hidden = norm1(x + attend(x))  # post-norm: residual add, then normalize
    return norm2(hidden + feed_forward(hidden))


def sinusoidal_positions(T, d, max_wavelength=10000.0):
    """``(T, d)`` sinusoidal position encodings of "Attention Is All You Need".

    ``P[pos, 2i] = sin(pos / max_wavelength^(2i/d))``, ``P[pos, 2i+1] = cos(pos / max_wavelength^(2i/d))``,
    so position 0 is ``[0, 1, 0, 1, ...]``. Same layout as ``keras_hub.layers.SinePositionEncoding``.
    Explained in notebooks/06_attention_transformer.ipynb.
    """
    T, d = check_positions_args(T, d, max_wavelength)
    positions = np.arange(T, dtype=np.float64)[:, None]
    pair = np.arange(d) // 2  # i for columns 2i and 2i+1
    angles = positions / max_wavelength ** (2 * pair / d)
    return np.where(np.arange(d) % 2 == 0, np.sin(angles), np.cos(angles))


def rope(x, positions=None, max_wavelength=10000.0):
    """Rotary position embedding (RoPE, Su et al. 2021) of ``x`` ``(..., T, d)``, ``d`` even.

    Feature ``i`` and feature ``i + d/2`` form a pair that is rotated by the angle
    ``pos · θ_i``, ``θ_i = max_wavelength^(-i/(d/2))``, at position ``pos`` (``positions``, by
    default ``0 .. T-1``). Applied to queries and keys (not values), it makes ``q·k`` depend on
    the two positions only through their offset. Same pairing ("rotate half") and frequencies as
    ``keras_hub.layers.RotaryEmbedding``, GPT-NeoX and LLaMA. Explained in
    notebooks/06_attention_transformer.ipynb.
    """
    x, positions = check_rope_args(x, positions, max_wavelength)
    half = x.shape[-1] // 2
    angles = positions[:, None] * max_wavelength ** (-np.arange(half) / half)  # (T, d/2)
    cos, sin = np.cos(angles), np.sin(angles)
    first, second = x[..., :half], x[..., half:]
    return np.concatenate([first * cos - second * sin, second * cos + first * sin], axis=-1)


def _glorot(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out))


def init_mha_params(d_model: int, num_heads: int, key_dim: int | None = None, seed: int = 0) -> dict:
    """Random multi-head parameters (Glorot-uniform weights, small random biases), float64.

    ``key_dim`` defaults to ``d_model // num_heads`` (then ``d_model`` must be divisible by
    ``num_heads``). Explained in notebooks/06_attention_transformer.ipynb.
    """
    d_model, num_heads = positive_int("d_model", d_model), positive_int("num_heads", num_heads)
    key_dim = None if key_dim is None else positive_int("key_dim", key_dim)
    non_negative_int("seed", seed)
    if key_dim is None:
        if d_model % num_heads:
            raise ValueError(f"d_model={d_model} is not divisible by num_heads={num_heads}; pass key_dim explicitly")
        key_dim = d_model // num_heads
    rng = np.random.default_rng(seed)
    inner = num_heads * key_dim
    params = {}
    for name in ("q", "k", "v"):
        params[f"w{name}"] = _glorot(rng, d_model, inner)
        params[f"b{name}"] = rng.normal(0.0, 0.1, size=inner)
    params["wo"] = _glorot(rng, inner, d_model)
    params["bo"] = rng.normal(0.0, 0.1, size=d_model)
    return params


def init_encoder_params(d_model: int, num_heads: int, d_ff: int, seed: int = 0) -> dict:
    """Random parameters for :func:`transformer_encoder_block` (layer norms start near 1 and 0).

    Explained in notebooks/06_attention_transformer.ipynb.
    """
    positive_int("d_ff", d_ff)
    rng = np.random.default_rng(seed + 1)
    return {
        "attention": init_mha_params(d_model, num_heads, seed=seed),
        "ln1_gamma": 1.0 + rng.normal(0.0, 0.1, d_model),
        "ln1_beta": rng.normal(0.0, 0.1, d_model),
        "w1": _glorot(rng, d_model, d_ff),
        "b1": rng.normal(0.0, 0.1, d_ff),
        "w2": _glorot(rng, d_ff, d_model),
        "b2": rng.normal(0.0, 0.1, d_model),
        "ln2_gamma": 1.0 + rng.normal(0.0, 0.1, d_model),
        "ln2_beta": rng.normal(0.0, 0.1, d_model),
    }


def params_from_keras_mha(layer) -> dict:
    """Copy a built ``keras.layers.MultiHeadAttention``'s weights into the dict this module uses.

    Keras stores the query/key/value kernels as ``(d_in, num_heads, key_dim)`` with biases
    ``(num_heads, key_dim)`` and the output kernel as ``(num_heads, key_dim, d_model)``; flattening
    the head axes (C order) gives our 2-D matrices, head ``h`` owning columns
    ``h * key_dim : (h + 1) * key_dim``. Weights come back as float64.
    Explained in notebooks/06_attention_transformer.ipynb.
    """
    if not all(hasattr(layer, name) for name in ("_query_dense", "_key_dense", "_value_dense", "_output_dense")):
        raise ValueError(f"expected a keras.layers.MultiHeadAttention, got {type(layer).__name__}")
    if not layer.built:
        raise ValueError("the MultiHeadAttention layer is not built yet: call it once on inputs first")
    if layer._query_dense.bias is None:
        raise ValueError("params_from_keras_mha needs use_bias=True (the Keras default)")

    def flat(variable, keep_last: bool) -> np.ndarray:
        array = np.asarray(variable.numpy(), dtype=np.float64)
        return array.reshape(-1, array.shape[-1]) if keep_last else array.reshape(*array.shape[:-2], -1)

    params = {}
    for name, dense in (("q", layer._query_dense), ("k", layer._key_dense), ("v", layer._value_dense)):
        params[f"w{name}"] = flat(dense.kernel, keep_last=False)  # (d_in, heads, depth) -> (d_in, heads*depth)
        params[f"b{name}"] = np.asarray(dense.bias.numpy(), dtype=np.float64).reshape(-1)
    params["wo"] = flat(layer._output_dense.kernel, keep_last=True)  # (heads, depth, d) -> (heads*depth, d)
    params["bo"] = np.asarray(layer._output_dense.bias.numpy(), dtype=np.float64)
    return params


def params_from_keras_encoder(layer) -> dict:
    """Copy a built ``keras_hub.layers.TransformerEncoder``'s weights for :func:`transformer_encoder_block`.

    Its sublayers are ``_self_attention_layer`` (a MultiHeadAttention), ``_self_attention_layer_norm``,
    ``_feedforward_intermediate_dense``, ``_feedforward_output_dense`` and ``_feedforward_layer_norm``.
    Explained in notebooks/06_attention_transformer.ipynb.
    """
    names = (
        "_self_attention_layer",
        "_self_attention_layer_norm",
        "_feedforward_intermediate_dense",
        "_feedforward_output_dense",
        "_feedforward_layer_norm",
    )
    if not all(hasattr(layer, name) for name in names):
        raise ValueError(f"expected a built keras_hub.layers.TransformerEncoder, got {type(layer).__name__}")

    def array(variable) -> np.ndarray:
        return np.asarray(variable.numpy(), dtype=np.float64)

    return {
        "attention": params_from_keras_mha(layer._self_attention_layer),
        "ln1_gamma": array(layer._self_attention_layer_norm.gamma),
        "ln1_beta": array(layer._self_attention_layer_norm.beta),
        "w1": array(layer._feedforward_intermediate_dense.kernel),
        "b1": array(layer._feedforward_intermediate_dense.bias),
        "w2": array(layer._feedforward_output_dense.kernel),
        "b2": array(layer._feedforward_output_dense.bias),
        "ln2_gamma": array(layer._feedforward_layer_norm.gamma),
        "ln2_beta": array(layer._feedforward_layer_norm.beta),
    }
