"""Exercises of notebooks/09_compression_deployment.ipynb. Expected values come from hand-worked bytes,
an unpacking written here independently of the learner's packing, and the package's tested
quantize_weights (checked against TensorFlow's fake-quantisation op in tests/test_quantize.py)."""

from __future__ import annotations

import numpy as np

from course_utils.exercises import Case, Exercise


def _unpack(packed, length):
    """Two signed 4-bit codes per byte, the first in the low nibble (sign-extended from 4 bits)."""
    packed = np.asarray(packed)
    if packed.dtype != np.uint8:
        return None
    low, high = (packed & 0x0F).astype(np.int16), (packed >> 4).astype(np.int16)
    codes = np.stack([low, high], axis=1).ravel()[:length]
    return np.where(codes >= 8, codes - 16, codes)


def _round_trip(codes):
    def test(packed):
        if np.asarray(packed).dtype != np.uint8:
            return f"expected a uint8 array, got dtype {np.asarray(packed).dtype}"
        if np.asarray(packed).shape != ((len(codes) + 1) // 2,):
            return (
                f"expected {(len(codes) + 1) // 2} bytes for {len(codes)} codes, got shape {np.asarray(packed).shape}"
            )
        unpacked = _unpack(packed, len(codes))
        wrong = np.flatnonzero(unpacked != codes)
        return f"code {wrong[0]} unpacks to {unpacked[wrong[0]]}, expected {codes[wrong[0]]}" if wrong.size else None

    return test


def _pack_cases():
    random_codes = np.random.default_rng(0).integers(-7, 8, size=101).astype(np.int8)
    return [
        Case("[1, -1] is one byte 0xF1 = 241", args=(np.array([1, -1], np.int8),), expected=np.array([241])),
        Case(
            "[-8, 7, 0] packs into 0x78 and 0x00", args=(np.array([-8, 7, 0], np.int8),), expected=np.array([0x78, 0])
        ),
        Case("101 random int4 codes round-trip", args=(random_codes,), test=_round_trip(random_codes)),
    ]


def _per_row_cases():
    from course_utils.quantize import quantize_weights

    kernel = np.random.default_rng(1).normal(0, 0.05, size=(12, 40))
    kernel[3] *= 20  # one input row with outliers
    return [
        Case(
            f"int{bits}, one scale per input row",
            args=(kernel, bits),
            expected=quantize_weights(kernel.T, bits, "channel")[2].T,
            atol=1e-12,
        )
        for bits in (8, 4)
    ]


EXERCISES = {
    "compression.pack_int4": Exercise(
        title="pack int4 codes two to a byte",
        hint="pad to an even length, take codes & 0x0F (two's complement in 4 bits), and combine pairs as "
        "low | (high << 4) in a uint8 array.",
        cases=_pack_cases,
    ),
    "compression.per_row": Exercise(
        title="symmetric quantisation with one scale per input row",
        hint="like quantize_weights per channel, but the max |w| is taken along axis 1 (each row); return the "
        "dequantised weights s * q.",
        cases=_per_row_cases,
    ),
}
