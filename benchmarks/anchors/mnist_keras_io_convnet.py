"""Benchmark anchor: the keras-io "Simple MNIST convnet" recipe, trained as published.

Conv2D(32, 3x3, relu) → MaxPool(2) → Conv2D(64, 3x3, relu) → MaxPool(2) → Flatten → Dropout(0.5)
→ Dense(10, softmax) on 28x28x1 images scaled to [0, 1]; 34,826 parameters; Adam (default
learning rate), categorical cross-entropy on one-hot labels, batch 128, 15 epochs,
validation_split=0.1, the data fed to ``model.fit`` as NumPy arrays. The recipe reports 99.22 %
test accuracy. Written from that description for the course's benchmark table
(benchmarks/RESULTS.md); the course model in notebooks/04_mnist_cnn.ipynb is timed with the same
callback (``course_utils.training.TimeToAccuracy``), which evaluates the test set after every
epoch and leaves that evaluation out of the training time.

    python benchmarks/anchors/mnist_keras_io_convnet.py            # the full recipe (15 epochs)
    python benchmarks/anchors/mnist_keras_io_convnet.py --epochs 1 # a quick smoke run
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
from keras import layers

import course_utils
from course_utils import training

RECIPE_PARAMS = 34_826
RECIPE_TEST_ACCURACY = 0.9922
TARGET_ACCURACY = 0.992


def build_model() -> keras.Model:
    """The recipe's network, layer for layer."""
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ],
        name="keras_io_simple_mnist_convnet",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15, help="training epochs (the recipe: 15)")
    parser.add_argument("--seed", type=int, default=42)
    arguments = parser.parse_args()
    if arguments.epochs < 1:
        parser.error("--epochs must be at least 1")
    keras.utils.set_random_seed(arguments.seed)

    # The recipe's data preparation: scale to [0, 1], add the channel axis, one-hot labels.
    (x_train, y_train), (x_test, y_test) = course_utils.load_mnist()
    x_train = np.expand_dims(x_train.astype("float32") / 255, -1)
    x_test = np.expand_dims(x_test.astype("float32") / 255, -1)
    y_train_one_hot = keras.utils.to_categorical(y_train, 10)

    model = build_model()
    params = model.count_params()
    assert params == RECIPE_PARAMS, f"expected the recipe's {RECIPE_PARAMS} parameters, got {params}"
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])

    timer = training.TimeToAccuracy(x_test, y_test.astype(np.int64), target=TARGET_ACCURACY, verbose=True)
    started = time.perf_counter()
    model.fit(
        x_train,
        y_train_one_hot,
        batch_size=128,
        epochs=arguments.epochs,
        validation_split=0.1,
        callbacks=[timer],
        verbose=2,
    )
    wall_seconds = time.perf_counter() - started
    test_accuracy = training.accuracy_of(model, x_test, y_test)

    print(f"parameters: {params:,}")
    print(
        f"test accuracy after {arguments.epochs} epoch(s): {test_accuracy:.4f} (recipe reports {RECIPE_TEST_ACCURACY})"
    )
    print(
        f"training time (test evaluations excluded): {timer.train_seconds:.1f} s; wall time of fit {wall_seconds:.1f} s"
    )
    print("seconds per epoch:", [round(seconds, 1) for seconds in timer.epoch_seconds])
    print("first step of each epoch (s):", [round(seconds, 2) for seconds in timer.first_step_seconds])
    if timer.seconds_to_target is None:
        print(f"test accuracy never reached {TARGET_ACCURACY:.1%}")
    else:
        print(f"reached {TARGET_ACCURACY:.1%} after epoch {timer.epoch_of_target}, {timer.seconds_to_target:.1f} s")

    course_utils.record_metric("anchor_test_accuracy", test_accuracy)
    course_utils.record_metric("anchor_train_seconds", timer.train_seconds, unit="s")
    if timer.seconds_to_target is not None:
        course_utils.record_metric("anchor_seconds_to_99.2", timer.seconds_to_target, unit="s")
    course_utils.record_metric("anchor_params", params)
    if len(timer.first_step_seconds) > 1:
        later = timer.first_step_seconds[1:]
        course_utils.record_metric("anchor_epoch_start_stall_seconds", float(np.mean(later)), unit="s")


if __name__ == "__main__":
    main()
