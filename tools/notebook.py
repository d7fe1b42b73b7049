"""Author and execute the course notebooks.

    python tools/notebook.py from-script lesson.py notebooks/NN_topic.ipynb   # percent script -> notebook
    python tools/notebook.py to-script notebooks/NN_topic.ipynb lesson.py     # notebook -> percent script
    python tools/notebook.py execute notebooks/NN_topic.ipynb [...]            # run, store outputs in place
    python tools/notebook.py normalise notebooks/NN_topic.ipynb [...]          # clean stored outputs, no run

A percent script has ``# %%`` before each code cell and ``# %% [markdown]`` before each markdown
cell, whose lines start with ``# ``. ``execute`` runs the notebook top to bottom with the
environment's ``python3`` kernel and writes it back with outputs and execution counts (nbval needs
both) and with only the metadata a reader needs, so diffs stay small.
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


def script_to_notebook(text: str) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            cells.append(("markdown" if "[markdown]" in line else "code", []))
        elif cells:
            cells[-1][1].append(line)
        elif line.strip():
            raise ValueError("a percent script must start with a '# %%' line")
    for kind, lines in cells:
        while lines and not lines[-1].strip():
            lines.pop()
        if kind == "markdown":
            body = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in lines)
            notebook.cells.append(nbformat.v4.new_markdown_cell(body))
        else:
            notebook.cells.append(nbformat.v4.new_code_cell("\n".join(lines)))
    return normalise(notebook)


def notebook_to_script(notebook: nbformat.NotebookNode) -> str:
    parts = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            body = "\n".join(("# " + line) if line else "#" for line in cell.source.splitlines())
            parts.append("# %% [markdown]\n" + body)
        elif cell.cell_type == "code":
            parts.append("# %%\n" + cell.source)
    return "\n\n".join(parts) + "\n"


def coalesce_streams(outputs: list) -> list:
    """Merge consecutive stream outputs of the same name (stdout/stderr), as nbval compares them:
    how a print is split into chunks depends on flush timing, which would make noisy diffs."""
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.get("output_type") == "stream"
            and previous is not None
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            previous["text"] = previous["text"] + output["text"]
        else:
            merged.append(output)
    return merged


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


def normalise(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Keep only the metadata a reader needs; stable cell ids; no timing records; no log noise or
    machine paths in the outputs of unchecked cells (:func:`clean_outputs`)."""
    notebook.nbformat, notebook.nbformat_minor = 4, 5
    notebook.metadata = nbformat.NotebookNode(
        kernelspec=dict(KERNELSPEC), language_info={"name": "python", "pygments_lexer": "ipython3"}
    )
    for index, cell in enumerate(notebook.cells):
        cell.id = f"c{index:03d}"
        tags = cell.get("metadata", {}).get("tags")
        cell.metadata = nbformat.NotebookNode({"tags": tags} if tags else {})
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.get("outputs", []))
            clean_outputs(cell)
            cell.outputs = coalesce_streams(cell.outputs)  # chunks a removed line used to separate
            for output in cell.outputs:
                if "metadata" in output and output.output_type in ("display_data", "execute_result"):
                    output.metadata = nbformat.NotebookNode(
                        {k: v for k, v in output.metadata.items() if k not in ("needs_background",)}
                    )
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
    saved_env = dict(os.environ)
    os.environ.update(env or {})
    started = time.perf_counter()
    try:
        client = NotebookClient(
            notebook,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent.resolve())}},
            record_timing=False,
        )
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
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
        nbformat.write(script_to_notebook(arguments.script.read_text(encoding="utf-8")), arguments.notebook)
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
