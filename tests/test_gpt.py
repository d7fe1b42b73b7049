"""course_utils.gpt (notebooks/08_gpt_from_scratch.ipynb): every piece against an independent reference.

References: the course's float64 NumPy attention (course_utils.attention), keras_hub's
TransformerDecoder in decoder-only, pre-LN mode, full recomputation (for the KV cache), closed forms
(parameter and cache formulas, GPT-2 small's published 124,439,808 parameters).
"""

from __future__ import annotations

import keras
import keras_hub
import numpy as np
import pytest

from course_utils import attention as at
from course_utils import gpt


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    m = gpt.GPT(vocabulary_size=20, context_length=32, d_model=32, num_layers=2, num_heads=4)
    m(np.zeros((1, 4), np.int32))
    # non-zero biases and LayerNorm parameters, so that every weight's role is tested
    rng = np.random.default_rng(0)
    for weight in m.weights:
        if weight.path.endswith(("bias", "gamma", "beta")):
            weight.assign(weight.numpy() + rng.normal(scale=0.1, size=weight.shape))
    return m


def _ids(length, batch=2, seed=1):
    return np.random.default_rng(seed).integers(0, 20, (batch, length)).astype(np.int32)


def test_attention_equals_numpy_multi_head_attention_with_causal_mask(model):
    attention = model.blocks[0].attention
    x = np.random.default_rng(2).normal(size=(2, 9, 32))
    ours, our_weights = (np.asarray(t) for t in attention(x.astype("float32"), return_weights=True))
    kernel, bias = (w.numpy().astype(np.float64) for w in attention.qkv.weights)
    params = dict(zip(["wq", "wk", "wv"], np.split(kernel, 3, axis=1), strict=True))
    params |= dict(zip(["bq", "bk", "bv"], np.split(bias, 3), strict=True))
    params["wo"], params["bo"] = (w.numpy().astype(np.float64) for w in attention.proj.weights)
    reference, reference_weights = at.multi_head_attention(x, x, params, 4, mask=at.causal_mask(9))
    assert np.abs(ours - reference).max() < 1e-5
    assert np.abs(our_weights - reference_weights).max() < 1e-6
    assert our_weights[..., np.triu_indices(9, 1)[0], np.triu_indices(9, 1)[1]].max() == 0.0


def test_decoder_block_equals_keras_hub_transformer_decoder_pre_ln(model):
    block = model.blocks[1]
    reference = keras_hub.layers.TransformerDecoder(
        intermediate_dim=128, num_heads=4, activation="gelu", layer_norm_epsilon=1e-5, normalize_first=True
    )
    x = np.random.default_rng(3).normal(size=(2, 7, 32)).astype("float32")
    reference(x)  # decoder-only: no encoder sequence; causal mask by default
    attention = reference._self_attention_layer
    kernel, bias = (w.numpy() for w in block.attention.qkv.weights)
    for dense, part in zip(
        [attention._query_dense, attention._key_dense, attention._value_dense], range(3), strict=True
    ):
        dense.kernel.assign(kernel[:, 32 * part : 32 * (part + 1)].reshape(32, 4, 8))
        dense.bias.assign(bias[32 * part : 32 * (part + 1)].reshape(4, 8))
    attention._output_dense.kernel.assign(block.attention.proj.kernel.numpy().reshape(4, 8, 32))
    attention._output_dense.bias.assign(block.attention.proj.bias.numpy())
    reference._self_attention_layer_norm.set_weights(block.norm1.get_weights())
    reference._feedforward_layer_norm.set_weights(block.norm2.get_weights())
    reference._feedforward_intermediate_dense.set_weights(block.mlp_in.get_weights())
    reference._feedforward_output_dense.set_weights(block.mlp_out.get_weights())
    assert np.abs(block(x).numpy() - reference(x).numpy()).max() < 1e-5


def test_a_future_token_changes_no_earlier_logit(model):
    ids = _ids(16)
    logits = model(ids).numpy()
    for t in (0, 5, 15):
        changed = ids.copy()
        changed[:, t] = (changed[:, t] + 1) % 20
        difference = np.abs(model(changed).numpy() - logits)
        assert difference[:, :t].max(initial=0.0) == 0.0, "exactly 0: nothing before t reads position t"
        assert difference[:, t:].max() > 1e-4


def test_output_head_is_tied_to_the_token_embedding(model):
    ids = _ids(6)
    hidden = model.embedding(ids)
    for block in model.blocks:
        hidden = block(hidden)
    by_hand = model.final_norm(hidden).numpy() @ model.embedding.token_embeddings.numpy().T
    assert np.abs(model(ids).numpy() - by_hand).max() < 1e-5
    shapes = [tuple(w.shape) for w in model.weights]
    assert shapes.count((20, 32)) == 1 and (32, 20) not in shapes, "one table, used at both ends"


def test_parameter_formula_equals_keras_and_gpt2_small(model):
    assert gpt.gpt_parameter_count(20, 32, 32, 2) == model.count_params()
    assert gpt.gpt_parameter_count(50_257, 1_024, 768, 12) == 124_439_808  # GPT-2 small, as published


def test_kv_cache_logits_equal_full_recomputation(model):
    ids = _ids(32, batch=1)
    full = model(ids).numpy()[0]
    logits, caches = model.decode_step(ids[:, :10], model.empty_caches(1), 0)  # a prompt in one call
    steps = list(logits.numpy()[0])
    for position in range(10, 32):  # then one token at a time
        logits, caches = model.decode_step(ids[:, position : position + 1], caches, position)
        steps.append(logits.numpy()[0, 0])
    assert np.abs(np.array(steps) - full).max() < 1e-4
    held = sum(np.asarray(a).nbytes for pair in caches for a in pair)
    assert held == gpt.kv_cache_bytes(2, 32, 32) == 2 * 2 * 32 * 32 * 4


def test_save_and_reload_give_identical_logits(model, tmp_path):
    path = tmp_path / "gpt.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, custom_objects=gpt.custom_objects())
    ids = _ids(10)
    np.testing.assert_array_equal(reloaded(ids).numpy(), model(ids).numpy())
    assert reloaded.get_config()["num_heads"] == 4


def test_warmup_cosine_budget_schedule():
    schedule = gpt.WarmupCosineBudget(peak=1e-3, seconds=100, warmup_steps=10, final_fraction=0.1)
    schedule.steps, schedule.elapsed = 0, 0.0
    assert schedule.learning_rate() == pytest.approx(1e-4)  # first warm-up step: 1/10 of the peak
    schedule.steps = 50
    assert schedule.learning_rate() == pytest.approx(1e-3)  # warmed up, cosine at its start
    schedule.elapsed = 50.0
    assert schedule.learning_rate() == pytest.approx(1e-3 * (0.1 + 0.9 * 0.5))  # half the budget
    schedule.elapsed = 500.0
    assert schedule.learning_rate() == pytest.approx(1e-4)  # past the budget: the floor


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"d_model": 30, "num_heads": 4}, r"d_model \(30\) must be divisible by num_heads \(4\)"),
        ({"d_model": 0}, r"d_model must be a positive integer"),
        ({"num_layers": 1.5}, r"num_layers must be a positive integer"),
        ({"vocabulary_size": -1}, r"vocabulary_size must be a positive integer"),
        ({"context_length": True}, r"context_length must be a positive integer"),
    ],
)
def test_bad_sizes_are_refused_clearly(kwargs, message):
    sizes = {"vocabulary_size": 10, "context_length": 8, "d_model": 8, "num_layers": 1, "num_heads": 2} | kwargs
    with pytest.raises(ValueError, match=message):
        gpt.GPT(**sizes)


def test_formula_helpers_refuse_bad_arguments():
    with pytest.raises(ValueError, match=r"num_layers must be a positive integer"):
        gpt.gpt_parameter_count(10, 8, 8, 0)
    with pytest.raises(ValueError, match=r"bytes_per_value must be a positive integer"):
        gpt.kv_cache_bytes(1, 8, 8, bytes_per_value=0.5)
