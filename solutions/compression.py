"""Worked solutions to the exercises of notebooks/09_compression_deployment.ipynb."""

import numpy as np


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


SOLUTIONS = {"compression.pack_int4": pack_int4, "compression.per_row": per_row_dequantized}
