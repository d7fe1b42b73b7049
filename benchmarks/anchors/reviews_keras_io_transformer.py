"""Benchmark anchor: the keras-io "Text classification with Transformer" recipe on the course's movie reviews,
as described (a pitfall) and with its padding handled (the fair anchor).

The recipe as described (written here from its description, not run from its published file): a
20,000-word vocabulary, reviews cut or padded to 200 tokens, token + position embeddings of size 32, one
post-norm Transformer block (2 heads, feed-forward size 32, dropout 0.1, layer-norm epsilon 1e-6),
global average pooling, Dropout 0.1, Dense 20 (ReLU), Dropout 0.1, Dense 2 (softmax); Adam, sparse
categorical cross-entropy, batch 32, 2 epochs. It trains on the same leak-free train split as
notebooks/07_bert_classifier.ipynb (``course_utils.bert.split_by_movie``) and is tested on the same
test reviews.

* ``as described`` (the pitfall, seed 003's bug too): the snippets average about 19 words, so about
  90 % of the 200 positions are padding, which the recipe neither masks in attention nor excludes from
  the average pooling. The padding's vectors dominate the average and the model stays at (or near)
  the majority class.
* ``fair`` (the real anchor): the same model with two changes only, a padding mask (attention never
  reads a padding position, and the average runs over real tokens) and a sequence length fitted to
  the snippets (the 99th percentile of the training reviews' lengths in words).

Each variant runs with three seeds; the script prints each run's test accuracy with a 95 % bootstrap
interval over test reviews, and the mean over seeds with a 95 % Student-t interval.

    python benchmarks/anchors/reviews_keras_io_transformer.py
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf
from keras import layers

import course_utils
from course_utils import bert, data

VOCABULARY_SIZE = 20_000
MAX_LENGTH = 200
EMBED_DIM = 32
NUM_HEADS = 2
FEED_FORWARD_DIM = 32
BATCH_SIZE = 32
EPOCHS = 2
SEEDS = (42, 43, 44)


class TransformerBlock(layers.Layer):
    """Post-norm block: x + Dropout(MHA(x)) -> LayerNorm -> + Dropout(FFN) -> LayerNorm."""

    def __init__(self, embed_dim, num_heads, feed_forward_dim, rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.attention = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.feed_forward = keras.Sequential(
            [layers.Dense(feed_forward_dim, activation="relu"), layers.Dense(embed_dim)]
        )
        self.norm_1 = layers.LayerNormalization(epsilon=1e-6)
        self.norm_2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout_1 = layers.Dropout(rate)
        self.dropout_2 = layers.Dropout(rate)

    def call(self, inputs, attention_mask=None, training=None):
        attended = self.attention(inputs, inputs, attention_mask=attention_mask)
        first = self.norm_1(inputs + self.dropout_1(attended, training=training))
        return self.norm_2(first + self.dropout_2(self.feed_forward(first), training=training))


class TokenAndPositionEmbedding(layers.Layer):
    """Token embedding plus a learnt embedding of each position 0..maxlen-1."""

    def __init__(self, maxlen, vocabulary_size, embed_dim, **kwargs):
        super().__init__(**kwargs)
        self.token_embedding = layers.Embedding(input_dim=vocabulary_size, output_dim=embed_dim)
        self.position_embedding = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        positions = keras.ops.arange(0, keras.ops.shape(x)[-1], 1)
        return self.token_embedding(x) + self.position_embedding(positions)


def build_model(max_length: int, masked: bool) -> keras.Model:
    """The recipe's model; with ``masked``, attention and the average skip padding (token id 0)."""
    inputs = layers.Input(shape=(max_length,), dtype="int32")
    x = TokenAndPositionEmbedding(max_length, VOCABULARY_SIZE, EMBED_DIM)(inputs)
    if masked:
        real = keras.ops.not_equal(inputs, 0)  # (batch, length), True on real tokens
        attention_mask = keras.ops.logical_and(real[:, :, None], real[:, None, :])
        x = TransformerBlock(EMBED_DIM, NUM_HEADS, FEED_FORWARD_DIM)(x, attention_mask=attention_mask)
        x = layers.GlobalAveragePooling1D()(x, mask=real)
    else:
        x = TransformerBlock(EMBED_DIM, NUM_HEADS, FEED_FORWARD_DIM)(x)
        x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def run(texts, labels, split, max_length: int, masked: bool, seed: int) -> tuple[np.ndarray, float]:
    """Train one variant with one seed; returns (1 where a test review is classified right, train seconds)."""
    course_utils.set_seed(seed)
    vectorizer = layers.TextVectorization(max_tokens=VOCABULARY_SIZE, output_sequence_length=max_length)
    vectorizer.adapt(tf.constant(list(texts[split["train"]])))
    x_train, x_validation, x_test = (
        vectorizer(tf.constant(list(texts[split[k]]))) for k in ("train", "validation", "test")
    )
    y_train, y_validation, y_test = (labels[split[k]] for k in ("train", "validation", "test"))
    model = build_model(max_length, masked)
    started = time.perf_counter()
    model.fit(
        x_train, y_train, batch_size=BATCH_SIZE, epochs=EPOCHS, validation_data=(x_validation, y_validation), verbose=0
    )
    seconds = time.perf_counter() - started
    predictions = model.predict(x_test, batch_size=256, verbose=0).argmax(axis=1)
    return (predictions == y_test).astype(np.float64), seconds


def main() -> None:
    reviews = data.load_movie_reviews()
    texts = np.array(reviews["texts"], dtype=object)
    labels = np.array(reviews["labels"], dtype=np.int32)
    split = bert.split_by_movie(reviews["movies"])
    words = np.array([len(text.split()) for text in texts[split["train"]]])
    fitted_length = int(np.percentile(words, 99))
    majority = float(np.mean(labels[split["test"]] == int(labels[split["train"]].mean() >= 0.5)))
    print(f"training snippets: {words.mean():.1f} words on average, 99th percentile {fitted_length}")
    print(f"majority class on the test split: {majority:.4f}")
    summary = {}
    for variant, max_length, masked in [("as_described", MAX_LENGTH, False), ("fair", fitted_length, True)]:
        accuracies, seconds = [], []
        for seed in SEEDS:
            correct, train_seconds = run(texts, labels, split, max_length, masked, seed)
            accuracy, low, high = bert.bootstrap_interval(correct)
            accuracies.append(accuracy)
            seconds.append(train_seconds)
            print(
                f"{variant:<13} length {max_length:>3} mask {masked!s:<5} seed {seed}: "
                f"test accuracy {accuracy:.4f} [{low:.4f}, {high:.4f}] in {train_seconds:.1f} s"
            )
        mean, half = bert.seed_interval(accuracies)
        summary[variant] = (mean, half, float(np.mean(seconds)))
        print(f"{variant:<13} mean over {len(SEEDS)} seeds: {mean:.4f} ± {half:.4f} (95% t-interval)")
        course_utils.record_metric(f"anchor_transformer_{variant}_test_accuracy", mean)
        course_utils.record_metric(f"anchor_transformer_{variant}_test_accuracy_ci95", half)
        course_utils.record_metric(f"anchor_transformer_{variant}_train_seconds", float(np.mean(seconds)), unit="s")
    gap = summary["fair"][0] - summary["as_described"][0]
    print(f"padding mask + fitted length: {gap:+.4f} test accuracy")


if __name__ == "__main__":
    main()
