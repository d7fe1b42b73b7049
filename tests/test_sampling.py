"""course_utils.sampling (notebooks/08_gpt_from_scratch.ipynb): closed forms, exact enumeration and
frequency checks, the edge cases, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from course_utils import sampling as s

HAND = np.log([0.5, 0.3, 0.15, 0.05])


def test_probabilities_equal_tensorflow_softmax_at_every_temperature():
    logits = np.random.default_rng(0).normal(size=30) * 3
    for temperature in (0.3, 1.0, 2.5):
        expected = tf.nn.softmax(logits / temperature).numpy()
        assert np.abs(s.probabilities(logits, temperature) - expected).max() < 1e-12
    assert s.probabilities([1000.0, 0.0]).tolist() == [1.0, 0.0], "no overflow"


def test_temperature_zero_is_greedy():
    assert s.probabilities(HAND, 0).tolist() == [1.0, 0.0, 0.0, 0.0]
    rng = np.random.default_rng(0)
    assert {s.sample_next_token(HAND[::-1], temperature=0, rng=rng) for _ in range(20)} == {3}


def test_entropy_closed_forms():
    assert s.entropy(np.full(8, 1 / 8)) == pytest.approx(np.log(8))
    assert s.entropy([1.0, 0.0, 0.0]) == 0.0
    assert s.entropy([0.5, 0.3, 0.15, 0.05]) == pytest.approx(-sum(p * np.log(p) for p in [0.5, 0.3, 0.15, 0.05]))


def test_top_k_keeps_the_k_largest_and_everything_when_k_exceeds_the_vocabulary():
    assert np.isfinite(s.top_k_filter(HAND, 2)).tolist() == [True, True, False, False]
    np.testing.assert_array_equal(s.top_k_filter(HAND, 4), HAND)
    np.testing.assert_array_equal(s.top_k_filter(HAND, 1000), HAND)
    assert np.isfinite(s.top_k_filter([1.0, 2.0, 2.0, 0.0], 1)).tolist() == [False, True, True, False], "ties kept"


@pytest.mark.parametrize(
    ("p", "kept"), [(0.0, 1), (0.5, 1), (0.51, 2), (0.8, 2), (0.81, 3), (0.95, 3), (0.96, 4), (1.0, 4)]
)
def test_top_p_keeps_the_smallest_prefix_with_enough_mass(p, kept):
    # cumulative probabilities 0.5, 0.8, 0.95, 1.0, by exact enumeration of the prefixes
    filtered = s.top_p_filter(HAND, p)
    assert np.isfinite(filtered).sum() == kept
    assert np.isfinite(filtered[:kept]).all(), "the most likely tokens are the ones kept"


def test_top_p_one_keeps_even_vanishing_tokens():
    logits = np.array([0.0, -60.0, -80.0])
    np.testing.assert_array_equal(s.top_p_filter(logits, 1.0), logits)


def test_sampling_frequencies_match_the_filtered_distribution():
    rng = np.random.default_rng(0)
    draws = np.bincount([s.sample_next_token(HAND, top_k=2, rng=rng) for _ in range(6000)], minlength=4) / 6000
    assert np.abs(draws - [0.625, 0.375, 0, 0]).max() < 0.03
    draws = np.bincount(
        [s.sample_next_token(HAND, temperature=2.0, top_p=0.85, rng=rng) for _ in range(6000)], minlength=4
    )
    tempered = s.probabilities(HAND, 2.0)  # 0.387, 0.300, 0.212, 0.122: top-p 0.85 keeps the first three
    assert draws[3] == 0
    assert np.abs(draws[:3] / 6000 - tempered[:3] / tempered[:3].sum()).max() < 0.03


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: s.probabilities([]), r"logits must be a non-empty 1-D array"),
        (lambda: s.probabilities([[1.0, 2.0]]), r"logits must be a non-empty 1-D array"),
        (lambda: s.probabilities([1.0, np.nan]), r"logits must be finite"),
        (lambda: s.probabilities([1.0, np.inf]), r"logits must be finite"),
        (lambda: s.probabilities([-np.inf, -np.inf]), r"at least one entry above -inf"),
        (lambda: s.probabilities(HAND, -1.0), r"temperature must be a finite number >= 0"),
        (lambda: s.probabilities(HAND, "hot"), r"temperature must be a number >= 0"),
        (lambda: s.top_k_filter(HAND, 0), r"top_k must be a positive integer"),
        (lambda: s.top_k_filter(HAND, 2.5), r"top_k must be a positive integer"),
        (lambda: s.top_p_filter(HAND, 1.5), r"top_p must be a number in \[0, 1\]"),
        (lambda: s.top_p_filter(HAND, -0.1), r"top_p must be a number in \[0, 1\]"),
        (lambda: s.sample_next_token(HAND, top_p=True), r"top_p must be a number in \[0, 1\]"),
    ],
)
def test_bad_arguments_are_refused_clearly(call, message):
    with pytest.raises(ValueError, match=message):
        call()
