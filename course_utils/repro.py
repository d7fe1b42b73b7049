"""Seeding for repeatable runs. Explained in notebooks/00_setup.ipynb ("Setup")."""

from __future__ import annotations

import os
import random

import numpy as np

__all__ = ["full_training", "set_seed"]


def set_seed(seed: int = 42, deterministic_ops: bool = True) -> None:
    """Seed Python, NumPy, TensorFlow and Keras; optionally make TensorFlow ops deterministic.

    ``keras.utils.set_random_seed`` seeds ``random``, NumPy and the TensorFlow/Keras global
    generators. On a CPU that is not enough for bit-identical reruns: some kernels (reductions
    split over threads, parallel ``tf.data`` maps) may run in a different order each time.
    ``deterministic_ops=True`` calls ``tf.config.experimental.enable_op_determinism()``, which
    forces deterministic kernels and ordered ``tf.data`` outputs (at some cost in speed).
    ``PYTHONHASHSEED`` is set for subprocesses (it cannot change hashing in this process).
    TensorFlow's devices are initialised here, so the log lines TensorFlow prints the first time
    it touches a device appear in the Setup cell rather than in a later cell whose output nbval
    compares.

    Explained in notebooks/00_setup.ipynb.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    seed = int(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (the legacy global generator is what np.random.* calls use)
    import keras  # imported here so that NumPy-only notebooks stay light until they need Keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.list_logical_devices()
    if deterministic_ops:
        tf.config.experimental.enable_op_determinism()


ENV_FULL_TRAINING = "COURSE_FULL_TRAINING"


def full_training() -> bool:
    """True when ``$COURSE_FULL_TRAINING`` is 1/true/yes: notebooks then train longer (for a GPU).

    The default (unset) is the short run sized for a 2-core laptop CPU and CI; it still reaches
    the quality each notebook asserts. Explained in notebooks/00_setup.ipynb.
    """
    value = os.environ.get(ENV_FULL_TRAINING, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{ENV_FULL_TRAINING} must be 1/true/yes or 0/false/no, got {value!r}")
