"""The full scaling-law sweep behind notebook 11: the course GPT at five sizes and the character LSTM at
five sizes, each trained on the same fixed token budget with two seeds, and an IsoFLOP sweep of the GPT
at two compute budgets (FLOPs counted exactly, attention and output head included). Every run uses
``course_utils.compute.train_language_model`` (a step budget, not a time budget, so the results do not depend on how busy the machine is). Writes
``course_utils/results/gpt_scaling_law.json`` (package data, so that notebook 11 finds it on Colab too);
notebook 11 loads it and re-runs the smallest sizes live.

    python benchmarks/search/gpt_scaling_law.py            # everything (about 15 minutes on 2 quiet cores)
    python benchmarks/search/gpt_scaling_law.py --part fixed   # or: isoflop (about 50 minutes on a busy machine)
    python benchmarks/search/gpt_scaling_law.py --part isoflop --budget 1e11 --output /tmp/part.json
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import keras

from course_utils import compute, data, gpt, text, zoo

OUTPUT = Path(__file__).resolve().parents[2] / "course_utils" / "results" / "gpt_scaling_law.json"
CONTEXT, BATCH = 64, 32
FIXED_STEPS = 200  # 200 × 32 × 64 = 409,600 training characters for every size
SEEDS = (0, 1)
GPT_SHAPES = [(16, 2, 2), (32, 2, 2), (48, 2, 4), (64, 3, 4), (96, 3, 4)]  # (d_model, blocks, heads)
LSTM_UNITS = [16, 32, 64, 128, 256]  # embedding 32, as in notebook 11's LSTM sweep
# IsoFLOP: every run gets the compute budget C counted exactly (compute.gpt_forward_flops: attention
# scores and the output head included, three times the forward pass for training), not 6ND
ISOFLOP_BUDGETS = (3e10, 1e11)  # at 1e10 the smallest width (4) was still best: not bracketed, so not kept
ISOFLOP_DIMS = (4, 8, 12, 16, 24, 32, 48)  # d_model; two blocks each
ISOFLOP_STEPS = (30, 2500)  # sizes whose step count falls outside are not run (too short / too long here)


def isoflop_shape(d):
    return (d, 2, 1 if d < 8 else 2 if d <= 32 else 4)  # (d_model, blocks, heads)


def training_flops_per_step(shape, vocabulary_size):
    return 3 * BATCH * compute.gpt_forward_flops(vocabulary_size, CONTEXT, *shape[:2])


def run_gpt(shape, steps, seed, train_ids, heldout_ids, vocabulary_size):
    d, layers, heads = shape
    keras.utils.set_random_seed(seed)
    model = gpt.GPT(vocabulary_size, CONTEXT, d, layers, heads)
    result = compute.train_language_model(model, train_ids, heldout_ids, steps, BATCH, CONTEXT, seed=seed)
    n = compute.gpt_non_embedding_params(d, layers)
    assert n + (vocabulary_size + CONTEXT) * d == model.count_params()
    return {"model": "gpt", "d_model": d, "num_layers": layers, "num_heads": heads, "seed": seed, "N": n, **result}


def run_lstm(units, steps, seed, train_ids, heldout_ids, vocabulary_size):
    keras.utils.set_random_seed(seed)
    model = zoo.build_char_model(vocabulary_size, 32, units, name="scaling_lstm")
    result = compute.train_language_model(model, train_ids, heldout_ids, steps, BATCH, CONTEXT, seed=seed)
    n = compute.lstm_params(32, units) + compute.dense_params(units, vocabulary_size)
    return {"model": "lstm", "units": units, "seed": seed, "N": n, **result}


def main(parts, budgets=ISOFLOP_BUDGETS, output=OUTPUT):
    train_ids, heldout_ids, vocabulary_size = text.encoded_split(data.load_shakespeare(verbose=False))
    results = json.loads(output.read_text()) if output.exists() else {}
    results["recipe"] = {
        "context": CONTEXT, "batch_size": BATCH, "fixed_steps": FIXED_STEPS, "peak_learning_rate": 3e-3,
        "vocabulary_size": vocabulary_size, "heldout": "The Tempest, non-overlapping windows of 64",
    }  # fmt: skip
    started = time.perf_counter()
    if "fixed" in parts:
        rows = []
        for seed in SEEDS:
            for shape in GPT_SHAPES:
                rows.append(run_gpt(shape, FIXED_STEPS, seed, train_ids, heldout_ids, vocabulary_size))
                print(json.dumps(rows[-1]), flush=True)
            for units in LSTM_UNITS:
                rows.append(run_lstm(units, FIXED_STEPS, seed, train_ids, heldout_ids, vocabulary_size))
                print(json.dumps(rows[-1]), flush=True)
        results["fixed_tokens"] = rows
    if "isoflop" in parts:
        results["isoflop_recipe"] = {
            "flops": "3 x compute.gpt_forward_flops per window (attention and output head included)",
            "budgets": ISOFLOP_BUDGETS, "d_model": ISOFLOP_DIMS, "num_layers": 2, "step_range": ISOFLOP_STEPS,
        }  # fmt: skip
        rows = [row for row in results.get("isoflop", []) if "flops_per_step" in row]  # earlier 6ND rows dropped
        done = {(row["budget"], row["d_model"], row["num_layers"]) for row in rows}
        for budget in budgets:
            for d in ISOFLOP_DIMS:
                shape = isoflop_shape(d)
                per_step = training_flops_per_step(shape, vocabulary_size)
                steps = round(budget / per_step)
                if (budget, *shape[:2]) in done or not ISOFLOP_STEPS[0] <= steps <= ISOFLOP_STEPS[1]:
                    continue
                row = run_gpt(shape, steps, 0, train_ids, heldout_ids, vocabulary_size)
                rows.append({"budget": budget, "flops_per_step": per_step, "flops": steps * per_step, **row})
                print(json.dumps(rows[-1]), flush=True)
                results["isoflop"] = rows
                output.write_text(
                    json.dumps(results, indent=1) + "\n"
                )  # after every run: an interrupted sweep keeps its runs
        results["isoflop"] = rows
    results["wall_seconds_last_run"] = round(time.perf_counter() - started)
    output.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {output.name} in {results['wall_seconds_last_run']} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["fixed", "isoflop"], action="append")
    parser.add_argument("--budget", type=float, action="append", help="IsoFLOP budgets to run (default: all)")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="JSON to update (default: the package's)")
    arguments = parser.parse_args()
    main(arguments.part or ["fixed", "isoflop"], tuple(arguments.budget or ISOFLOP_BUDGETS), arguments.output)
