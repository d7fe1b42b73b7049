"""Worked solutions to the exercises of notebooks/10_explainability.ipynb."""

import numpy as np

from course_utils import explain
from course_utils.shapley import all_coalitions


def banzhaf(value, n):
    masks = all_coalitions(n)
    values = np.asarray(value(masks), np.float64)
    phi = np.zeros(n)
    for i in range(n):
        without = np.flatnonzero(~masks[:, i])
        phi[i] = np.mean(values[without | (1 << i)] - values[without])
    return phi


def smooth_grad(f, x, sigma=0.1, samples=16, seed=0):
    rng = np.random.default_rng(seed)
    x = np.asarray(x, np.float32)
    total = np.zeros(x.shape, np.float64)
    for _ in range(samples):
        total += explain.gradients(f, (x + rng.normal(0.0, sigma, x.shape)).astype(np.float32))
    return total / samples


SOLUTIONS = {"explain.banzhaf": banzhaf, "explain.smooth_grad": smooth_grad}
