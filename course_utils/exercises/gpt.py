"""Exercises of notebooks/08_gpt_from_scratch.ipynb. Expected values come from closed forms and from
Keras' own parameter count, never from the learner's code."""

from __future__ import annotations

import numpy as np

from course_utils.exercises import Case, Exercise


def _min_p_cases():
    hand = np.log([0.5, 0.3, 0.15, 0.05])  # probabilities 0.5, 0.3, 0.15, 0.05
    inf = -np.inf
    return [
        Case("min_p = 0.5 keeps p >= 0.25", args=(hand, 0.5), expected=np.array([hand[0], hand[1], inf, inf])),
        Case("min_p = 0.2 keeps p >= 0.1", args=(hand, 0.2), expected=np.array([hand[0], hand[1], hand[2], inf])),
        Case("min_p = 0 keeps everything", args=(hand, 0.0), expected=hand),
        Case("min_p = 1 keeps the most likely", args=(hand, 1.0), expected=np.array([hand[0], inf, inf, inf])),
        Case(
            "logits need not be normalised",
            args=(np.array([3.0, 2.0, 0.0]), 0.3),  # p_i / p_max = e^(z_i - 3): 1, 0.37, 0.05
            expected=np.array([3.0, 2.0, inf]),
        ),
    ]


def _untied_cases():
    def keras_count(vocabulary_size, context_length, d_model, num_layers):
        import keras

        from course_utils import gpt

        model = gpt.GPT(vocabulary_size, context_length, d_model, num_layers, num_heads=2)
        inputs = keras.Input((None,), dtype="int32")
        untied = keras.layers.Dense(vocabulary_size)  # a separate head on the final hidden states
        hidden = model.final_norm(_blocks(model, model.embedding(inputs)))
        return keras.Model(inputs, untied(hidden)).count_params()

    def _blocks(model, x):
        for block in model.blocks:
            x = block(x)
        return x

    return [
        Case("V=74, T=256, d=128, L=4 (Keras' count)", args=(74, 256, 128, 4), expected=keras_count(74, 256, 128, 4)),
        Case("V=10, T=8, d=4, L=1 (Keras' count)", args=(10, 8, 4, 1), expected=keras_count(10, 8, 4, 1)),
        Case("GPT-2 small sizes", args=(50_257, 1_024, 768, 12), expected=124_439_808 + 50_257 * 768 + 50_257),
    ]


def _multi_query_cases():
    return [
        Case("L=4, T=256, d=128, 4 heads", args=(4, 256, 128, 4), expected=2 * 4 * 256 * 32 * 4),
        Case("one head: same as full attention", args=(2, 10, 8, 1), expected=2 * 2 * 10 * 8 * 4),
        Case(
            "batch of 8 in float16",
            args=(96, 2048, 12_288, 96),
            kwargs={"batch_size": 8, "bytes_per_value": 2},
            expected=2 * 96 * 2048 * 128 * 8 * 2,
        ),
    ]


EXERCISES = {
    "gpt.min_p": Exercise(
        title="min-p sampling",
        hint="probabilities(logits) / its max gives each token's ratio to the most likely one; "
        "np.where(ratio >= min_p, logits, -np.inf).",
        cases=_min_p_cases,
    ),
    "gpt.untied_parameters": Exercise(
        title="parameters with an untied head",
        hint="start from gpt_parameter_count(...) and add the Dense(V) layer: a (d, V) kernel and V biases.",
        cases=_untied_cases,
    ),
    "gpt.multi_query_cache": Exercise(
        title="KV-cache bytes with multi-query attention",
        hint="like kv_cache_bytes, but each layer stores one key and one value head of size d / h per position.",
        cases=_multi_query_cases,
    ),
}
