"""Gradient descent, momentum, RMSprop and Adam in NumPy, written to match Keras step for step.

Explained in notebooks/03_optimizers.ipynb. Each optimizer is a small class with explicit state:
``step(params, grads)`` takes the current parameters (one array or a list of arrays) and their
gradients and returns the new parameters; the state (velocities, moment estimates, step count)
lives in the object. The formulas are Keras 3's, including where Adam puts ``epsilon``, so the
notebook can check each class against ``keras.optimizers`` to float64 round-off.

notebooks/03_optimizers.ipynb defines :class:`SGD`, :class:`RMSprop`, :class:`Adam`, :class:`AdamW`
and :func:`clip_by_global_norm` in its own cells; this module keeps identical copies
(tests/test_lesson_code.py proves it). The hyperparameter checks live in the base class
:class:`Optimizer` (one ``course_utils._checks.hyperparameters`` call), so the shown classes are
only the update rules. Softmax regression's loss and gradients come from ``course_utils.softmax``.

Also here: two 2-D loss surfaces for trajectory plots (the Rosenbrock function and an
ill-conditioned quadratic), a loop that records a trajectory, and the learning-rate schedules
(linear warmup, cosine decay) with the same semantics as ``keras.optimizers.schedules.CosineDecay``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from course_utils import _checks
from course_utils._checks import non_negative_int
from course_utils.softmax import softmax_regression_loss_and_gradients

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "clip_by_global_norm",
    "cosine_decay",
    "ill_conditioned_quadratic",
    "ill_conditioned_quadratic_gradient",
    "linear_warmup",
    "rosenbrock",
    "rosenbrock_gradient",
    "run_keras_optimizer",
    "softmax_regression_loss_and_gradients",
    "trajectory",
    "warmup_cosine_decay",
]


def _check_learning_rate(learning_rate: float) -> float:
    return _checks.hyperparameters(learning_rate=learning_rate)["learning_rate"]


class Optimizer:
    """Shared bookkeeping: checks hyperparameters, params and grads; keeps one state slot per array.

    ``Optimizer(learning_rate, **hyperparameters)`` checks each hyperparameter by its name
    (``course_utils._checks.hyperparameters``) and stores it as an attribute. Subclasses implement
    ``_init_state(shapes)`` and ``_update(index, param, grad) -> new param``. Parameters are float64
    copies: ``step`` never modifies the arrays it is given. Explained in notebooks/03_optimizers.ipynb.
    """

    def __init__(self, learning_rate: float, **hyperparameters) -> None:
        for name, value in _checks.hyperparameters(learning_rate=learning_rate, **hyperparameters).items():
            setattr(self, name, value)
        self.iterations = 0  # number of steps taken so far (Keras: optimizer.iterations)
        self._shapes: list[tuple[int, ...]] | None = None

    def _init_state(self, shapes: list[tuple[int, ...]]) -> None:
        """Create zero state for parameters of these shapes (called on the first step)."""

    def _update(self, index: int, param: np.ndarray, grad: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def step(
        self, params: np.ndarray | Sequence[np.ndarray], grads: np.ndarray | Sequence[np.ndarray]
    ) -> np.ndarray | list[np.ndarray]:
        """One update. Returns the new parameters in the same form (array or list) as ``params``."""
        single = isinstance(params, np.ndarray) or np.isscalar(params)
        param_list = [params] if single else list(params)
        grad_list = [grads] if single else list(grads)
        if len(param_list) != len(grad_list):
            raise ValueError(f"got {len(param_list)} parameter arrays but {len(grad_list)} gradient arrays")
        param_list = [np.asarray(p, dtype=np.float64) for p in param_list]
        grad_list = [np.asarray(g, dtype=np.float64) for g in grad_list]
        for index, (param, grad) in enumerate(zip(param_list, grad_list, strict=True)):
            if param.shape != grad.shape:
                raise ValueError(
                    f"params[{index}] has shape {param.shape} but grads[{index}] has shape {grad.shape}; "
                    "each gradient must have the shape of its parameter"
                )
            if not np.all(np.isfinite(grad)):
                raise ValueError(f"grads[{index}] contains NaN or inf")
        shapes = [p.shape for p in param_list]
        if self._shapes is None:
            self._shapes = shapes
            self._init_state(shapes)
        elif shapes != self._shapes:
            raise ValueError(f"this optimizer was started on shapes {self._shapes}, now got {shapes}")
        self.iterations += 1
        new = [self._update(i, p, g) for i, (p, g) in enumerate(zip(param_list, grad_list, strict=True))]
        return new[0] if single else new


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum, in Keras's form.

    ``momentum == 0``: ``w ← w − lr·g``. Otherwise ``v ← m·v − lr·g`` then ``w ← w + v``,
    or with ``nesterov=True`` ``w ← w + m·v − lr·g``. Explained in notebooks/03_optimizers.ipynb.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False):
        super().__init__(learning_rate, momentum=momentum, nesterov=nesterov)

    def _init_state(self, shapes):
        self.velocities = [np.zeros(shape) for shape in shapes]

    def _update(self, index, param, grad):
        if self.momentum == 0:
            return param - self.learning_rate * grad
        velocity = self.momentum * self.velocities[index] - self.learning_rate * grad
        self.velocities[index] = velocity
        if self.nesterov:
            return param + self.momentum * velocity - self.learning_rate * grad
        return param + velocity


class RMSprop(Optimizer):
    """RMSprop as Keras computes it (``centered=False``).

    ``s ← ρ·s + (1 − ρ)·g²``, increment ``lr·g / sqrt(s + ε)`` (ε *inside* the square root);
    with ``momentum > 0`` the increment is accumulated: ``m ← momentum·m + increment``, ``w ← w − m``.
    Explained in notebooks/03_optimizers.ipynb.
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7):
        super().__init__(learning_rate, rho=rho, momentum=momentum, epsilon=epsilon)

    def _init_state(self, shapes):
        self.mean_squares = [np.zeros(shape) for shape in shapes]
        self.momentums = [np.zeros(shape) for shape in shapes]

    def _update(self, index, param, grad):
        mean_square = self.rho * self.mean_squares[index] + (1 - self.rho) * grad**2
        self.mean_squares[index] = mean_square
        increment = self.learning_rate * grad / np.sqrt(mean_square + self.epsilon)
        if self.momentum > 0:
            self.momentums[index] = self.momentum * self.momentums[index] + increment
            return param - self.momentums[index]
        return param - increment


class Adam(Optimizer):
    """Adam with Keras's formulas; ``bias_correction=False`` gives the uncorrected variant.

    ``m ← β1·m + (1 − β1)·g``, ``v ← β2·v + (1 − β2)·g²``, then Keras folds the bias correction
    into the step size: ``α_t = lr·sqrt(1 − β2^t)/(1 − β1^t)``, ``w ← w − α_t·m/(sqrt(v) + ε)``.
    (The paper writes ``lr·m̂/(sqrt(v̂) + ε)``: the same except for where ε sits.)
    ``bias_correction=False`` uses ``α_t = lr``: the common tutorial mistake.
    Explained in notebooks/03_optimizers.ipynb.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, bias_correction=True):
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, bias_correction=bias_correction)

    def _init_state(self, shapes):
        self.first_moments = [np.zeros(shape) for shape in shapes]
        self.second_moments = [np.zeros(shape) for shape in shapes]

    def step_size(self, t=None):
        """The effective learning rate α_t of step ``t`` (default: the step just taken)."""
        t = _checks.positive_int("t (step numbers start at 1)", self.iterations if t is None else t)
        if not self.bias_correction:
            return self.learning_rate
        return self.learning_rate * np.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)

    def _update(self, index, param, grad):
        m = self.first_moments[index] + (grad - self.first_moments[index]) * (1 - self.beta_1)
        v = self.second_moments[index] + (grad**2 - self.second_moments[index]) * (1 - self.beta_2)
        self.first_moments[index], self.second_moments[index] = m, v
        return param - self.step_size() * m / (np.sqrt(v) + self.epsilon)


class AdamW(Adam):
    """Adam with decoupled weight decay, as ``keras.optimizers.AdamW``.

    First ``w ← w − lr·λ·w`` (the decay does not pass through m and v), then the Adam step with
    the loss gradient. Adam with an L2 term instead adds ``λ·w`` to the gradient, where Adam's
    normalisation rescales it: not the same thing. Explained in notebooks/03_optimizers.ipynb.
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        Optimizer.__init__(
            self,
            learning_rate,
            weight_decay=weight_decay,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            bias_correction=True,
        )

    def _update(self, index, param, grad):
        decayed = param - self.learning_rate * self.weight_decay * param  # decoupled from the gradient
        return super()._update(index, decayed, grad)


def clip_by_global_norm(grads, max_norm):
    """Scale every gradient by ``min(1, max_norm / global_norm)``; returns ``(clipped, global_norm)``.

    ``global_norm = sqrt(sum of every squared entry of every array)``, as ``tf.clip_by_global_norm``
    and Keras's ``global_clipnorm``: the direction of the whole update is kept, only its length is
    capped. Explained in notebooks/03_optimizers.ipynb.
    """
    grads = [_checks.finite_array("gradient", g) for g in grads]
    max_norm = _checks.positive_number("max_norm", max_norm)
    global_norm = float(np.sqrt(sum(np.sum(g**2) for g in grads)))
    scale = min(1.0, max_norm / global_norm) if global_norm > 0 else 1.0
    return [g * scale for g in grads], global_norm


# ----------------------------------------------------------------------------- loss surfaces


def _check_point(point) -> np.ndarray:
    point = _checks.finite_array("point", point, min_ndim=1)
    if point.shape[-1:] != (2,):
        raise ValueError(f"expected a 2-D point (last axis of size 2), got shape {point.shape}")
    return point


def rosenbrock(point, a: float = 1.0, b: float = 100.0) -> np.ndarray:
    """Rosenbrock's banana ``(a − x)² + b·(y − x²)²``; minimum 0 at ``(a, a²)``. Works on (..., 2). Explained in notebooks/03_optimizers.ipynb."""
    point = _check_point(point)
    x, y = point[..., 0], point[..., 1]
    return (a - x) ** 2 + b * (y - x**2) ** 2


def rosenbrock_gradient(point, a: float = 1.0, b: float = 100.0) -> np.ndarray:
    """Analytic gradient of :func:`rosenbrock`, shape like ``point``. Explained in notebooks/03_optimizers.ipynb."""
    point = _check_point(point)
    x, y = point[..., 0], point[..., 1]
    return np.stack([-2 * (a - x) - 4 * b * x * (y - x**2), 2 * b * (y - x**2)], axis=-1)


def ill_conditioned_quadratic(point, curvatures: tuple[float, float] = (1.0, 20.0)) -> np.ndarray:
    """``½(λ1·x² + λ2·y²)``: a valley whose condition number is λ2/λ1. Works on (..., 2). Explained in notebooks/03_optimizers.ipynb."""
    point = _check_point(point)
    curv = np.asarray(curvatures, dtype=np.float64)
    if curv.shape != (2,) or np.any(curv <= 0):
        raise ValueError(f"curvatures must be two positive numbers, got {curvatures!r}")
    return 0.5 * np.sum(curv * point**2, axis=-1)


def ill_conditioned_quadratic_gradient(point, curvatures: tuple[float, float] = (1.0, 20.0)) -> np.ndarray:
    """Gradient ``(λ1·x, λ2·y)`` of :func:`ill_conditioned_quadratic`. Explained in notebooks/03_optimizers.ipynb."""
    point = _check_point(point)
    curv = np.asarray(curvatures, dtype=np.float64)
    if curv.shape != (2,) or np.any(curv <= 0):
        raise ValueError(f"curvatures must be two positive numbers, got {curvatures!r}")
    return curv * point


def trajectory(optimizer: Optimizer, gradient_fn: Callable[[np.ndarray], np.ndarray], start, steps: int) -> np.ndarray:
    """Run ``steps`` updates from ``start``; return every point visited, shape (steps + 1, dim).

    Stops early (and returns the shorter path) if the parameters overflow to inf/NaN.
    Explained in notebooks/03_optimizers.ipynb.
    """
    if not isinstance(optimizer, Optimizer):
        raise ValueError(f"optimizer must be a course_utils.optimizers.Optimizer, got {type(optimizer).__name__}")
    non_negative_int("steps", steps)
    point = np.asarray(start, dtype=np.float64)
    if point.ndim != 1:
        raise ValueError(f"start must be a 1-D array, got shape {point.shape}")
    points = [point]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(int(steps)):
            grad = gradient_fn(point)
            if not np.all(np.isfinite(grad)):
                break
            point = optimizer.step(point, grad)
            points.append(point)
            if not np.all(np.isfinite(point)):
                break
    return np.stack(points)


def run_keras_optimizer(
    keras_optimizer,
    start: np.ndarray,
    gradients: Sequence[np.ndarray] | None = None,
    gradient_fn: Callable[[np.ndarray], np.ndarray] | None = None,
    steps: int | None = None,
) -> np.ndarray:
    """Apply a ``keras.optimizers`` optimizer to a float64 variable; return every point visited.

    Give either ``gradients`` (a sequence of arrays, applied in order) or ``gradient_fn`` and
    ``steps`` (the gradient is evaluated at the variable's current value, in NumPy). The result
    has shape (number of steps + 1, *start.shape). Explained in notebooks/03_optimizers.ipynb.
    """
    import keras

    start = np.asarray(start, dtype=np.float64)
    if (gradients is None) == (gradient_fn is None):
        raise ValueError("give exactly one of gradients= or gradient_fn=")
    if gradient_fn is not None and (isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0):
        raise ValueError(f"gradient_fn needs steps >= 0, got steps={steps!r}")
    if gradients is not None:
        gradients = [np.asarray(g, dtype=np.float64) for g in gradients]
        for index, grad in enumerate(gradients):
            if grad.shape != start.shape:
                raise ValueError(f"gradients[{index}] has shape {grad.shape}, expected {start.shape} (as start)")
        steps = len(gradients)
    variable = keras.Variable(start, dtype="float64", name="params")
    points = [start]
    for index in range(steps):
        grad = gradients[index] if gradients is not None else np.asarray(gradient_fn(points[-1]), dtype=np.float64)
        keras_optimizer.apply_gradients([(keras.ops.convert_to_tensor(grad, dtype="float64"), variable)])
        points.append(np.asarray(keras.ops.convert_to_numpy(variable.value)))
    return np.stack(points)


# ----------------------------------------------------------------------------- schedules


def _check_steps(step) -> np.ndarray:
    step = _checks.finite_array("step", step)
    if np.any(step < 0):
        raise ValueError("step must be >= 0 (a number or an array of numbers)")
    return step


def linear_warmup(step, warmup_steps: int, initial_learning_rate: float, warmup_target: float) -> np.ndarray:
    """Straight line from ``initial_learning_rate`` (step 0) to ``warmup_target`` (step ``warmup_steps``).

    Explained in notebooks/03_optimizers.ipynb.
    """
    step = _check_steps(step)
    warmup_steps = _checks.positive_number("warmup_steps", warmup_steps)
    _check_learning_rate(initial_learning_rate)
    _check_learning_rate(warmup_target)
    fraction = np.minimum(step, warmup_steps) / warmup_steps
    return initial_learning_rate + fraction * (warmup_target - initial_learning_rate)


def cosine_decay(step, decay_steps: int, initial_learning_rate: float, alpha: float = 0.0) -> np.ndarray:
    """Half a cosine from ``initial_learning_rate`` down to ``alpha·initial_learning_rate``.

    ``lr(t) = lr0·((1 − α)·½(1 + cos(π·min(t, T)/T)) + α)``. Explained in notebooks/03_optimizers.ipynb.
    """
    step = _check_steps(step)
    decay_steps = _checks.positive_number("decay_steps", decay_steps)
    _check_learning_rate(initial_learning_rate)
    if not 0.0 <= _checks.finite_number("alpha", alpha) <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    fraction = np.minimum(step, decay_steps) / decay_steps
    return initial_learning_rate * ((1 - alpha) * 0.5 * (1 + np.cos(np.pi * fraction)) + alpha)


def warmup_cosine_decay(
    step,
    initial_learning_rate: float,
    decay_steps: int,
    alpha: float = 0.0,
    warmup_target: float | None = None,
    warmup_steps: int = 0,
) -> np.ndarray:
    """Linear warmup then cosine decay, with the arguments of ``keras.optimizers.schedules.CosineDecay``.

    Without ``warmup_target`` this is plain :func:`cosine_decay`. With it, the rate climbs from
    ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps`` steps, then decays from
    ``warmup_target`` to ``alpha·warmup_target`` over ``decay_steps`` more. Explained in
    notebooks/03_optimizers.ipynb.
    """
    step = _check_steps(step)
    if warmup_target is None:
        return cosine_decay(step, decay_steps, initial_learning_rate, alpha)
    _checks.positive_number("warmup_steps (needed when warmup_target is given)", warmup_steps)
    warm = linear_warmup(step, warmup_steps, initial_learning_rate, warmup_target)
    decay = cosine_decay(np.maximum(step - warmup_steps, 0), decay_steps, warmup_target, alpha)
    return np.where(step < warmup_steps, warm, decay)
