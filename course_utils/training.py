"""Fast input pipelines and honest training clocks. Explained in notebooks/04_mnist_cnn.ipynb.

``model.fit(x_numpy, y_numpy, epochs=n)`` builds a fresh ``tf.data`` iterator for every epoch; on
a small CPU machine tearing the previous one down stalls the first step of each later epoch for
many seconds (see "The epoch stall" in notebooks/04_mnist_cnn.ipynb). :func:`make_dataset` builds
the pipeline once and repeats it, so ``fit(dataset, steps_per_epoch=...)`` keeps one iterator for
the whole run. :class:`TimeToAccuracy` records the wall time of every epoch and the training time
at which a target accuracy on held-out data was first reached, excluding its own evaluation time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from course_utils._checks import positive_int

try:  # keras is needed only for TimeToAccuracy; importing this module must not require it
    import keras

    _CallbackBase = keras.callbacks.Callback
except ImportError:  # pragma: no cover - the course always has keras
    _CallbackBase = object

__all__ = ["TimeToAccuracy", "accuracy_of", "make_dataset"]


def _check_arrays(images, labels) -> tuple[np.ndarray, np.ndarray]:
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim < 2 or len(images) == 0:
        raise ValueError(f"images must be an array of shape (N, ...) with N > 0, got shape {images.shape}")
    if labels.ndim < 1 or len(labels) != len(images):
        raise ValueError(f"labels must have one entry per image: got {labels.shape} labels for {len(images)} images")
    return images, labels


def make_dataset(
    images,
    labels,
    batch_size: int,
    shuffle: bool = False,
    augment: Callable | None = None,
    repeat: bool = True,
    seed: int | None = None,
):
    """A ``tf.data`` pipeline over in-memory arrays and the number of batches in one epoch.

    Returns ``(dataset, steps_per_epoch)``. The pipeline is ``from_tensor_slices`` → (``shuffle``
    over the whole set, reshuffled every epoch) → ``batch`` → (``map(augment)`` on image batches)
    → (``repeat``) → ``prefetch``. One epoch is ``steps_per_epoch = ceil(N / batch_size)``
    batches and holds every example exactly once (the last batch may be smaller). With
    ``repeat=True`` the dataset never ends: pass ``steps_per_epoch`` to ``model.fit`` so that
    Keras keeps one iterator for the whole run instead of rebuilding it every epoch.

    ``augment`` takes a batch of images and returns a batch of the same shape and dtype (for
    example Keras preprocessing layers); labels pass through unchanged.
    Explained in notebooks/04_mnist_cnn.ipynb.
    """
    import tensorflow as tf

    images, labels = _check_arrays(images, labels)
    batch_size = positive_int("batch_size", batch_size)
    if augment is not None and not callable(augment):
        raise ValueError(f"augment must be None or a callable on a batch of images, got {augment!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise ValueError(f"seed must be None or an integer, got {seed!r}")
    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    if shuffle:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if augment is not None:
        dataset = dataset.map(lambda x, y: (augment(x), y), num_parallel_calls=tf.data.AUTOTUNE)
    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.prefetch(tf.data.AUTOTUNE)
    return dataset, math.ceil(len(images) / batch_size)


def accuracy_of(model, images, labels, batch_size: int = 1000) -> float:
    """Fraction of ``images`` whose arg-max prediction equals ``labels`` (integer class labels).

    Runs ``model.predict_on_batch`` chunk by chunk, so it creates no ``tf.data`` iterator (and
    pays no iterator start-up or tear-down cost). Explained in notebooks/04_mnist_cnn.ipynb.
    """
    images, labels = _check_arrays(images, labels)
    batch_size = positive_int("batch_size", batch_size)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D integer class labels, got shape {labels.shape}")
    correct = 0
    for start in range(0, len(images), batch_size):
        scores = np.asarray(model.predict_on_batch(images[start : start + batch_size]))
        correct += int(np.sum(scores.argmax(axis=-1) == labels[start : start + batch_size]))
    return correct / len(images)


class TimeToAccuracy(_CallbackBase):
    """Keras callback: wall time per epoch, and when a target accuracy was first reached.

    After every epoch it measures the accuracy on ``(images, labels)`` (for instance the test
    set) and stops its clock meanwhile, so the evaluation does not count as training time.
    Attributes filled during ``fit``:

    - ``epoch_seconds[i]``: wall time of epoch ``i`` (including Keras' own validation pass);
    - ``first_step_seconds[i]``: time from the start of epoch ``i`` to the end of its first step
      (this is where the per-epoch input-pipeline stall shows up);
    - ``accuracies[i]``: accuracy on ``(images, labels)`` after epoch ``i``;
    - ``train_seconds``: training time so far, evaluation excluded;
    - ``seconds_to_target`` / ``epoch_of_target``: training time and (1-based) epoch at which
      accuracy first reached ``target``, or ``None`` while it has not.

    Explained in notebooks/04_mnist_cnn.ipynb.
    """

    def __init__(self, images, labels, target: float = 0.992, batch_size: int = 1000, verbose: bool = False):
        super().__init__()
        self.images, self.labels = _check_arrays(images, labels)
        if self.labels.ndim != 1:
            raise ValueError(f"labels must be 1-D integer class labels, got shape {self.labels.shape}")
        if isinstance(target, bool) or not isinstance(target, (int, float)) or not 0.0 < target <= 1.0:
            raise ValueError(f"target must be an accuracy in (0, 1], got {target!r}")
        self.target = float(target)
        self.batch_size = positive_int("batch_size", batch_size)
        self.verbose = bool(verbose)
        self.epoch_seconds: list[float] = []
        self.first_step_seconds: list[float] = []
        self.accuracies: list[float] = []
        self.train_seconds = 0.0
        self.seconds_to_target: float | None = None
        self.epoch_of_target: int | None = None

    def on_train_begin(self, logs=None):
        self._started = time.perf_counter()
        self._excluded = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_started = time.perf_counter()
        self._first_step_pending = True

    def on_train_batch_end(self, batch, logs=None):
        if self._first_step_pending:
            self.first_step_seconds.append(time.perf_counter() - self._epoch_started)
            self._first_step_pending = False

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        self.epoch_seconds.append(now - self._epoch_started)
        self.train_seconds = now - self._started - self._excluded
        accuracy = accuracy_of(self.model, self.images, self.labels, self.batch_size)
        self.accuracies.append(accuracy)
        if self.seconds_to_target is None and accuracy >= self.target:
            self.seconds_to_target = self.train_seconds
            self.epoch_of_target = len(self.accuracies)
        self._excluded += time.perf_counter() - now
        if self.verbose:
            print(
                f"  [TimeToAccuracy] epoch {len(self.accuracies)}: held-out accuracy {accuracy:.4f}, "
                f"training time {self.train_seconds:.1f} s"
            )
