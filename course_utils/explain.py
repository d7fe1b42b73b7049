"""Attributions for a model's decision: saliency, Integrated Gradients, Grad-CAM, and checks on them.

Explained in notebooks/10_explainability.ipynb.

The attribution functions work on any differentiable TensorFlow function ``f`` that maps a batch
of float inputs of shape ``(n, *input_shape)`` to ``n`` scores (one number per example, e.g. the
logit of one class). :func:`integrated_gradients` explains one input ``x`` against a baseline
``x'`` by integrating the gradient along the straight path between them, with the trapezoid rule
by default, so that its attributions add up to ``f(x) - f(x')`` (completeness).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_utils._checks import finite_array, positive_int
from course_utils.environment import import_tensorflow

tf, keras = import_tensorflow()  # without TensorFlow's C++ start-up lines

__all__ = [
    "completeness_gap",
    "delete_top_k",
    "grad_cam",
    "gradients",
    "integrated_gradients",
    "path_weights",
    "rank_correlation",
    "saliency",
]

PATH_METHODS = ("trapezoid", "left", "right", "midpoint")


def _float_array(values, name: str) -> np.ndarray:
    """A non-empty float32 array of finite numbers (a NaN input would give NaN attributions silently)."""
    return finite_array(name, values, dtype=np.float32)


def _scores(f: Callable, batch, expected: int):
    """``f(batch)`` as a float tensor of shape (expected,), or a ValueError saying what came back."""
    values = tf.convert_to_tensor(f(batch))
    if values.shape.rank == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.shape.rank != 1 or values.shape[0] != expected:
        raise ValueError(
            f"f must return one score per example, shape ({expected},) (or ({expected}, 1)), got {values.shape}"
        )
    return tf.cast(values, tf.float32)


def _check_gradient_arguments(f, x):
    """``x`` as a float32 batch ``(n, ...)`` of finite numbers, and ``f`` callable."""
    if not callable(f):
        raise ValueError(f"f must be callable, got {type(f).__name__}")
    x = _float_array(x, "x")
    if x.ndim < 2:
        raise ValueError(f"x must be a batch of shape (n, ...) with at least 2 dimensions, got shape {x.shape}")
    return x


def gradients(f, x):
    """The gradient of each example's score with respect to that example, ``d f(x)_i / d x_i``.

    ``f`` maps a float32 tensor of shape ``(n, *input_shape)`` to ``n`` scores (or ``(n, 1)``) and
    must treat examples independently (then the gradient of the summed scores is the per-example
    gradient). ``x`` is a batch ``(n, *input_shape)``; the result has the same shape.
    Explained in notebooks/10_explainability.ipynb.
    """
    inputs = tf.constant(_check_gradient_arguments(f, x))
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        total = tf.reduce_sum(_scores(f, inputs, len(inputs)))  # examples are independent
    return tape.gradient(total, inputs).numpy()


def saliency(f, x):
    """Saliency map: the absolute gradient ``|d f(x)_i / d x_i|`` of each score w.r.t. its input.

    Same conventions as :func:`gradients`. Explained in notebooks/10_explainability.ipynb.
    """
    return np.abs(gradients(f, x))


def _check_path_arguments(steps, method):
    """``steps`` as a positive int, ``method`` one of :data:`PATH_METHODS`."""
    if method not in PATH_METHODS:
        raise ValueError(f"method must be one of {PATH_METHODS}, got {method!r}")
    return positive_int("steps", steps)


def path_weights(steps, method="trapezoid"):
    """Points ``alpha`` in [0, 1] and weights (summing to 1) of a quadrature rule for the path integral.

    ``trapezoid`` uses the ``steps + 1`` points ``k / steps`` with halved end weights (error
    O(1/steps²) for smooth paths); ``left`` and ``right`` are Riemann sums over ``steps`` points
    (error O(1/steps)); ``midpoint`` uses the centres ``(k + 1/2) / steps``.
    Explained in notebooks/10_explainability.ipynb.
    """
    steps = _check_path_arguments(steps, method)
    if method == "trapezoid":
        alphas = np.linspace(0.0, 1.0, steps + 1)
        weights = np.full(steps + 1, 1.0 / steps)
        weights[[0, -1]] /= 2
    elif method == "left":
        alphas, weights = np.arange(steps) / steps, np.full(steps, 1.0 / steps)
    elif method == "right":
        alphas, weights = np.arange(1, steps + 1) / steps, np.full(steps, 1.0 / steps)
    else:  # midpoint
        alphas, weights = (np.arange(steps) + 0.5) / steps, np.full(steps, 1.0 / steps)
    return alphas.astype(np.float32), weights.astype(np.float64)


def _check_ig_arguments(f, x, baseline, batch_size):
    """``(x, baseline, batch_size)``: one float32 input (no batch axis), a baseline of its shape
    (zeros when None) and a positive batch size (or None)."""
    if not callable(f):
        raise ValueError(f"f must be callable, got {type(f).__name__}")
    x = _float_array(x, "x")
    if x.ndim == 0:
        raise ValueError("x must be one input with at least one dimension (no batch axis), got a scalar")
    baseline = np.zeros_like(x) if baseline is None else _float_array(baseline, "baseline")
    if baseline.shape != x.shape:
        raise ValueError(f"baseline must have the shape of x {x.shape}, got {baseline.shape}")
    return x, baseline, None if batch_size is None else positive_int("batch_size", batch_size)


def integrated_gradients(f, x, baseline=None, steps=64, batch_size=32, method="trapezoid"):
    """Integrated Gradients of the score ``f`` at one input ``x`` against ``baseline``.

    ``IG_i = (x_i - x'_i) * ∫_0^1 ∂f(x' + α (x - x')) / ∂x_i dα``, the integral approximated by
    :func:`path_weights` (``steps`` intervals; the trapezoid rule by default). ``x`` is ONE input
    of shape ``input_shape`` (no batch axis); ``baseline`` has the same shape (zeros when None);
    ``f`` maps a float32 batch ``(n, *input_shape)`` to ``n`` scores. The path points are sent
    through ``f`` ``batch_size`` at a time (all at once when None). The attributions (float64,
    shape of ``x``) sum to ``f(x) - f(baseline)`` up to the quadrature error (completeness; see
    :func:`completeness_gap`). Explained in notebooks/10_explainability.ipynb.
    """
    x, baseline, batch_size = _check_ig_arguments(f, x, baseline, batch_size)
    alphas, weights = path_weights(steps, method)
    batch_size = len(alphas) if batch_size is None else batch_size
    average_gradient = np.zeros(x.shape, np.float64)
    for start in range(0, len(alphas), batch_size):
        chunk = alphas[start : start + batch_size].reshape((-1,) + (1,) * x.ndim)
        path = baseline[None] + chunk * (x - baseline)[None]  # points on the straight line from x' to x
        path_gradients = gradients(f, path).astype(np.float64)
        average_gradient += np.tensordot(weights[start : start + batch_size], path_gradients, axes=1)
    return (x.astype(np.float64) - baseline) * average_gradient


def completeness_gap(f: Callable, x, baseline, attributions) -> dict[str, float]:
    """How far ``attributions`` are from adding up to ``f(x) - f(baseline)``.

    Returns ``{"sum": Σ attributions, "difference": f(x) - f(baseline), "absolute_error": ...,
    "relative_error": absolute_error / |difference|}`` for one input ``x`` (no batch axis).
    Explained in notebooks/10_explainability.ipynb.
    """
    x = _float_array(x, "x")
    baseline = _float_array(baseline, "baseline")
    attributions = finite_array("attributions", attributions)
    if baseline.shape != x.shape or attributions.shape != x.shape:
        raise ValueError(
            f"x, baseline and attributions must have one shape, got {x.shape}, {baseline.shape}, {attributions.shape}"
        )
    values = _scores(f, tf.constant(np.stack([x, baseline])), 2).numpy().astype(np.float64)
    difference = float(values[0] - values[1])
    total = float(attributions.sum())
    error = abs(total - difference)
    return {
        "sum": total,
        "difference": difference,
        "absolute_error": error,
        "relative_error": error / abs(difference) if difference else float("inf"),
    }


def _check_grad_cam_arguments(model, layer_name, images, class_index):
    """``(layer, images, classes)``: the named 4-D layer of a one-input, one-output Keras model, a
    non-empty batch, and one int32 class per image."""
    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model, got {type(model).__name__}")
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(f"model must have one input and one output, got {len(model.inputs)} and {len(model.outputs)}")
    try:
        layer = model.get_layer(layer_name)
    except ValueError as error:
        raise ValueError(f"model has no layer named {layer_name!r}") from error
    if len(layer.output.shape) != 4:
        raise ValueError(f"layer {layer_name!r} must output (n, h, w, channels) maps, got {layer.output.shape}")
    images = np.asarray(images)
    if images.ndim < 2 or len(images) == 0:
        raise ValueError(f"images must be a non-empty batch (n, ...), got shape {images.shape}")
    num_classes = model.outputs[0].shape[-1]
    classes = np.broadcast_to(np.asarray(class_index), (len(images),))
    if not np.issubdtype(classes.dtype, np.integer) or classes.min() < 0 or classes.max() >= num_classes:
        raise ValueError(f"class_index must be integers in [0, {num_classes}), got {class_index!r}")
    return layer, images, classes.astype(np.int32)


def grad_cam(model, layer_name, images, class_index):
    """Grad-CAM maps (Selvaraju et al. 2017) of ``model``'s score for ``class_index`` at ``layer_name``.

    With ``A`` the layer's output (``(n, h, w, channels)``) and ``y`` the model's output for the
    chosen class, each channel gets the weight ``w_k = mean_{i,j} ∂y/∂A[i, j, k]`` and the map is
    ``ReLU(Σ_k w_k A[:, :, k])``, of shape ``(n, h, w)`` (upsample it to overlay on the image).
    Pass a model whose output is the class *score* (e.g. logits, not softmax probabilities).
    ``class_index`` is one class for all images or one per image.
    Explained in notebooks/10_explainability.ipynb.
    """
    layer, images, classes = _check_grad_cam_arguments(model, layer_name, images, class_index)
    inner = keras.Model(model.inputs[0], [layer.output, model.outputs[0]])
    with tf.GradientTape() as tape:
        feature_maps, scores = inner(images, training=False)
        chosen = tf.gather(scores, classes, axis=1, batch_dims=1)  # each image's score for its class
    channel_weights = tf.reduce_mean(tape.gradient(chosen, feature_maps), axis=(1, 2))  # w_k
    return tf.nn.relu(tf.einsum("nhwk,nk->nhw", feature_maps, channel_weights)).numpy()


def delete_top_k(x, attributions, k: int, fill=0.0) -> np.ndarray:
    """A copy of the batch ``x`` with, in each example, the ``k`` entries of largest attribution set to ``fill``.

    ``attributions`` has the shape of ``x``; entries are ranked per example over all its positions
    (ties broken by position). Pass ``np.abs(...)`` to rank by magnitude, or random numbers for
    a random-deletion control. Explained in notebooks/10_explainability.ipynb.
    """
    x = np.asarray(x)
    finite_array("x", x, allow_empty=True)  # checked; the copy keeps x's dtype
    attributions = finite_array("attributions", attributions, allow_empty=True)
    if x.ndim >= 1 and len(x) == 0:
        raise ValueError(f"x must be a non-empty batch (n, ...), got shape {x.shape}")
    if x.ndim < 2 or attributions.shape != x.shape:
        raise ValueError(
            f"x must be a batch (n, ...) and attributions its shape, got {x.shape} and {attributions.shape}"
        )
    k = positive_int("k", k)
    size = int(np.prod(x.shape[1:]))
    if k > size:
        raise ValueError(f"k must be at most the number of entries per example ({size}), got {k}")
    flat = x.reshape(len(x), size).copy()
    top = np.argsort(-attributions.reshape(len(x), size), axis=1, kind="stable")[:, :k]
    np.put_along_axis(flat, top, fill, axis=1)
    return flat.reshape(x.shape)


def _average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), np.float64)
    sorted_values = values[order]
    start = 0
    for end in range(1, len(values) + 1):
        if end == len(values) or sorted_values[end] != sorted_values[start]:
            ranks[order[start:end]] = (start + end - 1) / 2  # ties share their average rank
            start = end
    return ranks


def rank_correlation(a, b) -> float:
    """Spearman's rank correlation of two equally long sequences (ties get their average rank).

    1 when ``b`` grows whenever ``a`` does, -1 when it always falls, about 0 when the orders are
    unrelated. Explained in notebooks/10_explainability.ipynb.
    """
    a = finite_array("a", a, allow_empty=True).ravel()
    b = finite_array("b", b, allow_empty=True).ravel()
    if a.shape != b.shape or len(a) < 2:
        raise ValueError(f"a and b must hold the same number (>= 2) of values, got {a.size} and {b.size}")
    rank_a, rank_b = _average_ranks(a), _average_ranks(b)
    rank_a -= rank_a.mean()
    rank_b -= rank_b.mean()
    denominator = np.sqrt((rank_a**2).sum() * (rank_b**2).sum())
    if denominator == 0:
        raise ValueError("rank correlation is undefined when a or b is constant")
    return float(np.clip((rank_a * rank_b).sum() / denominator, -1.0, 1.0))  # clip float rounding
