"""The layers of a convolutional network in NumPy: multi-channel convolution, max-pooling,
BatchNorm (training and inference statistics) and inverted dropout.

Explained in notebooks/04_mnist_cnn.ipynb, which defines the same functions in its cells
(tests/test_lesson_code.py keeps the copies identical) and checks each one against the Keras layer
(``Conv2D``, ``MaxPooling2D``, ``BatchNormalization``, ``Dropout``). NumPy only. Conventions:

- images are channels-last, ``(batch, height, width, channels)``, as in Keras;
- a convolution kernel is ``(k_h, k_w, c_in, c_out)``, Keras's layout, so every output pixel is the
  row vector of its input patch times a ``(k_h k_w c_in) × c_out`` matrix (the course's ``x·W``);
- every argument check lives in one call (:func:`_checks_for_layers`), so the functions show the maths.
"""

from __future__ import annotations

import numpy as np

from course_utils import _checks

__all__ = ["batch_norm", "conv2d", "dropout", "fold_batch_norm", "max_pool2d"]


def _checks_for_layers(
    x,
    kernel=None,
    bias=None,
    stride=1,
    size=None,
    statistics=None,
    rate=None,
    training=None,
    momentum=0.9,
    epsilon=1e-3,
):
    """All argument checks of this module in one call; returns ``x`` (with ``kernel`` and ``bias``, or
    with the BatchNorm ``statistics`` in their order) as float64 arrays."""
    x = _checks.finite_array("x", x)
    if training is not None and not isinstance(training, (bool, np.bool_)):
        raise ValueError(f"training must be True or False, got {training!r}")
    if rate is not None:
        _checks.fraction("rate (the dropped fraction)", rate)
        return x
    if x.ndim != 4 and statistics is None:
        raise ValueError(f"x must be a batch of images (batch, height, width, channels), got shape {x.shape}")
    if size is not None:
        _checks.positive_int("size", size)
        if x.shape[1] < size or x.shape[2] < size:
            raise ValueError(f"the pooling window {size}x{size} is larger than the image {x.shape[1:3]}")
        return x
    if statistics is not None:
        if x.ndim < 2:
            raise ValueError(f"x must have a batch axis and a feature (channel) axis, got shape {x.shape}")
        arrays = [_checks.finite_array(name, value) for name, value in statistics.items()]
        for name, array in zip(statistics, arrays, strict=True):
            if array.shape != (x.shape[-1],):
                raise ValueError(f"{name} must have one value per channel, shape {(x.shape[-1],)}, got {array.shape}")
        if np.any(arrays[-1] < 0):
            raise ValueError("moving_variance must be >= 0")
        _checks.fraction("momentum", momentum)
        _checks.positive_number("epsilon", epsilon)
        return (x, *arrays)
    kernel = _checks.finite_array("kernel", kernel)
    _checks.positive_int("stride", stride)
    if kernel.ndim != 4 or kernel.shape[2] != x.shape[3]:
        raise ValueError(
            f"kernel must have shape (k_h, k_w, c_in={x.shape[3]}, c_out) for x of shape {x.shape}, got {kernel.shape}"
        )
    if kernel.shape[0] > x.shape[1] or kernel.shape[1] > x.shape[2]:
        raise ValueError(f"kernel {kernel.shape[:2]} is larger than the image {x.shape[1:3]} (valid padding)")
    bias = np.zeros(kernel.shape[3]) if bias is None else _checks.finite_array("bias", bias)
    if bias.shape != (kernel.shape[3],):
        raise ValueError(f"bias must have one value per output channel, shape {(kernel.shape[3],)}, got {bias.shape}")
    return x, kernel, bias


# package copy of the lesson's cells starts here (tests/test_lesson_code.py compares them)


def conv2d(x, kernel, bias=None, stride=1):
    x, kernel, bias = _checks_for_layers(x, kernel, bias, stride)
    k_h, k_w, c_in, c_out = kernel.shape
    out_h, out_w = (x.shape[1] - k_h) // stride + 1, (x.shape[2] - k_w) // stride + 1  # padding="valid"
    weights = kernel.reshape(k_h * k_w * c_in, c_out)  # one column per output channel
    y = np.empty((x.shape[0], out_h, out_w, c_out))
    for i in range(out_h):
        for j in range(out_w):
            patch = x[:, i * stride : i * stride + k_h, j * stride : j * stride + k_w, :]  # (batch, k_h, k_w, c_in)
            y[:, i, j, :] = patch.reshape(len(x), -1) @ weights + bias  # row vector x · W + b
    return y


def max_pool2d(x, size=2):
    x = _checks_for_layers(x, size=size)
    n, h, w, c = x.shape
    h, w = h // size, w // size  # an incomplete last window is dropped (padding="valid")
    return x[:, : h * size, : w * size].reshape(n, h, size, w, size, c).max(axis=(2, 4))


def batch_norm(x, gamma, beta, moving_mean, moving_variance, training, momentum=0.9, epsilon=1e-3):
    statistics = {"gamma": gamma, "beta": beta, "moving_mean": moving_mean, "moving_variance": moving_variance}
    x, gamma, beta, moving_mean, moving_variance = _checks_for_layers(
        x, statistics=statistics, training=training, momentum=momentum, epsilon=epsilon
    )
    if training:  # normalise with this batch's statistics, and update the moving averages
        axes = tuple(range(x.ndim - 1))  # every axis but the channels
        mean, variance = x.mean(axis=axes), x.var(axis=axes)  # var divides by n, not n - 1
        moving_mean = momentum * moving_mean + (1 - momentum) * mean
        moving_variance = momentum * moving_variance + (1 - momentum) * variance
    else:  # inference: the moving averages gathered while training; the batch does not matter
        mean, variance = moving_mean, moving_variance
    y = gamma * (x - mean) / np.sqrt(variance + epsilon) + beta
    return y, moving_mean, moving_variance


def dropout(x, rate, training, rng=None):
    x = _checks_for_layers(x, rate=rate, training=training)
    if not training or rate == 0:
        return x  # inference: the identity, no rescaling needed
    rng = np.random.default_rng() if rng is None else rng
    keep = rng.random(x.shape) >= rate  # each unit kept with probability 1 - rate
    return np.where(keep, x / (1 - rate), 0.0)  # inverted dropout: E[y] = x


# package copy ends here


def fold_batch_norm(kernel, gamma, beta, moving_mean, moving_variance, epsilon=1e-3):
    """The ``(kernel, bias)`` of one convolution equal to a bias-free convolution followed by
    BatchNorm in inference mode: ``W' = W γ/√(σ²+ε)`` per output channel, ``b' = β - γ μ/√(σ²+ε)``.

    Deployment tools fold BatchNorm this way; the solution of exercise ``cnn.fold_batch_norm``.
    Explained in notebooks/04_mnist_cnn.ipynb.
    """
    kernel = _checks.finite_array("kernel", kernel)
    statistics = {"gamma": gamma, "beta": beta, "moving_mean": moving_mean, "moving_variance": moving_variance}
    _, gamma, beta, moving_mean, moving_variance = _checks_for_layers(
        np.zeros((1, kernel.shape[-1])), statistics=statistics, epsilon=epsilon
    )
    scale = gamma / np.sqrt(moving_variance + epsilon)
    return kernel * scale, beta - scale * moving_mean
