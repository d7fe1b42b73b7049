"""Helpers shared by the course notebooks; each function's docstring names the notebook that explains it."""

from importlib import metadata as _metadata

from course_utils.data import (
    DataIntegrityError,
    DataUnavailableError,
    dataset_status,
    load_fashion_mnist,
    load_mnist,
    load_movie_reviews,
    load_shakespeare,
    minilm_files,
)
from course_utils.metrics import record_metric
from course_utils.repro import full_training, set_seed

try:  # the version is written once, in pyproject.toml
    __version__ = _metadata.version("course-utils")
except _metadata.PackageNotFoundError:  # imported from a checkout that is not installed
    __version__ = "0+unknown"

__all__ = [
    "DataIntegrityError",
    "DataUnavailableError",
    "dataset_status",
    "full_training",
    "load_fashion_mnist",
    "load_mnist",
    "load_movie_reviews",
    "load_shakespeare",
    "minilm_files",
    "record_metric",
    "set_seed",
]
