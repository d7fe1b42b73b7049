"""Tests of course_utils.convert on the real MiniLM files (explained in notebooks/07_bert_classifier.ipynb)."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import bert, convert, data

SENTENCES = [
    "A quietly moving film about grief.",
    "The plot is thin and the jokes fall flat!",
    "Unexpectedly, it works.",
]


def _minilm_available() -> bool:
    return any(row["dataset"] == "minilm" and row["available"] == "yes" for row in data.dataset_status(verify=False))


@pytest.fixture(scope="module")
def minilm():
    if not _minilm_available():
        pytest.skip("MiniLM files are not available offline")
    keras_hub = pytest.importorskip("keras_hub")
    files = data.minilm_files(verbose=False)
    weights = convert.read_safetensors(files["model.safetensors"])
    sizes = convert.bert_sizes_from_config(files["config.json"])
    encoder = bert.build_bert_encoder(**sizes, dropout=0.0, name="minilm")
    mapping = convert.load_bert_weights(encoder, weights)
    tokenizer = keras_hub.tokenizers.BertTokenizer(vocabulary=str(files["vocab.txt"]), lowercase=True)
    token_ids, padding_mask = bert.pack_token_ids(tokenizer.tokenize(SENTENCES), 16, cls_id=101, sep_id=102)
    return {
        "weights": weights,
        "sizes": sizes,
        "encoder": encoder,
        "mapping": mapping,
        "ids": (token_ids, padding_mask),
    }


def test_config_sizes_are_minilm(minilm):
    assert minilm["sizes"] == {
        "vocabulary_size": 30522,
        "num_layers": 6,
        "num_heads": 12,
        "hidden_dim": 384,
        "intermediate_dim": 1536,
        "max_sequence_length": 512,
        "num_segments": 2,
    }


def test_keras_output_matches_the_numpy_reference_on_real_sentences(minilm):
    token_ids, padding_mask = minilm["ids"]
    segment_ids = np.zeros_like(token_ids)
    assert token_ids[0, 0] == 101 and (padding_mask == 0).any()  # [CLS] first, and some padding to test the mask
    keras_output = minilm["encoder"](
        {"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask}
    )["sequence_output"]
    reference = convert.reference_bert_forward(minilm["weights"], token_ids, segment_ids, padding_mask)
    real = padding_mask == 1
    difference = np.abs(np.asarray(keras_output)[real] - reference[real]).max()
    assert difference < 1e-4, difference


def test_a_mapped_tensor_has_the_file_values(minilm):
    files = data.minilm_files(verbose=False)
    from safetensors.numpy import load_file

    raw = load_file(str(files["model.safetensors"]))
    query = minilm["encoder"].get_layer("transformer_layer_2")._self_attention_layer.query_dense.kernel
    kernel = np.asarray(query.numpy())  # (in=384, heads=12, head_dim=32)
    torch_weight = raw["encoder.layer.2.attention.self.query.weight"]  # (out=384, in=384)
    # Output unit 5*32+7 (head 5, dimension 7) reads input unit 11 through weight [out, in].
    assert kernel[11, 5, 7] == torch_weight[5 * 32 + 7, 11]
    assert minilm["mapping"][query.path] == "encoder.layer.2.attention.self.query.weight"
    assert len(minilm["mapping"]) == 5 + 6 * 16 + 2


def test_missing_or_misshapen_tensors_raise_before_any_assignment():
    pytest.importorskip("keras_hub")
    encoder = bert.build_bert_encoder(
        30, num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16, max_sequence_length=8
    )
    rng = np.random.default_rng(0)
    weights = {}
    for variable, name, how in convert._mapping(encoder):
        shape = tuple(variable.shape)
        if how == "transpose":
            shape = (int(np.prod(shape[1:])), shape[0])  # PyTorch (out, in)
        elif len(shape) == 2 and "bias" in name:
            shape = (int(np.prod(shape)),)
        weights[name] = rng.normal(size=shape).astype(np.float32)
    convert.load_bert_weights(encoder, weights)  # a complete, well-shaped set loads
    before = [v.numpy().copy() for v in encoder.weights]

    wrong = dict(weights)
    wrong["encoder.layer.0.intermediate.dense.weight"] = np.zeros((8, 16), np.float32)  # (in, out): not transposed
    with pytest.raises(ValueError, match="does not fit"):
        convert.load_bert_weights(encoder, {**wrong, "embeddings.word_embeddings.weight": np.ones((30, 8), np.float32)})
    missing = {k: v for k, v in weights.items() if k != "pooler.dense.bias"}
    with pytest.raises(ValueError, match="missing"):
        convert.load_bert_weights(encoder, missing)
    for old, variable in zip(before, encoder.weights, strict=True):
        np.testing.assert_array_equal(old, variable.numpy())  # nothing was half-loaded


def test_reference_rejects_bad_inputs(minilm):
    ids = np.array([[101, 2023, 102]])
    with pytest.raises(ValueError):
        convert.reference_bert_forward(minilm["weights"], ids[0], ids[0], ids[0])
    with pytest.raises(ValueError):
        convert.reference_bert_forward(minilm["weights"], ids, ids[:, :2], np.ones_like(ids))
    with pytest.raises(ValueError):
        convert.reference_bert_forward({}, ids, np.zeros_like(ids), np.ones_like(ids))
    with pytest.raises(ValueError):
        convert.bert_sizes_from_config({"vocab_size": 3})
