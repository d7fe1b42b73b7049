"""Shapley values, KernelSHAP, LIME and the bootstrap against independent references: closed forms
for additive and product games, the definition by permutations, and the normal approximation."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from course_utils import shapley


def _random_game(n, seed=0):
    """A non-additive game: a random value for every coalition (a lookup table by bit pattern)."""
    table = np.random.default_rng(seed).normal(size=2**n)
    return lambda masks: table[(np.asarray(masks) * (1 << np.arange(n))).sum(axis=1)]


def _shapley_by_permutations(value, n):
    """The definition: the mean marginal contribution of i over all n! orders of arrival."""
    phi = np.zeros(n)
    for order in itertools.permutations(range(n)):
        present = np.zeros(n, bool)
        for i in order:
            before = value(present[None])[0]
            present[i] = True
            phi[i] += value(present[None])[0] - before
    return phi / math.factorial(n)


def test_all_coalitions_are_the_bits_of_their_row():
    masks = shapley.all_coalitions(3)
    assert masks.shape == (8, 3) and masks.dtype == bool
    assert masks[5].tolist() == [True, False, True]  # 5 = 0b101
    assert len({tuple(row) for row in masks}) == 8


@pytest.mark.parametrize("n", [1, 2, 4, 6])
def test_exact_shapley_equals_the_permutation_definition(n):
    value = _random_game(n, seed=n)
    np.testing.assert_allclose(shapley.exact_shapley(value, n), _shapley_by_permutations(value, n), atol=1e-12)


def test_additive_game_gives_its_coefficients_to_every_method():
    coefficients = np.array([1.5, -2.0, 0.25, 3.0, 0.0])
    value = lambda masks: 0.7 + np.asarray(masks, float) @ coefficients  # noqa: E731
    np.testing.assert_allclose(shapley.exact_shapley(value, 5), coefficients, atol=1e-12)
    np.testing.assert_allclose(shapley.kernel_shap(value, 5), coefficients, atol=1e-10)
    np.testing.assert_allclose(shapley.kernel_shap(value, 5, samples=40, seed=3), coefficients, atol=1e-10)
    np.testing.assert_allclose(shapley.lime(value, 5, samples=200), coefficients, atol=1e-10)


def test_product_game_splits_equally():
    """v(S) = 1 if every player is present: each of n players gets 1/n (closed form, symmetry)."""
    value = lambda masks: np.all(masks, axis=1).astype(float)  # noqa: E731
    np.testing.assert_allclose(shapley.exact_shapley(value, 6), np.full(6, 1 / 6), atol=1e-12)
    np.testing.assert_allclose(shapley.kernel_shap(value, 6), np.full(6, 1 / 6), atol=1e-10)


@pytest.mark.parametrize("n", [2, 3, 7, 10])
def test_kernel_shap_over_all_coalitions_is_exact(n):
    value = _random_game(n, seed=10 + n)
    np.testing.assert_allclose(shapley.kernel_shap(value, n), shapley.exact_shapley(value, n), atol=1e-9)


def test_sampled_kernel_shap_converges_and_is_efficient():
    n = 8
    value = _random_game(n, seed=5)
    exact = shapley.exact_shapley(value, n)
    ends = value(np.array([[False] * n, [True] * n]))
    errors = []
    for samples in (64, 4096):
        estimate = shapley.kernel_shap(value, n, samples=samples, seed=1)
        assert estimate.sum() == pytest.approx(ends[1] - ends[0], abs=1e-10)  # efficiency, always
        errors.append(np.abs(estimate - exact).max())
    assert errors[1] < errors[0] and errors[1] < 0.15


def test_kernel_shap_is_seeded():
    value = _random_game(6, seed=2)
    first, again = (shapley.kernel_shap(value, 6, samples=50, seed=9) for _ in range(2))
    np.testing.assert_array_equal(first, again)


def test_lime_weights_close_coalitions_more():
    """On v(S) = x1 * x2 the local slope near 'all present' is larger than the global average."""
    value = lambda masks: (np.asarray(masks)[:, 0] & np.asarray(masks)[:, 1]).astype(float)  # noqa: E731
    narrow = shapley.lime(value, 4, samples=2000, kernel_width=0.1, seed=0)
    wide = shapley.lime(value, 4, samples=2000, kernel_width=100.0, seed=0)
    assert narrow[0] > wide[0] and abs(narrow[2]) < 0.05


def test_bootstrap_interval_matches_the_normal_approximation():
    values = np.random.default_rng(0).normal(3.0, 2.0, size=400)
    low, high = shapley.bootstrap_interval(values, resamples=4000)
    half = 1.96 * values.std(ddof=1) / np.sqrt(len(values))
    assert low == pytest.approx(values.mean() - half, abs=0.03)
    assert high == pytest.approx(values.mean() + half, abs=0.03)
    assert shapley.bootstrap_interval(values, statistic=np.median, resamples=200)[0] < np.median(values)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: shapley.all_coalitions(0), "n must be a positive integer"),
        (lambda: shapley.all_coalitions(17), "at most 16"),
        (lambda: shapley.kernel_shap(lambda m: np.zeros(len(m)), 3, samples=0), "samples must be a positive"),
        (lambda: shapley.lime(lambda m: np.zeros(len(m)), 3, kernel_width=-1.0), "kernel_width must be a positive"),
        (lambda: shapley.bootstrap_interval([]), "values must not be empty"),
        (lambda: shapley.bootstrap_interval([1.0, 2.0], confidence=1.5), r"confidence must be in \[0, 1\]"),
    ],
)
def test_bad_input_is_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()
