"""Worked solutions to the exercises of notebooks/07_bert_classifier.ipynb."""

import numpy as np


def pack_pair(ids_a, ids_b, length, cls_id=101, sep_id=102):
    tokens = [cls_id, *ids_a, sep_id, *ids_b, sep_id]
    segments = [0] * (len(ids_a) + 2) + [1] * (len(ids_b) + 1)
    padding = length - len(tokens)
    return np.array(tokens + [0] * padding), np.array(segments + [0] * padding)


def gelu_tanh(x):
    x = np.asarray(x, dtype=np.float64)
    return x / 2 * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def greedy_wordpiece(word, vocabulary):
    known, pieces, start = set(vocabulary), [], 0
    while start < len(word):
        for end in range(len(word), start, -1):
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in known:
                pieces.append(piece)
                start = end
                break
        else:
            return ["[UNK]"]
    return pieces


SOLUTIONS = {
    "bert.pack_pair": pack_pair,
    "bert.gelu_tanh": gelu_tanh,
    "bert.greedy_wordpiece": greedy_wordpiece,
}
