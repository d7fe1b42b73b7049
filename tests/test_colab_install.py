"""A Colab-like install (issue 16, section 1): the first lessons run where only TensorFlow/Keras (and what
Colab also ships: matplotlib, ipykernel) are preinstalled, with course_utils installed exactly as the
Setup cell does it, from a git URL (here ``git+file://`` of a clone of this commit). No make, no
requirements.txt. The install must leave TensorFlow, Keras and NumPy as they were.

Opt-in (it builds a virtualenv from the package registry and runs four notebooks: minutes, not seconds):
``COURSE_COLAB_TEST=1``. ``COURSE_COLAB_TF`` / ``COURSE_COLAB_KERAS`` choose the preinstalled pair
(default: the versions of this environment); ``COURSE_COLAB_LESSONS`` the lessons (default 00-03).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

from tools.repository import INSTALL

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"

pytestmark = pytest.mark.skipif(os.environ.get("COURSE_COLAB_TEST") != "1", reason="opt-in: COURSE_COLAB_TEST=1")

RUNNER = textwrap.dedent(
    """
    import json, sys, time, types
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path, clone_url, report = sys.argv[1], sys.argv[2], sys.argv[3]
    notebook = nbformat.read(path, as_version=4)
    # What Colab has and a plain kernel lacks: the google.colab module the Setup cell tests for.
    fake_colab = nbformat.v4.new_code_cell('import sys, types\\nsys.modules["google.colab"] = types.ModuleType("google.colab")')
    notebook.cells.insert(0, fake_colab)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "%pip install" in cell.source:
            cell.source = INSTALL_PATTERN.sub("git+" + clone_url, cell.source)
    started = time.perf_counter()
    error = ""
    try:
        NotebookClient(notebook, timeout=1800, kernel_name="python3", resources={"metadata": {"path": "."}}).execute()
    except CellExecutionError as exc:
        error = str(exc)[-3000:]
    json.dump({"seconds": time.perf_counter() - started, "error": error}, open(report, "w"))
    """
)


def _run(command, **options):
    result = subprocess.run(command, capture_output=True, text=True, **options)
    assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    return result.stdout


def _versions(python: Path) -> dict[str, str]:
    code = "import json; from importlib import metadata as m; print(json.dumps({p: m.version(p) for p in ('tensorflow', 'keras', 'numpy')}))"
    return json.loads(_run([str(python), "-c", code]))


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    """A virtualenv holding only a Colab-like preinstalled set, and a clone of this commit."""
    base = tmp_path_factory.mktemp("colab")
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    tf_version = os.environ.get("COURSE_COLAB_TF", metadata.version("tensorflow"))
    keras_version = os.environ.get("COURSE_COLAB_KERAS", metadata.version("keras"))
    # Colab's pip is recent; a venv's bundled pip (23.2 with Python 3.11.7) refuses "name @ git+file:///..."
    _run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], timeout=600)
    image = [f"tensorflow=={tf_version}", f"keras=={keras_version}", "matplotlib", "ipykernel", "nbclient", "nbformat"]
    _run([str(python), "-m", "pip", "install", "--quiet", *image], timeout=1800)
    clone = base / "clone"
    _run(["git", "clone", "--quiet", str(ROOT), str(clone)])
    return python, clone


def _lessons(clone: Path) -> list[Path]:
    prefixes = os.environ.get("COURSE_COLAB_LESSONS", "00 01 02 03").split()
    return [path for path in sorted((clone / "notebooks").glob("*.ipynb")) if path.name[:2] in prefixes]


def test_first_lessons_run_after_the_setup_cell_installs_course_utils_from_git(colab, tmp_path):
    python, clone = colab
    before = _versions(python)
    runner = tmp_path / "runner.py"
    runner.write_text(f"import re\nINSTALL_PATTERN = re.compile({INSTALL.pattern!r})\n" + RUNNER)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("VIRTUAL_ENV", "PYTHONPATH", "COURSE_", "JUPYTER"))
    }
    env.update({"COURSE_OFFLINE": "1", "COURSE_CACHE_DIR": str(tmp_path / "cache"), "HOME": str(tmp_path)})
    if SHARED_DATASETS.joinpath("mnist").is_dir():  # offline here; on Colab the loader downloads MNIST
        env["COURSE_DATA_DIR"] = str(SHARED_DATASETS)
    workdir = tmp_path / "content"  # like Colab's /content: not inside a checkout
    workdir.mkdir()
    failures = []
    for notebook in _lessons(clone):
        report = tmp_path / f"{notebook.stem}.json"
        _run(
            [str(python), str(runner), str(notebook), f"file://{clone}", str(report)],
            cwd=workdir,
            env=env,
            timeout=3600,
        )
        outcome = json.loads(report.read_text())
        print(f"{notebook.name}: {outcome['seconds']:.0f} s {'FAILED' if outcome['error'] else 'ok'}")
        if outcome["error"]:
            failures.append(f"{notebook.name}:\n{outcome['error']}")
    assert not failures, "\n\n".join(failures)
    assert _versions(python) == before, "installing course_utils changed TensorFlow, Keras or NumPy"
    installed = _run([str(python), "-m", "pip", "show", "course-utils"])
    assert "Version:" in installed
