"""The full scaling-law sweep behind notebook 11: the course GPT at five sizes and the character LSTM at
five sizes, each trained on the same fixed token budget with two seeds, and an IsoFLOP sweep of the GPT
at two compute budgets. Every run uses ``course_utils.compute.train_language_model`` (a step budget,
not a time budget, so the results do not depend on how busy the machine is). Writes
``course_utils/results/gpt_scaling_law.json`` (package data, so that notebook 11 finds it on Colab too);
notebook 11 loads it and re-runs the smallest sizes live.

    python benchmarks/search/gpt_scaling_law.py            # everything (about 15 minutes on 2 quiet cores)
    python benchmarks/search/gpt_scaling_law.py --part fixed   # or: isoflop
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
ISOFLOP = {
    1e11: [(16, 2, 2), (32, 2, 2), (48, 2, 4), (64, 3, 4)],
    3e11: [(16, 2, 2), (32, 2, 2), (48, 2, 4), (64, 3, 4), (96, 3, 4)],
}


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


def main(parts):
    train_ids, heldout_ids, vocabulary_size = text.encoded_split(data.load_shakespeare(verbose=False))
    results = json.loads(OUTPUT.read_text()) if OUTPUT.exists() else {}
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
        rows = results.get("isoflop", [])  # runs already stored are kept, not repeated
        done = {(row["budget"], row["d_model"], row["num_layers"]) for row in rows}
        for budget, shapes in ISOFLOP.items():
            for shape in shapes:
                if (budget, *shape[:2]) in done:
                    continue
                n = compute.gpt_non_embedding_params(*shape[:2])
                steps = max(1, round(budget / (6 * n * BATCH * CONTEXT)))
                rows.append({"budget": budget, **run_gpt(shape, steps, 0, train_ids, heldout_ids, vocabulary_size)})
                print(json.dumps(rows[-1]), flush=True)
        results["isoflop"] = rows
    results["wall_seconds_last_run"] = round(time.perf_counter() - started)
    OUTPUT.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {OUTPUT.name} in {results['wall_seconds_last_run']} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["fixed", "isoflop"], action="append")
    main(parser.parse_args().part or ["fixed", "isoflop"])
