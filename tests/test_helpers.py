"""Seeding, metrics recording, environment summary and plotting helpers."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest
import tensorflow as tf

from course_utils import environment, metrics, plotting, repro

# --- seeding ---------------------------------------------------------------------------------


def _draws():
    import keras

    layer = keras.layers.Dense(3, kernel_initializer="glorot_uniform")
    layer.build((None, 4))
    return np.random.rand(2), tf.random.uniform([2]).numpy(), layer.kernel.numpy()  # noqa: NPY002 (the seeded global)


def test_set_seed_makes_numpy_tensorflow_and_keras_repeatable():
    repro.set_seed(123)
    first = _draws()
    repro.set_seed(123)
    second = _draws()
    repro.set_seed(124)
    third = _draws()
    for a, b, c in zip(first, second, third, strict=True):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, "42", True, None])
def test_set_seed_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="seed must be an integer"):
        repro.set_seed(bad)


def test_full_training_switch(monkeypatch):
    monkeypatch.delenv(repro.ENV_FULL_TRAINING, raising=False)
    assert repro.full_training() is False
    monkeypatch.setenv(repro.ENV_FULL_TRAINING, "1")
    assert repro.full_training() is True
    monkeypatch.setenv(repro.ENV_FULL_TRAINING, "maybe")
    with pytest.raises(ValueError, match="COURSE_FULL_TRAINING"):
        repro.full_training()


# --- metrics ---------------------------------------------------------------------------------


def test_record_metric_is_a_no_op_without_a_file(monkeypatch, tmp_path):
    monkeypatch.delenv(metrics.ENV_METRICS_FILE, raising=False)
    monkeypatch.chdir(tmp_path)
    metrics.record_metric("accuracy", 0.99)
    assert list(tmp_path.iterdir()) == []


def test_record_metric_appends_json_lines(monkeypatch, tmp_path):
    target = tmp_path / "sub" / "metrics.jsonl"
    monkeypatch.setenv(metrics.ENV_METRICS_FILE, str(target))
    monkeypatch.setenv("COURSE_NOTEBOOK", "04_mnist_cnn")
    metrics.record_metric("test_accuracy", np.float32(0.9931))
    metrics.record_metric("params", np.int64(34826), unit="")
    metrics.record_metric("seconds", 12.5, unit="s")
    records = metrics.read_metrics(target)
    assert [r["name"] for r in records] == ["test_accuracy", "params", "seconds"]
    assert records[0]["value"] == pytest.approx(0.9931, abs=1e-6)
    assert records[1]["value"] == 34826 and isinstance(records[1]["value"], int)
    assert records[2]["unit"] == "s" and records[2]["notebook"] == "04_mnist_cnn"
    assert all(json.loads(line) for line in target.read_text().splitlines())


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("", 1.0, "non-empty string"),
        (3, 1.0, "non-empty string"),
        ("x", "0.9", "real number"),
        ("x", float("nan"), "finite"),
        ("x", float("inf"), "finite"),
        ("x", True, "real number"),
    ],
)
def test_record_metric_rejects_bad_arguments(name, value, message):
    with pytest.raises(ValueError, match=message):
        metrics.record_metric(name, value)


def test_read_metrics_reports_the_bad_line(tmp_path):
    (tmp_path / "m.jsonl").write_text('{"name": "a", "value": 1}\nnot json\n')
    with pytest.raises(ValueError, match=r"m.jsonl:2"):
        metrics.read_metrics(tmp_path / "m.jsonl")


# --- environment -----------------------------------------------------------------------------


def test_environment_summary_matches_the_libraries():
    import keras

    summary = environment.environment_summary()
    assert summary["tensorflow"] == tf.__version__
    assert summary["keras"] == keras.__version__
    assert summary["gpus"] == [d.name for d in tf.config.list_physical_devices("GPU")]
    assert isinstance(summary["cpu_count"], int) and summary["cpu_count"] >= 1


# --- plotting --------------------------------------------------------------------------------


def test_plot_history_draws_train_and_validation_curves():
    history = {"loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.6, 0.4], "accuracy": [0.5, 0.8, 0.9]}
    figure = plotting.plot_history(history)
    loss_axis, accuracy_axis = figure.axes
    assert [line.get_label() for line in loss_axis.lines] == ["train", "validation"]
    np.testing.assert_array_equal(loss_axis.lines[1].get_ydata(), history["val_loss"])
    np.testing.assert_array_equal(accuracy_axis.lines[0].get_xdata(), [1, 2, 3])


def test_plot_history_validates():
    with pytest.raises(ValueError, match="non-empty dict"):
        plotting.plot_history({})
    with pytest.raises(ValueError, match="one value per epoch"):
        plotting.plot_history({"loss": [1, 2], "val_loss": [1]})
    with pytest.raises(ValueError, match="not in history"):
        plotting.plot_history({"loss": [1.0]}, metrics=["accuracy"])


def test_confusion_matrix_matches_tensorflow():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 5, 200), rng.integers(0, 5, 200)
    expected = tf.math.confusion_matrix(y_true, y_pred, num_classes=5).numpy()
    np.testing.assert_array_equal(plotting.confusion_matrix(y_true, y_pred, num_classes=5), expected)
    figure = plotting.plot_confusion_matrix(expected, class_names=list("abcde"))
    np.testing.assert_array_equal(figure.axes[0].images[0].get_array(), expected)


def test_confusion_matrix_validates():
    with pytest.raises(ValueError, match="equal length"):
        plotting.confusion_matrix([0, 1], [0])
    with pytest.raises(ValueError, match="integer class labels"):
        plotting.confusion_matrix(np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        plotting.confusion_matrix([0, 2], [0, 1], num_classes=2)


def test_show_images_validates_and_draws():
    images = np.zeros((5, 8, 8), dtype=np.uint8)
    figure = plotting.show_images(images, labels=list(range(5)), columns=3)
    assert sum(len(axis.images) for axis in figure.axes) == 5
    with pytest.raises(ValueError, match="shape"):
        plotting.show_images(np.zeros((8, 8)))
    with pytest.raises(ValueError, match="labels"):
        plotting.show_images(images, labels=[1, 2])


def test_plot_trajectories_draws_every_path_and_refuses_bad_paths():
    import matplotlib.pyplot as plt

    from course_utils import optimizers

    surfaces = {
        "quadratic": dict(loss=optimizers.ill_conditioned_quadratic, box=(-10, 2, -3, 3), minimum=(0, 0), steps=5)
    }
    path = optimizers.trajectory(optimizers.SGD(0.05), optimizers.ill_conditioned_quadratic_gradient, [-9.0, 2.0], 5)
    figure = plotting.plot_trajectories(surfaces, {("quadratic", "gradient descent"): path})
    lines = figure.axes[0].get_lines()
    np.testing.assert_array_equal(lines[0].get_xydata(), path)  # the path as drawn is the path computed
    np.testing.assert_array_equal(lines[1].get_xydata()[0], path[-1])  # its end point
    assert [t.get_text() for t in figure.axes[0].get_legend().get_texts()] == ["gradient descent"]
    plt.close(figure)
    with pytest.raises(ValueError, match=r"shape \(steps \+ 1, 2\)"):
        plotting.plot_trajectories(surfaces, {("quadratic", "x"): np.zeros(3)})
    with pytest.raises(ValueError, match="surface in"):
        plotting.plot_trajectories(surfaces, {("banana", "x"): path})
