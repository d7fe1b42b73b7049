"""Weight-only quantisation from scratch: symmetric round-to-nearest integer codes for a weight matrix,
per tensor, per output channel or per group of input rows, and what they cost in bytes.

Explained in notebooks/09_compression_deployment.ipynb, which defines the same functions in its cells
(tests/test_lesson_code.py keeps the two copies identical). For a kernel ``W`` of shape
``(inputs, outputs)`` (Keras' ``Dense`` layout) and ``b`` bits, ``q_max = 2^(b-1) - 1`` (127 for int8,
7 for int4); every block of weights that shares a scale gets ``s = max |w| / q_max``, the codes are
``q = clip(round(w / s), -q_max, q_max)`` and the weights the model uses are ``ŵ = s · q``:

- ``"tensor"``: one scale for the whole matrix;
- ``"channel"``: one scale per output column (per output channel);
- ``"group"``: one scale per ``group_size`` consecutive input rows of each output column.
"""

from __future__ import annotations

import numpy as np

from course_utils import _checks

__all__ = ["GRANULARITIES", "quantize_weights", "quantized_bytes"]

GRANULARITIES = ("tensor", "channel", "group")


def _check_arguments(weights, bits, granularity, group_size) -> np.ndarray:
    """The one argument check of :func:`quantize_weights`: a finite 2-D kernel, 2 to 8 bits, a known
    granularity, and for groups a size that divides the number of input rows."""
    w = _checks.finite_array("weights", weights)
    if w.ndim != 2:
        raise ValueError(f"weights must be a 2-D kernel (inputs, outputs), got shape {w.shape}")
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 2 <= bits <= 8:
        raise ValueError(f"bits must be an integer from 2 to 8, got {bits!r}")
    if granularity not in GRANULARITIES:
        raise ValueError(f"granularity must be one of {GRANULARITIES}, got {granularity!r}")
    if granularity == "group" and (_checks.positive_int("group_size", group_size) and w.shape[0] % group_size):
        raise ValueError(f"group_size must divide the {w.shape[0]} input rows, got {group_size}")
    return w


# package copy of the lesson's cells starts here (tests/test_lesson_code.py compares them)


def quantize_weights(weights, bits, granularity="channel", group_size=32):
    """Symmetric round-to-nearest codes of a kernel (inputs, outputs): returns (codes, scales, dequantized)."""
    w = _check_arguments(weights, bits, granularity, group_size)
    q_max = 2 ** (bits - 1) - 1  # 127 for int8, 7 for int4
    rows = {"tensor": w.shape[0], "channel": w.shape[0], "group": group_size}[granularity]
    blocks = w.reshape(w.shape[0] // rows, rows, w.shape[1])  # (blocks of rows, rows, outputs)
    largest = np.abs(blocks).max(axis=1, keepdims=True)  # per block of rows and output column
    if granularity == "tensor":
        largest = np.broadcast_to(largest.max(), largest.shape)
    scales = np.where(largest > 0, largest / q_max, 1.0)
    codes = np.clip(np.round(blocks / scales), -q_max, q_max).astype(np.int8)
    return codes.reshape(w.shape), scales[:, 0], (codes * scales).reshape(w.shape)


def quantized_bytes(shape, bits, number_of_scales, scale_bytes=4):
    """Bytes to store a quantised kernel: the packed codes (bits each) and one float32 scale per block."""
    return int(np.ceil(np.prod(shape) * bits / 8)) + number_of_scales * scale_bytes


# package copy ends here
