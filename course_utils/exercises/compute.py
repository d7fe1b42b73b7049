"""Exercises of notebooks/11_compute_and_scale.ipynb (BERT-base by formula, compute-optimal size,
gradients of uneven shards, ZeRO memory)."""

from __future__ import annotations

import numpy as np

from course_utils.exercises import Case, Exercise


def _bert_cases():
    # bert-base-uncased as published (Hugging Face's BertModel, pooler included): an independent count
    return [Case("bert-base-uncased, pooler included", expected=109_482_240, atol=0)]


def _compute_optimal_cases():
    cases = []
    for flops in (5.76e23, 1e18, 3e11):  # Chinchilla's budget, and two small ones
        n = (flops / 120) ** 0.5  # closed form: C = 6 N D with D = 20 N
        cases.append(Case(f"C = {flops:.3g} FLOPs (closed form)", args=(flops,), expected=(n, 20 * n), atol=1e-6 * n))
    cases.append(Case("C = 0 is not a budget", args=(0.0,), raises=ValueError))
    return cases


def _weighted_mean_cases():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(128, 5)), rng.normal(size=(128, 1))
    w = tf.Variable(rng.normal(size=(5, 1)))

    def gradient(rows):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((tf.constant(x[rows]) @ w - y[rows]) ** 2)
        return tape.gradient(loss, w).numpy()

    cases = []
    for sizes in ((32, 32, 32, 32), (16, 16, 32, 64)):
        starts = np.cumsum([0, *sizes[:-1]])
        parts = [gradient(slice(start, start + size)) for start, size in zip(starts, sizes, strict=True)]
        cases.append(
            Case(
                f"shards of {sizes} (full-batch GradientTape)",
                args=(parts, list(sizes)),
                expected=gradient(slice(0, 128)),
                atol=1e-9,
            )
        )
    return cases


def _zero_cases():
    cases = []
    for stage, per_parameter in ((0, 16.0), (1, 2 + 2 + 12 / 64), (2, 2 + 14 / 64), (3, 16 / 64)):
        cases.append(Case(f"175e9 parameters, 64 devices, stage {stage} (ZeRO paper)", args=(175e9, 64, stage),
                          expected=per_parameter * 175e9, atol=1.0))  # fmt: skip
    cases.append(Case("8 devices, stage 3", args=(1e9, 8, 3), expected=2e9, atol=1.0))
    cases.append(Case("stage 4 does not exist", args=(1e9, 8, 4), raises=ValueError))
    return cases


EXERCISES = {
    "compute.bert_base_parameters": Exercise(
        title="BERT-base's parameters by formula",
        hint="compute.bert_encoder_params with vocabulary 30,522, 12 blocks, 12 heads, width 768, feed-forward "
        "3,072 and 512 positions.",
        cases=_bert_cases,
    ),
    "compute.compute_optimal": Exercise(
        title="the compute-optimal size and tokens for a budget",
        hint="Chinchilla's rule of thumb D = 20 N with C = 6 N D gives C = 120 N², so N = sqrt(C / 120); "
        "raise ValueError for a budget that is not positive.",
        cases=_compute_optimal_cases,
    ),
    "compute.weighted_gradient_mean": Exercise(
        title="the full-batch gradient from shards of different sizes",
        hint="Each shard's gradient is a mean over its examples; weight it by its share of the batch, "
        "size / sum(sizes), before adding.",
        cases=_weighted_mean_cases,
    ),
    "compute.zero_bytes_per_device": Exercise(
        title="training-state bytes per device under ZeRO",
        hint="16 bytes per parameter in mixed precision: 2 weights, 2 gradients, 12 optimiser state. Stage 1 "
        "divides the 12 by the devices, stage 2 also the gradients, stage 3 everything; stage 0 divides nothing.",
        cases=_zero_cases,
    ),
}
