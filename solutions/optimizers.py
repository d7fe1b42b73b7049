"""Worked solutions to the exercises of notebooks/03_optimizers.ipynb."""

from __future__ import annotations

import numpy as np

from course_utils import optimizers


def adamax_path(start, gradient_function, steps, learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    point = np.array(start, dtype=np.float64)
    m, u = np.zeros_like(point), np.zeros_like(point)
    points = [point]
    for t in range(1, steps + 1):
        gradient = gradient_function(point)
        m = m + (gradient - m) * (1 - beta_1)
        u = np.maximum(beta_2 * u, np.abs(gradient))
        point = point - learning_rate / (1 - beta_1**t) * m / (u + epsilon)
        points.append(point)
    return np.stack(points)


def largest_stable_learning_rate(momentum, curvature=20.0, steps=1000):
    def converges(learning_rate):
        path = optimizers.trajectory(
            optimizers.SGD(learning_rate, momentum=momentum), lambda point: curvature * point, np.array([1.0]), steps
        )
        return len(path) == steps + 1 and abs(path[-1][0]) < 1.0

    low, high = 0.0, 1.0
    for _ in range(30):
        middle = (low + high) / 2
        low, high = (middle, high) if converges(middle) else (low, middle)
    return low


SOLUTIONS = {"optimizers.adamax": adamax_path, "optimizers.largest_stable_learning_rate": largest_stable_learning_rate}
