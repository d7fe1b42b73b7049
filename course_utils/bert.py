"""BERT-style text classification helpers: a leak-free split, WordPiece vocabularies, packing,
MLM masking and a small BERT encoder built from Keras / KerasHub layers.

Explained in notebooks/07_bert_classifier.ipynb. The split is also used by the benchmark anchor
``benchmarks/anchors/reviews_keras_io_transformer.py`` so that every model is trained and tested
on the same reviews. Only NumPy is imported at module level; Keras, KerasHub and TensorFlow are
imported inside the functions that need them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

import numpy as np

from course_utils._checks import positive_int

__all__ = [
    "CLS_TOKEN",
    "MASK_TOKEN",
    "PAD_TOKEN",
    "SEP_TOKEN",
    "SPECIAL_TOKENS",
    "UNK_TOKEN",
    "bootstrap_interval",
    "build_bert_encoder",
    "load_vocabulary",
    "mask_tokens",
    "masked_positions",
    "pack_token_ids",
    "save_vocabulary",
    "seed_interval",
    "split_by_movie",
    "train_wordpiece_vocabulary",
    "unpack_token_ids",
]

PAD_TOKEN, UNK_TOKEN, CLS_TOKEN, SEP_TOKEN, MASK_TOKEN = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
# The order fixes the ids: [PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4.
SPECIAL_TOKENS = (PAD_TOKEN, UNK_TOKEN, CLS_TOKEN, SEP_TOKEN, MASK_TOKEN)


def split_by_movie(
    movies: Sequence[str],
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    salt: str = "course-07",
) -> dict[str, np.ndarray]:
    """Split snippet indices into ``{"train", "validation", "test"}`` so that no movie is on two sides.

    Movies are ordered by the sha256 of ``salt + movie name`` (deterministic, independent of the
    order of ``movies`` and of Python's hash seed); walking that order, a movie goes to the first
    side whose snippet quota (``fractions`` of all snippets) is not yet full. Returns sorted int64
    index arrays. Explained in notebooks/07_bert_classifier.ipynb.
    """
    if isinstance(movies, (str, bytes)) or len(movies) == 0:
        raise ValueError(f"movies must be a non-empty sequence of movie names, got {movies!r:.60}")
    if len(fractions) != 3 or any(not 0 < f < 1 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions must be three numbers in (0, 1) summing to 1, got {fractions!r}")
    names = [str(movie) for movie in movies]
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    order = sorted(counts, key=lambda name: hashlib.sha256(f"{salt}:{name}".encode()).hexdigest())
    total = len(names)
    limits = np.cumsum(fractions) * total
    side_of: dict[str, int] = {}
    assigned = 0
    for name in order:
        side = int(np.searchsorted(limits, assigned + counts[name] / 2))  # the side holding the movie's midpoint
        side_of[name] = min(side, 2)
        assigned += counts[name]
    sides = np.array([side_of[name] for name in names])
    return {key: np.flatnonzero(sides == number) for number, key in enumerate(("train", "validation", "test"))}


def train_wordpiece_vocabulary(texts: Sequence[str], vocabulary_size: int = 5000) -> list[str]:
    """A lowercase WordPiece vocabulary of about ``vocabulary_size`` tokens learnt from ``texts``,
    with ``SPECIAL_TOKENS`` at ids 0-4.

    Words are split on whitespace and punctuation, lowercased and stripped of accents by TF-Text's
    ``BasicTokenizer`` (what ``keras_hub.tokenizers.WordPieceTokenizer(lowercase=True,
    strip_accents=True)`` does too), counted, and handed to TF-Text's WordPiece learner, the engine
    behind ``bert_vocab_from_dataset`` and ``keras_hub.tokenizers.compute_word_piece_vocabulary``.
    Calling the learner on the word counts directly, with a narrow threshold search, is several
    times faster than those wrappers on a small corpus. The learner may return a few tokens fewer
    than asked when the corpus is small. Explained in notebooks/07_bert_classifier.ipynb.
    """
    if isinstance(texts, (str, bytes)) or len(texts) == 0 or not all(isinstance(t, str) for t in texts):
        raise ValueError("texts must be a non-empty sequence of strings")
    if isinstance(vocabulary_size, bool) or not isinstance(vocabulary_size, int) or vocabulary_size <= 100:
        raise ValueError(f"vocabulary_size must be an integer > 100, got {vocabulary_size!r}")
    from collections import Counter

    import tensorflow as tf
    from tensorflow_text.python.ops.bert_tokenizer import BasicTokenizer
    from tensorflow_text.tools.wordpiece_vocab import wordpiece_tokenizer_learner_lib as learner

    words = BasicTokenizer(lower_case=True).tokenize(tf.constant(list(texts))).flat_values.numpy()
    counts = Counter(word.decode("utf-8") for word in words)
    vocabulary = learner.learn(
        sorted(counts.items()),
        vocabulary_size,
        list(SPECIAL_TOKENS),
        upper_thresh=50,
        lower_thresh=2,
        num_iterations=4,
        max_token_length=50,
        max_unique_chars=1000,
    )
    if tuple(vocabulary[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:  # pragma: no cover (the learner keeps them first)
        raise AssertionError(f"special tokens out of place: {vocabulary[:5]}")
    return list(vocabulary)


def save_vocabulary(vocabulary: Sequence[str], path: str | os.PathLike) -> None:
    """Write one token per line (the ``vocab.txt`` format of BERT). Explained in notebooks/07_bert_classifier.ipynb."""
    tokens = list(vocabulary)
    if not tokens or any(not isinstance(t, str) or not t or "\n" in t for t in tokens):
        raise ValueError("vocabulary must be a non-empty sequence of non-empty one-line strings")
    if len(set(tokens)) != len(tokens):
        raise ValueError("vocabulary has duplicate tokens")
    with open(path, "w", encoding="utf-8") as stream:
        stream.write("\n".join(tokens) + "\n")


def load_vocabulary(path: str | os.PathLike) -> list[str]:
    """Read a ``vocab.txt`` file: the token on line ``i`` has id ``i``. Explained in notebooks/07_bert_classifier.ipynb."""
    with open(path, encoding="utf-8") as stream:
        tokens = stream.read().split("\n")
    if tokens and tokens[-1] == "":
        tokens.pop()
    if not tokens:
        raise ValueError(f"{path} holds no tokens")
    return tokens


def pack_token_ids(
    token_id_lists: Sequence[Sequence[int]], sequence_length: int, cls_id: int = 2, sep_id: int = 3, pad_id: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``[CLS] ids… [SEP] [PAD]…`` rows of length ``sequence_length`` (long inputs are truncated).

    Returns ``(token_ids, padding_mask)``, both int32 of shape (n, sequence_length); the mask is 1
    on real tokens (including [CLS] and [SEP]). The same packing as
    ``keras_hub.layers.StartEndPacker``. Explained in notebooks/07_bert_classifier.ipynb.
    """
    if not isinstance(sequence_length, (int, np.integer)) or sequence_length < 2:
        raise ValueError(f"sequence_length must be an integer >= 2 (room for [CLS] and [SEP]), got {sequence_length!r}")
    token_ids = np.full((len(token_id_lists), sequence_length), pad_id, dtype=np.int32)
    for row, ids in enumerate(token_id_lists):
        ids = list(ids)[: sequence_length - 2]
        token_ids[row, : len(ids) + 2] = [cls_id, *ids, sep_id]
    return token_ids, (token_ids != pad_id).astype(np.int32)


def unpack_token_ids(token_ids: np.ndarray, special_ids: Sequence[int] = (0, 2, 3)) -> list[list[int]]:
    """Inverse of :func:`pack_token_ids`: each row without [PAD]/[CLS]/[SEP]. Explained in notebooks/07_bert_classifier.ipynb."""
    token_ids = np.asarray(token_ids)
    if token_ids.ndim != 2 or not np.issubdtype(token_ids.dtype, np.integer):
        raise ValueError(f"token_ids must be a 2-D integer array, got shape {token_ids.shape} dtype {token_ids.dtype}")
    special = np.asarray(list(special_ids))
    return [row[~np.isin(row, special)].tolist() for row in token_ids]


def _check_mask_arguments(token_ids, rng, vocabulary_size, special_ids, selection_rate):
    """The argument checks of :func:`mask_tokens`: returns the ids as an array and the sorted special ids."""
    token_ids = np.asarray(token_ids)
    if token_ids.ndim != 2 or not np.issubdtype(token_ids.dtype, np.integer):
        raise ValueError(f"token_ids must be a 2-D integer array, got shape {token_ids.shape} dtype {token_ids.dtype}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if not 0 < selection_rate < 1:
        raise ValueError(f"selection_rate must be in (0, 1), got {selection_rate!r}")
    special = np.asarray(sorted(set(special_ids)))
    if vocabulary_size <= special.max(initial=0) + 1 or (token_ids.size and token_ids.max() >= vocabulary_size):
        raise ValueError(f"vocabulary_size {vocabulary_size} must exceed every special id and every token id")
    if token_ids.size and token_ids.min() < 0:
        raise ValueError("token ids must be non-negative")
    return token_ids, special


def mask_tokens(token_ids, rng, vocabulary_size, mask_id=4, special_ids=(0, 1, 2, 3, 4), selection_rate=0.15):
    """BERT's masked-language-model corruption: choose ~15% of the ordinary tokens; of those, 80%
    become [MASK], 10% a random ordinary token, 10% stay unchanged.

    Special tokens ([PAD], [CLS], [SEP], ...) are never chosen. Returns ``(inputs, labels,
    weights)``: the corrupted ids, the original id at chosen positions (0 elsewhere) and a float32
    weight that is 1 exactly at chosen positions, for a loss averaged over the chosen tokens only.
    Explained in notebooks/07_bert_classifier.ipynb, which defines the same function.
    """
    token_ids, special = _check_mask_arguments(token_ids, rng, vocabulary_size, special_ids, selection_rate)
    ordinary_ids = np.setdiff1d(np.arange(vocabulary_size), special)
    chosen = ~np.isin(token_ids, special) & (rng.random(token_ids.shape) < selection_rate)
    action = rng.random(token_ids.shape)  # one draw per position decides what happens to a chosen one
    to_mask = chosen & (action < 0.8)
    to_random = chosen & (action >= 0.8) & (action < 0.9)  # the remaining 10%: left unchanged
    inputs = token_ids.copy()
    inputs[to_mask] = mask_id
    inputs[to_random] = rng.choice(ordinary_ids, size=int(to_random.sum()))
    labels = np.where(chosen, token_ids, 0).astype(token_ids.dtype)
    return inputs, labels, chosen.astype(np.float32)


def masked_positions(
    labels: np.ndarray, weights: np.ndarray, max_predictions: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gather the chosen positions of :func:`mask_tokens` into fixed-size rows, so that the MLM
    head predicts ``max_predictions`` tokens per sequence instead of every position.

    Returns ``(positions, position_labels, position_weights)``, each (n, max_predictions): the
    first chosen positions of each row in order, their original ids, and 1.0 where a slot holds a
    real prediction (0 for padding slots, position 0 and label 0). Chosen positions beyond
    ``max_predictions`` in a row are not predicted (BERT's ``max_predictions_per_seq``).
    Explained in notebooks/07_bert_classifier.ipynb.
    """
    labels, weights = np.asarray(labels), np.asarray(weights)
    if labels.ndim != 2 or labels.shape != weights.shape:
        raise ValueError(f"labels and weights must be 2-D arrays of one shape, got {labels.shape} and {weights.shape}")
    positive_int("max_predictions", max_predictions)
    rows = labels.shape[0]
    positions = np.zeros((rows, max_predictions), dtype=np.int32)
    position_labels = np.zeros((rows, max_predictions), dtype=np.int32)
    position_weights = np.zeros((rows, max_predictions), dtype=np.float32)
    for row in range(rows):
        chosen = np.flatnonzero(weights[row] > 0)[:max_predictions]
        positions[row, : len(chosen)] = chosen
        position_labels[row, : len(chosen)] = labels[row, chosen]
        position_weights[row, : len(chosen)] = 1.0
    return positions, position_labels, position_weights


def build_bert_encoder(
    vocabulary_size: int,
    num_layers: int = 2,
    num_heads: int = 2,
    hidden_dim: int = 128,
    intermediate_dim: int = 512,
    max_sequence_length: int = 64,
    num_segments: int = 2,
    dropout: float = 0.1,
    layer_norm_epsilon: float = 1e-12,
    name: str = "bert_encoder",
):
    """A BERT encoder (Functional API): token + position + segment embeddings, LayerNorm, then
    ``num_layers`` post-norm Transformer blocks with an exact (erf) GELU feed-forward network.

    Inputs ``{"token_ids", "segment_ids", "padding_mask"}`` (int32, shape (batch, length));
    outputs ``{"sequence_output", "pooled_output"}`` (pooled = tanh(Dense([CLS] vector))). The layer
    names are those of ``keras_hub.models.BertBackbone`` (``token_embedding``,
    ``transformer_layer_0``, ...), so one weight converter serves both. BertBackbone uses the tanh
    approximation of GELU, as Google's original BERT code did; this encoder uses the exact erf GELU,
    as MiniLM (trained with Hugging Face's code, ``hidden_act: "gelu"``) does, so that MiniLM's
    weights reproduce its outputs.
    Explained in notebooks/07_bert_classifier.ipynb.
    """
    sizes = {
        "vocabulary_size": vocabulary_size,
        "num_layers": num_layers,
        "num_heads": num_heads,
        "hidden_dim": hidden_dim,
        "intermediate_dim": intermediate_dim,
        "max_sequence_length": max_sequence_length,
        "num_segments": num_segments,
    }
    for key, value in sizes.items():
        positive_int(key, value)
    if hidden_dim % num_heads:
        raise ValueError(f"hidden_dim ({hidden_dim}) must be divisible by num_heads ({num_heads})")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    import keras
    import keras_hub

    initializer = keras.initializers.TruncatedNormal(stddev=0.02)
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    segment_ids = keras.Input(shape=(None,), dtype="int32", name="segment_ids")
    padding_mask = keras.Input(shape=(None,), dtype="int32", name="padding_mask")

    tokens = keras.layers.Embedding(
        vocabulary_size, hidden_dim, embeddings_initializer=initializer, name="token_embedding"
    )(token_ids)
    positions = keras_hub.layers.PositionEmbedding(
        max_sequence_length, initializer=initializer, name="position_embedding"
    )(tokens)
    segments = keras.layers.Embedding(
        num_segments, hidden_dim, embeddings_initializer=initializer, name="segment_embedding"
    )(segment_ids)
    x = keras.layers.Add(name="embeddings_add")([tokens, positions, segments])
    x = keras.layers.LayerNormalization(epsilon=layer_norm_epsilon, name="embeddings_layer_norm")(x)
    x = keras.layers.Dropout(dropout, name="embeddings_dropout")(x)
    for index in range(num_layers):
        x = keras_hub.layers.TransformerEncoder(
            intermediate_dim=intermediate_dim,
            num_heads=num_heads,
            dropout=dropout,
            activation="gelu",  # keras.activations.gelu(approximate=False): the erf form
            layer_norm_epsilon=layer_norm_epsilon,
            kernel_initializer=initializer,
            normalize_first=False,  # post-norm, as in BERT
            name=f"transformer_layer_{index}",
        )(x, padding_mask=padding_mask)
    pooled = keras.layers.Dense(hidden_dim, activation="tanh", kernel_initializer=initializer, name="pooled_dense")(
        x[:, 0, :]
    )
    return keras.Model(
        inputs={"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask},
        outputs={"sequence_output": x, "pooled_output": pooled},
        name=name,
    )


def bootstrap_interval(
    correct: Sequence[float], level: float = 0.95, resamples: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """``(accuracy, low, high)``: the mean of ``correct`` (1 for a right answer, 0 for a wrong one,
    one value per test review) and its percentile-bootstrap interval over the test reviews
    (``resamples`` draws with replacement). Given the difference of two models' ``correct`` on the
    same reviews, it is the paired interval of their accuracy difference: noise if it contains 0.
    Explained in notebooks/07_bert_classifier.ipynb.
    """
    correct = np.asarray(correct, dtype=np.float64)
    if correct.ndim != 1 or correct.size == 0:
        raise ValueError(f"correct must be a non-empty 1-D array of 0/1 values, got shape {correct.shape}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    positive_int("resamples", resamples)
    rng = np.random.default_rng(seed)
    means = correct[rng.integers(0, correct.size, size=(resamples, correct.size))].mean(axis=1)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(correct.mean()), float(low), float(high)


# Student's t quantile t_{0.975} for 1..10 degrees of freedom (2..11 seeds).
T_975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228)


def seed_interval(values: Sequence[float]) -> tuple[float, float]:
    """``(mean, half_width)`` of the 95% Student-t interval of the mean over 2 to 11 runs with
    different seeds. Explained in notebooks/07_bert_classifier.ipynb."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or not 2 <= values.size <= len(T_975) + 1:
        raise ValueError(f"values must be a 1-D array of 2 to {len(T_975) + 1} runs, got shape {values.shape}")
    half = T_975[values.size - 2] * values.std(ddof=1) / np.sqrt(values.size)
    return float(values.mean()), float(half)
