"""The course's GitHub repository, written in one place: ``[project.urls] Repository`` in pyproject.toml.

    python tools/repository.py show                 # OWNER/NAME from pyproject.toml
    python tools/repository.py check                # list badges and install lines that disagree (exit 1)
    python tools/repository.py set OWNER/NAME       # rewrite pyproject, every Colab badge and Setup install line

Every notebook's Colab badge (``https://colab.research.google.com/github/OWNER/NAME/blob/main/notebooks/...``),
every Setup cell's ``%pip install "course-utils @ git+https://github.com/OWNER/NAME"`` and the README's
badges name the repository; ``set`` rewrites exactly those URLs in place (the rest of each file is left
byte for byte), and ``tests/test_repository_url.py`` fails when any of them disagrees with pyproject.toml.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_SLUG = r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?"
# The places that name the repository: group "slug" is OWNER/NAME.
BADGE = re.compile(rf"https://colab\.research\.google\.com/github/(?P<slug>{_SLUG})/blob/")
INSTALL = re.compile(rf"git\+https://github\.com/(?P<slug>{_SLUG})(?=\.git\b|[@#\"'\\\s]|$)")
PYPROJECT_URL = re.compile(rf'^Repository\s*=\s*"https://github\.com/(?P<slug>{_SLUG})"', re.MULTILINE)
SLUG = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


def repository(root: Path = ROOT) -> str:
    """OWNER/NAME from ``[project.urls] Repository`` in pyproject.toml (read without tomllib: Python 3.10)."""
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    urls = re.search(r"^\[project\.urls\]\n(?P<body>(?:(?!\[).*\n)*)", text, re.MULTILINE)
    match = PYPROJECT_URL.search(urls["body"]) if urls else None
    if not match:
        raise ValueError('pyproject.toml needs Repository = "https://github.com/OWNER/NAME" under [project.urls]')
    return match["slug"]


def files(root: Path = ROOT) -> list[Path]:
    """Every file that names the repository: all notebooks (whatever their number) and the README."""
    return [*sorted((root / "notebooks").glob("*.ipynb")), root / "README.md"]


def mentions(text: str) -> list[tuple[str, str]]:
    """``(kind, OWNER/NAME)`` for every badge and install line in ``text``."""
    return [("badge", m["slug"]) for m in BADGE.finditer(text)] + [
        ("install", m["slug"]) for m in INSTALL.finditer(text)
    ]


def disagreements(root: Path = ROOT) -> list[str]:
    """One line per badge or install line that does not name pyproject's repository."""
    expected = repository(root)
    found = []
    for path in files(root):
        for kind, slug in mentions(path.read_text(encoding="utf-8")):
            if slug != expected:
                found.append(f"{path.relative_to(root)}: {kind} names {slug}, pyproject.toml {expected}")
    return found


def _replace_slug(pattern: re.Pattern, text: str, slug: str) -> str:
    return pattern.sub(lambda m: m.group(0).replace(m["slug"], slug, 1), text)


def set_repository(slug: str, root: Path = ROOT) -> list[Path]:
    """Rewrite pyproject.toml, every badge and every install line to ``slug``; return the files changed."""
    if not isinstance(slug, str) or not SLUG.fullmatch(slug):
        raise ValueError(f"expected OWNER/NAME (letters, digits, '.', '_', '-'), got {slug!r}")
    repository(root)  # pyproject.toml must name one already
    changed = []
    for path in [root / "pyproject.toml", *files(root)]:
        text = path.read_text(encoding="utf-8")
        new = text
        for pattern in (PYPROJECT_URL, BADGE, INSTALL) if path.name == "pyproject.toml" else (BADGE, INSTALL):
            new = _replace_slug(pattern, new, slug)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("show")
    commands.add_parser("check")
    set_command = commands.add_parser("set")
    set_command.add_argument("slug", metavar="OWNER/NAME")
    arguments = parser.parse_args(argv)
    if arguments.command == "show":
        print(repository(arguments.root))
    elif arguments.command == "check":
        problems = disagreements(arguments.root)
        print("\n".join(problems) if problems else f"every badge and install line names {repository(arguments.root)}")
        return 1 if problems else 0
    else:
        for path in set_repository(arguments.slug, arguments.root):
            print(f"rewrote {path.relative_to(arguments.root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
