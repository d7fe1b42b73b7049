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

The codes are symmetric and narrow: int4 codes lie in [-7, 7] and int8 codes in [-127, 127] (the
most negative code, -8 or -128, is never used), held in an ``int8`` array; halves round to even
(``np.round``, as TensorFlow's fake-quantisation op that tests/test_quantize.py compares with).
Beyond the lesson's copy: :func:`quantize_groups` (groups whose size need not divide the rows: the
last group takes the remainder), :func:`dequantize_weights` (the weights from the stored codes and
scales alone) and :func:`reconstruction_error`. :func:`quantized_bytes` counts float32 scales unless
told otherwise (``scale_bytes=2`` for float16).
"""

from __future__ import annotations

import numpy as np

from course_utils import _checks

__all__ = [
    "GRANULARITIES",
    "dequantize_weights",
    "quantize_groups",
    "quantize_weights",
    "quantized_bytes",
    "reconstruction_error",
]

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


# ---------------------------------------------- beyond the lesson's copy: remainders, decoding, error


def _check_group_arguments(weights, bits, group_size) -> np.ndarray:
    """The one argument check of :func:`quantize_groups`: the kernel and bits as for
    :func:`quantize_weights`, and a positive group size (which need not divide the rows)."""
    w = _check_arguments(weights, bits, "channel", group_size)
    _checks.positive_int("group_size", group_size)
    return w


def quantize_groups(weights, bits, group_size):
    """Per-group codes of a kernel (inputs, outputs) for any ``group_size``: groups of ``group_size``
    consecutive input rows of each output column, the last group taking the ``inputs % group_size``
    rows left over (a ``group_size`` of at least ``inputs`` is per channel).

    Zero rows are appended up to a multiple of ``group_size`` (a zero never raises a block's max |w|),
    the padded kernel goes through :func:`quantize_weights` and the padding is dropped. Returns
    ``(codes, scales, dequantized)`` as :func:`quantize_weights` does, with ``scales`` of shape
    ``(ceil(inputs / group_size), outputs)``.
    """
    w = _check_group_arguments(weights, bits, group_size)
    rows = w.shape[0]
    group_size = min(group_size, rows)
    padded = np.pad(w, ((0, -rows % group_size), (0, 0)))
    codes, scales, dequantized = quantize_weights(padded, bits, "group", group_size)
    return codes[:rows], scales, dequantized[:rows]


def _check_stored(codes, scales, group_size):
    """The one argument check of :func:`dequantize_weights`: 2-D integer codes, positive finite
    scales with one column per output and one row per block of ``group_size`` rows (one row if None)."""
    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.dtype == np.bool_ or not np.issubdtype(codes.dtype, np.integer):
        raise ValueError(
            f"codes must be a 2-D integer array (inputs, outputs), got {codes.dtype} of shape {codes.shape}"
        )
    scales = _checks.finite_array("scales", scales)
    rows_per_block = codes.shape[0] if group_size is None else _checks.positive_int("group_size", group_size)
    blocks = -(-codes.shape[0] // rows_per_block)  # ceil
    if scales.shape != (blocks, codes.shape[1]) or np.any(scales <= 0):
        raise ValueError(
            f"scales must be positive, of shape {(blocks, codes.shape[1])} (one row per block of "
            f"{rows_per_block} input rows, one column per output), got shape {scales.shape}"
        )
    return codes, scales, rows_per_block


def dequantize_weights(codes, scales, group_size=None):
    """The weights ``ŵ = s · q`` from what is stored: codes (inputs, outputs) and scales (blocks,
    outputs), each block of ``group_size`` consecutive input rows (the last may be shorter) sharing
    one row of scales; ``group_size=None`` is one block (per tensor or per channel)."""
    codes, scales, rows_per_block = _check_stored(codes, scales, group_size)
    return codes * np.repeat(scales, rows_per_block, axis=0)[: codes.shape[0]]


def reconstruction_error(weights, dequantized) -> dict:
    """How far the quantised weights are from the float ones: ``relative`` = ‖ŵ − w‖ / ‖w‖
    (Frobenius norms), ``rms`` = the root mean square of ŵ − w, and ``max_abs`` = max |ŵ − w|."""
    w = _checks.finite_array("weights", weights)
    w_hat = _checks.finite_array("dequantized", dequantized)
    if w.shape != w_hat.shape or not np.any(w):
        raise ValueError(
            f"need weights with a non-zero entry and dequantized of the same shape, got {w.shape} and {w_hat.shape}"
        )
    difference = w_hat - w
    return {
        "relative": float(np.linalg.norm(difference) / np.linalg.norm(w)),
        "rms": float(np.sqrt(np.mean(difference**2))),
        "max_abs": float(np.abs(difference).max()),
    }
