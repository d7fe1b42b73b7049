"""A multilayer perceptron in NumPy: forward pass, backpropagation, gradient checking.

Explained in notebooks/01_forward_backward.ipynb. Conventions (the same as Keras ``Dense``):

- a batch of inputs is a row matrix ``x`` of shape ``(batch, features)``;
- layer ``l`` has a kernel ``W`` of shape ``(n_in, n_out)`` and a bias ``b`` of shape ``(n_out,)``,
  and computes ``z = a_prev @ W + b`` then ``a = activation(z)``;
- the last layer has no activation: it returns logits, turned into a loss by
  :func:`softmax_cross_entropy` (mean over the batch), which is
  :func:`course_utils.softmax.cross_entropy` and its gradient (the course's one cross-entropy).

notebooks/01_forward_backward.ipynb defines the activations, :func:`init_mlp`, :func:`mlp_forward`,
:func:`mlp_backward`, :func:`numerical_gradient` and :func:`relative_error` in its own cells; this
module keeps identical copies (tests/test_lesson_code.py proves it). Argument checks live in
``course_utils._checks``, one call per function.

Parameters are a list of dicts ``[{"W": ..., "b": ...}, ...]``, one per layer; gradients have the
same structure.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from course_utils import _checks
from course_utils.softmax import cross_entropy, cross_entropy_grad, softmax

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "identity",
    "identity_derivative",
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


def relu(z):
    """ReLU, ``max(z, 0)``. Explained in notebooks/01_forward_backward.ipynb."""
    z = _checks.real_array("z", z)
    return np.maximum(z, 0)


def relu_derivative(z):
    """ReLU'(z): 1 where ``z > 0``, else 0 (0 at the kink, as TensorFlow does).

    Explained in notebooks/01_forward_backward.ipynb.
    """
    z = _checks.real_array("z", z)
    return (z > 0).astype(z.dtype if np.issubdtype(z.dtype, np.floating) else np.float64)


def sigmoid(z):
    """Logistic sigmoid ``1 / (1 + exp(-z))``, written as ``(1 + tanh(z/2)) / 2`` so it never overflows.

    The course's one sigmoid (the LSTM of ``course_utils.text`` uses it too).
    Explained in notebooks/01_forward_backward.ipynb.
    """
    z = _checks.real_array("z", z)
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def sigmoid_derivative(z):
    """sigmoid'(z) = sigmoid(z) * (1 - sigmoid(z)). Explained in notebooks/01_forward_backward.ipynb."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    """Hyperbolic tangent. Explained in notebooks/01_forward_backward.ipynb."""
    z = _checks.real_array("z", z)
    return np.tanh(z)


def tanh_derivative(z):
    """tanh'(z) = 1 - tanh(z)**2. Explained in notebooks/01_forward_backward.ipynb."""
    z = _checks.real_array("z", z)
    return 1.0 - np.tanh(z) ** 2


def identity(z):
    """No activation at all: stacked layers then collapse into one linear map (notebook 01 shows it)."""
    return _checks.real_array("z", z)


def identity_derivative(z):
    """The identity's derivative, 1 everywhere. Explained in notebooks/01_forward_backward.ipynb."""
    z = _checks.real_array("z", z)
    return np.ones_like(z, dtype=np.float64)


ACTIVATIONS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "relu": (relu, relu_derivative),
    "sigmoid": (sigmoid, sigmoid_derivative),
    "tanh": (tanh, tanh_derivative),
    "linear": (identity, identity_derivative),
}

# standard deviation of the kernel entries of a layer with n_in inputs and n_out outputs
INITIALIZERS: dict[str, Callable[[int, int], float]] = {
    "normal": lambda n_in, n_out: 1.0,  # N(0, 1): the "just use random numbers" init
    "xavier": lambda n_in, n_out: np.sqrt(2.0 / (n_in + n_out)),  # Glorot: keeps tanh/sigmoid signals
    "he": lambda n_in, n_out: np.sqrt(2.0 / n_in),  # He: keeps ReLU signals (half the units are 0)
}


# --------------------------------------------------------------------------------------------
# Parameters and the forward pass


def init_mlp(layer_sizes, rng, dtype=np.float64, init="he"):
    """Random parameters of an MLP with ``layer_sizes = [n_inputs, hidden..., n_outputs]``.

    Kernels are drawn from N(0, std²) with std from ``INITIALIZERS[init]`` ("he": 2 / n_in, suited
    to ReLU; "xavier": 2 / (n_in + n_out); "normal": 1), biases are zero. ``[784, 128, 10]`` gives
    W (784, 128), b (128,), W (128, 10), b (10,). Explained in notebooks/01_forward_backward.ipynb.
    """
    sizes = _checks.mlp_init(layer_sizes, rng, dtype, init, INITIALIZERS)
    params = []
    for n_in, n_out in itertools.pairwise(sizes):
        kernel = rng.normal(0.0, INITIALIZERS[init](n_in, n_out), size=(n_in, n_out)).astype(dtype)
        params.append({"W": kernel, "b": np.zeros(n_out, dtype=dtype)})
    return params


def mlp_forward(params, x, activation="relu"):
    """Forward pass: returns ``(logits, caches)``.

    ``x`` has shape ``(batch, n_inputs)``. Every layer but the last applies ``activation``
    ("relu", "sigmoid", "tanh" or "linear"); the last returns logits of shape ``(batch, n_outputs)``.
    ``caches[l]`` holds what backpropagation needs from layer ``l``: ``"inputs"`` (the layer's
    input ``a_prev``) and ``"pre_activation"`` (``z = a_prev @ W + b``).
    Explained in notebooks/01_forward_backward.ipynb.
    """
    a = _checks.mlp_forward(params, x, activation, ACTIVATIONS)
    function, _ = ACTIVATIONS[activation]
    caches = []
    for index, layer in enumerate(params):
        z = a @ layer["W"] + layer["b"]
        caches.append({"inputs": a, "pre_activation": z})
        a = z if index == len(params) - 1 else function(z)
    return a, caches


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy and its gradient with respect to the logits: ``(loss, grad_logits)``.

    ``logits`` (batch, classes), ``labels`` integer class indices (batch,); ``grad_logits`` is
    ``(softmax(logits) - one_hot(labels)) / batch``. Both come from ``course_utils.softmax`` (the one
    cross-entropy of the course, derived in notebooks/02_softmax_cross_entropy.ipynb).
    """
    return cross_entropy(logits, labels), cross_entropy_grad(logits, labels)


# --------------------------------------------------------------------------------------------
# Backward pass


def mlp_backward(params, caches, grad_logits, activation="relu", omit_activation_derivative=False):
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
    delta = _checks.mlp_backward(params, caches, grad_logits, activation, ACTIVATIONS)
    _, derivative = ACTIVATIONS[activation]
    grads = [{} for _ in params]
    for index in range(len(params) - 1, -1, -1):
        grads[index] = {"W": caches[index]["inputs"].T @ delta, "b": delta.sum(axis=0)}
        if index > 0:  # the input layer's delta (dL/dx) is not needed
            delta = delta @ params[index]["W"].T  # dL/da of the previous layer: fan-out sums here
            if not omit_activation_derivative:
                delta = delta * derivative(caches[index - 1]["pre_activation"])  # dL/dz
    return grads


def loss_and_gradients(params, x, labels, activation="relu"):
    """Forward pass, softmax cross-entropy and backward pass in one call: ``(loss, grads)``.

    Explained in notebooks/01_forward_backward.ipynb.
    """
    logits, caches = mlp_forward(params, x, activation)
    loss, grad_logits = softmax_cross_entropy(logits, labels)
    return loss, mlp_backward(params, caches, grad_logits, activation)


# --------------------------------------------------------------------------------------------
# Gradient checking


def numerical_gradient(f, x, eps=1e-6):
    """Centred finite differences: ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)`` for every entry i.

    ``x`` must be a floating-point NumPy array (float64 for accurate checks); it is perturbed in
    place, one entry at a time, and restored, so ``f`` may read it through a closure (for example
    a parameter array inside a model). The error is O(eps**2) plus rounding of order
    ``1e-16 * |f| / eps``. The course's one finite-difference helper (03 uses it too).
    Explained in notebooks/01_forward_backward.ipynb.
    """
    _checks.finite_differences(f, x, eps)
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


def relative_error(a, b):
    """``||a - b|| / (||a|| + ||b||)`` (Euclidean norms over all entries); 0.0 when both are zero.

    Scale-free: 1e-7 means the two arrays agree to about seven digits. Explained in
    notebooks/01_forward_backward.ipynb.
    """
    a, b = _checks.same_shape(a, b)
    denominator = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denominator == 0 else float(np.linalg.norm(a - b) / denominator)
