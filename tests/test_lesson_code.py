"""One truth for the code a lesson teaches: the lesson defines it, the package keeps an identical copy.

A code cell containing the line ``# package copy: course_utils.<module>`` declares that every
top-level function and class it defines, and every top-level constant it assigns (an UPPER_CASE
name, such as a table of activations), is also defined, identically, in that module (for later
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


def _constant_name(node: ast.AST) -> str | None:
    """``NAME`` for a top-level ``NAME = ...`` or ``NAME: type = ...`` whose name is a public constant."""
    target = (
        node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else getattr(node, "target", None)
    )
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(target, ast.Name):
        return target.id if re.fullmatch(r"[A-Z][A-Z0-9_]*", target.id) else None
    return None


class _Constant:
    """A module-level constant (such as a table of activations): compared by the AST of its value."""

    def __init__(self, node: ast.AST) -> None:
        self.name, self.value = _constant_name(node), node.value


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
        definitions += [_Constant(n) for n in tree.body if _constant_name(n)]
        assert definitions, f"{path.name}: a cell marked '# package copy: {modules[0]}' defines nothing"
        found.extend((modules[0], node.name, node) for node in definitions)
    return found


def package_definition(module_name: str, name: str, constant: bool = False) -> ast.AST:
    module = importlib.import_module(module_name)
    assert hasattr(module, name), f"{module_name} has no {name!r} (the lesson defines it)"
    if constant:  # the value of its top-level assignment
        tree = ast.parse(Path(inspect.getsourcefile(module)).read_text())
        values = [n.value for n in tree.body if _constant_name(n) == name]
        assert values, f"{module_name} assigns no {name} at top level"
        return values[-1]
    source = textwrap.dedent(inspect.getsource(getattr(module, name)))
    return ast.parse(source).body[0]


CASES = [
    pytest.param(module, name, node, id=f"{path.name}:{name}")
    for path in sorted((ROOT / "notebooks").glob("*.ipynb"))
    for module, name, node in lesson_definitions(path)
]


@pytest.mark.parametrize(("module", "name", "node"), CASES)
def test_lesson_code_equals_its_package_copy(module, name, node):
    constant = isinstance(node, _Constant)
    node = node.value if constant else node
    assert _dump(node) == _dump(package_definition(module, name, constant)), (
        f"{name} in the lesson differs from {module}.{name}: change both (one truth, two places to read it)"
    )


def test_a_drifted_copy_is_caught():
    lesson = ast.parse("def f(x):\n    return x * 2\n").body[0]
    drifted = ast.parse("def f(x):\n    '''Doc.'''\n    return x * 3\n").body[0]
    same = ast.parse("def f(x):\n    '''Doc.'''\n    return x * 2\n").body[0]
    assert _dump(lesson) != _dump(drifted)
    assert _dump(lesson) == _dump(same), "docstrings may differ, code may not"


def test_a_drifted_constant_is_caught():
    lesson = ast.parse('ACTIVATIONS = {"relu": (relu, relu_derivative)}\n').body[0]
    drifted = ast.parse('ACTIVATIONS: dict = {"relu": (relu, tanh_derivative)}\n').body[0]
    same = ast.parse('ACTIVATIONS: dict[str, tuple] = {"relu": (relu, relu_derivative)}\n').body[0]
    assert _constant_name(lesson) == "ACTIVATIONS" and _constant_name(ast.parse("held = 1").body[0]) is None
    assert _dump(_Constant(lesson).value) != _dump(_Constant(drifted).value)
    assert _dump(_Constant(lesson).value) == _dump(_Constant(same).value), "annotations may differ, values may not"
