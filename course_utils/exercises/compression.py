"""Exercises of notebooks/09_compression_deployment.ipynb. Expected values come from TensorFlow's own
fake-quantisation op, TensorFlow's gradient of the package's distillation loss (itself tested against
Keras' losses in tests/test_compression.py), hand-worked bytes, an unpacking written here
independently of the learner's packing, and the package's tested quantize_weights (checked against
TensorFlow's fake-quantisation op in tests/test_quantize.py)."""

from __future__ import annotations

import numpy as np

from course_utils.exercises import Case, Exercise


def _by_hand_cases():
    """The learner's (scale, zero_point, code) for [-0.5, 1.5] and x = 0.3, each part on its own, against
    the integer grid of tf.quantization.fake_quant_with_min_max_args (which nudges the range so that 0 is
    a code, as TensorFlow Lite does)."""
    import tensorflow as tf

    grid = tf.quantization.fake_quant_with_min_max_args(
        np.array([-0.5, 0.0, 0.3], np.float32), min=-0.5, max=1.5, num_bits=8
    ).numpy()
    scale = 2.0 / 255
    zero_point = -128 + round((0.0 - grid[0]) / scale)  # the code of 0: the nudged minimum is code -128
    code = zero_point + round(float(grid[2]) / scale)

    def part(index, name, expected, tolerance):
        def test(got):
            if not isinstance(got, (tuple, list)) or len(got) != 3:
                return "expected a tuple (scale, zero_point, code) of three numbers"
            if not abs(float(got[index]) - expected) <= tolerance:
                return f"the {name}: expected {expected:.6g}, got {got[index]!r}"
            return None

        return test

    return [
        Case("the scale", test=part(0, "scale", scale, 1e-6)),
        Case("the zero point", test=part(1, "zero point", zero_point, 0)),
        Case("the code of x = 0.3", test=part(2, "code", code, 0)),
    ]


def _soft_gradient_cases():
    """d/ds of T² KL(softmax(t/T) || softmax(s/T)) per example, by TensorFlow's GradientTape on the
    package's distillation_loss with alpha = 0 (its sum over examples: row i depends on example i only)."""
    import tensorflow as tf

    from course_utils.compression import distillation_loss

    rng = np.random.default_rng(3)
    labels = rng.integers(0, 10, size=8)
    cases = []
    for temperature in (1.0, 4.0, 16.0):
        student, teacher = rng.normal(0, 3, size=(8, 10)), rng.normal(0, 3, size=(8, 10))
        student_variable = tf.Variable(student.astype(np.float32))
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(distillation_loss(labels, student_variable, teacher, temperature, alpha=0.0))
        expected = tape.gradient(loss, student_variable).numpy().astype(np.float64)
        cases.append(
            Case(f"T = {temperature:g}, 8 examples of 10 classes", args=(student, teacher, temperature),
                 expected=expected, atol=1e-5)
        )  # fmt: skip
    return cases


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
    "compression.by_hand": Exercise(
        title="an affine int8 code by hand",
        hint="scale = (max - min) / 255 with the range widened to contain 0; zero_point = -128 + round(-min / "
        "scale); code = round(x / scale) + zero_point. Write the three numbers as a tuple.",
        cases=_by_hand_cases,
    ),
    "compression.soft_gradient": Exercise(
        title="the gradient of the soft term",
        hint="the lesson's 'Why T²' paragraph gives the gradient of the KL term; the soft term is T² times it. "
        "Compute each softmax row by row, after subtracting the row's maximum.",
        cases=_soft_gradient_cases,
    ),
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
