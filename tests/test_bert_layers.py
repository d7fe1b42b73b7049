"""course_utils.bert_layers.TiedLogits against NumPy: the MLM head's logits are h · Eᵀ + b with E the
token embedding itself, so the output side adds only the bias and trains the same matrix."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from course_utils.bert_layers import TiedLogits  # noqa: E402


def _model(vocabulary_size=11, hidden=4):
    keras.utils.set_random_seed(0)
    ids = keras.Input(shape=(3,), dtype="int32")
    embedding = keras.layers.Embedding(vocabulary_size, hidden, name="token_embedding")
    head = TiedLogits(embedding, name="tied")
    return keras.Model(ids, head(embedding(ids))), embedding, head


def test_logits_are_the_hidden_states_times_the_transposed_embedding_plus_bias():
    model, embedding, head = _model()
    head.bias.assign(np.linspace(-1, 1, 11).astype("float32"))
    ids = np.array([[1, 5, 10], [0, 2, 2]], np.int32)
    table = embedding.embeddings.numpy()
    expected = table[ids] @ table.T + head.bias.numpy()
    assert np.abs(model(ids).numpy() - expected).max() < 1e-6


def test_the_head_adds_only_a_bias_and_its_gradient_reaches_the_shared_embedding():
    model, embedding, head = _model()
    assert sorted(v.path for v in head.trainable_variables) == ["tied/bias", "token_embedding/embeddings"]
    assert any(v is embedding.embeddings for v in head.trainable_variables), "the same variable, not a copy"
    assert sorted(v.path for v in model.trainable_variables) == ["tied/bias", "token_embedding/embeddings"]
    ids = np.array([[1, 5, 10]], np.int32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(ids)[:, :, 7])  # row 7 is never an input: only the output side uses it
    gradient = tape.gradient(loss, embedding.embeddings)
    gradient = tf.convert_to_tensor(gradient).numpy()
    table = embedding.embeddings.numpy()
    expected_row_7 = table[ids[0]].sum(axis=0)  # d/dE_7 of sum_t h_t · E_7 = sum_t h_t
    assert np.abs(gradient[7] - expected_row_7).max() < 1e-6


def test_a_hidden_size_that_is_not_the_embedding_size_is_refused():
    embedding = keras.layers.Embedding(11, 4)
    embedding.build((None,))
    with pytest.raises(ValueError, match="hidden size 5 must equal the embedding size 4"):
        TiedLogits(embedding)(np.zeros((2, 5), np.float32))
