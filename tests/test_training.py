"""Tests of course_utils.training (explained in notebooks/04_mnist_cnn.ipynb), on a small real MNIST slice."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from course_utils import data, training  # noqa: E402


@pytest.fixture(scope="module")
def mnist_slice():
    """The first 300 training images (N, 28, 28, 1) uint8 and their labels, plus 200 test images."""
    try:
        (x_train, y_train), (x_test, y_test) = data.load_mnist(verbose=False)
    except data.DataUnavailableError as error:  # pragma: no cover - CI has MNIST
        pytest.skip(f"MNIST not available: {error}")
    return x_train[:300, ..., None], y_train[:300], x_test[:200, ..., None], y_test[:200]


def _take(dataset, batches):
    images, labels = [], []
    for batch_images, batch_labels in dataset.take(batches):
        images.append(batch_images.numpy())
        labels.append(batch_labels.numpy())
    return images, labels


def _pairs(images, labels):
    """Each example as (label, image bytes): a multiset that ignores order."""
    return sorted((int(label), image.tobytes()) for image, label in zip(images, labels, strict=True))


def test_one_epoch_without_shuffle_is_the_arrays_in_order(mnist_slice):
    x, y, _, _ = mnist_slice
    dataset, steps = training.make_dataset(x, y, batch_size=64)
    assert steps == 5  # ceil(300 / 64)
    images, labels = _take(dataset, steps)
    assert [len(batch) for batch in images] == [64, 64, 64, 64, 44]
    assert images[0].dtype == np.uint8 and images[0].shape[1:] == (28, 28, 1)
    np.testing.assert_array_equal(np.concatenate(images), x)
    np.testing.assert_array_equal(np.concatenate(labels), y)
    # repeat=True: the sixth batch starts the second epoch again at the first example
    next_images, next_labels = _take(dataset.skip(steps), 1)
    np.testing.assert_array_equal(next_images[0], x[:64])
    np.testing.assert_array_equal(next_labels[0], y[:64])


def test_shuffled_epochs_hold_every_example_once_with_labels_aligned(mnist_slice):
    x, y, _, _ = mnist_slice
    dataset, steps = training.make_dataset(x, y, batch_size=100, shuffle=True, seed=3)
    images, labels = _take(dataset, 2 * steps)
    first = (np.concatenate(images[:steps]), np.concatenate(labels[:steps]))
    second = (np.concatenate(images[steps:]), np.concatenate(labels[steps:]))
    reference = _pairs(x, y)
    assert _pairs(*first) == reference
    assert _pairs(*second) == reference
    assert not np.array_equal(first[1], y)  # shuffled
    assert not np.array_equal(first[1], second[1])  # reshuffled every epoch
    again, _ = training.make_dataset(x, y, batch_size=100, shuffle=True, seed=3)
    np.testing.assert_array_equal(np.concatenate(_take(again, steps)[1]), first[1])  # same seed, same order


def test_finite_dataset_and_augment(mnist_slice):
    x, y, _, _ = mnist_slice
    dataset, steps = training.make_dataset(x, y, batch_size=128, repeat=False, augment=lambda images: 255 - images)
    assert steps == 3
    assert int(dataset.cardinality()) == 3
    images, labels = _take(dataset, 10)  # asks for more than there is: a finite dataset stops
    assert len(images) == 3
    np.testing.assert_array_equal(np.concatenate(images), 255 - x)
    np.testing.assert_array_equal(np.concatenate(labels), y)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(labels=np.zeros(5)), "one entry per image"),
        (dict(images=np.zeros((0, 28, 28))), "N > 0"),
        (dict(images=np.zeros(6)), "shape"),
        (dict(batch_size=0), "batch_size"),
        (dict(batch_size=2.5), "batch_size"),
        (dict(batch_size=True), "batch_size"),
        (dict(augment="flip"), "augment"),
        (dict(seed="42"), "seed"),
    ],
)
def test_make_dataset_rejects_bad_arguments(kwargs, message):
    arguments = dict(images=np.zeros((6, 28, 28), np.uint8), labels=np.zeros(6, np.int64), batch_size=2)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        training.make_dataset(**arguments)


def _tiny_model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((28, 28, 1), dtype="uint8")
    hidden = keras.layers.Rescaling(1 / 255)(inputs)
    hidden = keras.layers.Flatten()(hidden)
    outputs = keras.layers.Dense(10, activation="softmax")(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    return model


def test_time_to_accuracy_records_every_epoch_and_the_first_epoch_at_target(mnist_slice):
    x, y, x_test, y_test = mnist_slice
    model = _tiny_model()
    baseline = training.accuracy_of(model, x_test, y_test)
    dataset, steps = training.make_dataset(x, y, batch_size=50, shuffle=True, seed=0)
    target = 0.6  # far above the untrained baseline (about 0.1), reached within a few epochs
    assert baseline < target
    timer = training.TimeToAccuracy(x_test, y_test, target=target, batch_size=64)
    model.fit(dataset, steps_per_epoch=steps, epochs=4, verbose=0, callbacks=[timer])
    assert len(timer.epoch_seconds) == len(timer.first_step_seconds) == len(timer.accuracies) == 4
    # the last recorded accuracy is the trained model's accuracy, computed independently
    predictions = model.predict(x_test, verbose=0).argmax(axis=1)
    assert timer.accuracies[-1] == pytest.approx(np.mean(predictions == y_test))
    first_reached = next(i for i, accuracy in enumerate(timer.accuracies) if accuracy >= target)
    assert timer.epoch_of_target == first_reached + 1
    assert 0 < timer.seconds_to_target <= timer.train_seconds
    assert timer.train_seconds <= sum(timer.epoch_seconds) + 1.0
    assert all(0 <= first <= epoch for first, epoch in zip(timer.first_step_seconds, timer.epoch_seconds, strict=True))


def test_time_to_accuracy_leaves_target_unset_when_not_reached(mnist_slice):
    x, y, x_test, y_test = mnist_slice
    model = _tiny_model()
    dataset, steps = training.make_dataset(x, y, batch_size=100)
    timer = training.TimeToAccuracy(x_test, y_test, target=1.0)
    model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0, callbacks=[timer])
    assert timer.accuracies[0] < 1.0
    assert timer.seconds_to_target is None and timer.epoch_of_target is None


def test_accuracy_of_matches_numpy(mnist_slice):
    _, _, x_test, y_test = mnist_slice
    model = _tiny_model()
    expected = np.mean(model.predict(x_test, verbose=0).argmax(axis=1) == y_test)
    assert training.accuracy_of(model, x_test, y_test, batch_size=30) == pytest.approx(expected)
    with pytest.raises(ValueError, match="1-D"):
        training.accuracy_of(model, x_test, y_test[:, None])


@pytest.mark.parametrize("target", [0.0, 1.5, True, "0.99"])
def test_time_to_accuracy_rejects_bad_target(mnist_slice, target):
    _, _, x_test, y_test = mnist_slice
    with pytest.raises(ValueError, match="target"):
        training.TimeToAccuracy(x_test, y_test, target=target)


def test_time_to_accuracy_rejects_misaligned_labels(mnist_slice):
    _, _, x_test, y_test = mnist_slice
    with pytest.raises(ValueError, match="one entry per image"):
        training.TimeToAccuracy(x_test, y_test[:-1])
