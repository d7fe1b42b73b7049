"""Exercises of notebooks/03_optimizers.ipynb (Adamax, the stability limit with momentum)."""

from __future__ import annotations

import numpy as np

from course_utils.exercises import Case, Exercise


def _f32(value):
    return float(np.float32(value))


def _adamax_cases():
    import keras

    from course_utils import optimizers

    cases = []
    for learning_rate, steps in ((0.05, 100), (0.01, 30)):
        hyper = dict(learning_rate=_f32(learning_rate), beta_1=_f32(0.9), beta_2=_f32(0.999))
        start = np.array([-1.5, 2.0])
        expected = optimizers.run_keras_optimizer(
            keras.optimizers.Adamax(**hyper), start, gradient_fn=optimizers.rosenbrock_gradient, steps=steps
        )
        cases.append(
            Case(
                f"Rosenbrock from (-1.5, 2), lr {learning_rate}, {steps} steps (keras Adamax)",
                args=(start, optimizers.rosenbrock_gradient, steps),
                kwargs=hyper,
                expected=expected,
                atol=1e-6,
            )
        )
    return cases


def _stable_rate_cases():
    return [
        Case(
            f"momentum {momentum}: 2(1 + μ)/λ = {2 * (1 + momentum) / 20.0:.3f}",
            args=(momentum,),
            expected=2 * (1 + momentum) / 20.0,
            atol=0.02 * 2 * (1 + momentum) / 20.0,
        )
        for momentum in (0.0, 0.5, 0.9)
    ]


EXERCISES = {
    "optimizers.adamax": Exercise(
        title="Adamax, Adam with an L-infinity norm",
        hint="m = m + (g - m)(1 - β1); u = max(β2 u, |g|); w = w - lr / (1 - β1**t) * m / (u + ε), for t = 1, 2, ...",
        cases=_adamax_cases,
    ),
    "optimizers.largest_stable_learning_rate": Exercise(
        title="the largest stable learning rate of momentum SGD on a quadratic",
        hint="Bisect on η in [0, 1]: run optimizers.trajectory(optimizers.SGD(η, momentum=μ), lambda p: λ p, [1.0], 1000) "
        "and call η stable when the path did not overflow and |x| < 1 at the end.",
        cases=_stable_rate_cases,
    ),
}
