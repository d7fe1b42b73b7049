"""Weight-only quantisation against independent references: TensorFlow's fake-quant op
(tf.quantization.quantize_and_dequantize_v2, symmetric, round half to even), closed forms for the
error bound and the byte count, and the outlier effect."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from course_utils import quantize


def _kernel(shape=(64, 24), seed=0):
    return np.random.default_rng(seed).normal(0, 0.02, size=shape).astype(np.float32)


def _tensorflow_reference(w, bits, axis=None, per_group=None):
    """tf.quantization.quantize_and_dequantize_v2 with a symmetric narrow range [-q_max, q_max]."""
    if per_group is not None:
        blocks = w.reshape(w.shape[0] // per_group, per_group, w.shape[1]).transpose(1, 0, 2).reshape(per_group, -1)
        out = _tensorflow_reference(blocks, bits, axis=1)
        return out.reshape(per_group, w.shape[0] // per_group, w.shape[1]).transpose(1, 0, 2).reshape(w.shape)
    return tf.quantization.quantize_and_dequantize_v2(
        w,
        0.0,
        0.0,
        signed_input=True,
        num_bits=bits,
        range_given=False,
        narrow_range=True,
        axis=axis,
        round_mode="HALF_TO_EVEN",
    ).numpy()


@pytest.mark.parametrize("bits", [8, 4])
@pytest.mark.parametrize(
    ("granularity", "axis", "group"), [("tensor", None, None), ("channel", 1, None), ("group", None, 16)]
)
def test_dequantized_weights_equal_tensorflow_fake_quantisation(bits, granularity, axis, group):
    w = _kernel()
    _, _, dequantized = quantize.quantize_weights(w, bits, granularity, group_size=16)
    reference = _tensorflow_reference(w, bits, axis=axis, per_group=group)
    np.testing.assert_allclose(dequantized, reference, atol=1e-7)


@pytest.mark.parametrize("granularity", quantize.GRANULARITIES)
def test_codes_scales_and_error_bound(granularity):
    w = _kernel((96, 40), seed=3)
    codes, scales, dequantized = quantize.quantize_weights(w, 4, granularity, group_size=32)
    assert codes.dtype == np.int8 and codes.shape == w.shape and np.abs(codes).max() == 7
    expected_blocks = {"tensor": (1, 1, 40), "channel": (1, 1, 40), "group": (3, 1, 40)}[granularity]
    assert scales.shape == (expected_blocks[0], expected_blocks[2])
    step = np.repeat(scales, 96 // scales.shape[0], axis=0)
    assert np.all(np.abs(w - dequantized) <= step / 2 + 1e-9)  # round to nearest: at most half a step
    np.testing.assert_allclose(dequantized, codes * step, rtol=1e-12)


def test_an_outlier_column_ruins_per_tensor_int4_only():
    w = _kernel((64, 16), seed=1)
    w[:, 0] *= 50  # one output channel 50x larger
    zero_fraction = {}
    for granularity in ("tensor", "channel"):
        codes = quantize.quantize_weights(w, 4, granularity)[0]
        zero_fraction[granularity] = np.mean(codes[:, 1:] == 0)
    assert zero_fraction["tensor"] > 0.9 and zero_fraction["channel"] < 0.2


def test_zero_weights_stay_zero():
    w = np.zeros((32, 4))
    codes, scales, dequantized = quantize.quantize_weights(w, 8, "channel")
    assert not codes.any() and not dequantized.any() and np.all(scales == 1.0)


def test_bytes_by_formula():
    assert quantize.quantized_bytes((96, 288), 8, 288) == 96 * 288 + 4 * 288
    assert quantize.quantized_bytes((96, 288), 4, 3 * 288) == 96 * 288 // 2 + 4 * 3 * 288
    assert quantize.quantized_bytes((3, 1), 4, 1, scale_bytes=2) == 2 + 2  # 12 bits round up to 2 bytes


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"weights": np.ones(5), "bits": 8}, "2-D kernel"),
        ({"weights": np.ones((4, 2)), "bits": 9}, "bits must be an integer from 2 to 8"),
        ({"weights": np.ones((4, 2)), "bits": 4, "granularity": "row"}, "granularity must be one of"),
        (
            {"weights": np.ones((6, 2)), "bits": 4, "granularity": "group", "group_size": 4},
            "must divide the 6 input rows",
        ),
        ({"weights": np.full((4, 2), np.nan), "bits": 4}, "weights must be finite"),
    ],
)
def test_bad_input_is_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        quantize.quantize_weights(**kwargs)
