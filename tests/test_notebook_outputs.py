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


# --- clean committed outputs: no C++ log noise, no machine paths --------------------------------

NOISE = re.compile(
    r"WARNING: All log messages before absl"
    r"|^[IWEF]\d{4} \d\d:\d\d:"  # TensorFlow's C++ log lines: I0000 ..., E0000 ..., W0000 ...
    r"|NodeDef mentions attribute"
    r"|INFO:tensorflow"
    r"|TqdmWarning"
    r"|(?<![\w.])/(?:work|tmp|root)(?:/|\b)"  # machine paths
    r"|/\.venv/|(?<![\w.])/\S*/site-packages/",
    re.MULTILINE,
)


def all_output_texts(notebook):
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            for text in output_texts(cell):
                yield index, text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_outputs_carry_no_log_noise_and_no_machine_paths(path):
    """`tools/notebook.py execute` (or `normalise`) strips them; a checked cell must not produce them."""
    notebook = nbformat.read(path, as_version=4)
    found = [
        f"cell {index}: {line[:120]}"
        for index, text in all_output_texts(notebook)
        for line in text.splitlines()
        if NOISE.search(line)
    ]
    assert not found, f"{len(found)} noisy output line(s):\n" + "\n".join(found[:20])


def test_normaliser_strips_noise_and_machine_paths():
    from tools.notebook import ROOT as TOOLS_ROOT
    from tools.notebook import clean_text

    noisy = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1795445808.401622   24925 port.cc:153] oneDNN custom operations are on.\n"
        "E0000 00:00:1795445810.384371   24925 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)\n"
        "W0000 00:00:1795445810.384371   24925 some.cc:1] a warning\n"
        "E0000 00:00:1795445832.689416   24925 node_def_util.cc:682] NodeDef mentions attribute use_unbounded_threadpool\n"
        "INFO:tensorflow:Assets written to: /tmp/04_mnist_cnn_x/savedmodel/assets\n"
        "/work/main/.venv/lib/python3.11/site-packages/tqdm/auto.py:21: TqdmWarning: IProgress not found.\n"
        "  from .autonotebook import tqdm as notebook_tqdm\n"
        "MNIST: 4 file(s) from local directory $COURSE_DATA_DIR=/work/shared/datasets (sha256 verified)\n"
        f"local cache {TOOLS_ROOT}/data/cache/mnist\n"
        "saved to /tmp/04_mnist_cnn_abc/model.keras, /root/.cache/x\n"
        "/opt/venv/lib/python3.11/site-packages/keras/src/x.py:74: UserWarning: shuffle ignored\n"
        "kept: 4/255 = 0.0157; ratio 3/tmp; E0000 in the middle of a line\n"
    )
    assert clean_text(noisy) == (
        "MNIST: 4 file(s) from local directory $COURSE_DATA_DIR (sha256 verified)\n"
        "local cache data/cache/mnist\n"
        "saved to …/model.keras, …/x\n"
        ".../site-packages/keras/src/x.py:74: UserWarning: shuffle ignored\n"
        "kept: 4/255 = 0.0157; ratio 3/tmp; E0000 in the middle of a line\n"
    )
    assert not NOISE.search(clean_text(noisy))


def test_normalise_leaves_checked_cells_alone_and_merges_streams():
    from tools.notebook import normalise

    def stream(name, text):
        return nbformat.v4.new_output("stream", name=name, text=text)

    log = "I0000 00:00:1795445808.401622   24925 port.cc:153] oneDNN custom operations are on.\n"
    plain = nbformat.v4.new_code_cell(
        "x = 1", outputs=[stream("stdout", "a\n"), stream("stderr", log), stream("stdout", "b\n")]
    )
    checked = nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nx = 1", outputs=[stream("stderr", log)])
    notebook = normalise(nbformat.v4.new_notebook(cells=[plain, checked]))
    assert [(o["name"], o["text"]) for o in notebook.cells[0].outputs] == [("stdout", "a\nb\n")]
    assert notebook.cells[1].outputs[0]["text"] == log, "nbval compares checked cells: prevent noise there instead"


def test_normalise_keeps_only_tags_in_the_metadata_of_every_kind_of_cell():
    """nbconvert's ClearMetadataPreprocessor clears code cells only; jupytext marks markdown cells too."""
    from tools.notebook import normalise

    markdown = nbformat.v4.new_markdown_cell("## A heading", metadata={"lines_to_next_cell": 0, "tags": ["keep"]})
    code = nbformat.v4.new_code_cell("x = 1", metadata={"lines_to_next_cell": 2, "collapsed": True})
    raw = nbformat.v4.new_raw_cell("raw", metadata={"jupytext": {"x": 1}})
    notebook = normalise(nbformat.v4.new_notebook(cells=[markdown, code, raw]))
    assert [dict(cell.metadata) for cell in notebook.cells] == [{"tags": ["keep"]}, {}, {}]
