"""The exercise machinery (course_utils.exercises) and every registered check against its worked solution."""

from __future__ import annotations

import importlib.util
import re
import sys
import types
from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_utils import exercises
from course_utils.exercises import Case, Exercise, ExerciseError

ROOT = Path(__file__).resolve().parents[1]


def _solutions(topic: str) -> dict:
    path = ROOT / "solutions" / f"{topic}.py"
    spec = importlib.util.spec_from_file_location(f"solutions_{topic}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SOLUTIONS


@pytest.mark.parametrize("exercise_id", exercises.registered_ids())
def test_every_exercise_passes_with_its_worked_solution(exercise_id, capsys):
    topic = exercise_id.split(".")[0]
    solutions = _solutions(topic)
    assert exercise_id in solutions, f"solutions/{topic}.py has no solution for {exercise_id!r}"
    assert exercises.check(exercise_id, solutions[exercise_id]) is True
    assert "all" in capsys.readouterr().out


def test_every_lesson_check_names_a_registered_exercise_and_every_exercise_is_used():
    used = set()
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                used.update(re.findall(r"exercises\.check\(\s*\"([\w.]+)\"", cell.source))
    registered = set(exercises.registered_ids())
    assert used <= registered, f"lessons check unregistered exercises: {sorted(used - registered)}"
    assert registered <= used, f"registered exercises no lesson checks: {sorted(registered - used)}"


# ---------------------------------------------------------------- the machinery, on a demo topic


@pytest.fixture
def demo(monkeypatch):
    module = types.ModuleType("course_utils.exercises.demo")
    module.EXERCISES = {
        "demo.square": Exercise(
            title="square a vector",
            hint="multiply x by itself",
            cases=lambda: [
                Case("small", args=(np.array([1.0, 2.0]),), expected=np.array([1.0, 4.0])),
                Case("negative", args=(np.array([-3.0]),), expected=np.array([9.0])),
                Case("rejects strings", args=("x",), raises=ValueError),
            ],
        ),
        "demo.loss": Exercise(
            title="a loss below 1",
            hint="train longer",
            cases=lambda: [Case("below 1", test=lambda got: None if got < 1 else "the loss must be below 1")],
        ),
    }
    monkeypatch.setitem(sys.modules, "course_utils.exercises.demo", module)
    return module


def _square(x):
    if isinstance(x, str):
        raise ValueError("x must be an array")
    return np.asarray(x) ** 2


def test_a_right_attempt_passes_and_prints_each_difference(demo, capsys):
    assert exercises.check("demo.square", _square) is True
    out = capsys.readouterr().out
    assert "all 3 cases pass" in out and "max |Δ| = 0.0e+00" in out and "raised ValueError" in out


def test_an_unattempted_exercise_prints_the_hint_and_does_not_fail(demo, capsys):
    def stub(x):
        raise NotImplementedError

    assert exercises.check("demo.square", stub) is False
    assert exercises.check("demo.loss", None) is False
    out = capsys.readouterr().out
    assert "not attempted yet" in out and "Hint: multiply x by itself" in out and "Hint: train longer" in out


def test_a_wrong_attempt_names_the_case_with_expected_and_got(demo):
    with pytest.raises(
        ExerciseError, match=r"case 'small': expected \[1\. 4\.\], got \[2\. 4\.\] \(max \|Δ\| = 1\.00e\+00\)"
    ):
        exercises.check("demo.square", lambda x: np.asarray(x) * 2 if not isinstance(x, str) else _square(x))
    with pytest.raises(ExerciseError, match=r"case 'small': expected .* \(shapes \(2,\) vs \(1,\)\)"):
        exercises.check("demo.square", lambda x: np.zeros(1))
    with pytest.raises(ExerciseError, match=r"case 'rejects strings': expected ValueError, got the value"):
        exercises.check("demo.square", lambda x: "a string" if isinstance(x, str) else _square(x))
    with pytest.raises(ExerciseError, match=r"case 'small' raised \w*TypeError"):
        exercises.check("demo.square", lambda x: x + "a")
    with pytest.raises(ExerciseError, match=r"case 'below 1': the loss must be below 1 \(got 1\.5\)"):
        exercises.check("demo.loss", 1.5)


def test_unknown_exercise_ids_are_refused_clearly(demo):
    with pytest.raises(ValueError, match=r"unknown exercise 'demo\.cube'"):
        exercises.check("demo.cube", _square)
    with pytest.raises(ValueError, match=r"no exercises are registered for topic 'nosuchtopic'"):
        exercises.check("nosuchtopic.x", _square)
    with pytest.raises(ValueError, match=r"an exercise id is '<topic>\.<name>'"):
        exercises.check("square", _square)


def test_real_wrong_attempts_name_the_case_and_the_difference():
    """Lessons 01-03: the classic mistakes get a message naming what differs, by how much."""

    def without_activation_derivative(x, labels, W1, b1, W2, b2):  # delta1 misses the factor (1 - h**2)
        hidden = np.tanh(x @ W1 + b1)
        logits = hidden @ W2 + b2
        delta2 = np.exp(logits - logits.max(axis=1, keepdims=True))
        delta2 /= delta2.sum(axis=1, keepdims=True)
        delta2[np.arange(len(x)), labels] -= 1.0
        delta2 /= len(x)
        delta1 = delta2 @ W2.T
        return {"W1": x.T @ delta1, "b1": delta1.sum(axis=0), "W2": hidden.T @ delta2, "b2": delta2.sum(axis=0)}

    with pytest.raises(ExerciseError, match=r"case '6-5-4 tanh network, batch 8': W1: max \|Δ\| = .* against"):
        exercises.check("backprop.one_hidden_layer_gradients", without_activation_derivative)
    with pytest.raises(
        ExerciseError, match=r"(?s)case '61 points in \[-3, 3\], alpha=0.2': expected .* \(max \|Δ\| = 2\.00e-01\)"
    ):
        exercises.check("backprop.leaky_relu_derivative", lambda z, alpha=0.2: np.where(z > 0, 1.0, 0.0))
    with pytest.raises(ExerciseError, match=r"case 'K = 10': expected"):
        exercises.check("softmax.double_softmax_floor", lambda k: np.log(k))
