"""Tests for course_utils.text (explained in notebooks/05_lstm_text_generator.ipynb)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from course_utils import text


def test_lstm_step_matches_keras_lstm_with_the_same_weights():
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(0)
    batch, steps, input_dim, units = 3, 5, 4, 6
    inputs = rng.normal(size=(batch, steps, input_dim)).astype("float32")
    layer = keras.layers.LSTM(units, return_sequences=True, return_state=True)
    layer.build((None, steps, input_dim))
    kernel = rng.normal(scale=0.5, size=(input_dim, 4 * units)).astype("float32")
    recurrent_kernel = rng.normal(scale=0.5, size=(units, 4 * units)).astype("float32")
    bias = rng.normal(scale=0.5, size=(4 * units,)).astype("float32")
    layer.set_weights([kernel, recurrent_kernel, bias])
    sequence, final_h, final_c = (np.asarray(t) for t in layer(inputs))

    h = np.zeros((batch, units))
    c = np.zeros((batch, units))
    for t in range(steps):
        h, c = text.lstm_step(inputs[:, t], h, c, kernel, recurrent_kernel, bias)
        np.testing.assert_allclose(h, sequence[:, t], atol=1e-5)
    np.testing.assert_allclose(h, final_h, atol=1e-5)
    np.testing.assert_allclose(c, final_c, atol=1e-5)


def test_lstm_step_gate_order_by_hand():
    # One unit, one input; bias picks each gate: i = σ(1), f = σ(2), g = tanh(3), o = σ(4).
    kernel = np.zeros((1, 4))
    recurrent_kernel = np.zeros((1, 4))
    bias = np.array([1.0, 2.0, 3.0, 4.0])
    h, c = text.lstm_step(np.array([0.0]), np.array([0.0]), np.array([0.5]), kernel, recurrent_kernel, bias)

    def sigmoid(z):
        return 1 / (1 + math.exp(-z))

    expected_c = sigmoid(2) * 0.5 + sigmoid(1) * math.tanh(3)
    assert c[0] == pytest.approx(expected_c, abs=1e-12)
    assert h[0] == pytest.approx(sigmoid(4) * math.tanh(expected_c), abs=1e-12)


def test_lstm_step_gates_do_not_overflow_on_huge_pre_activations():
    # The gates use backprop.sigmoid, (1 + tanh(z/2)) / 2, not 1 / (1 + exp(-z)), whose exp overflows at z = -1000.
    kernel, recurrent_kernel = np.zeros((1, 4)), np.zeros((1, 4))
    bias = np.array([-1000.0, 1000.0, 1.0, -1000.0])  # input gate 0, forget gate 1, output gate 0
    with np.errstate(over="raise"):
        h, c = text.lstm_step(np.array([0.0]), np.array([0.0]), np.array([0.5]), kernel, recurrent_kernel, bias)
    assert c[0] == 0.5 and h[0] == 0.0


def test_lstm_step_rejects_wrong_shapes():
    units, input_dim = 2, 3
    kernel, recurrent_kernel, bias = np.zeros((input_dim, 4 * units)), np.zeros((units, 4 * units)), np.zeros(4 * units)
    x, h, c = np.zeros((1, input_dim)), np.zeros((1, units)), np.zeros((1, units))
    with pytest.raises(ValueError, match="kernel"):
        text.lstm_step(x, h, c, np.zeros((input_dim, units)), recurrent_kernel, bias)
    with pytest.raises(ValueError, match="recurrent_kernel"):
        text.lstm_step(x, h, c, kernel, np.zeros((units, units)), bias)
    with pytest.raises(ValueError, match="bias"):
        text.lstm_step(x, h, c, kernel, recurrent_kernel, np.zeros(units))
    with pytest.raises(ValueError, match="batch size"):
        text.lstm_step(np.zeros((2, input_dim)), h, c, kernel, recurrent_kernel, bias)
    with pytest.raises(ValueError, match="1-D or all 2-D"):
        text.lstm_step(np.zeros(input_dim), h, c, kernel, recurrent_kernel, bias)


def test_unigram_and_bigram_by_hand():
    # Train "abab" (ids 0 1 0 1), held-out "ab" (0 1), vocabulary {a, b, c}, add-one smoothing.
    train = np.array([0, 1, 0, 1])
    heldout = np.array([0, 1])
    # Unigram: P(a) = (2 + 1) / (4 + 3) = 3/7, P(b) = 3/7.
    assert text.unigram_nats_per_char(train, heldout, 3) == pytest.approx(-math.log(3 / 7), abs=1e-12)
    # Bigram pairs in training: ab, ba, ab -> count(a·) = 2, count(ab) = 2; P(b | a) = (2 + 1) / (2 + 3).
    assert text.bigram_nats_per_char(train, heldout, 3) == pytest.approx(-math.log(3 / 5), abs=1e-12)
    # add-k with k = 0.5: P(b | a) = 2.5 / (2 + 1.5).
    assert text.bigram_nats_per_char(train, heldout, 3, k=0.5) == pytest.approx(-math.log(2.5 / 3.5), abs=1e-12)


def test_bigram_beats_unigram_on_structured_text():
    ids = np.array([0, 1, 2] * 50)
    assert text.bigram_nats_per_char(ids, ids, 3) < text.unigram_nats_per_char(ids, ids, 3) - 0.5


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: text.unigram_nats_per_char(np.array([0, 3]), np.array([0]), 3), "ids in"),
        (lambda: text.unigram_nats_per_char(np.array([0.0, 1.0]), np.array([0]), 3), "integer ids"),
        (lambda: text.unigram_nats_per_char(np.array([0, 1]), np.array([0]), 0), "vocabulary_size"),
        (lambda: text.bigram_nats_per_char(np.array([0, 1]), np.array([0]), 3), "at least 2"),
        (lambda: text.bigram_nats_per_char(np.array([0, 1]), np.array([0, 1]), 3, k=0), "add-k"),
    ],
)
def test_baselines_reject_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_unit_conversions():
    assert text.nats_to_bits(math.log(2)) == pytest.approx(1.0)
    assert text.nats_to_bits(math.log(8)) == pytest.approx(3.0)
    assert text.perplexity(math.log(65)) == pytest.approx(65.0)
    with pytest.raises(ValueError):
        text.nats_to_bits(-1.0)
    with pytest.raises(ValueError):
        text.perplexity(float("nan"))


def test_sample_next_greedy_limits_equal_argmax():
    rng = np.random.default_rng(1)
    for _ in range(20):
        logits = rng.normal(size=10)
        best = int(np.argmax(logits))
        assert text.sample_next(logits, temperature=0, rng=rng) == best
        assert text.sample_next(logits, temperature=1e-6, rng=rng) == best
        assert text.sample_next(logits, temperature=1.0, top_k=1, rng=rng) == best


def _chi_square(counts: np.ndarray, probabilities: np.ndarray) -> float:
    expected = counts.sum() * probabilities
    keep = expected > 0
    assert counts[~keep].sum() == 0, "a token with probability 0 was sampled"
    return float(((counts[keep] - expected[keep]) ** 2 / expected[keep]).sum())


def test_sampled_frequencies_match_softmax():
    rng = np.random.default_rng(2)
    logits = np.array([2.0, 1.0, 0.5, 0.0, -1.0])
    draws = 20_000
    for temperature in (1.0, 0.5):
        counts = np.bincount([text.sample_next(logits, temperature, rng=rng) for _ in range(draws)], minlength=5)
        probabilities = np.exp(logits / temperature) / np.exp(logits / temperature).sum()
        # 4 degrees of freedom: the 99.9% quantile of chi-square(4) is 18.5.
        assert _chi_square(counts, probabilities) < 18.5


def test_top_k_samples_only_the_k_best_with_renormalised_probabilities():
    rng = np.random.default_rng(3)
    logits = np.array([0.1, 3.0, -2.0, 2.0, 1.0])
    counts = np.bincount([text.sample_next(logits, 1.0, top_k=2, rng=rng) for _ in range(10_000)], minlength=5)
    kept = np.array([0, 1, 0, 1, 0], dtype=bool)
    probabilities = np.where(kept, np.exp(logits), 0.0)
    probabilities /= probabilities.sum()
    # 1 degree of freedom: the 99.9% quantile of chi-square(1) is 10.8.
    assert _chi_square(counts, probabilities) < 10.8


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"logits": np.zeros((2, 3))}, "1-D"),
        ({"logits": np.array([0.0, np.inf])}, "finite"),
        ({"logits": np.zeros(3), "temperature": -0.1}, "temperature"),
        ({"logits": np.zeros(3), "top_k": 0}, "top_k"),
        ({"logits": np.zeros(3), "top_k": 4}, "top_k"),
    ],
)
def test_sample_next_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        text.sample_next(**kwargs)


def test_split_corpus_keeps_the_heldout_work_out():
    works = {"a": "alpha", "b": "beta", "c": "gamma"}
    train, heldout, names = text.split_corpus(works, heldout_work="b", train_works=None)
    assert heldout == "beta"
    assert names == ["a", "c"]
    assert train == "alpha" + text.WORK_SEPARATOR + "gamma"
    train, _, names = text.split_corpus(works, heldout_work="b", train_works=("c",))
    assert (train, names) == ("gamma", ["c"])
    with pytest.raises(ValueError, match="must not be in train_works"):
        text.split_corpus(works, heldout_work="b", train_works=("a", "b"))
    with pytest.raises(ValueError, match="unknown train_works"):
        text.split_corpus(works, heldout_work="b", train_works=("z",))
    with pytest.raises(ValueError, match="heldout_work"):
        text.split_corpus(works, heldout_work="z")


def test_character_vocabulary():
    assert text.character_vocabulary("hello, world") == [" ", ",", "d", "e", "h", "l", "o", "r", "w"]
    with pytest.raises(ValueError):
        text.character_vocabulary("")


def test_default_split_names_real_works():
    assert text.HELDOUT_WORK not in text.DEFAULT_TRAIN_WORKS
    assert text.training_seconds() in (text.TRAINING_SECONDS, text.FULL_TRAINING_SECONDS)
    with pytest.raises(ValueError):
        text.time_budget_callback(0)


def test_time_budget_callback_stops_fit_and_respects_min_batches():
    keras = pytest.importorskip("keras")
    inputs = keras.Input(shape=(2,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.zeros((40, 2), "float32"), np.zeros((40, 1), "float32")
    # A tiny budget stops after the first batch unless a floor of batches is asked for.
    quick = text.time_budget_callback(1e-9)
    model.fit(x, y, batch_size=4, epochs=3, callbacks=[quick], verbose=0)
    assert quick.batches == 1
    floored = text.time_budget_callback(1e-9, min_batches=13)
    model.fit(x, y, batch_size=4, epochs=3, callbacks=[floored], verbose=0)
    assert floored.batches == 13
    # A generous budget lets every batch run (3 epochs of 10 batches).
    generous = text.time_budget_callback(600)
    model.fit(x, y, batch_size=4, epochs=3, callbacks=[generous], verbose=0)
    assert generous.batches == 30 and 0 < generous.elapsed < 600
    with pytest.raises(ValueError, match="min_batches"):
        text.time_budget_callback(1, min_batches=-1)


def test_encode_characters_equals_keras_string_lookup():
    import keras
    import tensorflow as tf

    vocabulary = text.character_vocabulary("To be, or not to be")
    lookup = keras.layers.StringLookup(vocabulary=vocabulary, mask_token=None)
    sample = "To be, or NOT! to be\n"
    expected = lookup(tf.strings.unicode_split(sample, "UTF-8")).numpy()
    np.testing.assert_array_equal(text.encode_characters(sample, vocabulary), expected)
    assert text.encode_characters("", vocabulary).shape == (0,)
    with pytest.raises(ValueError, match="vocabulary a sequence of characters"):
        text.encode_characters("abc", "abc")


def test_encoded_split_is_05s_split():
    works = {"tempest": "Full fathom five", "hamlet": "To be", "macbeth": "Out, damned spot"}
    train_ids, heldout_ids, vocabulary_size = text.encoded_split(works, full=True)
    train_text, heldout_text, _ = text.split_corpus(works, train_works=None)
    vocabulary = text.character_vocabulary(train_text)
    assert vocabulary_size == len(vocabulary) + 1
    np.testing.assert_array_equal(train_ids, text.encode_characters(train_text, vocabulary))
    assert (heldout_ids == 0).sum() == sum(c not in vocabulary for c in heldout_text)


def test_rnn_step_matches_keras_simple_rnn_with_the_same_weights():
    import keras

    rng = np.random.default_rng(5)
    inputs = rng.normal(size=(2, 6, 4)).astype("float32")
    layer = keras.layers.SimpleRNN(3, return_sequences=True)
    layer.build(inputs.shape)
    kernel, recurrent_kernel, _ = layer.get_weights()
    bias = rng.normal(size=3).astype("float32")
    layer.set_weights([kernel, recurrent_kernel, bias])
    expected = np.asarray(layer(inputs))
    h = np.zeros((2, 3))
    for t in range(6):
        h = text.rnn_step(inputs[:, t], h, kernel, recurrent_kernel, bias)
        np.testing.assert_allclose(h, expected[:, t], atol=1e-5)
    with pytest.raises(ValueError, match=r"kernel must have shape \(input_dim, units\)"):
        text.rnn_step(inputs[:, 0], h, kernel[:, :2], recurrent_kernel, bias)


def test_gradient_norms_through_time_equal_finite_differences():
    import keras
    import tensorflow as tf

    from course_utils import zoo

    keras.utils.set_random_seed(0)
    model = zoo.build_char_model(vocabulary_size=7, embedding_dim=3, units=4, cell="simple_rnn", name="tiny")
    ids = np.array([[1, 2, 3, 4, 5], [6, 5, 4, 3, 2]], dtype=np.int32)
    targets = np.array([3, 1], dtype=np.int32)
    norms = text.gradient_norms_through_time(model, ids, targets, "simple_rnn")
    assert norms.shape == (5,)
    embedded = model.get_layer("embedding")(ids).numpy().astype(np.float64)

    def loss(x):
        hidden = model.get_layer("simple_rnn")(tf.constant(x, tf.float32))
        logits = model.get_layer("logits")(hidden[:, -1])
        return float(tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(targets, logits)))

    epsilon = 1e-2
    by_differences = np.zeros((2, 5))
    for t in range(5):
        gradient = np.zeros((2, 3))
        for b in range(2):
            for d in range(3):
                up, down = embedded.copy(), embedded.copy()
                up[b, t, d] += epsilon
                down[b, t, d] -= epsilon
                gradient[b, d] = (loss(up) - loss(down)) / (2 * epsilon)
        by_differences[:, t] = np.linalg.norm(gradient, axis=1)
    np.testing.assert_allclose(norms, by_differences.mean(axis=0)[::-1], rtol=2e-2, atol=1e-4)
