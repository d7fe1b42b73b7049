"""Exercises of notebooks/10_explainability.ipynb. Expected values come from closed forms (additive
and unanimity games, a linear score) and from TensorFlow's gradient, never from the learner's code."""

from __future__ import annotations

import numpy as np

from course_utils.exercises import Case, Exercise


def _additive(coefficients, constant=0.5):
    coefficients = np.asarray(coefficients, np.float64)
    return lambda masks: constant + np.asarray(masks, np.float64) @ coefficients


def _unanimity(n, members):
    """v(S) = 1 when every member is in S: Banzhaf gives each member 1 / 2^(|members| - 1), others 0."""
    return lambda masks: np.all(np.asarray(masks)[:, list(members)], axis=1).astype(np.float64)


def _banzhaf_cases():
    expected_unanimity = np.zeros(5)
    expected_unanimity[[0, 2, 3]] = 1 / 4
    return [
        Case(
            "additive game: the coefficients",
            args=(_additive([2.0, -1.0, 0.5]), 3),
            expected=np.array([2.0, -1.0, 0.5]),
        ),
        Case("unanimity of players 0, 2, 3 among 5", args=(_unanimity(5, [0, 2, 3]), 5), expected=expected_unanimity),
        Case("one player", args=(_additive([3.0]), 1), expected=np.array([3.0])),
        Case(
            "v(S) = |S|^2 among 4: each gets the mean of (2|S| + 1) over S without i",
            args=(lambda masks: np.asarray(masks).sum(axis=1).astype(np.float64) ** 2, 4),
            expected=np.full(4, 2 * 1.5 + 1),  # |S| over the 8 coalitions of the other 3 averages 1.5
        ),
    ]


def _smooth_grad_cases():
    import tensorflow as tf

    weights = np.array([[1.5, -2.0, 0.25]], np.float32)

    def linear(x):
        return tf.reduce_sum(x * weights, axis=1)

    def square(x):
        return tf.reduce_sum(x**2, axis=1)

    x = np.array([[0.3, -1.0, 2.0], [1.0, 0.0, -0.5]], np.float32)
    return [
        Case(
            "linear score: the weights at any noise",
            args=(linear, x),
            kwargs={"sigma": 0.5, "samples": 4, "seed": 1},
            expected=np.repeat(weights, 2, axis=0),
            atol=1e-5,
        ),
        Case(
            "sigma = 0: the plain gradient 2x",
            args=(square, x),
            kwargs={"sigma": 0.0, "samples": 3, "seed": 0},
            expected=2 * x,
            atol=1e-5,
        ),
        Case(
            "square, sigma = 0.1, 4000 samples: close to 2x",
            args=(square, x),
            kwargs={"sigma": 0.1, "samples": 4000, "seed": 0},
            expected=2 * x,
            atol=0.02,
        ),
    ]


EXERCISES = {
    "explain.banzhaf": Exercise(
        title="Banzhaf values by enumeration",
        hint="enumerate the 2^n coalitions as in exact_shapley (all_coalitions(n)); the Banzhaf value of i is the "
        "plain mean of v(S + i) - v(S) over the 2^(n-1) coalitions S without i (no size weights).",
        cases=_banzhaf_cases,
    ),
    "explain.smooth_grad": Exercise(
        title="SmoothGrad",
        hint="rng = np.random.default_rng(seed); average explain.gradients(f, x + rng.normal(0, sigma, x.shape)) "
        "over `samples` noisy copies (cast the noisy batch to float32).",
        cases=_smooth_grad_cases,
    ),
}
