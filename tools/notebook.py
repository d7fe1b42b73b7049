"""Author and execute the course notebooks, with the field's tools: jupytext, nbconvert, nbclient.

    python tools/notebook.py from-script lesson.py notebooks/NN_topic.ipynb   # percent script -> notebook
    python tools/notebook.py to-script notebooks/NN_topic.ipynb lesson.py     # notebook -> percent script
    python tools/notebook.py execute notebooks/NN_topic.ipynb [...]            # run, store outputs in place
    python tools/notebook.py normalise notebooks/NN_topic.ipynb [...]          # clean stored outputs, no run

A percent script (jupytext's ``py:percent`` format) has ``# %%`` before each code cell,
``# %% [markdown]`` before each markdown cell, whose lines start with ``# ``, and ``# %% [raw]``
before each raw cell. ``from-script`` into an existing notebook keeps the stored outputs and the
cell ids of every cell whose text it finds again (jupytext's ``combine_inputs_with_outputs``):
inserting a cell gives that cell a new id and leaves every other id as it was. ``execute`` runs the
notebook top to bottom with the environment's ``python3`` kernel (``env`` goes to the kernel
process, not into this one) and writes it back with outputs and execution counts (nbval needs
both). ``normalise`` is a chain of nbconvert preprocessors: only the metadata a reader needs, merged
stream chunks, and no log noise or machine paths in the outputs of unchecked cells.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import nbformat

from course_utils.environment import TENSORFLOW_NOISE

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
FORMAT = "py:percent"
_ID = re.compile(r"c(\d{3,})")


def _jupytext():
    try:
        import jupytext
    except ImportError as error:  # pragma: no cover - jupytext is in requirements.txt
        raise SystemExit(
            "tools/notebook.py needs jupytext: pip install jupytext (it is in requirements.txt)"
        ) from error
    return jupytext


def script_to_notebook(text: str, existing: nbformat.NotebookNode | None = None) -> nbformat.NotebookNode:
    """The notebook a percent script describes; with ``existing``, its outputs and ids are kept where
    a cell's text is found again."""
    jupytext = _jupytext()
    notebook = jupytext.reads(text, fmt=FORMAT)
    for cell in notebook.cells:
        cell.pop("id", None)  # new cells get the next free id in normalise(), matched ones keep theirs
    if existing is not None:
        from jupytext.combine import combine_inputs_with_outputs

        notebook = combine_inputs_with_outputs(notebook, existing, fmt=FORMAT)
    return normalise(notebook)


def notebook_to_script(notebook: nbformat.NotebookNode) -> str:
    """The percent script of ``notebook``, without a metadata header (tags are kept on the ``# %%`` line)."""
    jupytext = _jupytext()
    notebook = nbformat.from_dict(notebook)
    notebook.metadata = nbformat.NotebookNode(jupytext={"notebook_metadata_filter": "-all"})
    return jupytext.writes(notebook, fmt=FORMAT)


def coalesce_streams(outputs: list) -> list:
    """Merge consecutive stream outputs of the same name (stdout/stderr), as nbval compares them:
    how a print is split into chunks depends on flush timing, which would make noisy diffs.
    nbconvert's ``CoalesceStreamsPreprocessor`` does the work."""
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    cell = nbformat.v4.new_code_cell(outputs=[nbformat.from_dict(output) for output in outputs])
    return CoalesceStreamsPreprocessor().preprocess_cell(cell, {}, 0)[0].outputs


ROOT = Path(__file__).resolve().parents[1]

# Whole lines that are start-up or library noise, never lesson output (issue 16, section 3): TensorFlow's
# C++ lines (course_utils.environment.import_tensorflow keeps them out of fresh runs) and INFO:tensorflow.
NOISE_LINES = (*TENSORFLOW_NOISE, r"INFO:tensorflow:.*")
_NOISE = re.compile("|".join(f"(?:{line})" for line in NOISE_LINES))
# A TqdmWarning is two lines: "<path>/tqdm/auto.py:21: TqdmWarning: ..." and the source line below it.
_TQDM_WARNING = re.compile(r"^\S*tqdm\S*:\d+: TqdmWarning: .*\n(?:  .*\n)?", re.MULTILINE)
_MACHINE_ROOTS = r"/(?:work|tmp|root|home/[\w.-]+)"
_DATA_DIR_VALUE = re.compile(r"(\$COURSE_(?:DATA|CACHE)_DIR)=/\S*?(?=[.,;:)\]]*(?:\s|$))")
_SITE_PACKAGES = re.compile(r"(?<![\w.])/[^\s'\"]*/site-packages/")
_MACHINE_PATH = re.compile(rf"(?<![\w.]){_MACHINE_ROOTS}(?:/[^\s'\"<>:,;)\]]*)?")


def _short_path(match: re.Match) -> str:
    """A machine path as ``…/<last component>`` (``…`` alone for a bare root)."""
    last = match.group(0).rstrip("/").rsplit("/", 1)[-1]
    return "…/" + last if match.group(0).count("/") > 1 else "…"


def clean_text(text: str) -> str:
    """Drop noise lines and make machine paths machine-independent, in one output's text.

    Removed: TensorFlow's C++ start-up and log lines (``WARNING: All log messages before absl…``,
    ``I0000 …``, ``E0000 …``, ``W0000 …``, including ``NodeDef mentions attribute
    use_unbounded_threadpool``), ``INFO:tensorflow`` lines and tqdm's ``TqdmWarning``. Rewritten:
    ``$COURSE_DATA_DIR=/some/dir`` → ``$COURSE_DATA_DIR``, ``…/site-packages/`` for an environment's
    packages, paths inside this repository made relative, and any other ``/work``, ``/tmp``,
    ``/root`` or ``/home/<user>`` path shortened to ``…/<last component>``.
    """
    text = _TQDM_WARNING.sub("", text)
    text = "".join(line for line in text.splitlines(keepends=True) if not _NOISE.fullmatch(line.rstrip("\n")))
    text = _DATA_DIR_VALUE.sub(r"\1", text)
    text = _SITE_PACKAGES.sub(".../site-packages/", text)
    text = text.replace(str(ROOT) + "/", "").replace(str(ROOT), ".")
    return _MACHINE_PATH.sub(_short_path, text)


def clean_outputs(cell: nbformat.NotebookNode) -> None:
    """Apply :func:`clean_text` to a code cell's stream and text outputs, dropping streams left empty.

    Cells checked by nbval (``# NBVAL_CHECK_OUTPUT``) are left as they are: nbval compares their
    stored output with a fresh run, so noise there must be prevented, not edited away.
    """
    if "# NBVAL_CHECK_OUTPUT" in cell.source:
        return
    kept = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            output["text"] = clean_text(output["text"])
            if not output["text"]:
                continue
        for mime in ("text/plain",):
            if isinstance(output.get("data", {}).get(mime), str):
                output["data"][mime] = clean_text(output["data"][mime])
        kept.append(output)
    cell.outputs = kept


def _stable_ids(notebook: nbformat.NotebookNode) -> None:
    """Keep every cell's id that is valid and unique; give the others the next free ``cNNN``."""
    seen: set[str] = set()
    numbers = [int(m[1]) for cell in notebook.cells if (m := _ID.fullmatch(str(cell.get("id", ""))))]
    next_number = max(numbers, default=-1) + 1
    for cell in notebook.cells:
        cell_id = cell.get("id")
        if not cell_id or cell_id in seen or not re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", str(cell_id)):
            cell_id, next_number = f"c{next_number:03d}", next_number + 1
        cell.id = cell_id
        seen.add(cell_id)


def _preprocessors():
    from nbconvert.preprocessors import ClearMetadataPreprocessor, CoalesceStreamsPreprocessor, Preprocessor

    class CleanOutputs(Preprocessor):
        """:func:`clean_outputs` on every code cell, then stream chunks merged again."""

        def preprocess_cell(self, cell, resources, index):
            if cell.cell_type == "code":
                clean_outputs(cell)
                for output in cell.outputs:
                    if output.output_type in ("display_data", "execute_result"):
                        output.metadata = nbformat.NotebookNode(
                            {k: v for k, v in output.get("metadata", {}).items() if k != "needs_background"}
                        )
            return cell, resources

    keep_metadata = ClearMetadataPreprocessor(
        preserve_cell_metadata_mask=["tags"],
        preserve_nb_metadata_mask=[("kernelspec",), ("language_info", "name"), ("language_info", "pygments_lexer")],
    )
    return [CoalesceStreamsPreprocessor(), CleanOutputs(), CoalesceStreamsPreprocessor(), keep_metadata]


def normalise(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Keep only the metadata a reader needs; stable cell ids; no timing records; no log noise or
    machine paths in the outputs of unchecked cells (:func:`clean_outputs`); raw cells kept."""
    notebook.nbformat, notebook.nbformat_minor = 4, 5
    notebook.metadata.setdefault("kernelspec", dict(KERNELSPEC))
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    notebook.metadata.setdefault("language_info", {"name": "python", "pygments_lexer": "ipython3"})
    for preprocessor in _preprocessors():
        notebook, _ = preprocessor.preprocess(notebook, {})
    notebook.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    for cell in notebook.cells:  # ClearMetadataPreprocessor clears code cells only (jupytext marks others)
        cell.metadata = nbformat.NotebookNode({key: value for key, value in cell.metadata.items() if key == "tags"})
    _stable_ids(notebook)
    return notebook


def execute_notebook(
    path: str | os.PathLike,
    output_path: str | os.PathLike | None = None,
    env: dict[str, str] | None = None,
    timeout: int = 3600,
) -> float:
    """Run a notebook in its own directory; write it (with outputs) to ``output_path``. Returns seconds."""
    from nbclient import NotebookClient

    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent.resolve())}},
        record_timing=False,
    )
    client.execute(env={**os.environ, **(env or {})})  # the kernel's environment; this process's is untouched
    seconds = time.perf_counter() - started
    if output_path is not None:
        nbformat.write(normalise(notebook), output_path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    from_script = commands.add_parser("from-script")
    from_script.add_argument("script", type=Path)
    from_script.add_argument("notebook", type=Path)
    to_script = commands.add_parser("to-script")
    to_script.add_argument("notebook", type=Path)
    to_script.add_argument("script", type=Path)
    execute = commands.add_parser("execute")
    execute.add_argument("notebooks", type=Path, nargs="+")
    execute.add_argument("--timeout", type=int, default=3600)
    normalise_command = commands.add_parser("normalise", help="clean stored outputs in place, without running")
    normalise_command.add_argument("notebooks", type=Path, nargs="+")
    arguments = parser.parse_args(argv)

    if arguments.command == "from-script":
        existing = nbformat.read(arguments.notebook, as_version=4) if arguments.notebook.exists() else None
        notebook = script_to_notebook(arguments.script.read_text(encoding="utf-8"), existing)
        nbformat.write(notebook, arguments.notebook)
    elif arguments.command == "to-script":
        notebook = nbformat.read(arguments.notebook, as_version=4)
        arguments.script.write_text(notebook_to_script(notebook), encoding="utf-8")
    elif arguments.command == "normalise":
        for notebook_path in arguments.notebooks:
            nbformat.write(normalise(nbformat.read(notebook_path, as_version=4)), notebook_path)
    else:
        for notebook_path in arguments.notebooks:
            seconds = execute_notebook(notebook_path, notebook_path, timeout=arguments.timeout)
            print(f"{notebook_path}: executed in {seconds:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
