"""Benchmark anchor: the keras-io "character-level text generation with LSTM" recipe on Shakespeare.

The recipe as published (written here from its description): windows of 40 characters taken
every 3 characters, one-hot inputs of shape (40, vocabulary), a single ``LSTM(128)`` followed by
``Dense(vocabulary, softmax)``, ``RMSprop(learning_rate=0.01)``, categorical cross-entropy,
batch 128; each window predicts the one character that follows it.

To compare it with notebooks/05_lstm_text_generator.ipynb on equal terms it uses the same
training split, the same character vocabulary (characters unseen in training map to the same
``[UNK]`` id in both), and the same wall-clock training budget ``course_utils.text.training_seconds()``
(stopped by the same callback, checked after every batch). The one-hot windows are built on the
fly by ``tf.data`` (the published recipe materialises them as a NumPy array, which for a million
characters would take about a gigabyte); the model sees exactly the same tensors.

Held-out loss: every character of the held-out play that has 40 characters before it is
predicted from those 40 characters (a window at every position), and the mean of
``-ln p(character)`` is reported in nats/char. Generation speed re-feeds the last 40 characters
for every new character, with the model called through a compiled ``tf.function`` (the
notebook's window decoder is measured the same way).

Usage::

    python benchmarks/anchors/shakespeare_keras_io_char_lstm.py            # the full budget
    python benchmarks/anchors/shakespeare_keras_io_char_lstm.py --seconds 30   # a quick smoke run

Records ``anchor_heldout_nats_per_char``, ``anchor_train_seconds`` and
``anchor_generation_chars_per_second`` with ``course_utils.record_metric``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

import numpy as np
import tensorflow as tf

import course_utils
from course_utils import data, text

WINDOW = 40
STEP = 3
BATCH_SIZE = 128
UNITS = 128
LEARNING_RATE = 0.01
GENERATED_CHARACTERS = 200


def window_dataset(ids: np.ndarray, starts: np.ndarray, vocabulary_size: int, shuffle: bool) -> tf.data.Dataset:
    """One-hot ``(40, vocabulary)`` windows starting at ``starts`` and the one-hot character after each."""
    id_tensor = tf.constant(ids, dtype=tf.int32)
    offsets = tf.range(WINDOW + 1)
    dataset = tf.data.Dataset.from_tensor_slices(starts.astype(np.int32))
    if shuffle:
        dataset = dataset.shuffle(len(starts), seed=42, reshuffle_each_iteration=True).repeat()
    dataset = dataset.batch(BATCH_SIZE, drop_remainder=shuffle)

    def to_one_hot(batch_starts):
        windows = tf.gather(id_tensor, batch_starts[:, None] + offsets[None, :])
        return tf.one_hot(windows[:, :WINDOW], vocabulary_size), tf.one_hot(windows[:, WINDOW], vocabulary_size)

    return dataset.map(to_one_hot, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def build_model(vocabulary_size: int):
    import keras
    from keras import layers

    inputs = keras.Input(shape=(WINDOW, vocabulary_size), name="one_hot_window")
    hidden = layers.LSTM(UNITS, name="lstm")(inputs)
    outputs = layers.Dense(vocabulary_size, activation="softmax", name="next_char_probabilities")(hidden)
    model = keras.Model(inputs, outputs, name="keras_io_char_lstm")
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=LEARNING_RATE), loss="categorical_crossentropy")
    return model


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=None, help="training budget (default: the course's)")
    arguments = parser.parse_args(argv)
    seconds = arguments.seconds if arguments.seconds is not None else text.training_seconds()

    course_utils.set_seed(42)
    works = data.load_shakespeare()
    full = course_utils.full_training()
    train_ids, heldout_ids, vocabulary_size = text.encoded_split(works, full=full)  # 05's split and ids
    # only for the names printed below and the characters of the printed sample
    train_text, _, train_names = text.split_corpus(works, text.HELDOUT_WORK, None if full else text.DEFAULT_TRAIN_WORKS)
    vocabulary = ["[UNK]", *text.character_vocabulary(train_text)]
    print(
        f"training on {len(train_names)} works ({len(train_ids):,} characters), held out: "
        f"{text.HELDOUT_WORK} ({len(heldout_ids):,} characters), vocabulary {vocabulary_size}"
    )

    train_starts = np.arange(0, len(train_ids) - WINDOW, STEP)
    model = build_model(vocabulary_size)
    budget = text.time_budget_callback(seconds)
    print(f"{len(train_starts):,} training windows (every {STEP} characters); budget {seconds:.0f} s")
    model.fit(
        window_dataset(train_ids, train_starts, vocabulary_size, shuffle=True),
        epochs=10_000,
        steps_per_epoch=200,
        callbacks=[budget],
        verbose=2,
        shuffle=False,
    )
    print(f"trained {budget.elapsed:.1f} s, {budget.batches} batches ({budget.batches * BATCH_SIZE:,} windows)")

    heldout_starts = np.arange(0, len(heldout_ids) - WINDOW)
    heldout_loss = model.evaluate(
        window_dataset(heldout_ids, heldout_starts, vocabulary_size, shuffle=False), verbose=0, return_dict=True
    )["loss"]
    print(
        f"held-out ({len(heldout_starts):,} characters): {heldout_loss:.4f} nats/char, "
        f"{text.nats_to_bits(heldout_loss):.4f} bits/char, perplexity {text.perplexity(heldout_loss):.2f}"
    )

    probabilities_of = tf.function(lambda window: model(window, training=False))
    generated = list(heldout_ids[:WINDOW])
    rng = np.random.default_rng(42)
    probabilities_of(tf.one_hot([generated[-WINDOW:]], vocabulary_size))  # trace once, outside the clock
    started = time.perf_counter()
    for _ in range(GENERATED_CHARACTERS):
        probabilities = probabilities_of(tf.one_hot([generated[-WINDOW:]], vocabulary_size)).numpy()[0]
        generated.append(text.sample_next(np.log(np.maximum(probabilities, 1e-12)), temperature=1.0, rng=rng))
    chars_per_second = GENERATED_CHARACTERS / (time.perf_counter() - started)
    print(f"generation: {chars_per_second:.0f} characters/s; sample:")
    print("".join(vocabulary[i] for i in generated))

    results = {
        "anchor_heldout_nats_per_char": float(heldout_loss),
        "anchor_train_seconds": float(budget.elapsed),
        "anchor_generation_chars_per_second": float(chars_per_second),
    }
    course_utils.record_metric(
        "anchor_heldout_nats_per_char", results["anchor_heldout_nats_per_char"], unit="nats/char"
    )
    course_utils.record_metric("anchor_train_seconds", results["anchor_train_seconds"], unit="s")
    course_utils.record_metric(
        "anchor_generation_chars_per_second", results["anchor_generation_chars_per_second"], unit="chars/s"
    )
    return results


if __name__ == "__main__":
    main()
