"""Benchmark anchor: the keras-io "Text classification with Transformer" recipe on the course's movie reviews.

The recipe as published (written here from its description): a 20,000-word vocabulary, reviews cut or
padded to 200 tokens, token + position embeddings of size 32, one post-norm Transformer block (2 heads,
feed-forward size 32, dropout 0.1, layer-norm epsilon 1e-6), global average pooling, Dropout 0.1,
Dense 20 (ReLU), Dropout 0.1, Dense 2 (softmax); Adam, sparse categorical cross-entropy, batch 32,
2 epochs. It trains on the same leak-free train split as notebooks/07_bert_classifier.ipynb
(``course_utils.bert.split_by_movie``) and is tested on the same test reviews.

Nothing is adapted to this data on purpose. Note that the snippets average about 19 words, so about
90 % of the 200 positions are padding, which the recipe neither masks in attention nor excludes from
the average pooling; in 2 epochs it may stay at the majority-class accuracy (it did in our runs).

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

    def call(self, inputs, training=None):
        attended = self.dropout_1(self.attention(inputs, inputs), training=training)
        first = self.norm_1(inputs + attended)
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


def main() -> None:
    course_utils.set_seed(42)
    reviews = data.load_movie_reviews()
    texts = np.array(reviews["texts"], dtype=object)
    labels = np.array(reviews["labels"], dtype=np.int32)
    split = bert.split_by_movie(reviews["movies"])

    vectorizer = layers.TextVectorization(max_tokens=VOCABULARY_SIZE, output_sequence_length=MAX_LENGTH)
    vectorizer.adapt(tf.constant(list(texts[split["train"]])))
    x_train, x_validation, x_test = (
        vectorizer(tf.constant(list(texts[split[k]]))) for k in ("train", "validation", "test")
    )
    y_train, y_validation, y_test = (labels[split[k]] for k in ("train", "validation", "test"))

    inputs = layers.Input(shape=(MAX_LENGTH,))
    x = TokenAndPositionEmbedding(MAX_LENGTH, VOCABULARY_SIZE, EMBED_DIM)(inputs)
    x = TransformerBlock(EMBED_DIM, NUM_HEADS, FEED_FORWARD_DIM)(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    started = time.perf_counter()
    model.fit(
        x_train, y_train, batch_size=BATCH_SIZE, epochs=EPOCHS, validation_data=(x_validation, y_validation), verbose=2
    )
    train_seconds = time.perf_counter() - started
    test_accuracy = float(model.evaluate(x_test, y_test, verbose=0)[1])
    print(f"anchor transformer: test accuracy {test_accuracy:.4f}, trained in {train_seconds:.1f} s")
    course_utils.record_metric("anchor_transformer_test_accuracy", test_accuracy)
    course_utils.record_metric("anchor_transformer_train_seconds", train_seconds, unit="s")


if __name__ == "__main__":
    main()
