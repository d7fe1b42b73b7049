"""Softmax, log-sum-exp and cross-entropy from scratch, in NumPy.

Explained in notebooks/02_softmax_cross_entropy.ipynb. Every function here is checked there and in
tests/test_softmax.py against TensorFlow (``tf.nn.softmax``, ``tf.nn.log_softmax``,
``tf.reduce_logsumexp``, ``tf.nn.sparse_softmax_cross_entropy_with_logits``), against Keras losses
and against finite differences.

Conventions: ``logits`` are raw scores (any real numbers, the output of the last ``Dense`` layer
without activation); ``labels`` are integer class indices in ``[0, num_classes)``; the loss is the
mean over the batch, like Keras' default ``reduction="sum_over_batch_size"``.
"""

from __future__ import annotations

import numpy as np

from course_utils._checks import positive_int

__all__ = [
    "cross_entropy",
    "cross_entropy_grad",
    "log_softmax",
    "logsumexp",
    "naive_softmax",
    "one_hot",
    "smooth_labels",
    "softmax",
]


def _as_float_array(values, name: str = "logits") -> np.ndarray:
    array = np.asarray(values)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise ValueError(f"{name} must be an array of real numbers, got dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise ValueError(f"{name} must be real, got complex dtype {array.dtype}")
    if array.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension (a vector of class scores), got a scalar")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    if np.issubdtype(array.dtype, np.floating):
        return array
    return array.astype(np.float64)


def _check_axis(array: np.ndarray, axis: int) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ValueError(f"axis must be an integer, got {axis!r}")
    if not -array.ndim <= axis < array.ndim:
        raise ValueError(f"axis {axis} is out of range for an array of shape {array.shape}")
    return int(axis)


def naive_softmax(logits, axis: int = -1) -> np.ndarray:
    """Softmax straight from the formula ``exp(z) / sum(exp(z))``: WRONG for large logits.

    ``exp(1000)`` overflows to ``inf`` and ``inf / inf`` is ``nan``; ``exp(-1000)`` underflows to 0
    and ``0 / 0`` is ``nan``. Kept only to show the problem (NumPy's overflow warnings are silenced
    here so the notebook shows the numbers, not the warnings); use :func:`softmax`.
    Explained in notebooks/02_softmax_cross_entropy.ipynb.
    """
    array = _as_float_array(logits)
    axis = _check_axis(array, axis)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        exponentials = np.exp(array)
        return exponentials / np.sum(exponentials, axis=axis, keepdims=True)


def logsumexp(logits, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """``log(sum(exp(z)))`` along ``axis`` without overflow: ``m + log(sum(exp(z - m)))``, ``m = max(z)``.

    Same result as ``tf.reduce_logsumexp``. Explained in notebooks/02_softmax_cross_entropy.ipynb.
    """
    array = _as_float_array(logits)
    axis = _check_axis(array, axis)
    maximum = np.max(array, axis=axis, keepdims=True)
    maximum = np.where(np.isfinite(maximum), maximum, 0.0)  # all -inf (or inf) along axis: no shift
    result = maximum + np.log(np.sum(np.exp(array - maximum), axis=axis, keepdims=True))
    return result if keepdims else np.squeeze(result, axis=axis)[()]  # [()]: a NumPy scalar for 1-D input


def log_softmax(logits, axis: int = -1) -> np.ndarray:
    """``log(softmax(z)) = z - logsumexp(z)``, computed without ever taking ``log`` of a tiny number.

    Same result as ``tf.nn.log_softmax``. Explained in notebooks/02_softmax_cross_entropy.ipynb.
    """
    array = _as_float_array(logits)
    axis = _check_axis(array, axis)
    return array - logsumexp(array, axis=axis, keepdims=True)


def softmax(logits, axis: int = -1, temperature: float = 1.0) -> np.ndarray:
    """Probabilities ``exp(z_i / T) / sum_j exp(z_j / T)`` along ``axis``, stable for any logits.

    The maximum is subtracted first (softmax does not change when a constant is added to every
    logit), so the largest exponent is ``exp(0) = 1`` and nothing overflows. ``temperature`` T > 0:
    T < 1 sharpens the distribution, T > 1 flattens it. Same result as ``tf.nn.softmax(z / T)``.
    Explained in notebooks/02_softmax_cross_entropy.ipynb.
    """
    array = _as_float_array(logits)
    axis = _check_axis(array, axis)
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.integer, np.floating)):
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    scaled = array / temperature
    shifted = scaled - np.max(scaled, axis=axis, keepdims=True)
    exponentials = np.exp(shifted)
    return exponentials / np.sum(exponentials, axis=axis, keepdims=True)


def _check_labels(labels, num_classes: int, batch_size: int | None = None) -> np.ndarray:
    array = np.asarray(labels)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"labels must be integer class indices, got dtype {array.dtype}")
    if array.ndim != 1:
        raise ValueError(f"labels must be 1-D (one class index per example), got shape {array.shape}")
    if batch_size is not None and array.shape[0] != batch_size:
        raise ValueError(f"labels has {array.shape[0]} entries but logits has {batch_size} rows")
    if array.size and (array.min() < 0 or array.max() >= num_classes):
        raise ValueError(f"labels must be in [0, {num_classes}), got values from {array.min()} to {array.max()}")
    return array.astype(np.int64)


def one_hot(labels, num_classes: int) -> np.ndarray:
    """One-hot rows: ``one_hot([2, 0], 3) == [[0, 0, 1], [1, 0, 0]]`` (float64), like ``tf.one_hot``.

    Explained in notebooks/02_softmax_cross_entropy.ipynb.
    """
    positive_int("num_classes", num_classes)
    indices = _check_labels(labels, int(num_classes))
    encoded = np.zeros((indices.shape[0], int(num_classes)))
    encoded[np.arange(indices.shape[0]), indices] = 1.0
    return encoded


def smooth_labels(targets, smoothing: float) -> np.ndarray:
    """Label smoothing: ``targets * (1 - smoothing) + smoothing / num_classes``.

    ``targets`` is a 2-D array of one-hot (or probability) rows; ``smoothing`` in [0, 1).
    The formula Keras uses for ``CategoricalCrossentropy(label_smoothing=...)``.
    Explained in notebooks/02_softmax_cross_entropy.ipynb.
    """
    array = _as_float_array(targets, "targets")
    if array.ndim != 2:
        raise ValueError(f"targets must be 2-D (batch, num_classes), got shape {array.shape}")
    if isinstance(smoothing, bool) or not isinstance(smoothing, (int, float, np.integer, np.floating)):
        raise ValueError(f"smoothing must be a number in [0, 1), got {smoothing!r}")
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"smoothing must be in [0, 1), got {smoothing!r}")
    return array * (1.0 - smoothing) + smoothing / array.shape[1]


def _check_logits_2d(logits) -> np.ndarray:
    array = _as_float_array(logits)
    if array.ndim != 2:
        raise ValueError(f"logits must be 2-D (batch, num_classes), got shape {array.shape}")
    return array


def _targets(logits: np.ndarray, labels, label_smoothing: float) -> np.ndarray:
    indices = _check_labels(labels, logits.shape[1], batch_size=logits.shape[0])
    targets = one_hot(indices, logits.shape[1]).astype(logits.dtype)  # float32 logits -> float32 gradient
    return smooth_labels(targets, label_smoothing)


def cross_entropy(logits, labels, label_smoothing: float = 0.0, reduction: str = "mean") -> np.ndarray | float:
    """Softmax cross-entropy ``-sum_k y_k log softmax(z)_k`` from logits and integer labels.

    ``logits`` has shape (batch, num_classes), ``labels`` shape (batch,). With ``label_smoothing``
    s > 0 the one-hot targets become ``y (1 - s) + s / K``. ``reduction="mean"`` returns the batch
    mean (a float), ``"none"`` the per-example losses. Computed through :func:`log_softmax`, so huge
    logits are fine. Explained in notebooks/02_softmax_cross_entropy.ipynb.
    """
    array = _check_logits_2d(logits)
    if reduction not in ("mean", "none"):
        raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
    targets = _targets(array, labels, label_smoothing)
    per_example = 0.0 - np.sum(targets * log_softmax(array, axis=-1), axis=-1)  # 0.0 - x: no -0.0
    return float(np.mean(per_example)) if reduction == "mean" else per_example


def cross_entropy_grad(logits, labels, label_smoothing: float = 0.0) -> np.ndarray:
    """Gradient of the mean :func:`cross_entropy` with respect to the logits: ``(softmax(z) - y) / batch``.

    Same shape and float dtype as ``logits``. Explained (with the derivation) in notebooks/02_softmax_cross_entropy.ipynb.
    """
    array = _check_logits_2d(logits)
    targets = _targets(array, labels, label_smoothing)
    return (softmax(array, axis=-1) - targets) / array.shape[0]
