"""Shapley values of a model's input features, exactly and by sampling (KernelSHAP), a LIME-style
local linear surrogate, and bootstrap confidence intervals.

Explained in notebooks/10_explainability.ipynb, which defines the same functions in its cells (a test,
tests/test_lesson_code.py, keeps the two copies identical).

All three explainers see the model through a **value function** ``value(masks)``: ``masks`` is a
boolean array ``(m, n)`` of coalitions (True = feature ``i`` is present, False = replaced by the
baseline, e.g. a ``[PAD]`` token) and the result is ``m`` numbers (e.g. the logit). Then:

- :func:`exact_shapley` enumerates all ``2ⁿ`` coalitions:
  ``φ_i = Σ_{S ∌ i} |S|! (n - |S| - 1)! / n! · (v(S ∪ {i}) - v(S))``;
- :func:`kernel_shap` (Lundberg & Lee 2017) solves a weighted least-squares fit of
  ``v(S) ≈ φ_0 + Σ_{i ∈ S} φ_i`` under the constraint ``Σ φ_i = v(all) - v(none)``, with the Shapley
  kernel ``π(S) = (n - 1) / (C(n, |S|) |S| (n - |S|))``; over all coalitions it returns the exact
  Shapley values, with ``samples`` coalitions drawn from the kernel it estimates them;
- :func:`lime` (Ribeiro et al. 2016) fits the same linear form on random coalitions weighted by their
  closeness to the input, without the constraint;
- :func:`bootstrap_interval`: the percentile bootstrap interval of a statistic.
"""

from __future__ import annotations

import math

import numpy as np

from course_utils import _checks

__all__ = ["all_coalitions", "bootstrap_interval", "exact_shapley", "kernel_shap", "lime"]

MAX_ENUMERATED_PLAYERS = 16  # 2**16 coalitions: beyond that, sample

# package copy of the lesson's cells starts here (tests/test_lesson_code.py compares them)


def all_coalitions(n):
    """All 2ⁿ coalitions of n players as a boolean array (2ⁿ, n); row k holds the bits of k."""
    _checks.positive_int("n", n)
    if n > MAX_ENUMERATED_PLAYERS:
        raise ValueError(f"n must be at most {MAX_ENUMERATED_PLAYERS} to enumerate 2**n coalitions, got {n}")
    return (np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1 == 1


def exact_shapley(value, n):
    """phi_i = sum over S without i of |S|! (n-|S|-1)! / n! * (v(S + i) - v(S)), by enumeration."""
    masks = all_coalitions(n)
    values = np.asarray(value(masks), np.float64).reshape(len(masks))
    sizes = masks.sum(axis=1)
    weights = np.array([math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)])
    phi = np.zeros(n)
    for i in range(n):
        without = np.flatnonzero(~masks[:, i])  # row k is coalition k, so adding i sets bit i
        phi[i] = np.sum(weights[sizes[without]] * (values[without | (1 << i)] - values[without]))
    return phi


def kernel_shap(value, n, samples=None, seed=0):
    """KernelSHAP: weighted least squares v(S) - v(none) ~ sum_{i in S} phi_i with sum phi = v(all) - v(none).

    samples=None uses every coalition with its Shapley-kernel weight (exact); else `samples`
    coalitions are drawn from the kernel (sizes s with probability ~ (n-1) / (s (n-s)), members
    uniformly, each with its complement) and weighted equally.
    """
    _checks.positive_int("n", n)
    ends = np.asarray(value(np.array([[False] * n, [True] * n])), np.float64).reshape(2)
    total = ends[1] - ends[0]
    if n == 1:
        return np.array([total])
    if samples is None:
        masks = all_coalitions(n)[1:-1]  # every coalition but the empty and the full one
        sizes = masks.sum(axis=1)
        weights = (n - 1) / (np.array([math.comb(n, s) for s in sizes]) * sizes * (n - sizes))
    else:
        rng = np.random.default_rng(seed)
        size_probability = np.array([(n - 1) / (s * (n - s)) for s in range(1, n)])
        sizes = rng.choice(np.arange(1, n), size=_checks.positive_int("samples", samples) // 2 + 1,
                           p=size_probability / size_probability.sum())  # fmt: skip
        half = np.array([np.isin(np.arange(n), rng.choice(n, s, replace=False)) for s in sizes])
        masks = np.concatenate([half, ~half])  # paired sampling: each coalition and its complement
        weights = np.ones(len(masks))
    y = np.asarray(value(masks), np.float64).reshape(len(masks)) - ends[0] - masks[:, -1] * total
    design = masks[:, :-1].astype(np.float64) - masks[:, -1:]  # phi_n = total - sum of the others
    root = np.sqrt(weights)[:, None]
    phi, *_ = np.linalg.lstsq(design * root, y * root[:, 0], rcond=None)
    return np.append(phi, total - phi.sum())


def lime(value, n, samples=500, kernel_width=0.25, seed=0):
    """LIME: a weighted linear fit v(S) ~ b + sum_{i in S} w_i on random coalitions; returns w.

    Each sample removes a uniformly drawn number (1..n) of random features; the input itself is
    included; weight exp(-d^2 / width^2) with d the cosine distance between the mask and all-ones.
    """
    _checks.positive_int("n", n)
    rng = np.random.default_rng(seed)
    removed = rng.integers(1, n + 1, size=_checks.positive_int("samples", samples))
    masks = np.array([[True] * n] + [~np.isin(np.arange(n), rng.choice(n, k, replace=False)) for k in removed])
    distance = 1 - np.sqrt(masks.sum(axis=1) / n)  # cosine distance of a 0/1 mask to all-ones
    root = np.sqrt(np.exp(-(distance**2) / _checks.positive_number("kernel_width", kernel_width) ** 2))[:, None]
    y = np.asarray(value(masks), np.float64).reshape(len(masks))
    design = np.concatenate([np.ones((len(masks), 1)), masks], axis=1)
    coefficients, *_ = np.linalg.lstsq(design * root, y * root[:, 0], rcond=None)
    return coefficients[1:]


def bootstrap_interval(values, statistic=np.mean, resamples=2000, confidence=0.95, seed=0):
    """Percentile bootstrap: the statistic over `resamples` resamples (with replacement) of the
    values (first axis); returns the (low, high) quantiles that hold `confidence` between them."""
    values = _checks.finite_array("values", values, min_ndim=1)
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(values), size=(_checks.positive_int("resamples", resamples), len(values)))
    estimates = np.array([statistic(values[row]) for row in rows])
    tail = (1 - _checks.unit_interval("confidence", confidence)) / 2
    low, high = np.quantile(estimates, [tail, 1 - tail])
    return float(low), float(high)


# package copy ends here
