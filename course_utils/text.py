"""Character-level language modelling helpers: corpus split, baselines, one LSTM step, sampling.

Explained in notebooks/05_lstm_text_generator.ipynb. The same split, vocabulary rule and
training budget are used by the benchmark anchor ``benchmarks/anchors/shakespeare_keras_io_char_lstm.py``,
so that the course model and the keras-io recipe are compared on equal terms.

Only NumPy is imported at module level; :func:`time_budget_callback` imports Keras when called.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence

import numpy as np

from course_utils import sampling
from course_utils._checks import finite_array, non_negative_int, non_negative_number, positive_int, positive_number
from course_utils.backprop import sigmoid  # the course's one sigmoid, overflow-free
from course_utils.repro import full_training

__all__ = [
    "DEFAULT_TRAIN_WORKS",
    "FULL_TRAINING_SECONDS",
    "HELDOUT_WORK",
    "TRAINING_SECONDS",
    "bigram_nats_per_char",
    "character_vocabulary",
    "encode_characters",
    "encoded_split",
    "gradient_norms_through_time",
    "lstm_step",
    "nats_to_bits",
    "perplexity",
    "rnn_step",
    "sample_next",
    "split_corpus",
    "time_budget_callback",
    "training_seconds",
    "unigram_nats_per_char",
]

# The play that is never trained on, by the course model or by the benchmark anchor.
HELDOUT_WORK = "tempest"
# The default (CPU-sized) training subset: eight plays, about 1.1 million characters.
DEFAULT_TRAIN_WORKS = (
    "hamlet",
    "macbeth",
    "lear",
    "othello",
    "romeo_and_juliet",
    "julius_caesar",
    "midsummer_nights_dream",
    "twelfth_night",
)
# Wall-clock training budget shared by the notebook's LSTM and the keras-io anchor.
TRAINING_SECONDS = 150
FULL_TRAINING_SECONDS = 1800
WORK_SEPARATOR = "\n\n\n"


def training_seconds() -> int:
    """The training budget in seconds: ``TRAINING_SECONDS``, or ``FULL_TRAINING_SECONDS`` when
    ``COURSE_FULL_TRAINING=1``. Explained in notebooks/05_lstm_text_generator.ipynb."""
    return FULL_TRAINING_SECONDS if full_training() else TRAINING_SECONDS


def split_corpus(
    works: Mapping[str, str],
    heldout_work: str = HELDOUT_WORK,
    train_works: Sequence[str] | None = DEFAULT_TRAIN_WORKS,
) -> tuple[str, str, list[str]]:
    """Split ``{work: text}`` into ``(train_text, heldout_text, train_work_names)``.

    The held-out text is the whole of ``heldout_work``; the training text is ``train_works``
    joined by blank lines (``None`` means every other work). The held-out work is never part of
    the training text. Explained in notebooks/05_lstm_text_generator.ipynb.
    """
    if not isinstance(works, Mapping) or not works:
        raise ValueError("works must be a non-empty mapping {work_name: text}")
    if heldout_work not in works:
        raise ValueError(f"heldout_work {heldout_work!r} is not one of the works: {sorted(works)}")
    if train_works is None:
        names = [name for name in works if name != heldout_work]
    else:
        names = list(train_works)
        unknown = [name for name in names if name not in works]
        if unknown:
            raise ValueError(f"unknown train_works {unknown}; expected names from {sorted(works)}")
        if heldout_work in names:
            raise ValueError(f"the held-out work {heldout_work!r} must not be in train_works")
        if not names:
            raise ValueError("train_works must name at least one work (or be None for all others)")
    train_text = WORK_SEPARATOR.join(works[name] for name in names)
    return train_text, works[heldout_work], names


def character_vocabulary(text: str) -> list[str]:
    """The sorted distinct characters of ``text`` (the vocabulary given to ``StringLookup``).

    Explained in notebooks/05_lstm_text_generator.ipynb.
    """
    if not isinstance(text, str) or not text:
        raise ValueError("text must be a non-empty string")
    return sorted(set(text))


def encode_characters(string: str, vocabulary: Sequence[str]) -> np.ndarray:
    """The ids ``keras.layers.StringLookup(vocabulary=vocabulary, mask_token=None)`` gives the characters
    of ``string``: 1 + the character's index in ``vocabulary``, and 0 (``[UNK]``) for a character not in it.

    NumPy only, for scripts that need 05's ids without building a Keras layer.
    Explained in notebooks/05_lstm_text_generator.ipynb.
    """
    if not isinstance(string, str) or isinstance(vocabulary, str) or not all(isinstance(c, str) for c in vocabulary):
        raise ValueError("string must be a str and vocabulary a sequence of characters")
    lookup = {character: index + 1 for index, character in enumerate(vocabulary)}
    return np.fromiter((lookup.get(character, 0) for character in string), dtype=np.int32, count=len(string))


def encoded_split(works: Mapping[str, str], full: bool = False) -> tuple[np.ndarray, np.ndarray, int]:
    """05's split and vocabulary as ids: ``(train_ids, heldout_ids, vocabulary_size)``.

    The default eight training plays (all other works when ``full``), The Tempest held out, and the
    training text's characters as the vocabulary, with id 0 for ``[UNK]`` (see :func:`encode_characters`).
    Explained in notebooks/05_lstm_text_generator.ipynb.
    """
    train_text, heldout_text, _ = split_corpus(works, HELDOUT_WORK, None if full else DEFAULT_TRAIN_WORKS)
    vocabulary = character_vocabulary(train_text)
    return encode_characters(train_text, vocabulary), encode_characters(heldout_text, vocabulary), len(vocabulary) + 1


def _check_ids(ids: np.ndarray, name: str, vocabulary_size: int, minimum_length: int) -> np.ndarray:
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"{name} must be a 1-D array of integer ids, got shape {ids.shape} dtype {ids.dtype}")
    if len(ids) < minimum_length:
        raise ValueError(f"{name} must hold at least {minimum_length} ids, got {len(ids)}")
    if ids.min() < 0 or ids.max() >= vocabulary_size:
        raise ValueError(f"{name} must hold ids in [0, {vocabulary_size}), got range [{ids.min()}, {ids.max()}]")
    return ids.astype(np.int64)


def _check_ngram_arguments(vocabulary_size: int, k: float) -> None:
    positive_int("vocabulary_size", vocabulary_size)
    positive_number("k (the add-k smoothing count)", k)


def unigram_nats_per_char(
    train_ids: np.ndarray, heldout_ids: np.ndarray, vocabulary_size: int, k: float = 1.0
) -> float:
    """Held-out cross-entropy (nats/char) of add-k smoothed character frequencies.

    ``P(a) = (count(a) + k) / (N + k V)`` fitted on ``train_ids``; the mean of ``-ln P`` over every
    held-out id. Explained in notebooks/05_lstm_text_generator.ipynb.
    """
    _check_ngram_arguments(vocabulary_size, k)
    train_ids = _check_ids(train_ids, "train_ids", vocabulary_size, 1)
    heldout_ids = _check_ids(heldout_ids, "heldout_ids", vocabulary_size, 1)
    counts = np.bincount(train_ids, minlength=vocabulary_size).astype(np.float64)
    probabilities = (counts + k) / (counts.sum() + k * vocabulary_size)
    return float(-np.mean(np.log(probabilities[heldout_ids])))


def bigram_nats_per_char(train_ids: np.ndarray, heldout_ids: np.ndarray, vocabulary_size: int, k: float = 1.0) -> float:
    """Held-out cross-entropy (nats/char) of an add-k smoothed bigram model.

    ``P(b | a) = (count(a b) + k) / (count(a ·) + k V)`` fitted on consecutive pairs of
    ``train_ids``; the mean of ``-ln P(b | a)`` over every held-out pair (so the first held-out
    character is not scored). Explained in notebooks/05_lstm_text_generator.ipynb.
    """
    _check_ngram_arguments(vocabulary_size, k)
    train_ids = _check_ids(train_ids, "train_ids", vocabulary_size, 2)
    heldout_ids = _check_ids(heldout_ids, "heldout_ids", vocabulary_size, 2)
    pair_counts = np.bincount(train_ids[:-1] * vocabulary_size + train_ids[1:], minlength=vocabulary_size**2)
    pair_counts = pair_counts.reshape(vocabulary_size, vocabulary_size).astype(np.float64)
    conditional = (pair_counts + k) / (pair_counts.sum(axis=1, keepdims=True) + k * vocabulary_size)
    return float(-np.mean(np.log(conditional[heldout_ids[:-1], heldout_ids[1:]])))


def nats_to_bits(nats: float) -> float:
    """Convert a cross-entropy from nats (natural log) to bits: divide by ln 2.

    Explained in notebooks/05_lstm_text_generator.ipynb.
    """
    return non_negative_number("nats", nats) / math.log(2)


def perplexity(nats: float) -> float:
    """Perplexity ``exp(cross-entropy in nats)``: the effective number of equally likely next characters.

    ``nats`` above ln(largest float) ≈ 709.78 has no float perplexity: a ValueError says so.
    Explained in notebooks/05_lstm_text_generator.ipynb.
    """
    nats = non_negative_number("nats", nats)
    if nats > _LARGEST_LOG:
        raise ValueError(f"perplexity exp(nats) overflows a float for nats > {_LARGEST_LOG:.2f}, got {nats!r}")
    return math.exp(nats)


_LARGEST_LOG = math.log(np.finfo(np.float64).max)


def _checks_for_steps(x, h, c=None, kernel=None, recurrent_kernel=None, bias=None, gates=4):
    """All argument checks of the NumPy recurrent steps in one call; returns the arrays as float64.

    ``c`` is None for a SimpleRNN step (``gates=1``); the LSTM has ``gates=4`` column blocks."""
    named = {"x": x, "h": h, "c": c, "kernel": kernel, "recurrent_kernel": recurrent_kernel, "bias": bias}
    arrays = {name: finite_array(name, value) for name, value in named.items() if value is not None or name != "c"}
    x, h = arrays["x"], arrays["h"]
    if x.ndim not in (1, 2) or h.ndim != x.ndim or (c is not None and arrays["c"].ndim != x.ndim):
        shapes = [a.shape for name, a in arrays.items() if name in ("x", "h", "c")]
        raise ValueError(f"x, h (and c) must all be 1-D or all 2-D, got shapes {shapes}")
    units = h.shape[-1]
    if c is not None and arrays["c"].shape != h.shape:
        raise ValueError(f"c must have the shape of h {h.shape}, got {arrays['c'].shape}")
    if x.ndim == 2 and x.shape[0] != h.shape[0]:
        raise ValueError(f"x and h must have the same batch size, got {x.shape[0]} and {h.shape[0]}")
    blocks = f"{gates} units" if gates > 1 else "units"
    if arrays["kernel"].shape != (x.shape[-1], gates * units):
        raise ValueError(
            f"kernel must have shape (input_dim, {blocks}) = {(x.shape[-1], gates * units)}, got {arrays['kernel'].shape}"
        )
    if arrays["recurrent_kernel"].shape != (units, gates * units):
        raise ValueError(
            f"recurrent_kernel must have shape {(units, gates * units)}, got {arrays['recurrent_kernel'].shape}"
        )
    if arrays["bias"].shape != (gates * units,):
        raise ValueError(f"bias must have shape {(gates * units,)}, got {arrays['bias'].shape}")
    return tuple(arrays.values())


# package copy of 05's cells starts here (tests/test_lesson_code.py compares them)


def rnn_step(x, h, kernel, recurrent_kernel, bias):
    """One SimpleRNN step in NumPy, Keras's weight layout: ``h_new = tanh(x W + h U + b)``.

    ``x``: (batch, input_dim) or (input_dim,); ``h``: (batch, units) or (units,); ``kernel``:
    (input_dim, units); ``recurrent_kernel``: (units, units); ``bias``: (units,).
    Explained in notebooks/05_lstm_text_generator.ipynb.
    """
    x, h, kernel, recurrent_kernel, bias = _checks_for_steps(x, h, None, kernel, recurrent_kernel, bias, gates=1)
    return np.tanh(x @ kernel + h @ recurrent_kernel + bias)  # row vectors: h_t = tanh(x_t W + h_{t-1} U + b)


def lstm_step(x, h, c, kernel, recurrent_kernel, bias):
    """One LSTM time step in NumPy, with Keras's weight layout; returns ``(h_new, c_new)``.

    ``x``: (batch, input_dim) or (input_dim,); ``h``, ``c``: (batch, units) or (units,);
    ``kernel``: (input_dim, 4 units); ``recurrent_kernel``: (units, 4 units); ``bias``: (4 units,).
    The four column blocks are the gates in Keras's order i, f, c (candidate), o, in row vectors::

        z = x W + h U + b;   i = σ(z_i), f = σ(z_f), g = tanh(z_c), o = σ(z_o)
        c_new = f * c + i * g;   h_new = o * tanh(c_new)

    Explained in notebooks/05_lstm_text_generator.ipynb.
    """
    x, h, c, kernel, recurrent_kernel, bias = _checks_for_steps(x, h, c, kernel, recurrent_kernel, bias)
    z = x @ kernel + h @ recurrent_kernel + bias  # (batch, 4 units): the four gates side by side
    z_input, z_forget, z_candidate, z_output = np.split(z, 4, axis=-1)  # Keras's order: i, f, c, o
    input_gate, forget_gate, output_gate = sigmoid(z_input), sigmoid(z_forget), sigmoid(z_output)
    c_new = forget_gate * c + input_gate * np.tanh(z_candidate)  # the cell: gated, no squashing
    h_new = output_gate * np.tanh(c_new)
    return h_new, c_new


def gradient_norms_through_time(model, input_ids, target_ids, cell):
    """``‖∂L_T/∂x_{T-k}‖`` for k = 0 … T-1, averaged over a batch of windows: how much the loss of the
    last prediction depends on the embedded input k steps earlier.

    ``model``: 05's Embedding → recurrent layer (named ``cell``: "lstm", "gru" or "simple_rnn") →
    Dense "logits" model; ``input_ids``: (batch, T) ids; ``target_ids``: (batch,) the character that
    follows each window (the target of its last position). Explained in notebooks/05_lstm_text_generator.ipynb.
    """
    import tensorflow as tf

    embedded = model.get_layer("embedding")(input_ids)  # x_1 ... x_T, (batch, T, d)
    with tf.GradientTape() as tape:
        tape.watch(embedded)
        hidden = model.get_layer(cell)(embedded)  # (batch, T, units), from a zero state
        last_logits = model.get_layer("logits")(hidden[:, -1])  # the prediction after the last character
        loss = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(target_ids, last_logits))  # L_T
    gradient = tape.gradient(loss, embedded)  # dL_T / dx_t for every t
    norms = tf.norm(gradient, axis=-1).numpy().mean(axis=0)  # average over the batch
    return norms[::-1]  # index k: the input k steps before the last one


# package copy of 05's cells ends here


def sample_next(
    logits: np.ndarray,
    temperature: float = 1.0,
    top_k: int | None = None,
    rng: np.random.Generator | None = None,
) -> int:
    """Draw the next token id from ``softmax(logits / temperature)``, optionally among the ``top_k`` best.

    ``temperature=0`` means greedy decoding (the argmax); ``top_k=None`` keeps every token. 05's
    stricter argument rules (finite logits, ``top_k`` at most the vocabulary), then the course's one
    sampler, :func:`course_utils.sampling.sample_next_token` (lesson 08 explains top-p too).
    Explained in notebooks/05_lstm_text_generator.ipynb.
    """
    logits = finite_array("logits", logits)
    if logits.ndim != 1:
        raise ValueError(f"logits must be a non-empty 1-D array, got shape {logits.shape}")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.integer, np.floating)):
        raise ValueError(f"temperature must be a number >= 0, got {temperature!r}")
    if not temperature >= 0 or not np.isfinite(temperature):
        raise ValueError(f"temperature must be a finite number >= 0, got {temperature!r}")
    if top_k is not None and (
        isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or not 1 <= top_k <= logits.size
    ):
        raise ValueError(f"top_k must be None or an integer in [1, {logits.size}], got {top_k!r}")
    return sampling.sample_next_token(logits, temperature, top_k=top_k, rng=rng)


def time_budget_callback(seconds: float, min_batches: int = 0):
    """A Keras callback that stops ``fit`` once ``seconds`` of wall-clock time have passed.

    The clock starts at ``on_train_begin`` and is checked after every batch, so training ends
    within one batch of the budget. ``min_batches`` is a floor for slow or busy machines: training
    goes on until at least that many batches have run, even past the budget (on a machine fast
    enough to run them within the budget it changes nothing). ``callback.elapsed`` holds the
    seconds actually used and ``callback.batches`` the number of batches run.
    Explained in notebooks/05_lstm_text_generator.ipynb.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float, np.integer, np.floating)) or not seconds > 0:
        raise ValueError(f"seconds must be a positive number, got {seconds!r}")
    non_negative_int("min_batches", min_batches)
    import keras

    class TimeBudget(keras.callbacks.Callback):
        def __init__(self, budget: float, min_batches: int) -> None:
            super().__init__()
            self.budget = float(budget)
            self.min_batches = int(min_batches)
            self.started = None
            self.elapsed = 0.0
            self.batches = 0

        def on_train_begin(self, logs=None) -> None:
            self.started = time.perf_counter()
            self.batches = 0

        def on_train_batch_end(self, batch, logs=None) -> None:
            self.batches += 1
            self.elapsed = time.perf_counter() - self.started
            if self.elapsed >= self.budget and self.batches >= self.min_batches:
                self.model.stop_training = True

        def on_train_end(self, logs=None) -> None:
            self.elapsed = time.perf_counter() - self.started

    return TimeBudget(seconds, min_batches)
