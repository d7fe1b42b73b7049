"""Every lesson follows the course skeleton and is committed executed (nbval compares its outputs)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from tools.notebook import notebook_to_script, script_to_notebook
from tools.repository import repository

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
COLAB = f"https://colab.research.google.com/github/{repository()}/blob/main/notebooks/"  # pyproject.toml's


def test_notebooks_are_numbered_in_reading_order():
    numbers = [int(path.name[:2]) for path in NOTEBOOKS]
    assert all(re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name) for path in NOTEBOOKS)
    assert numbers == list(range(len(numbers))), numbers


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_skeleton(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    title = notebook.cells[0]
    assert title.cell_type == "markdown"
    lines = [line for line in title.source.splitlines() if line.strip()]
    assert re.match(rf"# {path.name[:2]} · .+", lines[0]), "H1 title 'NN · Topic' first"
    assert lines[1].startswith("*") and lines[1].endswith("*"), "a one-line italic subtitle"
    assert f"({COLAB}{path.name})" in title.source, "a Colab badge linking to this notebook"

    headings = [
        line.strip() for cell in notebook.cells if cell.cell_type == "markdown" for line in cell.source.splitlines()
    ]
    assert "## Setup" in headings and "## Summary" in headings
    if path.name != "00_setup.ipynb":
        assert any(h.startswith("## Exercises") for h in headings)
    setup_index = next(i for i, c in enumerate(notebook.cells) if c.source.startswith("## Setup"))
    setup_code = notebook.cells[setup_index + 1].source
    assert '"google.colab" in sys.modules' in setup_code and "set_seed(" in setup_code


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_executed_and_clean(path):
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code" and cell.source.strip()]
    counts = [cell.execution_count for cell in code]
    assert None not in counts, "every code cell keeps its execution count (nbval needs them)"
    assert counts == list(range(1, len(code) + 1)), "executed once, top to bottom"
    errors = [o for cell in code for o in cell.outputs if o.output_type == "error"]
    assert not errors, "no stored error outputs"
    assert set(notebook.metadata) <= {"kernelspec", "language_info"}, "no stray notebook metadata"
    assert all(set(cell.metadata) <= {"tags"} for cell in notebook.cells), "no stray cell metadata"
    assert any("# NBVAL_CHECK_OUTPUT" in cell.source for cell in code), "some outputs are checked by nbval"


def test_percent_script_round_trip():
    notebook = nbformat.read(ROOT / "notebooks" / "00_setup.ipynb", as_version=4)
    again = script_to_notebook(notebook_to_script(notebook))
    assert [(c.cell_type, c.source) for c in again.cells] == [(c.cell_type, c.source) for c in notebook.cells]


def test_consecutive_stream_chunks_are_merged():
    from tools.notebook import coalesce_streams

    def stream(name, text):
        return nbformat.v4.new_output("stream", name=name, text=text)

    outputs = [stream("stdout", "a"), stream("stdout", "b\n"), stream("stderr", "w\n"), stream("stdout", "c\n")]
    merged = coalesce_streams(outputs)
    # nbval merges every stdout chunk into one before comparing; we keep the order of interleaved streams
    assert [(o["name"], o["text"]) for o in merged] == [("stdout", "ab\n"), ("stderr", "w\n"), ("stdout", "c\n")]


def test_inserting_a_cell_keeps_every_other_id_and_output():
    """from-script into an existing notebook (jupytext): matched cells keep their id and outputs."""
    notebook = nbformat.read(ROOT / "notebooks" / "00_setup.ipynb", as_version=4)
    script = notebook_to_script(notebook)
    first_code = script.index("\n# %%\n")
    inserted = script[:first_code] + "\n# %%\nprint('a new cell')\n" + script[first_code:]
    again = script_to_notebook(inserted, notebook)
    assert len(again.cells) == len(notebook.cells) + 1
    new = [cell for cell in again.cells if cell.source == "print('a new cell')"]
    assert len(new) == 1 and new[0].id not in {cell.id for cell in notebook.cells}
    kept = [cell for cell in again.cells if cell.source != "print('a new cell')"]
    assert [cell.id for cell in kept] == [cell.id for cell in notebook.cells]
    assert [cell.get("outputs") for cell in kept] == [cell.get("outputs") for cell in notebook.cells]


def test_raw_cells_survive_the_round_trip():
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_raw_cell("raw text\n  kept as is")]
    )
    again = script_to_notebook(notebook_to_script(notebook))
    assert [(c.cell_type, c.source) for c in again.cells] == [
        ("markdown", "# Title"),
        ("raw", "raw text\n  kept as is"),
    ]


def test_execute_passes_the_environment_to_the_kernel_only(tmp_path):
    import os

    from tools.notebook import execute_notebook

    path = tmp_path / "env.ipynb"
    code = "import os\nprint(os.environ.get('COURSE_TOOL_TEST', 'unset'))"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]), path)
    execute_notebook(path, path, env={"COURSE_TOOL_TEST": "kernel-only"}, timeout=120)
    assert nbformat.read(path, as_version=4).cells[0].outputs[0]["text"] == "kernel-only\n"
    assert "COURSE_TOOL_TEST" not in os.environ
