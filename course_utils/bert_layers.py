"""Keras layers of the BERT lesson that the encoder builder does not provide.

:class:`TiedLogits` is the masked-language-model output layer whose weights are the token
embeddings themselves (weight tying, as in BERT). Explained in notebooks/07_bert_classifier.ipynb,
which defines the same class (tests/test_lesson_code.py proves the two identical); used by
``benchmarks/search/reviews_mlm_learning_curve.py``. Unlike :mod:`course_utils.bert`, this module
imports Keras when it is imported.
"""

from __future__ import annotations

import keras

__all__ = ["TiedLogits"]


class TiedLogits(keras.layers.Layer):
    """Logits over the vocabulary from the token embedding matrix itself: h · Eᵀ + b."""

    def __init__(self, embedding, **kwargs):
        super().__init__(**kwargs)
        self.embedding = embedding

    def build(self, input_shape):
        if input_shape[-1] != self.embedding.output_dim:
            raise ValueError(f"hidden size {input_shape[-1]} must equal the embedding size {self.embedding.output_dim}")
        self.bias = self.add_weight(shape=(self.embedding.input_dim,), initializer="zeros", name="bias")

    def call(self, hidden):
        return keras.ops.matmul(hidden, keras.ops.transpose(self.embedding.embeddings)) + self.bias
