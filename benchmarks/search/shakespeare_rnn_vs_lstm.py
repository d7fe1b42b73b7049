"""SimpleRNN vs LSTM on notebook 05's task, with a budget long enough to be fair (issue 17).

Notebook 05 compares the two live for only a few hundred steps (its CI budget), where the cheaper
SimpleRNN step can still be ahead. This script trains both with 05's recipe (Embedding 64 → 256
units → Dense logits, Adam 6e-3 with clipnorm 1, windows of 100 characters, batches of 64, the
eight default training plays) for the same **step budget**, so that the result does not depend
on how busy the machine is, and scores the held-out play (The Tempest, every window) in nats/char
every ``--every`` steps, for each seed. The budget, 750 steps of 64 windows of 100 characters
(4.8 million training characters), is what notebook 05's 150-second budget buys the LSTM on the
quiet 2-core machine (748 steps in its last quiet execution). A SimpleRNN step is about four
times cheaper (782 steps in 40 s in the same execution), so at equal *time* it would get about
2,930 steps: ``--rnn-steps 3000`` adds a SimpleRNN run of 3,000 steps per seed beside the
750-step ones (notebook 05 reads it at the step count its own measured rates give). The seconds
per step it records are measured on a machine shared with other jobs and are distorted by load;
the losses are not.
Writes ``course_utils/results/shakespeare_rnn_vs_lstm.json`` (package data, read by notebook 05).

    python benchmarks/search/shakespeare_rnn_vs_lstm.py --seeds 42 43   # about 10 quiet minutes
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import keras
import tensorflow as tf

import course_utils
from course_utils import data, text, zoo

OUTPUT = Path(__file__).resolve().parents[2] / "course_utils" / "results" / "shakespeare_rnn_vs_lstm.json"
STEPS = {"lstm": 750, "simple_rnn": 750}
SEQUENCE_LENGTH, BATCH_SIZE = 100, 64


def windows(ids):
    batched = tf.data.Dataset.from_tensor_slices(ids).batch(SEQUENCE_LENGTH + 1, drop_remainder=True)
    return batched.map(lambda window: (window[:-1], window[1:]))


class HeldOutEvery(keras.callbacks.Callback):
    """Scores the held-out windows every ``every`` steps; the clock stops while it does."""

    def __init__(self, heldout, every):
        super().__init__()
        self.heldout, self.every = heldout, every
        self.curve, self.train_seconds, self.steps = [], 0.0, 0

    def on_train_batch_begin(self, batch, logs=None):
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.train_seconds += time.perf_counter() - self.started
        self.steps += 1
        if self.steps % self.every == 0:
            nats = float(self.model.evaluate(self.heldout, verbose=0))
            self.curve.append({"step": self.steps, "train_seconds": round(self.train_seconds, 1), "heldout_nats": nats})
            print(f"  step {self.steps:5d}  {self.train_seconds:6.0f} s  held-out {nats:.3f} nats/char", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43])
    parser.add_argument("--every", type=int, default=250)
    parser.add_argument("--rnn-steps", type=int, default=STEPS["simple_rnn"])
    parser.add_argument("--output", type=Path, default=OUTPUT, help="another file, e.g. for seeds run in parallel")
    arguments = parser.parse_args()
    STEPS["simple_rnn"] = arguments.rnn_steps
    output = arguments.output
    train_ids, heldout_ids, vocabulary_size = text.encoded_split(data.load_shakespeare(verbose=False))
    heldout = windows(heldout_ids).batch(256)
    runs = json.loads(output.read_text())["runs"] if output.exists() else []
    for seed in arguments.seeds:
        for cell, steps in STEPS.items():
            if any(run["seed"] == seed and run["cell"] == cell and run["steps"] == steps for run in runs):
                continue  # already measured: a resumed sweep keeps what it has
            print(f"seed {seed}, {cell}, {steps} steps", flush=True)
            course_utils.set_seed(seed)
            dataset = (
                windows(train_ids)
                .shuffle(20_000, seed=seed)
                .batch(BATCH_SIZE, drop_remainder=True)
                .repeat()
                .prefetch(tf.data.AUTOTUNE)
            )
            model = zoo.build_char_model(vocabulary_size, 64, 256, cell=cell, name=f"char_{cell}")
            scorer = HeldOutEvery(heldout, arguments.every)
            model.fit(dataset, epochs=1, steps_per_epoch=steps, callbacks=[scorer], verbose=0)
            runs.append(
                {
                    "seed": seed,
                    "cell": cell,
                    "steps": steps,
                    "parameters": model.count_params(),
                    "seconds_per_step_under_load": round(scorer.train_seconds / steps, 4),
                    "curve": scorer.curve,
                }
            )
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(
                json.dumps(
                    {
                        "recipe": {
                            "embedding_dim": 64,
                            "units": 256,
                            "optimizer": "Adam(6e-3, clipnorm=1.0)",
                            "sequence_length": SEQUENCE_LENGTH,
                            "batch_size": BATCH_SIZE,
                            "train_characters": len(train_ids),
                            "heldout": "The Tempest, every 100-character window",
                            "quiet_seconds_per_step": {"lstm": round(150.1 / 748, 3), "simple_rnn": round(40 / 782, 3)},
                        },
                        "machine": "2 CPU cores shared with other jobs (seconds distorted by load; losses are not)",
                        "runs": runs,
                    },
                    indent=1,
                )
                + "\n"
            )
    print("wrote", output)


if __name__ == "__main__":
    main()
