"""Softmax, log-sum-exp and cross-entropy from scratch, in NumPy.

Explained in notebooks/02_softmax_cross_entropy.ipynb, which defines :func:`softmax`,
:func:`logsumexp`, :func:`log_softmax`, :func:`cross_entropy`, :func:`cross_entropy_grad` and
:func:`softmax_regression_loss_and_gradients` in its own cells; this module keeps identical copies
(tests/test_lesson_code.py proves it) for the later lessons and the tests. Every function here is
checked there and in tests/test_softmax.py against TensorFlow (``tf.nn.softmax``,
``tf.nn.log_softmax``, ``tf.reduce_logsumexp``, ``tf.nn.sparse_softmax_cross_entropy_with_logits``),
against Keras losses and against finite differences.

Conventions: ``logits`` are raw scores (any real numbers, the output of the last ``Dense`` layer
without activation); ``labels`` are integer class indices in ``[0, num_classes)``; the loss is the
mean over the batch, like Keras' default ``reduction="sum_over_batch_size"``.

This is the course's one softmax and one cross-entropy: ``backprop`` and ``optimizers`` use them.
"""

from __future__ import annotations

import numpy as np

from course_utils import _checks

__all__ = [
    "cross_entropy",
    "cross_entropy_grad",
    "log_softmax",
    "logsumexp",
    "naive_softmax",
    "one_hot",
    "smooth_labels",
    "softmax",
    "softmax_regression_loss_and_gradients",
]


def naive_softmax(logits, axis: int = -1) -> np.ndarray:
    """Softmax straight from the formula ``exp(z) / sum(exp(z))``: WRONG for large logits.

    ``exp(1000)`` overflows to ``inf`` and ``inf / inf`` is ``nan``; ``exp(-1000)`` underflows to 0
    and ``0 / 0`` is ``nan``. Kept only to show the problem (NumPy's overflow warnings are silenced
    here so the notebook shows the numbers, not the warnings); use :func:`softmax`.
    Explained in notebooks/02_softmax_cross_entropy.ipynb.
    """
    z, axis = _checks.logits(logits, axis)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        exponentials = np.exp(z)
        return exponentials / np.sum(exponentials, axis=axis, keepdims=True)


def softmax(logits, axis=-1, temperature=1.0):
    """Probabilities ``exp(z_i / T) / sum_j exp(z_j / T)`` along ``axis``, stable for any logits.

    The maximum is subtracted first (softmax does not change when a constant is added to every
    logit), so the largest exponent is ``exp(0) = 1`` and nothing overflows. ``temperature`` T > 0:
    T < 1 sharpens the distribution, T > 1 flattens it. Same result as ``tf.nn.softmax(z / T)``.
    Explained in notebooks/02_softmax_cross_entropy.ipynb.
    """
    z, axis = _checks.logits(logits, axis, temperature)
    z = z / temperature
    exponentials = np.exp(z - np.max(z, axis=axis, keepdims=True))  # largest exponent: exp(0) = 1
    return exponentials / np.sum(exponentials, axis=axis, keepdims=True)


def logsumexp(logits, axis=-1, keepdims=False):
    """``log(sum(exp(z)))`` along ``axis`` without overflow: ``m + log(sum(exp(z - m)))``, ``m = max(z)``.

    Same result as ``tf.reduce_logsumexp``. Explained in notebooks/02_softmax_cross_entropy.ipynb.
    """
    z, axis = _checks.logits(logits, axis)
    m = np.max(z, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)  # a row of -inf (or inf): no shift
    result = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
    return result if keepdims else np.squeeze(result, axis=axis)[()]  # [()]: a NumPy scalar for 1-D input


def log_softmax(logits, axis=-1):
    """``log(softmax(z)) = z - logsumexp(z)``, computed without ever taking ``log`` of a tiny number.

    Same result as ``tf.nn.log_softmax``. Explained in notebooks/02_softmax_cross_entropy.ipynb.
    """
    z, axis = _checks.logits(logits, axis)
    return z - logsumexp(z, axis=axis, keepdims=True)


def one_hot(labels, num_classes: int) -> np.ndarray:
    """One-hot rows: ``one_hot([2, 0], 3) == [[0, 0, 1], [1, 0, 0]]`` (float64), like ``tf.one_hot``.

    Explained in notebooks/02_softmax_cross_entropy.ipynb.
    """
    _checks.positive_int("num_classes", num_classes)
    indices = _checks.labels(labels, int(num_classes))
    encoded = np.zeros((indices.shape[0], int(num_classes)))
    encoded[np.arange(indices.shape[0]), indices] = 1.0
    return encoded


def smooth_labels(targets, smoothing: float) -> np.ndarray:
    """Label smoothing: ``targets * (1 - smoothing) + smoothing / num_classes``.

    ``targets`` is a 2-D array of one-hot (or probability) rows; ``smoothing`` in [0, 1).
    The formula Keras uses for ``CategoricalCrossentropy(label_smoothing=...)``.
    Explained in notebooks/02_softmax_cross_entropy.ipynb.
    """
    array = np.asarray(targets)
    array = array if np.issubdtype(array.dtype, np.floating) else array.astype(np.float64)
    if array.ndim != 2:
        raise ValueError(f"targets must be 2-D (batch, num_classes), got shape {array.shape}")
    _checks.fraction("smoothing", smoothing)
    return array * (1.0 - smoothing) + smoothing / array.shape[1]


def cross_entropy(logits, labels, label_smoothing=0.0, reduction="mean"):
    """Softmax cross-entropy ``-sum_k y_k log softmax(z)_k`` from logits and integer labels.

    ``logits`` has shape (batch, num_classes), ``labels`` shape (batch,). With ``label_smoothing``
    s > 0 the one-hot targets become ``y (1 - s) + s / K``. ``reduction="mean"`` returns the batch
    mean (a float), ``"none"`` the per-example losses. Computed through :func:`log_softmax`, so huge
    logits are fine. Explained in notebooks/02_softmax_cross_entropy.ipynb.
    """
    z, labels = _checks.classification(logits, labels, label_smoothing, reduction)
    targets = smooth_labels(one_hot(labels, z.shape[1]).astype(z.dtype), label_smoothing)
    per_example = 0.0 - np.sum(targets * log_softmax(z), axis=-1)  # 0.0 - x: no -0.0
    return float(np.mean(per_example)) if reduction == "mean" else per_example


def cross_entropy_grad(logits, labels, label_smoothing=0.0):
    """Gradient of the mean :func:`cross_entropy` with respect to the logits: ``(softmax(z) - y) / batch``.

    Same shape and float dtype as ``logits``. Explained (with the derivation) in
    notebooks/02_softmax_cross_entropy.ipynb.
    """
    z, labels = _checks.classification(logits, labels, label_smoothing)
    targets = smooth_labels(one_hot(labels, z.shape[1]).astype(z.dtype), label_smoothing)
    return (softmax(z) - targets) / z.shape[0]


def softmax_regression_loss_and_gradients(weights, bias, inputs, labels):
    """Mean cross-entropy of softmax regression ``logits = inputs @ weights + bias`` and its gradients.

    ``inputs`` (N, D), integer ``labels`` (N,) in [0, K), ``weights`` (D, K), ``bias`` (K,); computed
    in float64. Returns ``(loss, [dL/dweights, dL/dbias])`` with ``dL/dweights = inputs.T @ (P - Y) / N``.
    Derived in notebooks/02_softmax_cross_entropy.ipynb; used in 03_optimizers.
    """
    weights, bias, inputs, labels = _checks.linear_model(weights, bias, inputs, labels)
    logits = inputs @ weights + bias
    logit_gradient = cross_entropy_grad(logits, labels)  # (P - Y) / N
    return cross_entropy(logits, labels), [inputs.T @ logit_gradient, logit_gradient.sum(axis=0)]
