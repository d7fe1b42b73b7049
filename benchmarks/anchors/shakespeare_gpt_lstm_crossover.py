"""Learning curves of the course GPT (08) and the course LSTM (05) beyond the 150-second budget.

Both models are trained with their lesson's recipe on the same split for ``--seconds`` (default 600)
**CPU seconds on two cores** (the process's CPU time divided by two, so that the curves do not depend
on whatever else the machine runs), and scored every ``--every`` seconds on the same quarter of the
held-out windows (The Tempest in windows of 101 characters, as in the lessons); the clock stops while
they are scored. The LSTM keeps 05's constant learning rate; the GPT keeps 08's warm-up and cosine
decay, stretched over the whole budget (so at 150 s it is not yet annealed, and its curve there is
above the 150-second run's result: the curve is conservative for the GPT).

Usage::

    python benchmarks/anchors/shakespeare_gpt_lstm_crossover.py              # 600 s each
    python benchmarks/anchors/shakespeare_gpt_lstm_crossover.py --seconds 60 --every 20   # a smoke run

Records ``crossover_lstm_at_<s>s`` and ``crossover_gpt_at_<s>s`` (nats/char) for every checkpoint,
and ``crossover_seconds`` (the first checkpoint where the GPT is below the LSTM; the budget if never).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

import keras
import tensorflow as tf

import course_utils
from course_utils import data, gpt, text, zoo


def cpu_seconds() -> float:
    return time.process_time() / 2  # two cores


class Curve(keras.callbacks.Callback):
    """Stops at ``seconds`` CPU seconds; scores every ``every``; optional warm-up + cosine learning rate."""

    def __init__(self, seconds, every, score, peak=None, warmup=100, final_fraction=0.1):
        super().__init__()
        self.seconds, self.every, self.score = seconds, every, score
        self.peak, self.warmup, self.final_fraction = peak, warmup, final_fraction
        self.points, self.steps, self.used = [], 0, 0.0

    def on_train_begin(self, logs=None):
        self.started = cpu_seconds()

    def on_train_batch_begin(self, batch, logs=None):
        if self.peak is not None:
            cosine = 0.5 * (1 + math.cos(math.pi * min(1.0, self.used / self.seconds)))
            factor = min(1.0, (self.steps + 1) / self.warmup) * (
                self.final_fraction + (1 - self.final_fraction) * cosine
            )
            self.model.optimizer.learning_rate.assign(self.peak * factor)

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        self.used = cpu_seconds() - self.started
        if self.used >= self.every * (len(self.points) + 1):
            paused = cpu_seconds()
            self.points.append((round(self.every * (len(self.points) + 1)), self.steps, self.score(self.model)))
            print(f"  {self.points[-1][0]:>5} s  {self.steps:>6} steps  {self.points[-1][2]:.4f} nats/char", flush=True)
            self.started += cpu_seconds() - paused
        if self.used >= self.seconds:
            self.model.stop_training = True


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="CPU seconds on two cores, per model")
    parser.add_argument("--every", type=float, default=50.0, help="score every this many seconds")
    parser.add_argument("--only", choices=["lstm", "gpt"], default=None, help="train one model (to run both at once)")
    arguments = parser.parse_args(argv)

    course_utils.set_seed(42)
    train_ids, heldout_ids, vocabulary_size = text.encoded_split(data.load_shakespeare())
    windows = heldout_ids[: len(heldout_ids) // 101 * 101].reshape(-1, 101)[::4]
    heldout = tf.data.Dataset.from_tensor_slices((windows[:, :-1], windows[:, 1:])).batch(64)

    def score(model):
        return float(model.evaluate(heldout, verbose=0))

    curves = {"lstm": [], "gpt": []}
    if arguments.only != "gpt":
        curves["lstm"] = train_lstm(arguments, train_ids, vocabulary_size, score)
    if arguments.only != "lstm":
        curves["gpt"] = train_gpt(arguments, train_ids, vocabulary_size, score)
    report(arguments, curves)
    return curves


def train_lstm(arguments, train_ids, vocabulary_size, score):
    """05's LSTM and recipe."""
    course_utils.set_seed(42)
    lstm_windows = tf.data.Dataset.from_tensor_slices(train_ids).batch(101, drop_remainder=True)
    lstm_data = lstm_windows.map(lambda w: (w[:-1], w[1:])).shuffle(20_000, seed=42).batch(64, drop_remainder=True)
    lstm = zoo.build_char_model(vocabulary_size, 64, 256)
    curve = Curve(arguments.seconds, arguments.every, score)
    print("LSTM (05's recipe):")
    lstm.fit(
        lstm_data.repeat().prefetch(tf.data.AUTOTUNE), epochs=10**6, steps_per_epoch=50, callbacks=[curve], verbose=0
    )
    return curve.points


def train_gpt(arguments, train_ids, vocabulary_size, score):
    """08's GPT and recipe."""
    course_utils.set_seed(42)
    context, batch = zoo.GPT_SIZES["context_length"], zoo.GPT_TRAINING["batch_size"]
    train_tensor = tf.constant(train_ids, dtype=tf.int32)

    def random_windows(step):
        offsets = tf.random.stateless_uniform(
            (batch,), seed=tf.stack([step, 42]), maxval=len(train_ids) - context - 1, dtype=tf.int64
        )
        chunk = tf.gather(train_tensor, offsets[:, None] + tf.range(context + 1, dtype=tf.int64))
        return chunk[:, :-1], chunk[:, 1:]

    model = gpt.GPT(vocabulary_size, **zoo.GPT_SIZES)
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=1e-3, weight_decay=0.1, beta_2=0.99, global_clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta", "position_embeddings"])
    curve = Curve(arguments.seconds, arguments.every, score, peak=zoo.GPT_TRAINING["peak_learning_rate"])
    print("GPT (08's recipe):")
    gpt_data = tf.data.Dataset.range(10**9).map(random_windows).prefetch(tf.data.AUTOTUNE)
    model.fit(gpt_data, epochs=10**6, steps_per_epoch=50, callbacks=[curve], verbose=0)
    return curve.points


def report(arguments, curves):
    for name, points in curves.items():
        for seconds, _, loss in points:
            course_utils.record_metric(f"crossover_{name}_at_{seconds}s", loss, unit="nats/char")
    print(f"{'seconds':>8} {'LSTM':>8} {'GPT':>8}")
    crossover = arguments.seconds
    for (seconds, _, lstm_loss), (_, _, gpt_loss) in zip(curves["lstm"], curves["gpt"], strict=False):
        print(f"{seconds:>8} {lstm_loss:8.4f} {gpt_loss:8.4f}")
        if gpt_loss < lstm_loss and crossover == arguments.seconds:
            crossover = seconds
    if curves["lstm"] and curves["gpt"]:
        course_utils.record_metric("crossover_seconds", crossover, unit="s")
    print(json.dumps(curves))


if __name__ == "__main__":
    main()
