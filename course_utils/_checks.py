"""Argument checks shared by the course_utils modules; each raises ValueError saying what was expected.

``bool`` is refused wherever a number is expected (``True`` is an ``int`` in Python, never a
meaningful size or rate).
"""

from __future__ import annotations

import numpy as np

_INTEGER = (int, np.integer)
_REAL = (int, float, np.integer, np.floating)


def positive_int(name: str, value) -> int:
    """``value`` as an ``int`` if it is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, _INTEGER) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def non_negative_int(name: str, value) -> int:
    """``value`` as an ``int`` if it is an integer >= 0."""
    if isinstance(value, bool) or not isinstance(value, _INTEGER) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def positive_number(name: str, value) -> float:
    """``value`` as a ``float`` if it is a finite real number > 0."""
    if isinstance(value, bool) or not isinstance(value, _REAL):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def fraction(name: str, value, meaning: str = "") -> float:
    """``value`` as a ``float`` if it is a real number in [0, 1); ``meaning`` is added to the message."""
    if isinstance(value, bool) or not isinstance(value, _REAL):
        raise ValueError(f"{name} must be a real number in [0, 1), got {value!r}")
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{name} must be in [0, 1){meaning}, got {value!r}")
    return float(value)


# ------------------------------------------------------------------ arrays of logits and labels
# One call each for the from-scratch functions the lessons show (softmax, cross-entropy, the MLP,
# the optimizers), so that the shown body is the maths and every check lives here.


def logits(values, axis: int = -1, temperature: float = 1.0) -> tuple[np.ndarray, int]:
    """``(array, axis)``: ``values`` as a non-empty float array, ``axis`` an integer in range for it,
    ``temperature`` a finite number > 0."""
    array = real_array("logits", values, min_ndim=1, allow_empty=False, as_float=True)
    if isinstance(axis, bool) or not isinstance(axis, _INTEGER):
        raise ValueError(f"axis must be an integer, got {axis!r}")
    if not -array.ndim <= axis < array.ndim:
        raise ValueError(f"axis {axis} is out of range for an array of shape {array.shape}")
    if isinstance(temperature, bool) or not isinstance(temperature, _REAL):
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    _no_nan_or_plus_inf("logits", array)
    if np.isneginf(array).all(axis=axis).any():
        raise ValueError("logits are -inf for every class of some row: no class is left with any probability")
    return array, int(axis)


def _no_nan_or_plus_inf(name: str, array: np.ndarray) -> None:
    """Logits may be -inf (probability 0, as a mask makes them); NaN and +inf have no meaning."""
    nan, plus_inf = int(np.count_nonzero(np.isnan(array))), int(np.count_nonzero(np.isposinf(array)))
    if nan or plus_inf:
        raise ValueError(
            f"{name} must not contain NaN or +inf (-inf is allowed: probability 0), got {nan} NaN and "
            f"{plus_inf} +inf in shape {array.shape}; a diverging model or a bad input produced them"
        )


def real_array(name: str, values, *, min_ndim: int = 0, allow_empty: bool = True, as_float: bool = False) -> np.ndarray:
    """``values`` as an array of real numbers with at least ``min_ndim`` axes: the one array check of
    the package (logits, activations, attention inputs and ``finite_array`` all go through it).

    Refused with a ValueError: ragged lists, strings, objects, booleans and complex numbers, fewer
    than ``min_ndim`` axes, and (unless ``allow_empty``) no elements. NaN and ±inf pass through and
    come out as NumPy and TensorFlow return them (NaN in gives NaN out). ``as_float`` turns integer
    arrays into float64; otherwise the dtype is kept.
    """
    try:
        array = np.asarray(values)
    except ValueError as error:  # ragged nested lists
        raise ValueError(f"{name} must be an array of real numbers, got a ragged {type(values).__name__}") from error
    if array.dtype == np.bool_ or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise ValueError(f"{name} must be an array of real numbers, got dtype {array.dtype}")
    if array.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape {array.shape}")
    if array.size == 0 and not allow_empty:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    if as_float and not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
    return array


def labels(values, num_classes: int, batch_size: int | None = None) -> np.ndarray:
    """Integer class indices, 1-D, in ``[0, num_classes)``, one per row when ``batch_size`` is given."""
    array = np.asarray(values)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"labels must be integer class indices, got dtype {array.dtype}")
    if array.ndim != 1:
        raise ValueError(f"labels must be 1-D (one class index per example), got shape {array.shape}")
    if batch_size is not None and array.shape[0] != batch_size:
        raise ValueError(f"labels has {array.shape[0]} entries but logits has {batch_size} rows")
    if array.size and (array.min() < 0 or array.max() >= num_classes):
        raise ValueError(f"labels must be in [0, {num_classes}), got values from {array.min()} to {array.max()}")
    return array.astype(np.int64)


def classification(values, class_labels, label_smoothing: float = 0.0, reduction: str = "mean"):
    """``(logits, labels)`` for a cross-entropy: 2-D float logits (batch, classes), integer labels
    (batch,) in range, ``label_smoothing`` in [0, 1), ``reduction`` "mean" or "none"."""
    array = real_array("logits", values, min_ndim=1, allow_empty=False, as_float=True)
    if array.ndim != 2:
        raise ValueError(f"logits must be 2-D (batch, num_classes), got shape {array.shape}")
    if reduction not in ("mean", "none"):
        raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
    fraction("label_smoothing", label_smoothing)
    _no_nan_or_plus_inf("logits", array)
    return array, labels(class_labels, array.shape[1], batch_size=array.shape[0])


def linear_model(weights, bias, inputs, class_labels):
    """float64 ``(weights (D, K), bias (K,), inputs (N, D), labels (N,))`` for softmax regression."""
    weights, bias = np.asarray(weights, dtype=np.float64), np.asarray(bias, dtype=np.float64)
    inputs = np.asarray(inputs, dtype=np.float64)
    if weights.ndim != 2 or bias.shape != (weights.shape[1],):
        raise ValueError(f"expected weights (D, K) and bias (K,), got {weights.shape} and {bias.shape}")
    if inputs.ndim != 2 or inputs.shape[1] != weights.shape[0]:
        raise ValueError(f"expected inputs of shape (N, {weights.shape[0]}), got {inputs.shape}")
    return weights, bias, inputs, labels(class_labels, weights.shape[1], batch_size=inputs.shape[0])


# ------------------------------------------------------------------ multilayer perceptrons


def mlp_init(layer_sizes, rng, dtype, init: str, inits) -> list[int]:
    """The layer sizes as a list, after checking the generator, the sizes, the dtype and the init name."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}"
        )
    sizes = list(layer_sizes)
    if len(sizes) < 2:
        raise ValueError(f"layer_sizes needs at least an input and an output size, got {sizes}")
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, _INTEGER) or size < 1:
            raise ValueError(f"every layer size must be a positive integer, got {sizes}")
    if not np.issubdtype(np.dtype(dtype), np.floating):
        raise ValueError(f"dtype must be a floating-point type (float32 or float64), got {np.dtype(dtype)}")
    if init not in inits:
        raise ValueError(f"init must be one of {sorted(inits)}, got {init!r}")
    return sizes


def mlp_params(params, activation: str, activations) -> None:
    """``params`` is a non-empty list of ``{"W": (n_in, n_out), "b": (n_out,)}`` that chain, and
    ``activation`` a key of ``activations``."""
    if activation not in activations:
        raise ValueError(f"activation must be one of {sorted(activations)}, got {activation!r}")
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


def mlp_forward(params, x, activation: str, activations) -> np.ndarray:
    """``x`` as an array of shape (batch, n_inputs), after :func:`mlp_params`."""
    mlp_params(params, activation, activations)
    x = np.asarray(x)
    x = finite_array("x", x, dtype=x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64)
    n_inputs = np.asarray(params[0]["W"]).shape[0]
    if x.ndim != 2 or x.shape[1] != n_inputs:
        raise ValueError(f"x must have shape (batch, {n_inputs}), got {x.shape}")
    return x


def mlp_backward(params, caches, grad_logits, activation: str, activations) -> np.ndarray:
    """``grad_logits`` as an array of the logits' shape, with one cache per layer."""
    mlp_params(params, activation, activations)
    if not isinstance(caches, (list, tuple)) or len(caches) != len(params):
        raise ValueError(f"caches must be the list returned by mlp_forward, one per layer ({len(params)})")
    delta = np.asarray(grad_logits)
    expected = caches[-1]["pre_activation"].shape
    if delta.shape != expected:
        raise ValueError(f"grad_logits must have the logits' shape {expected}, got {delta.shape}")
    return delta


def finite_differences(f, x, eps) -> None:
    """``f`` callable, ``x`` a floating-point NumPy array (perturbed in place), ``eps`` > 0."""
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"x must be a floating-point numpy array, got {type(x).__name__} {getattr(x, 'dtype', '')}")
    if not callable(f):
        raise ValueError("f must be a callable taking x and returning a scalar")
    if isinstance(eps, bool) or not isinstance(eps, _REAL) or not eps > 0:
        raise ValueError(f"eps must be a positive number, got {eps!r}")


def same_shape(a, b) -> tuple[np.ndarray, np.ndarray]:
    """``a`` and ``b`` as float64 arrays of the same shape."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    return a, b


# ------------------------------------------------------------------ numbers and arrays (issue 16)
# Shared by text, compression, explain and compute; usable by any module that must refuse NaN, inf,
# strings and empty input with a ValueError that says what was expected.


def finite_number(name: str, value) -> float:
    """``value`` as a ``float`` if it is a finite real number (NumPy scalars included, ``bool`` refused)."""
    if isinstance(value, bool) or not isinstance(value, _REAL):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def non_negative_number(name: str, value) -> float:
    """``value`` as a ``float`` if it is a finite real number >= 0."""
    if finite_number(name, value) < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def unit_interval(name: str, value) -> float:
    """``value`` as a ``float`` if it is a real number in [0, 1] (both ends allowed)."""
    if not 0.0 <= finite_number(name, value) <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return float(value)


def finite_array(name: str, values, *, min_ndim: int = 0, allow_empty: bool = False, dtype=np.float64) -> np.ndarray:
    """``values`` as a ``dtype`` array of real, finite numbers with at least ``min_ndim`` axes.

    Refused with a ValueError: strings, objects, complex numbers, booleans, NaN and ±inf, fewer
    than ``min_ndim`` axes, and (unless ``allow_empty``) no elements.
    """
    array = real_array(name, values, min_ndim=min_ndim, allow_empty=allow_empty)
    array = array.astype(dtype)
    bad = int(np.count_nonzero(~np.isfinite(array)))
    if bad:
        raise ValueError(f"{name} must be finite, got {bad} NaN or infinite value(s) in shape {array.shape}")
    return array


def integer_array(name: str, values, *, low: int | None = None, high: int | None = None) -> np.ndarray:
    """``values`` as an ``int64`` array of integers in ``[low, high)`` (either end may be None)."""
    array = np.asarray(values)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must be an array of integers, got dtype {array.dtype}")
    if array.size and low is not None and array.min() < low:
        raise ValueError(f"{name} must be >= {low}, got {array.min()}")
    if array.size and high is not None and array.max() >= high:
        raise ValueError(f"{name} must be < {high}, got {array.max()}")
    return array.astype(np.int64)


# ------------------------------------------------------------------ optimizer hyperparameters


def _flag(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _rate(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, _REAL):
        raise ValueError(f"{name} must be a real number >= 0, got {value!r}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


_HYPERPARAMETERS = {
    "learning_rate": _rate,
    "weight_decay": _rate,
    "momentum": fraction,
    "rho": fraction,
    "beta_1": fraction,
    "beta_2": fraction,
    "epsilon": positive_number,
    "nesterov": _flag,
    "bias_correction": _flag,
}


def hyperparameters(**values) -> dict:
    """Each optimizer hyperparameter checked by its name: learning_rate and weight_decay >= 0,
    momentum, rho, beta_1 and beta_2 in [0, 1), epsilon > 0, nesterov and bias_correction booleans."""
    unknown = sorted(set(values) - set(_HYPERPARAMETERS))
    if unknown:
        raise ValueError(f"unknown hyperparameters {unknown}; known: {sorted(_HYPERPARAMETERS)}")
    return {name: _HYPERPARAMETERS[name](name, value) for name, value in values.items()}
