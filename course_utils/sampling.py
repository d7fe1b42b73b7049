"""Choosing the next token from a language model's logits: greedy, temperature, top-k, top-p.

Explained in notebooks/08_gpt_from_scratch.ipynb, which defines the same functions in its cells
(tests/test_lesson_code.py keeps the copies identical). NumPy only. Conventions:

- ``logits`` is a 1-D array of finite real numbers (one per vocabulary entry);
- a filter returns logits of the same shape with the removed entries set to ``-inf``, so that a
  softmax gives them probability exactly 0 and the kept entries are renormalised;
- ``temperature = 0`` means greedy decoding (the argmax), ``top_k`` larger than the vocabulary
  keeps everything, ``top_p = 1`` keeps everything and ``top_p = 0`` keeps only the most likely
  token (a filter never removes every token).
"""

from __future__ import annotations

import numpy as np

from course_utils import _checks

__all__ = ["entropy", "probabilities", "sample_next_token", "top_k_filter", "top_p_filter"]


def _check_logits(logits) -> np.ndarray:
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 1 or logits.size == 0:
        raise ValueError(f"logits must be a non-empty 1-D array, got shape {logits.shape}")
    if not np.all(np.isfinite(logits) | (logits == -np.inf)):
        raise ValueError("logits must be finite (or -inf for removed entries), got NaN or +inf")
    if np.all(logits == -np.inf):
        raise ValueError("logits must keep at least one entry above -inf")
    return logits


def _checks_for_sampling(logits, temperature=1.0, top_k=None, top_p=None) -> np.ndarray:
    """All argument checks of this module in one call, so the functions below show only the maths."""
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.integer, np.floating)):
        raise ValueError(f"temperature must be a number >= 0, got {temperature!r}")
    if not (np.isfinite(temperature) and temperature >= 0):
        raise ValueError(f"temperature must be a finite number >= 0 (0 means greedy), got {temperature!r}")
    if top_k is not None:
        _checks.positive_int("top_k", top_k)
    if top_p is not None and (
        isinstance(top_p, bool) or not isinstance(top_p, (int, float, np.integer, np.floating)) or not 0 <= top_p <= 1
    ):
        raise ValueError(f"top_p must be a number in [0, 1], got {top_p!r}")
    return _check_logits(logits)


# package copy of the lesson's cells starts here (tests/test_lesson_code.py compares them)


def probabilities(logits, temperature=1.0):
    logits = _checks_for_sampling(logits, temperature)
    if temperature == 0:  # the limit T -> 0: all the mass on the argmax
        return np.eye(len(logits))[np.argmax(logits)]
    scaled = logits / temperature
    weights = np.exp(scaled - scaled.max())  # subtract the max: no overflow (lesson 02)
    return weights / weights.sum()


def entropy(p):
    p = np.asarray(p, dtype=np.float64)
    return float(-np.sum(p[p > 0] * np.log(p[p > 0])))  # nats; 0 log 0 = 0


def top_k_filter(logits, k):
    logits = _checks_for_sampling(logits, top_k=k)
    if k >= len(logits):
        return logits
    kth_largest = np.sort(logits)[-k]
    return np.where(logits >= kth_largest, logits, -np.inf)  # ties at the threshold are kept


def top_p_filter(logits, p):
    logits = _checks_for_sampling(logits, top_p=p)
    if p == 1:
        return logits
    order = np.argsort(-logits, kind="stable")  # most likely first
    cumulative = np.cumsum(probabilities(logits)[order])
    keep = (
        np.searchsorted(cumulative, p * cumulative[-1] - 1e-12) + 1
    )  # smallest prefix with mass >= p (up to rounding)
    filtered = np.full_like(logits, -np.inf)
    filtered[order[:keep]] = logits[order[:keep]]
    return filtered


def sample_next_token(logits, temperature=1.0, top_k=None, top_p=None, rng=None):
    logits = _checks_for_sampling(logits, temperature, top_k, top_p)
    if temperature == 0:
        return int(np.argmax(logits))  # greedy
    logits = logits / temperature  # temperature first, then the filters (as Hugging Face does)
    if top_k is not None:
        logits = top_k_filter(logits, top_k)
    if top_p is not None:
        logits = top_p_filter(logits, top_p)
    rng = np.random.default_rng() if rng is None else rng
    return int(rng.choice(len(logits), p=probabilities(logits)))


# package copy ends here
