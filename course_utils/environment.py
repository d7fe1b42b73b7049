"""What this machine runs: versions, devices, threads. Explained in notebooks/00_setup.ipynb."""

from __future__ import annotations

import contextlib
import os
import platform
import re
import sys
import tempfile
from importlib import metadata

__all__ = ["TENSORFLOW_NOISE", "environment_summary", "import_tensorflow", "print_environment"]

# Whole lines TensorFlow's C++ runtime writes to stderr that are not about the learner's code. The
# first three come from static initialisers *before* absl's logging is initialised, so no setting
# silences them: TF_CPP_MIN_LOG_LEVEL=1, 2 and 3 all leave them (measured with TF 2.21).
TENSORFLOW_NOISE = (
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR",
    r"[IWEF]\d{4} \d\d:\d\d:[\d.]+ +\d+ [\w.]+:\d+\] .*",  # I0000 / E0000 / W0000 ... (C++ log lines)
    r"To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags\.",
)
_NOISE = re.compile("|".join(f"(?:{line})" for line in TENSORFLOW_NOISE))

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


def import_tensorflow():
    """Import TensorFlow and Keras without TensorFlow's C++ start-up lines; return ``(tf, keras)``.

    The lines (``WARNING: All log messages before absl…``, ``I0000 … oneDNN``, ``I0000 … cuda
    drivers``, and ``E0000 … failed call to cuInit`` from the first device query) are written to the
    process's stderr (file descriptor 2) by C++ code, not through Python. So descriptor 2 is pointed
    at a temporary file during the import and the device query; afterwards every captured line that
    is not one of :data:`TENSORFLOW_NOISE` is written to ``sys.stderr``, so real errors still show.
    Sets ``TF_CPP_MIN_LOG_LEVEL=2`` unless already set (hides later INFO and WARNING C++ lines).
    Call it before anything imports TensorFlow (once imported, there is nothing left to hide).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    with tempfile.TemporaryFile() as captured:
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            import keras
            import tensorflow as tf

            tf.config.list_physical_devices("GPU")  # the CUDA probe logs here, inside the capture
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode("utf-8", errors="replace").splitlines(keepends=True)
            kept = [line for line in lines if not _NOISE.fullmatch(line.rstrip("\n"))]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()
    return tf, keras


def print_environment() -> dict[str, object]:
    """Print :func:`environment_summary` as an aligned table and return it."""
    summary = environment_summary()
    width = max(len(key) for key in summary)
    for key, value in summary.items():
        print(f"{key:<{width}}  {value}")
    return summary
