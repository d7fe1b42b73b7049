"""Worked solutions to the exercises of notebooks/09_compression_deployment.ipynb."""

import numpy as np

# Exercise 1: scale = 2 / 255; zero point = -128 + round(0.5 / (2/255)) = -128 + round(63.75) = -64;
# code of 0.3 = round(0.3 / (2/255)) - 64 = round(38.25) - 64 = -26.
BY_HAND = (2.0 / 255, -64, -26)


def soft_term_gradient(student_logits, teacher_logits, temperature):
    student = np.exp(student_logits / temperature - np.max(student_logits / temperature, axis=1, keepdims=True))
    teacher = np.exp(teacher_logits / temperature - np.max(teacher_logits / temperature, axis=1, keepdims=True))
    student /= student.sum(axis=1, keepdims=True)
    teacher /= teacher.sum(axis=1, keepdims=True)
    return temperature * (student - teacher)


def pack_int4(codes):
    nibbles = (np.asarray(codes, np.int16) & 0x0F).astype(np.uint8)
    if len(nibbles) % 2:
        nibbles = np.append(nibbles, np.uint8(0))
    return (nibbles[0::2] | (nibbles[1::2] << 4)).astype(np.uint8)


def per_row_dequantized(kernel, bits):
    w = np.asarray(kernel, np.float64)
    q_max = 2 ** (bits - 1) - 1
    largest = np.abs(w).max(axis=1, keepdims=True)
    scales = np.where(largest > 0, largest / q_max, 1.0)
    return np.clip(np.round(w / scales), -q_max, q_max) * scales


SOLUTIONS = {
    "compression.by_hand": BY_HAND,
    "compression.soft_gradient": soft_term_gradient,
    "compression.pack_int4": pack_int4,
    "compression.per_row": per_row_dequantized,
}
