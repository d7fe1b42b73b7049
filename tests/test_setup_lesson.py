"""What notebook 00 used to demonstrate and now only states: a truncated copy of a real MNIST file in
COURSE_DATA_DIR is refused with a message that says it is truncated and what to do."""

from __future__ import annotations

import pytest

from course_utils import DataIntegrityError, data


@pytest.fixture
def real_mnist_labels():
    try:
        return data.locate("mnist", verbose=False)["t10k-labels-idx1-ubyte.gz"]
    except Exception as error:  # MNIST is not on this machine: nothing to damage
        pytest.skip(f"MNIST not available here: {type(error).__name__}")


def test_a_truncated_real_mnist_file_is_refused_with_advice(real_mnist_labels, tmp_path, monkeypatch):
    damaged = tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz"
    damaged.parent.mkdir()
    damaged.write_bytes(real_mnist_labels.read_bytes()[:2000])  # a download cut off half-way
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(DataIntegrityError, match=r"(?s)truncated.*Replace it with an intact copy") as refused:
        data.load_mnist(verbose=False)
    assert str(damaged) in str(refused.value)  # the message names the damaged file
