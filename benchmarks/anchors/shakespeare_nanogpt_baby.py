"""Benchmark anchor: nanoGPT's CPU "baby GPT" on Shakespeare, ported to Keras from its description.

nanoGPT's README trains a character-level GPT on a laptop CPU with ``config/train_shakespeare_char.py``
and the overrides ``--block_size=64 --batch_size=12 --n_layer=4 --n_head=4 --n_embd=128
--max_iters=2000 --lr_decay_iters=2000 --dropout=0.0``, and reports a validation loss of about 1.88
after about 3 minutes. With that config's other settings (learning rate 1e-3 with 100 warm-up
iterations and cosine decay to 1e-4 at iteration 2,000, AdamW with beta2 0.99 and weight decay 0.1,
gradient clipping at norm 1), written here with KerasHub's own layers, independent of the course's
``course_utils.gpt``: ``keras_hub.layers.TokenAndPositionEmbedding``, four pre-LN
``keras_hub.layers.TransformerDecoder`` blocks (GELU MLP at 4·d, causal mask), a final LayerNorm and
an output head tied to the token embedding (``ReversibleEmbedding``).

To compare it with notebooks/08_gpt_from_scratch.ipynb on equal terms it uses the same training
split and vocabulary and the same wall-clock budget ``course_utils.text.training_seconds()``; its
schedule still decays over 2,000 steps as published (it stays at 1e-4 after that). Batches are
random 65-character windows of the training text, as in nanoGPT.

Held-out loss: the held-out play cut into windows of 65 characters, every position predicted from
the characters before it in its window (at most 64, the model's context), mean ``-ln p`` in nats/char.
(The course notebooks score windows of 101 characters the same way; a 64-character context can only
see less, so this protocol slightly favours neither model over its own.)

Usage::

    python benchmarks/anchors/shakespeare_nanogpt_baby.py               # the full budget
    python benchmarks/anchors/shakespeare_nanogpt_baby.py --seconds 20  # a quick smoke run

Records ``nanogpt_heldout_nats_per_char``, ``nanogpt_train_seconds``, ``nanogpt_train_steps`` and
``nanogpt_params`` with ``course_utils.record_metric``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

import tensorflow as tf

import course_utils
from course_utils import data, text

BLOCK_SIZE, BATCH_SIZE, N_LAYER, N_HEAD, N_EMBD = 64, 12, 4, 4, 128
LEARNING_RATE, MIN_LR, WARMUP_ITERS, LR_DECAY_ITERS = 1e-3, 1e-4, 100, 2000


def learning_rate(step: int) -> float:
    """nanoGPT's get_lr: linear warm-up, cosine decay to MIN_LR at LR_DECAY_ITERS, then MIN_LR."""
    if step < WARMUP_ITERS:
        return LEARNING_RATE * (step + 1) / (WARMUP_ITERS + 1)
    if step > LR_DECAY_ITERS:
        return MIN_LR
    ratio = (step - WARMUP_ITERS) / (LR_DECAY_ITERS - WARMUP_ITERS)
    return MIN_LR + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (LEARNING_RATE - MIN_LR)


def build_model(vocabulary_size: int):
    import keras
    import keras_hub

    inputs = keras.Input(shape=(None,), dtype="int32", name="char_ids")
    embedding = keras_hub.layers.TokenAndPositionEmbedding(
        vocabulary_size, BLOCK_SIZE, N_EMBD, tie_weights=True, name="embedding"
    )
    x = embedding(inputs)
    for index in range(N_LAYER):
        x = keras_hub.layers.TransformerDecoder(
            intermediate_dim=4 * N_EMBD,
            num_heads=N_HEAD,
            dropout=0.0,
            activation="gelu",
            layer_norm_epsilon=1e-5,
            normalize_first=True,
            name=f"block{index}",
        )(x)
    x = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")(x)
    logits = embedding.token_embedding(x, reverse=True)  # the head tied to the token embedding
    model = keras.Model(inputs, logits, name="nanogpt_baby")
    optimizer = keras.optimizers.AdamW(learning_rate=LEARNING_RATE, weight_decay=0.1, beta_2=0.99, global_clipnorm=1.0)
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=None, help="training budget (default: the course's)")
    arguments = parser.parse_args(argv)
    seconds = arguments.seconds if arguments.seconds is not None else text.training_seconds()

    import keras

    course_utils.set_seed(42)
    full = course_utils.full_training()
    train_ids, heldout_ids, vocabulary_size = text.encoded_split(data.load_shakespeare(), full=full)
    print(f"training on {len(train_ids):,} characters, vocabulary {vocabulary_size} (05's split)")

    train_tensor = tf.constant(train_ids, dtype=tf.int32)

    def random_windows(step):
        offsets = tf.random.stateless_uniform(
            (BATCH_SIZE,), seed=tf.stack([step, 42]), maxval=len(train_ids) - BLOCK_SIZE - 1, dtype=tf.int64
        )
        windows = tf.gather(train_tensor, offsets[:, None] + tf.range(BLOCK_SIZE + 1, dtype=tf.int64))
        return windows[:, :-1], windows[:, 1:]

    dataset = tf.data.Dataset.range(10**9).map(random_windows).prefetch(tf.data.AUTOTUNE)
    model = build_model(vocabulary_size)

    class Schedule(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.started, self.steps, self.elapsed = time.perf_counter(), 0, 0.0

        def on_train_batch_begin(self, batch, logs=None):
            self.model.optimizer.learning_rate.assign(learning_rate(self.steps))

        def on_train_batch_end(self, batch, logs=None):
            self.steps += 1
            self.elapsed = time.perf_counter() - self.started
            if self.elapsed >= seconds:
                self.model.stop_training = True

    schedule = Schedule()
    model.fit(dataset, epochs=10_000, steps_per_epoch=250, callbacks=[schedule], verbose=2)
    print(f"trained {schedule.elapsed:.1f} s, {schedule.steps} steps of {BATCH_SIZE} x {BLOCK_SIZE} characters")

    windows = heldout_ids[: len(heldout_ids) // (BLOCK_SIZE + 1) * (BLOCK_SIZE + 1)].reshape(-1, BLOCK_SIZE + 1)
    heldout = tf.data.Dataset.from_tensor_slices((windows[:, :-1], windows[:, 1:])).batch(128)
    heldout_loss = float(model.evaluate(heldout, verbose=0))
    print(f"held-out: {heldout_loss:.4f} nats/char ({text.nats_to_bits(heldout_loss):.3f} bits/char)")

    results = {
        "nanogpt_heldout_nats_per_char": heldout_loss,
        "nanogpt_train_seconds": float(schedule.elapsed),
        "nanogpt_train_steps": schedule.steps,
        "nanogpt_params": model.count_params(),
    }
    course_utils.record_metric("nanogpt_heldout_nats_per_char", heldout_loss, unit="nats/char")
    course_utils.record_metric("nanogpt_train_seconds", results["nanogpt_train_seconds"], unit="s")
    course_utils.record_metric("nanogpt_train_steps", schedule.steps)
    course_utils.record_metric("nanogpt_params", results["nanogpt_params"])
    return results


if __name__ == "__main__":
    main()
