"""Does safe augmentation help notebook 04's full default run? (issue 17)

Notebook 04 measures augmentation on a 12,000-image subset (within its CI budget). This script
asks the same question of the default run itself: 55,000 training images, 5 epochs, 04's recipe
(AdamW, one-cycle learning rate peaking at 3e-3, cross-entropy from logits), with and without
the safe augmentation (rotations up to ±18°, shifts up to 10 %, zoom up to 10 %), for each seed.
It records validation accuracy (the number the choice is made on) and test accuracy, and the
indices of the misclassified validation and test images, so that notebook 04 can compute paired
bootstrap intervals. Writes ``course_utils/results/mnist_augmentation_full_run.json`` (package
data, so that notebook 04 finds it on Colab too). Accuracies do not depend on the machine's load;
the seconds it also records do.

    python benchmarks/search/mnist_augmentation_full_run.py --seeds 42 43 44   # about 10 quiet minutes
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
import numpy as np
import tensorflow as tf
from keras import layers

import course_utils
from course_utils import data, training, zoo

OUTPUT = Path(__file__).resolve().parents[2] / "course_utils" / "results" / "mnist_augmentation_full_run.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--epochs", type=int, default=5)
    arguments = parser.parse_args()
    (x_all, y_all), (x_test, y_test) = data.load_mnist(verbose=False)
    x_all, x_test = x_all[..., None], x_test[..., None]
    y_all, y_test = y_all.astype(np.int64), y_test.astype(np.int64)
    x_train, y_train, x_val, y_val = x_all[:-5000], y_all[:-5000], x_all[-5000:], y_all[-5000:]  # 04's split
    safe = keras.Sequential(
        [
            layers.RandomRotation(0.05, fill_mode="constant"),
            layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),
            layers.RandomZoom(0.1, fill_mode="constant"),
        ]
    )

    def augment(images):
        return tf.cast(tf.clip_by_value(tf.round(safe(images, training=True)), 0, 255), tf.uint8)

    # Runs of seeds not asked for this time are kept, so that seeds can be added one sweep at a time.
    kept = json.loads(OUTPUT.read_text())["runs"] if OUTPUT.exists() else []
    runs = [run for run in kept if run["seed"] not in arguments.seeds]

    def write():  # after every run, so that an interrupted sweep keeps what it has measured
        OUTPUT.parent.mkdir(parents=True, exist_ok=True)
        OUTPUT.write_text(
            json.dumps(
                {
                    "recipe": {
                        "training_images": len(y_train),
                        "validation_images": len(y_val),
                        "test_images": len(y_test),
                        "epochs": arguments.epochs,
                        "batch_size": 128,
                        "peak_learning_rate": 3e-3,
                        "augmentation": "RandomRotation(0.05), RandomTranslation(0.1, 0.1), RandomZoom(0.1)",
                    },
                    "machine": "2 CPU cores shared with other jobs (seconds are distorted by load; accuracies are not)",
                    "runs": runs,
                },
                indent=1,
            )
            + "\n"
        )

    for seed in arguments.seeds:
        for augmented in (False, True):
            course_utils.set_seed(seed)
            dataset, steps = training.make_dataset(
                x_train, y_train, 128, shuffle=True, augment=augment if augmented else None, seed=seed
            )
            total = arguments.epochs * steps
            warmup = int(0.1 * total)
            schedule = keras.optimizers.schedules.CosineDecay(
                3e-4, total - warmup, alpha=0.01, warmup_target=3e-3, warmup_steps=warmup
            )
            model = zoo.build_mnist_cnn()
            model.compile(
                optimizer=keras.optimizers.AdamW(schedule, weight_decay=1e-4),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            )
            started = time.perf_counter()
            model.fit(dataset, steps_per_epoch=steps, epochs=arguments.epochs, verbose=0)
            seconds = time.perf_counter() - started
            val_wrong = np.flatnonzero(model.predict(x_val, batch_size=1000, verbose=0).argmax(1) != y_val)
            test_wrong = np.flatnonzero(model.predict(x_test, batch_size=1000, verbose=0).argmax(1) != y_test)
            run = {
                "seed": seed,
                "augmentation": "safe" if augmented else "none",
                "validation_accuracy": 1 - len(val_wrong) / len(y_val),
                "test_accuracy": 1 - len(test_wrong) / len(y_test),
                "validation_wrong": val_wrong.tolist(),
                "test_wrong": test_wrong.tolist(),
                "train_seconds": round(seconds, 1),
            }
            runs.append(run)
            print(
                f"seed {seed} {run['augmentation']:4s}: validation {run['validation_accuracy']:.4f}, "
                f"test {run['test_accuracy']:.4f}, {seconds:.0f} s",
                flush=True,
            )
            write()
    print("wrote", OUTPUT.relative_to(OUTPUT.parents[2]))


if __name__ == "__main__":
    main()
