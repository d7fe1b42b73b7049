"""One truth for the code a lesson teaches: the lesson defines it, the package keeps an identical copy.

A code cell containing the line ``# package copy: course_utils.<module>`` declares that every
top-level function and class it defines is also defined, identically, in that module (for later
lessons and the unit tests). Identical means the same abstract syntax tree once docstrings are
removed: a change of a name, an operator or a constant on either side fails this test.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import textwrap
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^# package copy: (course_utils(?:\.\w+)+)\s*$", re.MULTILINE)


def _without_docstrings(node: ast.AST) -> ast.AST:
    for child in ast.walk(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
            body = child.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                if isinstance(body[0].value.value, str):
                    child.body = body[1:] or [ast.Pass()]
    return node


def _dump(node: ast.AST) -> str:
    return ast.dump(_without_docstrings(node), annotate_fields=True, include_attributes=False)


def _python_source(cell_source: str) -> str:
    """The cell without IPython magics (``%pip ...``), which are not Python."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in cell_source.splitlines())


def lesson_definitions(path: Path) -> list[tuple[str, str, ast.AST]]:
    """``(module, name, node)`` for every definition in a marked cell of the notebook at ``path``."""
    found = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        modules = MARKER.findall(cell.source)
        if not modules:
            continue
        assert len(modules) == 1, f"{path.name}: one '# package copy:' line per cell"
        tree = ast.parse(_python_source(cell.source))
        definitions = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        assert definitions, f"{path.name}: a cell marked '# package copy: {modules[0]}' defines nothing"
        found.extend((modules[0], node.name, node) for node in definitions)
    return found


def package_definition(module_name: str, name: str) -> ast.AST:
    module = importlib.import_module(module_name)
    assert hasattr(module, name), f"{module_name} has no {name!r} (the lesson defines it)"
    source = textwrap.dedent(inspect.getsource(getattr(module, name)))
    return ast.parse(source).body[0]


CASES = [
    pytest.param(module, name, node, id=f"{path.name}:{name}")
    for path in sorted((ROOT / "notebooks").glob("*.ipynb"))
    for module, name, node in lesson_definitions(path)
]


@pytest.mark.parametrize(("module", "name", "node"), CASES)
def test_lesson_code_equals_its_package_copy(module, name, node):
    assert _dump(node) == _dump(package_definition(module, name)), (
        f"{name} in the lesson differs from {module}.{name}: change both (one truth, two places to read it)"
    )


def test_a_drifted_copy_is_caught():
    lesson = ast.parse("def f(x):\n    return x * 2\n").body[0]
    drifted = ast.parse("def f(x):\n    '''Doc.'''\n    return x * 3\n").body[0]
    same = ast.parse("def f(x):\n    '''Doc.'''\n    return x * 2\n").body[0]
    assert _dump(lesson) != _dump(drifted)
    assert _dump(lesson) == _dump(same), "docstrings may differ, code may not"
