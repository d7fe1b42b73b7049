"""Weight-only quantisation of the course GPT (lesson 08's model, ``zoo.gpt()``), from scratch in NumPy:
symmetric round-to-nearest int8 and int4 codes (``course_utils.quantize``) per tensor, per output
channel and per group of 32, 64 or 128 input rows, each scored by held-out nats/char on The Tempest
with lesson 08's protocol, with the bytes it stores and its reconstruction error; and why per-tensor
int4 fails: the outliers (max |w| / mean |w| per output channel), the share of weights rounded to
zero, a kernel-by-kernel ablation, and an outlier planted without changing the float model.

What is quantised: the 12 kernels of the 3 blocks (``qkv`` = W_q | W_k | W_v, ``proj`` = W_o,
``mlp_in``, ``mlp_out``), 93 % of the parameters. The token embedding is tied to the output head
(logits = h Eᵀ): it stays float32 in the main table and is quantised in two extra rows, with one
scale per vocabulary row (= per output channel of the head's kernel Eᵀ, and one per token vector
for the lookup). Position embeddings, biases and LayerNorms stay float32. Codes are symmetric and
narrow ([-7, 7] for int4, [-127, 127] for int8), bytes count packed codes plus one float32 scale per
block (per tensor: one scale). Groups that do not divide a kernel's input rows take the remainder in
a shorter last group (``quantize.quantize_groups``): with 96 input rows, groups of 64 are 64 + 32
rows and a group of 128 is the whole column (per channel); ``mlp_out`` has 384 rows (6 × 64, 3 × 128).

The held-out protocol of lesson 08: The Tempest cut into consecutive non-overlapping windows of 101
characters, each scored from an empty context (100 predictions per window); intervals are 95 %
percentile bootstraps over windows of the paired difference to float32. Writes
``course_utils/results/gpt_weight_quantization.json`` (package data, so that lesson 09 finds it on Colab).

    COURSE_DATA_DIR=/work/shared/datasets COURSE_OFFLINE=1 python benchmarks/search/gpt_weight_quantization.py

Loads the GPT from the model cache, or trains it first (``zoo.train_gpt``, 150 s and at least 800
steps). The quantised evaluations take a few minutes on 2 cores.
"""

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import keras
import numpy as np

from course_utils import data, quantize, shapley, text, zoo

OUTPUT = Path(__file__).resolve().parents[2] / "course_utils" / "results" / "gpt_weight_quantization.json"
WINDOW = 101  # lesson 08: 101 characters, 100 predictions from an empty context
BITS = (8, 4)
GROUP_SIZES = (32, 64, 128)
SCALE_BYTES = 4  # one float32 scale per block
PLANTED_FACTOR = 8.0  # the planted outlier: one value channel per block ×8, its W_o row ÷8 (a power of 2: exact)


def heldout_windows():
    _, heldout_ids, _ = text.encoded_split(data.load_shakespeare(verbose=False))
    return heldout_ids[: len(heldout_ids) // WINDOW * WINDOW].reshape(-1, WINDOW)


def window_nats(model, windows, batch_size=64):
    """Mean next-character cross-entropy (nats) of each window, from the logits."""
    nats = []
    for start in range(0, len(windows), batch_size):
        chunk = windows[start : start + batch_size]
        logits = model(chunk[:, :-1], training=False)
        losses = keras.losses.sparse_categorical_crossentropy(chunk[:, 1:], logits, from_logits=True)
        nats.append(np.asarray(losses).mean(axis=1))
    return np.concatenate(nats)


def kernel_variables(model):
    """{name: variable} for the 12 Dense kernels, in the order of the blocks."""
    kernels = {}
    for index, block in enumerate(model.blocks):
        for name, layer in [
            ("qkv", block.attention.qkv),
            ("proj", block.attention.proj),
            ("mlp_in", block.mlp_in),
            ("mlp_out", block.mlp_out),
        ]:
            kernels[f"block{index}/{name}"] = layer.kernel
    return kernels


def quantize_kernel(kernel, bits, granularity):
    """(codes, scales, dequantized, scales stored) for "tensor", "channel" or "group<G>"."""
    group_size = int(granularity[5:]) if granularity.startswith("group") else None
    if group_size:
        codes, scales, dequantized = quantize.quantize_groups(kernel, bits, group_size)
    else:
        codes, scales, dequantized = quantize.quantize_weights(kernel, bits, granularity)
    # what is stored (codes and scales) is enough to rebuild the weights the model uses
    assert np.array_equal(quantize.dequantize_weights(codes, scales, group_size), dequantized)
    return codes, scales, dequantized, 1 if granularity == "tensor" else scales.size


class Scorer:
    """Scores the GPT with some of its weights replaced, then puts the float32 weights back."""

    def __init__(self, model, windows):
        self.model, self.windows = model, windows
        self.variables = {**kernel_variables(model), "token_embeddings": model.embedding.token_embeddings}
        self.float = {name: variable.numpy() for name, variable in self.variables.items()}
        self.float_nats = window_nats(model, windows)

    def nats(self, replaced):
        for name, value in replaced.items():
            self.variables[name].assign(value.astype(np.float32))
        try:
            return window_nats(self.model, self.windows)
        finally:
            for name in replaced:
                self.variables[name].assign(self.float[name])

    def summary(self, nats):
        delta = nats - self.float_nats
        low, high = shapley.bootstrap_interval(delta)
        return {"nats_per_char": float(nats.mean()), "delta": float(delta.mean()), "delta_95": [low, high]}


def configuration(scorer, bits, granularity, with_embedding=False):
    """Quantise every kernel (and the tied embedding, per vocabulary row), score, count bytes and error."""
    replaced, stored, errors, zero_codes = {}, 0, {}, 0
    names = [name for name in scorer.float if name != "token_embeddings"]
    for name in names:
        codes, _, replaced[name], scales_stored = quantize_kernel(scorer.float[name], bits, granularity)
        stored += quantize.quantized_bytes(codes.shape, bits, scales_stored, SCALE_BYTES)
        errors[name] = quantize.reconstruction_error(scorer.float[name], replaced[name])["relative"]
        zero_codes += int(np.sum(codes == 0))
    kernel_weights = sum(scorer.float[name].size for name in names)
    embedding = scorer.float["token_embeddings"]
    if with_embedding:  # Eᵀ (d, V) per channel = one scale per vocabulary row of E
        codes, scales, dequantized = quantize.quantize_weights(embedding.T, bits, "channel")
        replaced["token_embeddings"] = dequantized.T
        embedding_bytes = quantize.quantized_bytes(embedding.shape, bits, scales.size, SCALE_BYTES)
        embedding_error = quantize.reconstruction_error(embedding, dequantized.T)["relative"]
    else:
        embedding_bytes, embedding_error = 4 * embedding.size, 0.0
    everything = np.concatenate([scorer.float[name].ravel() for name in names])
    rebuilt = np.concatenate([replaced[name].ravel() for name in names])
    other_parameters = scorer.model.count_params() - kernel_weights - embedding.size
    result = {
        "bits": bits,
        "granularity": granularity,
        "tied_embedding_quantized": with_embedding,
        "kernel_bytes": stored,
        "kernel_bits_per_weight": 8 * stored / kernel_weights,
        "model_bytes": stored + embedding_bytes + 4 * other_parameters,
        "kernel_relative_error": quantize.reconstruction_error(everything, rebuilt)["relative"],
        "kernel_max_abs_error": quantize.reconstruction_error(everything, rebuilt)["max_abs"],
        "relative_error_per_kernel": errors,
        "embedding_relative_error": embedding_error,
        "zero_code_share": zero_codes / kernel_weights,
    }
    return {**result, **scorer.summary(scorer.nats(replaced))}


def outliers(scorer, ablation=True):
    """Per kernel: the outlier ratios, the int4 steps and zero codes per tensor vs per channel, and
    (``ablation``) the loss when only this kernel is int4 per tensor / per channel."""
    rows = {}
    for name, kernel in scorer.float.items():
        if name == "token_embeddings":
            continue
        magnitude = np.abs(kernel)
        channel_ratio = magnitude.max(axis=0) / magnitude.mean(axis=0)  # max |w| / mean |w| per output channel
        channel_max = magnitude.max(axis=0)
        tensor_codes, _, tensor_weights, _ = quantize_kernel(kernel, 4, "tensor")
        channel_codes, _, channel_weights, _ = quantize_kernel(kernel, 4, "channel")
        row = {
            "shape": list(kernel.shape),
            "max_over_mean_abs_per_channel": {
                "median": float(np.median(channel_ratio)),
                "max": float(channel_ratio.max()),
            },
            "max_over_mean_abs_whole_kernel": float(magnitude.max() / magnitude.mean()),
            # the per-tensor int4 step over each channel's own step = max |W| / the channel's max |w|
            "tensor_step_over_median_channel_step": float(magnitude.max() / np.median(channel_max)),
            # how many int4 steps the average weight of a channel spans (its median over channels): 7 mean|w| / max
            "int4_mean_abs_in_steps": {
                "tensor": float(np.median(7 * magnitude.mean(axis=0) / magnitude.max())),
                "channel": float(np.median(7 / channel_ratio)),
            },
            "int4_zero_codes": {
                "tensor": float(np.mean(tensor_codes == 0)),
                "channel": float(np.mean(channel_codes == 0)),
            },
            "int4_relative_error": {
                "tensor": quantize.reconstruction_error(kernel, tensor_weights)["relative"],
                "channel": quantize.reconstruction_error(kernel, channel_weights)["relative"],
            },
        }
        if ablation:
            row["int4_only_this_kernel_delta"] = {
                "tensor": scorer.summary(scorer.nats({name: tensor_weights}))["delta"],
                "channel": scorer.summary(scorer.nats({name: channel_weights}))["delta"],
            }
        rows[name] = row
        print(name, json.dumps(row), flush=True)
    return rows


def planted_outlier(scorer, factor=PLANTED_FACTOR):
    """Make value channel 0 of every block ``factor`` times larger (its qkv column and bias) and row 0
    of its W_o ``factor`` times smaller: attention is linear in the values, so the float model
    computes the same function; then quantise the planted kernels at int4."""
    model, column = scorer.model, 2 * scorer.model.sizes["d_model"]  # the first value column of W_q | W_k | W_v
    planted, planted_biases = {}, []
    for index, block in enumerate(model.blocks):
        qkv, proj = scorer.float[f"block{index}/qkv"].copy(), scorer.float[f"block{index}/proj"].copy()
        qkv[:, column] *= factor
        proj[0, :] /= factor
        planted[f"block{index}/qkv"], planted[f"block{index}/proj"] = qkv, proj
        planted_biases.append(block.attention.qkv.bias.numpy().copy())
        planted_biases[-1][column] *= factor
    saved_biases = [block.attention.qkv.bias.numpy() for block in model.blocks]
    probe = scorer.windows[:8, :-1]
    logits_float = model(probe, training=False).numpy()
    # max/mean within a channel does not change when the channel is scaled; its max against the others' does
    ratios = [
        np.abs(kernel[:, column]).max() / np.median(np.abs(kernel).max(axis=0))
        for name, kernel in planted.items()
        if name.endswith("qkv")
    ]
    result = {"factor": factor, "qkv_planted_channel_max_over_median_channel_max": [float(r) for r in ratios]}
    try:
        for block, bias in zip(model.blocks, planted_biases, strict=True):
            block.attention.qkv.bias.assign(bias)
        for name, value in planted.items():
            scorer.variables[name].assign(value)
        difference = np.abs(model(probe, training=False).numpy() - logits_float).max()
        result["float_logits_max_abs_difference"] = float(difference)
        result["float"] = scorer.summary(scorer.nats(planted))  # restores the float kernels afterwards
        for granularity in ("tensor", "channel", "group32"):
            quantized = {name: quantize_kernel(value, 4, granularity)[2] for name, value in planted.items()}
            result[f"int4 {granularity}"] = scorer.summary(scorer.nats(quantized))
            print("planted outlier, int4", granularity, json.dumps(result[f"int4 {granularity}"]), flush=True)
    finally:
        for block, bias in zip(model.blocks, saved_biases, strict=True):
            block.attention.qkv.bias.assign(bias)
        for name in planted:
            scorer.variables[name].assign(scorer.float[name])
    return result


def main(output=OUTPUT, ablation=True):
    started = time.time()
    cached = zoo.cached_model_path("gpt").exists()
    model = zoo.gpt()
    windows = heldout_windows()
    scorer = Scorer(model, windows)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    evaluated = model.evaluate(windows[:, :-1], windows[:, 1:], batch_size=64, verbose=0)
    print(f"float32: {scorer.float_nats.mean():.4f} nats/char; model.evaluate: {evaluated:.4f}", flush=True)
    kernel_weights = sum(value.size for name, value in scorer.float.items() if name != "token_embeddings")
    results = {
        "description": __doc__.split("\n\n")[0],
        "date": datetime.date.today().isoformat(),
        "model": {
            "sizes": model.sizes,
            "parameters": model.count_params(),
            "kernel_weights": kernel_weights,
            "from_cache": cached,
        },
        "protocol": {
            "heldout": text.HELDOUT_WORK,
            "windows": len(windows),
            "window_characters": WINDOW,
            "float32_nats_per_char": float(scorer.float_nats.mean()),
            "keras_evaluate_nats_per_char": float(evaluated),
            "scale_bytes": SCALE_BYTES,
            "int4_codes": [-7, 7],
            "int8_codes": [-127, 127],
            "rounding": "np.round (half to even)",
        },
        "configurations": [
            {
                "bits": 32,
                "granularity": "float32",
                "kernel_bytes": 4 * kernel_weights,
                "model_bytes": 4 * model.count_params(),
                "kernel_relative_error": 0.0,
                "nats_per_char": float(scorer.float_nats.mean()),
                "delta": 0.0,
                "delta_95": [0.0, 0.0],
            }
        ],
    }
    granularities = ["tensor", "channel", *(f"group{size}" for size in GROUP_SIZES)]
    for bits in BITS:
        for granularity, with_embedding in [*((g, False) for g in granularities), ("channel", True)]:
            row = configuration(scorer, bits, granularity, with_embedding)
            results["configurations"].append(row)
            print(
                f"int{bits} {granularity:<9}{' + tied embedding' if with_embedding else ''} "
                f"{row['nats_per_char']:.4f} nats/char  Δ {row['delta']:+.4f} [{row['delta_95'][0]:+.4f}, "
                f"{row['delta_95'][1]:+.4f}]  kernels {row['kernel_bytes']:>8} B, model {row['model_bytes']:>8} B  "
                f"rel. error {row['kernel_relative_error']:.4f}",
                flush=True,
            )
    output.write_text(json.dumps(results, indent=1) + "\n")  # the main table, in case the rest is cut short
    results["outliers"] = outliers(scorer, ablation)
    results["planted_outlier"] = planted_outlier(scorer)
    results["seconds"] = round(time.time() - started)
    output.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {output} after {results['seconds']} s", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT, help="JSON to write (default: the package's)")
    parser.add_argument("--no-ablation", action="store_true", help="skip the kernel-by-kernel int4 ablation")
    arguments = parser.parse_args()
    main(arguments.output, ablation=not arguments.no_ablation)
