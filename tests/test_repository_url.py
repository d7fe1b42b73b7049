"""One repository URL (issue 16, section 1): pyproject.toml's [project.urls] Repository, and every Colab
badge and Setup-cell install line agreeing with it, in every notebook there is (a glob, so lessons added
later are covered) and in the README."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from tools import repository as repo

ROOT = Path(__file__).resolve().parents[1]


def test_every_badge_and_install_line_names_the_repository_of_pyproject():
    slug = repo.repository()
    assert slug == "first-principles-ai/neural-models-course"
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert repo.files()[:-1] == notebooks and len(notebooks) >= 11
    for path in notebooks:
        kinds = {kind for kind, _ in repo.mentions(path.read_text(encoding="utf-8"))}
        assert kinds == {"badge", "install"}, f"{path.name} needs a Colab badge and a Setup install line"
    assert repo.disagreements() == []


@pytest.fixture
def copy(tmp_path):
    """pyproject.toml, README.md and every notebook, copied."""
    (tmp_path / "notebooks").mkdir()
    for path in repo.files():
        shutil.copy(path, tmp_path / path.relative_to(ROOT))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_a_badge_or_install_line_that_disagrees_is_reported(copy):
    notebook = sorted((copy / "notebooks").glob("*.ipynb"))[-1]
    text = notebook.read_text(encoding="utf-8")
    notebook.write_text(text.replace("git+https://github.com/first-principles-ai/", "git+https://github.com/someone/"))
    (copy / "README.md").write_text(
        (copy / "README.md").read_text().replace("/github/first-principles-ai/", "/github/fork/", 1)
    )
    problems = repo.disagreements(copy)
    assert len(problems) == 2
    assert f"notebooks/{notebook.name}: install names someone/neural-models-course" in problems[0]
    assert "README.md: badge names fork/neural-models-course" in problems[1]


def test_set_rewrites_exactly_the_urls_everywhere(copy):
    before = {path: path.read_text(encoding="utf-8") for path in [copy / "pyproject.toml", *repo.files(copy)]}
    changed = repo.set_repository("a-user/my.fork_2", copy)
    assert set(changed) == set(before)
    assert repo.repository(copy) == "a-user/my.fork_2"
    assert repo.disagreements(copy) == []
    for path, old in before.items():
        new = path.read_text(encoding="utf-8")
        assert new.replace("a-user/my.fork_2", "first-principles-ai/neural-models-course") == old, path.name
        if path.suffix == ".ipynb":
            nbformat.validate(nbformat.read(path, as_version=4))
    assert repo.set_repository("a-user/my.fork_2", copy) == [], "a second run changes nothing"
    assert repo.main(["--root", str(copy), "check"]) == 0


@pytest.mark.parametrize("bad", ["owner", "owner/name/extra", "own er/name", "", None])
def test_set_refuses_what_is_not_owner_slash_name(copy, bad):
    with pytest.raises(ValueError, match="expected OWNER/NAME"):
        repo.set_repository(bad, copy)


def test_the_version_is_written_once_in_pyproject():
    import re as _re

    import course_utils

    declared = _re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), _re.MULTILINE).group(1)
    assert course_utils.__version__ == declared
    assert declared not in (ROOT / "course_utils" / "__init__.py").read_text()
