"""Tests for course_utils.compute (explained in notebooks/11_compute_and_scale.ipynb)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from course_utils import compute

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")


def count(layer, input_shape) -> int:
    layer.build(input_shape)
    return layer.count_params()


@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_and_conv_params_match_keras(use_bias):
    assert compute.dense_params(7, 5, use_bias) == count(keras.layers.Dense(5, use_bias=use_bias), (None, 7))
    assert compute.conv2d_params(3, 4, (3, 2), use_bias) == count(
        keras.layers.Conv2D(4, (3, 2), use_bias=use_bias), (None, 9, 9, 3)
    )


def test_embedding_norm_and_lstm_params_match_keras():
    assert compute.embedding_params(11, 6) == count(keras.layers.Embedding(11, 6), (None, 4))
    assert compute.batch_norm_params(5) == count(keras.layers.BatchNormalization(), (None, 3, 5))
    assert compute.layer_norm_params(5) == count(keras.layers.LayerNormalization(), (None, 3, 5))
    assert compute.lstm_params(6, 9) == count(keras.layers.LSTM(9), (None, 4, 6))


@pytest.mark.parametrize(("hidden_dim", "num_heads", "key_dim"), [(8, 2, None), (12, 3, 5)])
def test_attention_params_match_keras(hidden_dim, num_heads, key_dim):
    layer = keras.layers.MultiHeadAttention(num_heads, key_dim or hidden_dim // num_heads)
    x = np.zeros((1, 3, hidden_dim), "float32")
    layer(x, x)
    assert compute.attention_params(hidden_dim, num_heads, key_dim) == layer.count_params()


def test_transformer_and_bert_params_match_keras():
    keras_hub = pytest.importorskip("keras_hub")
    from course_utils import bert

    block = keras_hub.layers.TransformerEncoder(intermediate_dim=24, num_heads=2)
    block(np.zeros((1, 3, 8), "float32"))
    assert compute.transformer_encoder_params(8, 24, 2) == block.count_params()
    sizes = {"vocabulary_size": 50, "num_layers": 2, "num_heads": 2, "hidden_dim": 16, "intermediate_dim": 32}
    encoder = bert.build_bert_encoder(**sizes, max_sequence_length=12, num_segments=3)
    assert compute.bert_encoder_params(**sizes, max_sequence_length=12, num_segments=3) == encoder.count_params()


def test_graph_flops_of_matmul_conv_and_einsum_by_hand():
    a, b = tf.TensorSpec((3, 5)), tf.TensorSpec((5, 7))
    assert compute.graph_flops(tf.matmul, a, b) == compute.matmul_flops(3, 5, 7) == 2 * 3 * 5 * 7
    assert compute.graph_flops(lambda x, y: tf.matmul(x, y, transpose_a=True), tf.TensorSpec((5, 3)), b) == 210
    batched = compute.graph_flops(tf.matmul, tf.TensorSpec((2, 4, 3, 5)), tf.TensorSpec((2, 4, 5, 7)))
    assert batched == 8 * 210
    einsum = compute.graph_flops(lambda x, y: tf.einsum("bij,jk->bik", x, y), tf.TensorSpec((2, 3, 5)), b)
    assert einsum == 2 * 210
    images, kernel = tf.TensorSpec((2, 10, 9, 3)), tf.TensorSpec((3, 2, 3, 4))
    conv = compute.graph_flops(lambda x, k: tf.nn.conv2d(x, k, 1, "VALID"), images, kernel)
    assert conv == 2 * compute.conv2d_flops(3, 4, (3, 2), output_height=8, output_width=8)
    by_type = compute.graph_flops(lambda x, y: tf.nn.relu(tf.matmul(x, y)) + 1.0, a, b, by_type=True)
    assert by_type == {"MatMul": 210}


def test_formulas_match_graph_count_of_small_keras_models():
    keras.utils.set_random_seed(0)
    cnn = keras.Sequential(
        [
            keras.Input((12, 12, 2)),
            keras.layers.Conv2D(4, 3),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(6),
        ]
    )
    expected = compute.conv2d_flops(2, 4, 3, 10, 10) + compute.dense_flops(5 * 5 * 4, 6)
    assert compute.graph_flops(lambda x: cnn(x), tf.TensorSpec((3, 12, 12, 2))) == 3 * expected

    steps = 5
    lstm = keras.Sequential(
        [
            keras.Input((steps,), dtype="int32"),
            keras.layers.Embedding(20, 4),
            keras.layers.LSTM(6, unroll=True, return_sequences=True),
            keras.layers.Dense(20),
        ]
    )
    expected = compute.lstm_flops(4, 6, steps) + compute.dense_flops(6, 20, positions=steps)
    assert compute.graph_flops(lambda x: lstm(x), tf.TensorSpec((2, steps), tf.int32)) == 2 * expected


def test_bert_flops_match_graph_count():
    pytest.importorskip("keras_hub")
    from course_utils import bert

    sizes = {"vocabulary_size": 30, "num_layers": 2, "num_heads": 2, "hidden_dim": 8, "intermediate_dim": 16}
    encoder = bert.build_bert_encoder(**sizes, max_sequence_length=10)
    spec = {name: tf.TensorSpec((3, 7), tf.int32) for name in ("token_ids", "segment_ids", "padding_mask")}
    counted = compute.graph_flops(lambda inputs: encoder(inputs, training=False), spec)
    assert counted == 3 * compute.bert_encoder_flops(7, **sizes, max_sequence_length=10)


def test_graph_flops_refuses_loops_and_unknown_shapes():
    lstm = keras.Sequential([keras.Input((4, 3)), keras.layers.LSTM(2)])
    with pytest.raises(ValueError, match="unroll"):
        compute.graph_flops(lambda x: lstm(x), tf.TensorSpec((1, 4, 3)))
    with pytest.raises(ValueError, match="fully known shape"):
        compute.graph_flops(tf.matmul, tf.TensorSpec((None, 3)), tf.TensorSpec((3, 2)))
    with pytest.raises(ValueError, match="signature"):
        compute.graph_flops(tf.matmul)
    with pytest.raises(ValueError, match="callable"):
        compute.graph_flops("matmul", tf.TensorSpec((1, 1)))


def test_six_n_d_for_gpt3_and_training_time():
    gpt3 = compute.training_flops(175e9, 300e9)
    assert math.isclose(gpt3, 3.15e23, rel_tol=1e-12)
    assert math.isclose(compute.training_seconds(gpt3, 1e15, utilization=0.5), 6.3e8)
    assert math.isclose(compute.training_seconds(10.0, 5.0), 2.0)


def test_fit_power_law_recovers_exponent_and_best_time():
    x = np.array([1e3, 1e4, 1e5, 1e6])
    coefficient, exponent = compute.fit_power_law(x, 7.0 * x**-0.25)
    assert math.isclose(exponent, -0.25, rel_tol=1e-9) and math.isclose(coefficient, 7.0, rel_tol=1e-9)
    calls = []
    seconds = compute.best_time(lambda: calls.append(1), repeats=3, warmup=2)
    assert len(calls) == 5 and 0 <= seconds < 0.1


@pytest.mark.parametrize(
    "call",
    [
        lambda: compute.dense_params(0, 3),
        lambda: compute.dense_params(3, True),
        lambda: compute.conv2d_params(1, 2, (3, 3, 3)),
        lambda: compute.conv2d_flops(1, 2, 3, 0, 4),
        lambda: compute.lstm_flops(3, 4, steps=1.5),
        lambda: compute.attention_params(10, 3),
        lambda: compute.bert_encoder_flops(65, 2, 8, 16, max_sequence_length=64),
        lambda: compute.bert_encoder_flops(8, 2, 8, 16, hidden_size=8),
        lambda: compute.training_flops(-1, 10),
        lambda: compute.training_seconds(1e20, 1e12, utilization=1.5),
        lambda: compute.fit_power_law([1, 1], [2, 3]),
        lambda: compute.fit_power_law([1, 2], [2, -3]),
        lambda: compute.best_time(lambda: None, repeats=0),
        lambda: compute.best_time(lambda: None, warmup=-1),
    ],
)
def test_invalid_arguments_raise_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_fit_saturating_power_law_recovers_known_parameters_and_rejects_bad_input():
    sizes = np.geomspace(2e3, 3e5, 6)
    offset, amplitude, exponent = compute.fit_saturating_power_law(sizes, 1.4 + 25.0 * sizes**-0.35)
    assert abs(offset - 1.4) < 1e-6 and abs(amplitude - 25.0) / 25.0 < 1e-5 and abs(exponent - 0.35) < 1e-6
    noisy = 1.4 + 25.0 * sizes**-0.35 + np.random.default_rng(0).normal(0, 1e-3, 6)
    assert abs(compute.fit_saturating_power_law(sizes, noisy)[2] - 0.35) < 0.05
    with pytest.raises(ValueError, match="three distinct positive values"):
        compute.fit_saturating_power_law([1.0, 1.0, 2.0], [3.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="length >= 3"):
        compute.fit_saturating_power_law([1.0, 2.0], [2.0, 1.0])


def test_gpt_forward_flops_equals_the_count_from_the_graph():
    import tensorflow as tf

    from course_utils import gpt

    for vocabulary, context, d_model, layers, heads in [(30, 16, 24, 2, 2), (74, 64, 8, 1, 2)]:
        model = gpt.GPT(vocabulary, context, d_model, layers, heads)
        counted = compute.graph_flops(model, tf.TensorSpec((1, context), tf.int32))
        assert compute.gpt_forward_flops(vocabulary, context, d_model, layers) == counted
    with pytest.raises(ValueError, match="context_length"):
        compute.gpt_forward_flops(30, 0, 24, 2)


def test_gpt_non_embedding_params_is_the_count_without_the_embeddings():
    from course_utils import gpt

    model = gpt.GPT(30, 16, 24, 2, 4)
    assert compute.gpt_non_embedding_params(24, 2) + (30 + 16) * 24 == model.count_params()
    assert compute.gpt_non_embedding_params(24, 2) + (30 + 16) * 24 == gpt.gpt_parameter_count(30, 16, 24, 2)
    with pytest.raises(ValueError, match="d_model"):
        compute.gpt_non_embedding_params(0, 2)


def test_train_language_model_learns_and_rejects_short_text():
    import keras

    from course_utils import gpt

    rng = np.random.default_rng(0)
    ids = np.tile(np.arange(1, 9), 400)  # a periodic text: perfectly predictable after one period
    keras.utils.set_random_seed(0)
    # 60 steps at the default peak rate ended at 1.02 nats, against this bound of 1.04: a coin toss
    # between CPUs. 100 steps at 1e-2 reach about 0.02, far from it.
    result = compute.train_language_model(
        gpt.GPT(9, 16, 16, 1, 2), ids, ids[:400], steps=100, batch_size=8, context=16, peak_learning_rate=1e-2
    )
    assert result["tokens"] == 100 * 8 * 16 and result["heldout"] < 0.5 * np.log(8), result
    with pytest.raises(ValueError, match="longer than context"):
        compute.train_language_model(gpt.GPT(9, 16, 16, 1, 2), ids, rng.integers(0, 9, 10), steps=1, context=16)


def test_training_memory_is_sixteen_bytes_per_parameter_and_matches_keras_variables():
    assert sum(compute.training_memory_bytes(1000).values()) == 16_000
    assert sum(compute.training_memory_bytes(1000, mixed_precision=False).values()) == 16_000
    model = keras.Sequential([keras.Input((7,)), keras.layers.Dense(5), keras.layers.Dense(3)])
    optimizer = keras.optimizers.Adam()
    optimizer.build(model.trainable_variables)
    n = model.count_params()
    moments = sum(int(np.prod(v.shape)) * 4 for v in optimizer.variables if len(v.shape) > 0)
    parts = compute.training_memory_bytes(n, mixed_precision=False)
    assert parts["Adam m"] + parts["Adam v"] == moments and parts["weights"] == 4 * n
    with pytest.raises(ValueError, match="parameters"):
        compute.training_memory_bytes(0)


def test_gpt_activation_bytes_counts_the_saved_tensors():
    d, layers, heads, t, v = 8, 2, 2, 4, 10
    per_token = layers * (16 * d + 3 * heads * t) + 2 * d + 3 * v
    assert compute.gpt_activation_bytes(3, t, d, layers, heads, v) == 3 * t * per_token * 4
    assert compute.gpt_activation_bytes(6, t, d, layers, heads, v) == 2 * compute.gpt_activation_bytes(
        3, t, d, layers, heads, v
    )
    with pytest.raises(ValueError, match="batch_size"):
        compute.gpt_activation_bytes(0, t, d, layers, heads, v)
