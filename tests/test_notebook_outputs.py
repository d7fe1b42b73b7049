"""What the committed notebook outputs may hold, and what nbval's sanitizer may hide in them (issue 16, section 3).

The sanitizer (notebooks/nbval_sanitize.cfg) rewrites both the stored and the fresh output of every
checked cell before nbval compares them; a pattern that is too loose hides real differences in
checked numbers. So every rewrite it makes in a committed checked output must be a timing, an
object address or a progress bar, recognised here independently of the patterns.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbval.plugin import get_sanitize_patterns

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PATTERNS = get_sanitize_patterns((ROOT / "notebooks" / "nbval_sanitize.cfg").read_text(encoding="utf-8"))


def sanitize(text: str) -> str:
    """What nbval does with the file: each (regex, replace) in order, with re.sub."""
    for regex, replace in PATTERNS:
        text = re.sub(regex, replace, text)
    return text


def output_texts(cell) -> list[str]:
    """The outputs nbval compares: streams and the text MIME types of display data and results."""
    texts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            texts.append(output["text"])
        for mime, value in output.get("data", {}).items():
            if mime.startswith("text/") and isinstance(value, str):
                texts.append(value)
    return texts


def checked_outputs():
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "code" and "# NBVAL_CHECK_OUTPUT" in cell.source:
                for text in output_texts(cell):
                    yield f"{path.name} cell {index}", text


_UNIT = r"(?:ns|us|µs|ms|s|sec|seconds|min)"


def legitimate(matched: str, line: str) -> bool:
    """Is this rewritten text a timing, an address or a progress bar? (independent of the cfg)"""
    if re.fullmatch(r"at 0x[0-9a-fA-F]{6,}", matched):
        return True  # an object address in a repr
    if re.fullmatch(rf"\d+(\.\d+)?\s?{_UNIT}(/(step|epoch|sample))?", matched):
        return not re.search(re.escape(matched) + r"\s*=", line)  # `k=3 s=1` is a setting, not a time
    stripped = line.strip()
    return matched.strip() == stripped and bool(re.match(r"\d+/\d+ (━|─|\[|- \d)", stripped))  # a whole bar line


def rewrites(text: str) -> list[tuple[str, str]]:
    """Every (matched text, its line) that the sanitizer replaces, pattern by pattern, in order."""
    found = []
    for regex, replace in PATTERNS:
        for match in re.finditer(regex, text):
            start = text.rfind("\n", 0, match.start()) + 1
            end = text.find("\n", match.end())
            found.append((match.group(0), text[start : end if end >= 0 else len(text)]))
        text = re.sub(regex, replace, text)
    return found


def test_the_sanitizer_changes_only_timings_addresses_and_progress_bars_in_checked_outputs():
    seen = 0
    wrong = []
    for where, text in checked_outputs():
        seen += 1
        wrong += [
            f"{where}: {matched!r} in {line!r}" for matched, line in rewrites(text) if not legitimate(matched, line)
        ]
    assert seen > 50, f"only {seen} checked outputs found"
    assert not wrong, "the sanitizer rewrites checked text:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    "text",
    [
        "k=3 s=1 valid: 28 -> 26",  # the durations pattern once made this `k=DURATION=1`
        "scale = 4/255 = 0.015686, zero point = -128 + round(1 / scale) = -64",  # once `scale = PROGRESS`
        "3/4 of the reviews are fresh",
        "Epoch 1/3",
        "0x1f is 31",
        "the 2 s in 'mass'",
    ],
)
def test_the_sanitizer_leaves_checked_text_alone(text):
    assert sanitize(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("trained the MNIST CNN for 3 epochs in 41 s", "trained the MNIST CNN for 3 epochs in DURATION"),
        ("took 5 ms (1.2 s)", "took DURATION (DURATION)"),
        ("469/469 ━━━━━━━━━━━━━━━━━━━━ 5s 10ms/step - accuracy: 0.9", "PROGRESS"),
        ("430/430 - 13s - 30ms/step - accuracy: 0.9356\nnext", "PROGRESS\nnext"),
        ("1875/1875 [==============================] - 3s 1ms/step", "PROGRESS"),
        ("mean 12ms/step", "mean DURATION/UNIT"),
        ("<function f at 0x7f3a2b1c9d30>", "<function f at 0xADDRESS>"),
        ("I0000 00:00:1732871234.123456   1234 cpu_feature_guard.cc:210] oneDNN custom operations", "TF-LOG"),
    ],
)
def test_the_sanitizer_hides_timings_addresses_and_progress_bars(text, expected):
    assert sanitize(text) == expected
    assert all(legitimate(matched, line) for matched, line in rewrites(text) if "cpu_feature" not in matched)
