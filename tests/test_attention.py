"""Tests for course_utils.attention, each against an independent reference (TensorFlow, Keras, keras_hub, known values)."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf

from course_utils import attention as at

RNG = np.random.default_rng(0)


def tf_attention(q, k, v, mask=None):
    """Reference written with TensorFlow ops: softmax(Q Kᵀ / √d_k) V."""
    scores = tf.matmul(q, k, transpose_b=True) / tf.sqrt(tf.cast(tf.shape(k)[-1], q.dtype))
    if mask is not None:
        scores = tf.where(mask, scores, tf.constant(-1e9, q.dtype))
    weights = tf.nn.softmax(scores, axis=-1)
    return (weights @ v).numpy(), weights.numpy()


def keras_mha(d_model, num_heads, key_dim, seed, x_q, x_kv):
    keras.utils.set_random_seed(seed)
    layer = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=key_dim, bias_initializer="random_normal")
    layer(x_q, x_kv)  # build
    return layer


@pytest.mark.parametrize("use_mask", [False, True])
def test_attention_matches_tensorflow(use_mask):
    q, k, v = RNG.normal(size=(2, 3, 4, 8)), RNG.normal(size=(2, 3, 6, 8)), RNG.normal(size=(2, 3, 6, 5))
    mask = RNG.random((2, 1, 4, 6)) > 0.3 if use_mask else None
    if mask is not None:
        mask[..., 0] = True  # every query may attend somewhere
    output, weights = at.scaled_dot_product_attention(q, k, v, mask)
    expected_output, expected_weights = tf_attention(q, k, v, mask)
    np.testing.assert_allclose(weights, expected_weights, atol=1e-12)
    np.testing.assert_allclose(output, expected_output, atol=1e-12)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-12)
    if mask is not None:
        assert np.all(weights[np.broadcast_to(~mask, weights.shape)] == 0.0)


def test_attention_matches_keras_ops_dot_product_attention():
    q, k, v = (RNG.normal(size=shape).astype("float32") for shape in ((2, 5, 8), (2, 7, 8), (2, 7, 8)))
    output, _ = at.scaled_dot_product_attention(q.astype(np.float64), k.astype(np.float64), v.astype(np.float64))
    # keras.ops wants (batch, T, heads, depth), all in one dtype (older Keras refuses float32 mixed with float64)
    expected = keras.ops.dot_product_attention(q[:, :, None], k[:, :, None], v[:, :, None])
    np.testing.assert_allclose(output, np.asarray(expected)[:, :, 0], atol=1e-5)


def test_double_scaling_pitfall_differs():
    # softmax(QKᵀ/d_k)/√d_k is a formula found in some explanations; it is not attention.
    q, k, v = RNG.normal(size=(5, 16)), RNG.normal(size=(5, 16)), RNG.normal(size=(5, 16))
    output, weights = at.scaled_dot_product_attention(q, k, v)
    wrong_weights = at.softmax(q @ k.T / 16) / np.sqrt(16)
    assert np.max(np.abs(wrong_weights - weights)) > 0.05
    assert np.max(np.abs(wrong_weights @ v - output)) > 0.05
    np.testing.assert_allclose(wrong_weights.sum(-1), 0.25)  # rows no longer sum to 1


@pytest.mark.parametrize(
    ("self_attention", "use_mask"), [(True, False), (True, True), (False, False), (False, True)], ids=str
)
def test_multi_head_attention_matches_keras(self_attention, use_mask):
    batch, t_q, t_k, d_model, num_heads, key_dim = 2, 5, 7, 16, 4, 4
    x_q = RNG.normal(size=(batch, t_q, d_model)).astype("float32")
    x_kv = x_q if self_attention else RNG.normal(size=(batch, t_k, 12)).astype("float32")
    t_k = x_kv.shape[1]
    layer = keras_mha(d_model, num_heads, key_dim, 1, x_q, x_kv)
    params = at.params_from_keras_mha(layer)
    mask = None
    if use_mask:
        lengths = np.array([t_k, 3])
        mask = at.padding_mask(lengths, max_length=t_k)  # (batch, 1, t_k)
        if self_attention:
            mask = mask & at.causal_mask(t_k)
        mask = np.broadcast_to(mask, (batch, t_q, t_k))
    ours, our_weights = at.multi_head_attention(x_q, x_kv, params, num_heads, mask)
    theirs, their_weights = layer(x_q, x_kv, attention_mask=mask, return_attention_scores=True)
    assert ours.shape == (batch, t_q, d_model) and our_weights.shape == (batch, num_heads, t_q, t_k)
    assert np.max(np.abs(ours - theirs.numpy())) <= 1e-5
    assert np.max(np.abs(our_weights - their_weights.numpy())) <= 1e-5
    # the fused path Keras takes without return_attention_scores agrees too
    assert np.max(np.abs(ours - layer(x_q, x_kv, attention_mask=mask).numpy())) <= 1e-5


def test_multi_head_attention_unbatched_and_key_dim_not_d_model_over_heads():
    x = RNG.normal(size=(1, 4, 10)).astype("float32")
    layer = keras_mha(10, 3, 5, 2, x, x)  # 3 heads of size 5 on a 10-dim input
    params = at.params_from_keras_mha(layer)
    ours, weights = at.multi_head_attention(x[0], x[0], params, 3)
    assert ours.shape == (4, 10) and weights.shape == (3, 4, 4)
    assert np.max(np.abs(ours - layer(x, x).numpy()[0])) <= 1e-5


def test_causal_mask_blocks_the_future():
    np.testing.assert_array_equal(at.causal_mask(3), [[1, 0, 0], [1, 1, 0], [1, 1, 1]])
    params = at.init_mha_params(8, 2, seed=3)
    x = RNG.normal(size=(6, 8))
    changed = x.copy()
    changed[4] += 10.0  # change a "future" token
    before, _ = at.multi_head_attention(x, x, params, 2, at.causal_mask(6))
    after, _ = at.multi_head_attention(changed, changed, params, 2, at.causal_mask(6))
    np.testing.assert_allclose(after[:4], before[:4], atol=1e-12)  # earlier positions do not see it
    assert np.max(np.abs(after[4:] - before[4:])) > 1e-2  # later ones do
    unmasked, _ = at.multi_head_attention(changed, changed, params, 2)
    assert np.max(np.abs(unmasked[:4] - before[:4])) > 1e-2  # without the mask, the past sees the future


def test_padding_mask_from_ids_and_lengths():
    ids = np.array([[101, 7, 102, 0, 0], [101, 102, 0, 0, 0]])
    expected = np.array([[[1, 1, 1, 0, 0]], [[1, 1, 0, 0, 0]]], dtype=bool)
    np.testing.assert_array_equal(at.padding_mask(ids, pad_id=0), expected)
    np.testing.assert_array_equal(at.padding_mask(np.array([3, 2]), max_length=5), expected)
    # padded keys get zero weight, and changing them changes nothing
    q = RNG.normal(size=(2, 5, 4))
    out, weights = at.scaled_dot_product_attention(q, q, q, expected)
    assert np.all(weights[0, :, 3:] == 0) and np.all(weights[1, :, 2:] == 0)
    noisy = q.copy()
    noisy[0, 3:] = 99.0
    out_noisy, _ = at.scaled_dot_product_attention(noisy, noisy, noisy, expected)
    np.testing.assert_allclose(out_noisy[0, :3], out[0, :3], atol=1e-12)


@pytest.mark.parametrize("eps", [1e-3, 1e-5])
def test_layer_norm_matches_keras(eps):
    x = RNG.normal(size=(3, 4, 6)).astype("float32") * 5 + 2
    layer = keras.layers.LayerNormalization(
        epsilon=eps, gamma_initializer="random_normal", beta_initializer="random_normal"
    )
    expected = layer(x).numpy()
    ours = at.layer_norm(x.astype(np.float64), layer.gamma.numpy(), layer.beta.numpy(), eps)
    np.testing.assert_allclose(ours, expected, atol=1e-5)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_block_matches_keras_hub(norm_first):
    keras.utils.set_random_seed(4)
    layer = keras_hub.layers.TransformerEncoder(
        intermediate_dim=32, num_heads=4, normalize_first=norm_first, bias_initializer="random_normal"
    )
    x = RNG.normal(size=(2, 6, 16)).astype("float32")
    key_mask = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]], dtype=bool)
    expected = layer(x, padding_mask=key_mask).numpy()
    params = at.params_from_keras_encoder(layer)
    ours = at.transformer_encoder_block(x, params, 4, mask=key_mask[:, None, :], norm_first=norm_first)
    assert np.max(np.abs(ours - expected)) <= 1e-5


def test_gelu_matches_keras():
    x = np.linspace(-5, 5, 41)
    np.testing.assert_allclose(at.gelu(x), keras.activations.gelu(x, approximate=False).numpy(), atol=1e-6)


def test_sinusoidal_positions_known_values_and_keras_hub():
    positions = at.sinusoidal_positions(50, 16)
    np.testing.assert_array_equal(positions[0], np.tile([0.0, 1.0], 8))
    np.testing.assert_allclose(positions[1, :2], [np.sin(1.0), np.cos(1.0)])
    np.testing.assert_allclose(positions[3, 2:4], [np.sin(3 / 10000 ** (2 / 16)), np.cos(3 / 10000 ** (2 / 16))])
    expected = keras_hub.layers.SinePositionEncoding()(np.zeros((1, 50, 16), "float32")).numpy()[0]
    np.testing.assert_allclose(positions, expected, atol=1e-5)


@pytest.mark.parametrize("shape", [(2, 9, 16), (2, 9, 3, 8)], ids=["(batch,T,d)", "(batch,T,heads,d)"])
def test_rope_matches_keras_hub_rotary_embedding(shape):
    x = RNG.normal(size=shape).astype("float32")
    expected = keras_hub.layers.RotaryEmbedding(max_wavelength=10000)(x).numpy()
    # keras_hub's sequence axis is 1; ours is -2, so move the heads axis out of the way
    ours = at.rope(np.swapaxes(x, 1, -2).astype(np.float64)) if len(shape) == 4 else at.rope(x.astype(np.float64))
    ours = np.swapaxes(ours, 1, -2) if len(shape) == 4 else ours
    np.testing.assert_allclose(ours, expected, atol=1e-5)


def test_rope_known_values_and_norms():
    x = RNG.normal(size=(5, 8))
    rotated = at.rope(x)
    np.testing.assert_allclose(rotated[0], x[0], atol=0)  # position 0 is not rotated
    # the fastest pair (features 0 and 4) turns by 1 radian per position: a 2-D rotation by hand
    angle = 3.0
    expected_pair = [
        x[3, 0] * np.cos(angle) - x[3, 4] * np.sin(angle),
        x[3, 4] * np.cos(angle) + x[3, 0] * np.sin(angle),
    ]
    np.testing.assert_allclose(rotated[3, [0, 4]], expected_pair, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(rotated, axis=-1), np.linalg.norm(x, axis=-1), atol=1e-12)  # rotations
    # explicit positions: x placed at positions 7..11 is rotated as the last five rows of a longer sequence
    shifted = at.rope(np.vstack([np.zeros((7, 8)), x]))[7:]
    np.testing.assert_allclose(at.rope(x, positions=np.arange(5) + 7.0), shifted, atol=1e-12)


def test_rope_scores_depend_only_on_the_offset():
    q, k = RNG.normal(size=32), RNG.normal(size=32)
    positions = np.arange(40)
    rotated_q = at.rope(np.tile(q, (40, 1)), positions)
    rotated_k = at.rope(np.tile(k, (40, 1)), positions)
    scores = rotated_q @ rotated_k.T  # scores[m, n] = rope(q, m) · rope(k, n)
    for offset in (-5, 0, 3, 17):
        diagonal = np.diag(scores, -offset)  # all pairs with m - n = offset
        assert np.ptp(diagonal) < 1e-10, offset
    assert abs(np.diag(scores, -3)[0] - np.diag(scores, -4)[0]) > 1e-3  # different offsets, different scores
    # without RoPE, adding sinusoidal positions does not have this property
    added = (np.tile(q, (40, 1)) + at.sinusoidal_positions(40, 32)) @ (
        np.tile(k, (40, 1)) + at.sinusoidal_positions(40, 32)
    ).T
    assert np.ptp(np.diag(added, -3)) > 1e-2


def test_value_errors():
    q = np.zeros((4, 8))
    with pytest.raises(ValueError, match="same last dimension"):
        at.scaled_dot_product_attention(q, np.zeros((4, 6)), np.zeros((4, 6)))
    with pytest.raises(ValueError, match="same number of positions"):
        at.scaled_dot_product_attention(q, q, np.zeros((5, 8)))
    with pytest.raises(ValueError, match="does not broadcast"):
        at.scaled_dot_product_attention(q, q, q, mask=np.ones((3, 4), bool))
    with pytest.raises(ValueError, match="2 to"):
        at.scaled_dot_product_attention(q, q, q, mask=np.ones(4, bool))
    with pytest.raises(ValueError, match="boolean"):
        at.scaled_dot_product_attention(q, q, q, mask=np.full((4, 4), 0.5))
    with pytest.raises(ValueError, match="not divisible"):
        at.init_mha_params(10, 3)
    params = at.init_mha_params(8, 2)
    with pytest.raises(ValueError, match="not divisible by num_heads"):
        at.multi_head_attention(q, q, params, 3)
    with pytest.raises(ValueError, match="wq must have"):
        at.multi_head_attention(np.zeros((4, 6)), q, params, 2)
    with pytest.raises(ValueError, match="dict with keys"):
        at.multi_head_attention(q, q, {"wq": params["wq"]}, 2)
    with pytest.raises(ValueError, match="would enlarge"):
        at.multi_head_attention(q, q, params, 2, mask=np.ones((2, 4, 4), bool))
    with pytest.raises(ValueError, match="gamma and beta"):
        at.layer_norm(q, np.ones(7), np.zeros(8))
    with pytest.raises(ValueError, match="positive integer"):
        at.causal_mask(0)
    with pytest.raises(ValueError, match="positive integer"):
        at.sinusoidal_positions(4, 0)
    with pytest.raises(ValueError, match="integer token ids"):
        at.padding_mask(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="max_length"):
        at.padding_mask(np.array([3, 5]), max_length=4)
    with pytest.raises(ValueError, match="activation"):
        at.transformer_encoder_block(q, at.init_encoder_params(8, 2, 16), 2, activation="tanh")
    with pytest.raises(ValueError, match="MultiHeadAttention"):
        at.params_from_keras_mha(keras.layers.Dense(3))
    with pytest.raises(ValueError, match="last dimension must be even"):
        at.rope(np.zeros((4, 7)))
    with pytest.raises(ValueError, match=r"positions must have shape \(4,\)"):
        at.rope(np.zeros((4, 8)), positions=np.arange(5))
    with pytest.raises(ValueError, match="max_wavelength must be > 1"):
        at.rope(np.zeros((4, 8)), max_wavelength=1.0)
    with pytest.raises(ValueError, match="max_wavelength must be > 1"):
        at.sinusoidal_positions(4, 8, max_wavelength=0.5)
    with pytest.raises(ValueError, match="real numbers"):
        at.gelu(np.array(["a"]))
