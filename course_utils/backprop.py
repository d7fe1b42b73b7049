"""A multilayer perceptron in NumPy: forward pass, backpropagation, gradient checking.

Explained in notebooks/01_forward_backward.ipynb. Conventions (the same as Keras ``Dense``):

- a batch of inputs is a row matrix ``x`` of shape ``(batch, features)``;
- layer ``l`` has a kernel ``W`` of shape ``(n_in, n_out)`` and a bias ``b`` of shape ``(n_out,)``,
  and computes ``z = a_prev @ W + b`` then ``a = activation(z)``;
- the last layer has no activation: it returns logits, turned into a loss by
  :func:`softmax_cross_entropy` (mean over the batch).

Parameters are a list of dicts ``[{"W": ..., "b": ...}, ...]``, one per layer; gradients have the
same structure.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np

from course_utils.softmax import softmax as stable_softmax

__all__ = [
    "ACTIVATIONS",
    "init_mlp",
    "loss_and_gradients",
    "mlp_backward",
    "mlp_forward",
    "numerical_gradient",
    "relative_error",
    "relu",
    "relu_derivative",
    "sigmoid",
    "sigmoid_derivative",
    "softmax",
    "softmax_cross_entropy",
    "tanh",
    "tanh_derivative",
]

Params = list[dict[str, np.ndarray]]


# --------------------------------------------------------------------------------------------
# Activations and their derivatives


def relu(z: np.ndarray) -> np.ndarray:
    """ReLU, ``max(z, 0)``. Explained in notebooks/01_forward_backward.ipynb."""
    return np.maximum(z, 0)


def relu_derivative(z: np.ndarray) -> np.ndarray:
    """ReLU'(z): 1 where ``z > 0``, else 0 (0 at the kink, as TensorFlow does).

    Explained in notebooks/01_forward_backward.ipynb.
    """
    z = np.asarray(z)
    return (z > 0).astype(z.dtype if np.issubdtype(z.dtype, np.floating) else np.float64)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic sigmoid ``1 / (1 + exp(-z))``, written as ``(1 + tanh(z/2)) / 2`` so it never overflows.

    Explained in notebooks/01_forward_backward.ipynb.
    """
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z)))


def sigmoid_derivative(z: np.ndarray) -> np.ndarray:
    """sigmoid'(z) = sigmoid(z) * (1 - sigmoid(z)). Explained in notebooks/01_forward_backward.ipynb."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent. Explained in notebooks/01_forward_backward.ipynb."""
    return np.tanh(z)


def tanh_derivative(z: np.ndarray) -> np.ndarray:
    """tanh'(z) = 1 - tanh(z)**2. Explained in notebooks/01_forward_backward.ipynb."""
    return 1.0 - np.tanh(z) ** 2


ACTIVATIONS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "relu": (relu, relu_derivative),
    "sigmoid": (sigmoid, sigmoid_derivative),
    "tanh": (tanh, tanh_derivative),
}


def _activation_pair(activation: str):
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    return ACTIVATIONS[activation]


# --------------------------------------------------------------------------------------------
# Parameters


def init_mlp(layer_sizes: Sequence[int], rng: np.random.Generator, dtype=np.float64) -> Params:
    """Random parameters of an MLP with ``layer_sizes = [n_inputs, hidden..., n_outputs]``.

    Kernels are drawn from N(0, 2 / n_in) ("He" initialisation, suited to ReLU), biases are zero.
    ``layer_sizes=[784, 128, 10]`` gives two layers: W (784, 128), b (128,), W (128, 10), b (10,).
    Explained in notebooks/01_forward_backward.ipynb.
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}"
        )
    sizes = list(layer_sizes)
    if len(sizes) < 2:
        raise ValueError(f"layer_sizes needs at least an input and an output size, got {sizes}")
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"every layer size must be a positive integer, got {sizes}")
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise ValueError(f"dtype must be a floating-point type (float32 or float64), got {dtype}")
    params = []
    for n_in, n_out in itertools.pairwise(sizes):
        kernel = rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out)).astype(dtype)
        params.append({"W": kernel, "b": np.zeros(n_out, dtype=dtype)})
    return params


def _check_params(params: Params) -> None:
    if not isinstance(params, (list, tuple)) or not params:
        raise ValueError("params must be a non-empty list of {'W': (n_in, n_out), 'b': (n_out,)} dicts")
    for index, layer in enumerate(params):
        if not isinstance(layer, dict) or "W" not in layer or "b" not in layer:
            raise ValueError(f"params[{index}] must be a dict with keys 'W' and 'b'")
        kernel, bias = np.asarray(layer["W"]), np.asarray(layer["b"])
        if kernel.ndim != 2 or bias.shape != (kernel.shape[1],):
            raise ValueError(
                f"params[{index}] must have W of shape (n_in, n_out) and b of shape (n_out,), "
                f"got W {kernel.shape} and b {bias.shape}"
            )
        if index > 0 and kernel.shape[0] != np.asarray(params[index - 1]["W"]).shape[1]:
            raise ValueError(
                f"params[{index}]['W'] has {kernel.shape[0]} inputs but layer {index - 1} has "
                f"{np.asarray(params[index - 1]['W']).shape[1]} outputs"
            )


# --------------------------------------------------------------------------------------------
# Forward pass


def mlp_forward(params: Params, x: np.ndarray, activation: str = "relu") -> tuple[np.ndarray, list[dict]]:
    """Forward pass: returns ``(logits, caches)``.

    ``x`` has shape ``(batch, n_inputs)``. Every layer but the last applies ``activation``
    ("relu", "sigmoid" or "tanh"); the last returns logits of shape ``(batch, n_outputs)``.
    ``caches[l]`` holds what backpropagation needs from layer ``l``: ``"inputs"`` (the layer's
    input ``a_prev``) and ``"pre_activation"`` (``z = a_prev @ W + b``).
    Explained in notebooks/01_forward_backward.ipynb.
    """
    _check_params(params)
    function, _ = _activation_pair(activation)
    x = np.asarray(x)
    n_inputs = params[0]["W"].shape[0]
    if x.ndim != 2 or x.shape[1] != n_inputs:
        raise ValueError(f"x must have shape (batch, {n_inputs}), got {x.shape}")
    caches = []
    a = x
    for index, layer in enumerate(params):
        z = a @ layer["W"] + layer["b"]
        caches.append({"inputs": a, "pre_activation": z})
        a = z if index == len(params) - 1 else function(z)
    return a, caches


# --------------------------------------------------------------------------------------------
# Output loss


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, computed after subtracting each row's maximum (so exp never overflows).

    The one implementation is :func:`course_utils.softmax.softmax`; this is its 2-D, row-wise use.
    Explained in notebooks/01_forward_backward.ipynb (and in depth in 02_softmax_cross_entropy).
    """
    logits = np.asarray(logits)
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (batch, classes), got {logits.shape}")
    return stable_softmax(logits, axis=1)


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy and its gradient with respect to the logits.

    ``logits`` (batch, classes), ``labels`` integer class indices (batch,). Returns
    ``(loss, grad_logits)`` with ``loss = mean(-log softmax(logits)[i, labels[i]])`` and
    ``grad_logits = (softmax(logits) - one_hot(labels)) / batch``.
    Explained in notebooks/01_forward_backward.ipynb.
    """
    logits = np.asarray(logits)
    labels = np.asarray(labels)
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (batch, classes), got {logits.shape}")
    if labels.shape != (logits.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"labels must be integer class indices of shape ({logits.shape[0]},), got {labels.dtype} {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= logits.shape[1]):
        raise ValueError(f"labels must be in [0, {logits.shape[1]}), got values from {labels.min()} to {labels.max()}")
    batch = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(batch)
    loss = float(-log_probabilities[rows, labels].mean())
    grad_logits = np.exp(log_probabilities)
    grad_logits[rows, labels] -= 1.0
    return loss, grad_logits / batch


# --------------------------------------------------------------------------------------------
# Backward pass


def mlp_backward(
    params: Params,
    caches: list[dict],
    grad_logits: np.ndarray,
    activation: str = "relu",
    omit_activation_derivative: bool = False,
) -> Params:
    """Backpropagation: gradients ``[{"W": dL/dW, "b": dL/db}, ...]`` for every layer.

    ``caches`` comes from :func:`mlp_forward` with the same ``params`` and ``activation``;
    ``grad_logits`` is dL/d(logits), e.g. from :func:`softmax_cross_entropy`. Going backwards,
    with ``delta`` = dL/dz of the current layer::

        dW = a_prev.T @ delta          db = delta.sum(axis=0)
        delta_prev = (delta @ W.T) * activation'(z_prev)

    ``omit_activation_derivative=True`` reproduces a common mistake (``delta_prev = delta @ W.T``)
    so the notebook and the tests can show that a gradient check catches it; never use it to train.
    Explained in notebooks/01_forward_backward.ipynb.
    """
    _check_params(params)
    _, derivative = _activation_pair(activation)
    if not isinstance(caches, (list, tuple)) or len(caches) != len(params):
        raise ValueError(f"caches must be the list returned by mlp_forward, one per layer ({len(params)})")
    delta = np.asarray(grad_logits)
    expected = caches[-1]["pre_activation"].shape
    if delta.shape != expected:
        raise ValueError(f"grad_logits must have the logits' shape {expected}, got {delta.shape}")
    grads: Params = [{} for _ in params]
    for index in range(len(params) - 1, -1, -1):
        inputs = caches[index]["inputs"]
        grads[index] = {"W": inputs.T @ delta, "b": delta.sum(axis=0)}
        if index > 0:  # the input layer's delta (dL/dx) is not needed
            delta = delta @ params[index]["W"].T  # dL/da of the previous layer
            if not omit_activation_derivative:
                delta = delta * derivative(caches[index - 1]["pre_activation"])  # dL/dz
    return grads


def loss_and_gradients(
    params: Params, x: np.ndarray, labels: np.ndarray, activation: str = "relu"
) -> tuple[float, Params]:
    """Forward pass, softmax cross-entropy and backward pass in one call: ``(loss, grads)``.

    Explained in notebooks/01_forward_backward.ipynb.
    """
    logits, caches = mlp_forward(params, x, activation)
    loss, grad_logits = softmax_cross_entropy(logits, labels)
    return loss, mlp_backward(params, caches, grad_logits, activation)


# --------------------------------------------------------------------------------------------
# Gradient checking


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Centred finite differences: ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)`` for every entry i.

    ``x`` must be a floating-point NumPy array (float64 for accurate checks); it is perturbed in
    place, one entry at a time, and restored, so ``f`` may read it through a closure (for example
    a parameter array inside a model). The error is O(eps**2) plus rounding of order
    ``1e-16 * |f| / eps``. Explained in notebooks/01_forward_backward.ipynb.
    """
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"x must be a floating-point numpy array, got {type(x).__name__} {getattr(x, 'dtype', '')}")
    if not callable(f):
        raise ValueError("f must be a callable taking x and returning a scalar")
    if not (isinstance(eps, (float, int)) and not isinstance(eps, bool) and eps > 0):
        raise ValueError(f"eps must be a positive number, got {eps!r}")
    gradient = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        try:
            x[index] = original + eps
            above = float(f(x))
            x[index] = original - eps
            below = float(f(x))
        finally:
            x[index] = original
        gradient[index] = (above - below) / (2 * eps)
    return gradient


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """``||a - b|| / (||a|| + ||b||)`` (Euclidean norms over all entries); 0.0 when both are zero.

    Scale-free: 1e-7 means the two arrays agree to about seven digits. Explained in
    notebooks/01_forward_backward.ipynb.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    denominator = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denominator == 0 else float(np.linalg.norm(a - b) / denominator)
