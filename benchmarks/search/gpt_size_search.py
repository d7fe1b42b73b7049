"""The small search behind notebook 08's GPT size and learning rate: one configuration per call.

Each run trains ``course_utils.gpt.GPT`` with 08's recipe (random windows, AdamW, warm-up then cosine
decay to 10 % over the budget, global-norm clipping, weight decay 0.1) for ``seconds`` **CPU seconds
on two cores** (process CPU time / 2, so runs made while the machine is busy stay comparable), then
scores The Tempest in 05's windows of 101 characters. Prints one JSON line.

    python benchmarks/search/gpt_size_search.py '{"d": 64, "L": 4, "H": 4, "T": 128, "B": 32, "lr": 5e-3}'

Keys: d (width), L (blocks), H (heads), T (context), B (batch), lr (peak learning rate), seconds (150),
warmup (100 steps), wd (0.1), bf16 (mixed_bfloat16 if true).
"""

import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import keras
import tensorflow as tf

from course_utils import data, gpt, text


def main(config: dict) -> dict:
    T, B, d, L, H = (config.get(k, v) for k, v in [("T", 128), ("B", 32), ("d", 64), ("L", 4), ("H", 4)])
    budget, peak, warmup = config.get("seconds", 150), config.get("lr", 5e-3), config.get("warmup", 100)
    keras.utils.set_random_seed(0)
    if config.get("bf16"):
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    train_ids, heldout_ids, vocabulary_size = text.encoded_split(data.load_shakespeare(verbose=False))
    ids = tf.constant(train_ids)

    def batch(step):
        offsets = tf.random.stateless_uniform(
            (B,), seed=tf.stack([step, 7]), maxval=len(train_ids) - T - 1, dtype=tf.int64
        )
        windows = tf.gather(ids, offsets[:, None] + tf.range(T + 1, dtype=tf.int64)[None])
        return windows[:, :-1], windows[:, 1:]

    dataset = tf.data.Dataset.range(10**9).map(batch, num_parallel_calls=2).prefetch(4)
    windows = heldout_ids[: len(heldout_ids) // 101 * 101].reshape(-1, 101)
    heldout = tf.data.Dataset.from_tensor_slices((windows[:, :-1], windows[:, 1:])).batch(128)
    model = gpt.GPT(vocabulary_size, max(T, 100), d, L, H)

    def clock():
        return time.process_time() / 2

    class Schedule(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.started, self.steps = clock(), 0

        def on_train_batch_begin(self, index, logs=None):
            fraction = (clock() - self.started) / budget
            factor = min(1.0, (self.steps + 1) / warmup) * (
                0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(fraction, 1.0)))
            )
            self.model.optimizer.learning_rate.assign(peak * factor)

        def on_train_batch_end(self, index, logs=None):
            self.steps += 1
            if clock() - self.started > budget:
                self.model.stop_training = True

    optimizer = keras.optimizers.AdamW(
        learning_rate=peak, weight_decay=config.get("wd", 0.1), beta_2=0.99, global_clipnorm=1.0
    )
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    schedule = Schedule()
    started = time.perf_counter()
    history = model.fit(dataset, epochs=10**6, steps_per_epoch=50, callbacks=[schedule], verbose=0)
    result = {
        **config,
        "params": model.count_params(),
        "steps": schedule.steps,
        "wall_seconds": round(time.perf_counter() - started, 1),
        "train_loss": round(history.history["loss"][-1], 3),
        "heldout": round(float(model.evaluate(heldout, verbose=0)), 4),
    }
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
