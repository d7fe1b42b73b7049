"""Tests of course_utils.bert (explained in notebooks/07_bert_classifier.ipynb)."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import bert

MOVIES = [f"movie {i % 97}" for i in range(3000)] + [f"film {i}" for i in range(200)]


def test_split_keeps_each_movie_on_one_side_and_covers_everything():
    split = bert.split_by_movie(MOVIES)
    sides = [{MOVIES[i] for i in indices} for indices in split.values()]
    assert not (sides[0] & sides[1]) and not (sides[0] & sides[2]) and not (sides[1] & sides[2])
    everything = np.sort(np.concatenate(list(split.values())))
    np.testing.assert_array_equal(everything, np.arange(len(MOVIES)))
    fractions = [len(split[key]) / len(MOVIES) for key in ("train", "validation", "test")]
    np.testing.assert_allclose(fractions, [0.8, 0.1, 0.1], atol=0.05)  # whole movies: approximate


def test_split_is_deterministic_and_independent_of_order():
    first, second = bert.split_by_movie(MOVIES), bert.split_by_movie(MOVIES)
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])
    reversed_movies = MOVIES[::-1]
    again = bert.split_by_movie(reversed_movies)
    assert {reversed_movies[i] for i in again["test"]} == {MOVIES[i] for i in first["test"]}
    other_salt = bert.split_by_movie(MOVIES, salt="another")
    assert {MOVIES[i] for i in other_salt["test"]} != {MOVIES[i] for i in first["test"]}


@pytest.mark.parametrize(
    "movies, fractions",
    [([], (0.8, 0.1, 0.1)), ("abc", (0.8, 0.1, 0.1)), (["a", "b"], (0.8, 0.2, 0.1)), (["a"], (1.0, 0.0, 0.0))],
)
def test_split_rejects_bad_arguments(movies, fractions):
    with pytest.raises(ValueError):
        bert.split_by_movie(movies, fractions)


def _packed_batch(rows=2000, length=40, vocabulary_size=500, seed=0):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, length - 1, size=rows)
    lists = [rng.integers(5, vocabulary_size, size=n).tolist() for n in lengths]
    return bert.pack_token_ids(lists, length)


def test_masking_follows_the_15_percent_80_10_10_rule():
    vocabulary_size = 500
    token_ids, _ = _packed_batch(vocabulary_size=vocabulary_size)
    inputs, _, weights = bert.mask_tokens(token_ids, np.random.default_rng(1), vocabulary_size)
    ordinary = token_ids >= 5  # every non-special position
    chosen = weights == 1
    n_ordinary, n_chosen = ordinary.sum(), chosen.sum()
    # Binomial(n, 0.15): allow 5 standard deviations.
    assert abs(n_chosen / n_ordinary - 0.15) < 5 * np.sqrt(0.15 * 0.85 / n_ordinary)
    masked = chosen & (inputs == 4)
    unchanged = chosen & (inputs == token_ids)
    replaced = chosen & ~masked & ~unchanged
    # A random replacement may draw the original token (1 in 495): count it with "unchanged".
    for observed, expected in ((masked, 0.8), (unchanged, 0.1 + 0.1 / 495), (replaced, 0.1 - 0.1 / 495)):
        assert abs(observed.sum() / n_chosen - expected) < 5 * np.sqrt(expected * (1 - expected) / n_chosen)
    assert np.all(inputs[replaced] >= 5) and np.all(inputs[replaced] < vocabulary_size)


def test_masking_never_touches_special_tokens_and_labels_only_masked_positions():
    token_ids, padding_mask = _packed_batch(rows=500)
    inputs, labels, weights = bert.mask_tokens(token_ids, np.random.default_rng(2), 500, selection_rate=0.5)
    special = token_ids < 5
    np.testing.assert_array_equal(inputs[special], token_ids[special])
    assert np.all(weights[special] == 0) and np.all(weights[padding_mask == 0] == 0)
    np.testing.assert_array_equal(labels[weights == 1], token_ids[weights == 1])
    assert np.all(labels[weights == 0] == 0)
    assert weights.dtype == np.float32 and inputs.shape == labels.shape == token_ids.shape


def test_masking_is_repeatable_with_the_same_generator_seed():
    token_ids, _ = _packed_batch(rows=50)
    first = bert.mask_tokens(token_ids, np.random.default_rng(3), 500)
    second = bert.mask_tokens(token_ids, np.random.default_rng(3), 500)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_masking_rejects_bad_arguments():
    token_ids, _ = _packed_batch(rows=5)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError):
        bert.mask_tokens(token_ids[0], rng, 500)  # 1-D
    with pytest.raises(ValueError):
        bert.mask_tokens(token_ids.astype(float), rng, 500)
    with pytest.raises(ValueError):
        bert.mask_tokens(token_ids, rng, 100)  # ids beyond the vocabulary
    with pytest.raises(ValueError):
        bert.mask_tokens(token_ids, rng, 500, selection_rate=1.5)
    with pytest.raises(ValueError):
        bert.mask_tokens(token_ids, 42, 500)


def test_pack_and_unpack_round_trip():
    lists = [[7, 8, 9], [], [10] * 12]
    token_ids, padding_mask = bert.pack_token_ids(lists, 8)
    assert token_ids[0].tolist() == [2, 7, 8, 9, 3, 0, 0, 0]
    assert token_ids[1].tolist() == [2, 3, 0, 0, 0, 0, 0, 0]
    assert token_ids[2].tolist() == [2, 10, 10, 10, 10, 10, 10, 3]  # truncated to fit [SEP]
    np.testing.assert_array_equal(padding_mask, (token_ids != 0).astype(np.int32))
    assert bert.unpack_token_ids(token_ids) == [[7, 8, 9], [], [10] * 6]
    with pytest.raises(ValueError):
        bert.pack_token_ids(lists, 1)
    with pytest.raises(ValueError):
        bert.unpack_token_ids(np.array([1, 2, 3]))


def test_vocabulary_file_round_trip(tmp_path):
    vocabulary = [*bert.SPECIAL_TOKENS, "the", "film", "##s"]
    path = tmp_path / "vocab.txt"
    bert.save_vocabulary(vocabulary, path)
    assert bert.load_vocabulary(path) == vocabulary
    assert path.read_text(encoding="utf-8").splitlines()[5] == "the"
    with pytest.raises(ValueError):
        bert.save_vocabulary(["a", "a"], path)
    with pytest.raises(ValueError):
        bert.save_vocabulary(["a", "b\nc"], path)
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(ValueError):
        bert.load_vocabulary(tmp_path / "empty.txt")


def test_trained_wordpiece_vocabulary_round_trips_through_the_keras_hub_tokenizer():
    keras_hub = pytest.importorskip("keras_hub")
    texts = ["a quietly moving film", "the films move quietly", "moving pictures, moving films!"] * 30
    vocabulary = bert.train_wordpiece_vocabulary(texts, 200)
    assert vocabulary[:5] == list(bert.SPECIAL_TOKENS)
    assert len(set(vocabulary)) == len(vocabulary)
    tokenizer = keras_hub.tokenizers.WordPieceTokenizer(vocabulary=vocabulary, lowercase=True, oov_token="[UNK]")
    ids = tokenizer.tokenize(["A quietly moving film"])
    assert 1 not in ids[0]  # no [UNK]: every word is covered
    assert tokenizer.detokenize(ids)[0] == "a quietly moving film"
    with pytest.raises(ValueError):
        bert.train_wordpiece_vocabulary("one string", 200)
    with pytest.raises(ValueError):
        bert.train_wordpiece_vocabulary(texts, 10)


def test_encoder_builder_shapes_and_validation():
    pytest.importorskip("keras_hub")
    encoder = bert.build_bert_encoder(
        50, num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16, max_sequence_length=6
    )
    token_ids, padding_mask = bert.pack_token_ids([[5, 6], [7]], 6)
    outputs = encoder({"token_ids": token_ids, "segment_ids": np.zeros_like(token_ids), "padding_mask": padding_mask})
    assert tuple(outputs["sequence_output"].shape) == (2, 6, 8)
    assert tuple(outputs["pooled_output"].shape) == (2, 8)
    assert encoder.get_layer("transformer_layer_0").activation.__name__ == "gelu"
    with pytest.raises(ValueError):
        bert.build_bert_encoder(50, num_heads=3, hidden_dim=8)
    with pytest.raises(ValueError):
        bert.build_bert_encoder(0)


def test_bootstrap_interval_matches_the_binomial_standard_error():
    """For 0/1 outcomes the bootstrap interval is close to the normal one, p ± 1.96·sqrt(p(1-p)/n)."""
    correct = np.r_[np.ones(780), np.zeros(220)]
    accuracy, low, high = bert.bootstrap_interval(correct, resamples=4000)
    half = 1.96 * np.sqrt(0.78 * 0.22 / 1000)
    assert accuracy == pytest.approx(0.78)
    assert low == pytest.approx(0.78 - half, abs=0.004) and high == pytest.approx(0.78 + half, abs=0.004)


def _student_t_cdf(x, df, points=200_001):
    """CDF of Student's t by the trapezoid rule on its closed-form density (an independent reference)."""
    from math import gamma, pi, sqrt

    grid = np.linspace(0.0, x, points)
    density = gamma((df + 1) / 2) / (sqrt(df * pi) * gamma(df / 2)) * (1 + grid**2 / df) ** (-(df + 1) / 2)
    return 0.5 + np.trapezoid(density, grid)


@pytest.mark.parametrize("df", range(1, 11))
def test_t_quantiles_are_the_975_percent_points(df):
    assert _student_t_cdf(bert.T_975[df - 1], df) == pytest.approx(0.975, abs=2e-5)


def test_seed_interval_by_hand():
    mean, half = bert.seed_interval([0.80, 0.82, 0.81])
    assert mean == pytest.approx(0.81)
    assert half == pytest.approx(4.303 * 0.01 / np.sqrt(3))


@pytest.mark.parametrize("values", [[0.8], [[0.8, 0.9]], list(range(12))])
def test_seed_interval_rejects_bad_input(values):
    with pytest.raises(ValueError, match="runs"):
        bert.seed_interval(values)


def test_bootstrap_interval_rejects_bad_input():
    with pytest.raises(ValueError, match="non-empty 1-D"):
        bert.bootstrap_interval([])
    with pytest.raises(ValueError, match="level"):
        bert.bootstrap_interval([1, 0], level=1.5)


def test_masked_average_pooling_ignores_padding_and_unmasked_pooling_dilutes():
    """Seed 003's pitfall in numbers: Keras' GlobalAveragePooling1D with the padding mask equals the
    NumPy mean over real tokens; without it the padding's vectors are averaged in."""
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(3, 10, 4)).astype(np.float32)
    real = np.zeros((3, 10), dtype=bool)
    for row, length in enumerate((2, 5, 10)):
        real[row, :length] = True
    vectors[~real] = 7.0  # whatever the padding positions hold
    pooling = keras.layers.GlobalAveragePooling1D()
    masked = np.asarray(pooling(vectors, mask=real))
    expected = np.stack([vectors[row][real[row]].mean(axis=0) for row in range(3)])
    np.testing.assert_allclose(masked, expected, atol=1e-6)
    unmasked = np.asarray(pooling(vectors))
    np.testing.assert_allclose(unmasked, vectors.mean(axis=1), atol=1e-6)
    assert np.abs(unmasked[0] - expected[0]).max() > 1.0  # 8 of 10 positions are padding
    np.testing.assert_allclose(unmasked[2], expected[2], atol=1e-6)  # no padding, no difference
