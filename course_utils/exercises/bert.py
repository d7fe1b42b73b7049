"""Exercises of notebooks/07_bert_classifier.ipynb. Expected values come from independent
references: keras_hub's MultiSegmentPacker and WordPieceTokenizer, and Keras' tanh GELU, never
from the learner's code."""

from __future__ import annotations

import numpy as np

from course_utils.exercises import Case, Exercise


def _pack_pair_cases():
    import keras_hub

    def packed(ids_a, ids_b, length):
        packer = keras_hub.layers.MultiSegmentPacker(
            sequence_length=length, start_value=101, end_value=102, pad_value=0, truncate="waterfall"
        )
        token_ids, segment_ids = packer(([ids_a], [ids_b]))
        return np.asarray(token_ids)[0], np.asarray(segment_ids)[0]

    cases = []
    for label, ids_a, ids_b, length in [
        ("short pair, padded", [7, 8], [9], 8),
        ("exact fit", [7, 8, 9], [10, 11], 8),
        ("longer first sentence", [5, 6, 7, 8, 9], [10], 12),
    ]:
        cases.append(Case(label, args=(ids_a, ids_b, length), expected=packed(ids_a, ids_b, length), atol=0))
    return cases


def _gelu_cases():
    import keras

    grid = np.linspace(-6, 6, 241)
    return [
        Case("x in [-6, 6]", args=(grid,), expected=np.asarray(keras.activations.gelu(grid, approximate=True))),
        Case("x = 0", args=(np.array([0.0]),), expected=np.array([0.0])),
    ]


def _greedy_cases():
    import keras_hub

    vocabulary = ["[UNK]", "un", "unwatch", "watch", "##watch", "##able", "##a", "##b", "##le", "able"]
    tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=vocabulary, lowercase=False, strip_accents=False, oov_token="[UNK]"
    )
    cases = []
    for word in ["unwatchable", "watchable", "unable", "unwatchab", "unx", "able"]:
        expected = [vocabulary[int(number)] for number in tokenizer.tokenize([word])[0]]
        cases.append(Case(f"{word!r}", args=(word, vocabulary), expected=expected))
    return cases


EXERCISES = {
    "bert.pack_pair": Exercise(
        title="pack a sentence pair with segment ids",
        hint="tokens = [101, *ids_a, 102, *ids_b, 102] padded with 0 to length; segment 0 up to and including "
        "the first [SEP], 1 on the second sentence and its [SEP], 0 on padding. Return (token_ids, segment_ids).",
        cases=_pack_pair_cases,
    ),
    "bert.gelu_tanh": Exercise(
        title="the tanh approximation of GELU (Google's BERT)",
        hint="x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3))), with NumPy.",
        cases=_gelu_cases,
    ),
    "bert.greedy_wordpiece": Exercise(
        title="WordPiece's greedy longest match",
        hint="from the start of the word, take the longest piece in the vocabulary (continuations carry '##'), "
        "repeat from where it ends; if no piece fits somewhere, return ['[UNK]'].",
        cases=_greedy_cases,
    ),
}
