"""Weight-only quantisation (course_utils.quantize) against independent references that need no
TensorFlow: codes and scales written out by hand, exact round trips of weights already on the grid,
the half-step error bound, the granularities that must coincide, and closed-form errors and bytes.
tests/test_quantize.py compares the same code with TensorFlow's fake-quantisation op."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import quantize

# A hand-made kernel (3 input rows, 2 output columns) whose column maxima are 3.5 and 0.7.
HAND_KERNEL = np.array([[3.5, 0.7], [-1.2, 0.26], [0.8, -0.04]])


def _kernel(shape, seed=0):
    return np.random.default_rng(seed).normal(0, 0.02, size=shape)


def _assert_same(results, references):
    """Two (codes, scales, dequantized) triples are identical, element for element."""
    for mine, reference in zip(results, references, strict=True):
        np.testing.assert_array_equal(mine, reference)


def test_int4_codes_and_scales_by_hand():
    # per channel: s = max|w| / 7 = 0.5 and 0.1; q = round(w / s)
    codes, scales, dequantized = quantize.quantize_weights(HAND_KERNEL, 4, "channel")
    np.testing.assert_array_equal(codes, [[7, 7], [-2, 3], [2, 0]])
    np.testing.assert_allclose(scales, [[0.5, 0.1]], rtol=1e-15)
    np.testing.assert_allclose(dequantized, [[3.5, 0.7], [-1.0, 0.3], [1.0, 0.0]], rtol=1e-15)
    # per tensor: one s = 3.5 / 7 = 0.5 for both columns, so the small column keeps 1 level of 15
    codes, scales, _ = quantize.quantize_weights(HAND_KERNEL, 4, "tensor")
    np.testing.assert_array_equal(codes, [[7, 1], [-2, 1], [2, 0]])
    np.testing.assert_allclose(scales, [[0.5, 0.5]], rtol=1e-15)


def test_int8_codes_by_hand():
    codes, scales, _ = quantize.quantize_weights(HAND_KERNEL, 8, "channel")  # s = 3.5/127, 0.7/127
    np.testing.assert_array_equal(codes, [[127, 127], [-44, 47], [29, -7]])  # round(-1.2*127/3.5) = -44, ...
    np.testing.assert_allclose(scales, [[3.5 / 127, 0.7 / 127]], rtol=1e-15)


@pytest.mark.parametrize("bits", [8, 4])
def test_weights_on_the_grid_come_back_exactly(bits):
    q_max = 2 ** (bits - 1) - 1
    rng = np.random.default_rng(0)
    grid_codes = rng.integers(-q_max, q_max + 1, size=(24, 5))
    grid_codes[0] = q_max  # every column reaches max |q|, so its scale is exactly its step
    steps = np.array([0.5, 0.25, 2.0, 0.125, 1.0])  # powers of two: s * q is exact in floating point
    codes, scales, dequantized = quantize.quantize_weights(grid_codes * steps, bits, "channel")
    np.testing.assert_array_equal(codes, grid_codes)
    np.testing.assert_array_equal(scales[0], steps)
    np.testing.assert_array_equal(dequantized, grid_codes * steps)


@pytest.mark.parametrize(("bits", "q_max"), [(8, 127), (4, 7)])
@pytest.mark.parametrize("granularity", quantize.GRANULARITIES)
def test_codes_use_the_symmetric_narrow_range(bits, q_max, granularity):
    codes = quantize.quantize_weights(_kernel((64, 12), seed=bits), bits, granularity, group_size=16)[0]
    assert codes.dtype == np.int8 and -q_max <= codes.min() and codes.max() <= q_max  # never -q_max - 1
    assert np.abs(codes).max() == q_max  # the largest |w| of each block gets the extreme code


def test_granularities_that_must_coincide():
    w = _kernel((64, 9), seed=1)
    channel = quantize.quantize_weights(w, 4, "channel")
    _assert_same(quantize.quantize_weights(w, 4, "group", group_size=64), channel)  # one group of all rows
    _assert_same(quantize.quantize_groups(w, 4, 64), channel)
    column = w[:, :1]  # one column: per channel is per tensor
    _assert_same(quantize.quantize_weights(column, 4, "channel"), quantize.quantize_weights(column, 4, "tensor"))
    np.testing.assert_array_equal(quantize.quantize_groups(w, 8, 500)[0], quantize.quantize_weights(w, 8, "channel")[0])


def test_groups_that_divide_the_rows_match_quantize_weights():
    w = _kernel((96, 7), seed=2)
    _assert_same(quantize.quantize_groups(w, 4, 32), quantize.quantize_weights(w, 4, "group", 32))


def test_the_last_group_takes_the_remainder():
    w = _kernel((96, 7), seed=3)
    w[70, 2] = 1.0  # an outlier in the short last group (rows 64-95) of column 2
    codes, scales, dequantized = quantize.quantize_groups(w, 4, 64)
    assert codes.shape == w.shape and scales.shape == (2, 7)
    np.testing.assert_allclose(scales[1], np.abs(w[64:]).max(axis=0) / 7, rtol=1e-15)  # closed form, own rows only
    first = quantize.quantize_weights(w[:64], 4, "channel")  # the first group alone is per channel on rows 0-63
    np.testing.assert_array_equal(codes[:64], first[0])
    np.testing.assert_array_equal(scales[0], first[1][0])
    step = np.repeat(scales, [64, 32], axis=0)
    assert np.all(np.abs(dequantized - w) <= step / 2 + 1e-12)  # round to nearest: at most half a step


@pytest.mark.parametrize(
    ("granularity", "group_size"), [("tensor", None), ("channel", None), ("group", 32), ("group", 64), ("group", 128)]
)
def test_dequantize_from_codes_and_scales_alone(granularity, group_size):
    w = _kernel((96, 10), seed=4)
    if granularity == "group":
        codes, scales, dequantized = quantize.quantize_groups(w, 4, group_size)
    else:
        codes, scales, dequantized = quantize.quantize_weights(w, 4, granularity)
    rebuilt = quantize.dequantize_weights(codes, scales, group_size)
    np.testing.assert_array_equal(rebuilt, dequantized)
    assert np.all(np.abs(rebuilt - w) <= np.abs(w).max() / 7 / 2 + 1e-12)  # no step is larger than per tensor's


def test_reconstruction_error_closed_form():
    error = quantize.reconstruction_error([[3.0, 4.0]], [[3.0, 4.5]])  # |w| = 5, Δ = (0, 0.5)
    assert error == pytest.approx({"relative": 0.1, "rms": np.sqrt(0.125), "max_abs": 0.5}, rel=1e-15)
    w = _kernel((64, 8), seed=5)
    error = quantize.reconstruction_error(w, quantize.quantize_weights(w, 8, "tensor")[2])
    assert error["max_abs"] <= np.abs(w).max() / 127 / 2 + 1e-15 and 0 < error["relative"] < 0.01


def test_bytes_of_a_remainder_group():
    w = _kernel((96, 288))
    scales = quantize.quantize_groups(w, 4, 64)[1]  # 2 groups per column: 64 rows and 32
    assert quantize.quantized_bytes(w.shape, 4, scales.size) == 96 * 288 // 2 + 4 * 2 * 288
    assert quantize.quantized_bytes(w.shape, 4, scales.size, scale_bytes=2) == 96 * 288 // 2 + 2 * 2 * 288


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: quantize.quantize_groups(np.ones((6, 2)), 4, 0), "group_size must be a positive integer"),
        (lambda: quantize.quantize_groups(np.ones(6), 4, 4), "2-D kernel"),
        (lambda: quantize.quantize_groups(np.ones((6, 2)), 1, 4), "bits must be an integer from 2 to 8"),
        (lambda: quantize.dequantize_weights(np.ones((4, 2)), np.ones((1, 2))), "codes must be a 2-D integer array"),
        (
            lambda: quantize.dequantize_weights(np.ones((96, 2), np.int8), np.ones((1, 2)), 64),
            r"scales must be positive, of shape \(2, 2\)",
        ),
        (lambda: quantize.dequantize_weights(np.ones((4, 2), np.int8), -np.ones((1, 2))), "scales must be positive"),
        (lambda: quantize.reconstruction_error(np.ones((4, 2)), np.ones((2, 4))), "of the same shape"),
        (lambda: quantize.reconstruction_error(np.zeros((4, 2)), np.zeros((4, 2))), "a non-zero entry"),
    ],
)
def test_bad_input_is_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()
