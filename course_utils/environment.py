"""What this machine runs: versions, devices, threads. Explained in notebooks/00_setup.ipynb."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

__all__ = ["environment_summary", "print_environment"]

_PACKAGES = ("tensorflow", "keras", "keras-hub", "tensorflow-text", "numpy", "matplotlib")


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment_summary() -> dict[str, object]:
    """Versions, accelerators and thread settings as a flat dict (importing TensorFlow).

    Explained in notebooks/00_setup.ipynb.
    """
    import tensorflow as tf

    summary: dict[str, object] = {
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
    }
    for distribution in _PACKAGES:
        summary[distribution] = _version(distribution)
    summary["cpu_count"] = os.cpu_count()
    summary["gpus"] = [device.name for device in tf.config.list_physical_devices("GPU")]
    summary["intra_op_threads"] = tf.config.threading.get_intra_op_parallelism_threads() or "auto"
    summary["inter_op_threads"] = tf.config.threading.get_inter_op_parallelism_threads() or "auto"
    summary["colab"] = "google.colab" in sys.modules
    return summary


def print_environment() -> dict[str, object]:
    """Print :func:`environment_summary` as an aligned table and return it."""
    summary = environment_summary()
    width = max(len(key) for key in summary)
    for key, value in summary.items():
        print(f"{key:<{width}}  {value}")
    return summary
