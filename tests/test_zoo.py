"""The model cache of course_utils.zoo: atomic saves, shape checks, corrupt files rebuilt, never trusted."""

from __future__ import annotations

import re
from pathlib import Path

import keras
import nbformat
import numpy as np
import pytest

from course_utils import zoo


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    return tmp_path / "models"


def test_mnist_cnn_architecture_matches_notebook_04():
    model = zoo.build_mnist_cnn()
    # 04 derives this count by formula: convs without bias, BatchNorm 4 per channel, hidden, classifier
    by_formula = 3 * 3 * 1 * 32 + 4 * 32 + 3 * 3 * 32 * 64 + 4 * 64 + 5 * 5 * 64 * 128 + 4 * 128 + 128 * 10 + 10
    assert model.count_params() == by_formula == 225_706
    assert model.input_shape == (None, 28, 28, 1) and model.input.dtype == "uint8"
    assert model.get_layer("classifier").activation.__name__ == "linear", "04's model ends in logits"
    images = np.random.default_rng(0).integers(0, 256, (3, 28, 28, 1), dtype=np.uint8)
    logits = model(images, training=False).numpy()
    served = zoo.with_softmax(model)  # the form notebooks 09-11 load: same layers, softmax in 'classifier'
    assert [layer.name for layer in served.layers] == [layer.name for layer in model.layers]
    assert served.get_layer("classifier").activation.__name__ == "softmax"
    reference = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(
        served(images, training=False).numpy(), reference / reference.sum(1, keepdims=True), atol=1e-6
    )
    # without BatchNorm: its 4 numbers per channel go, a bias per conv filter and hidden unit comes back
    assert zoo.build_mnist_cnn(batch_norm=False, dropout=0.0).count_params() == 225_706 - 4 * 224 + 224


def test_cache_round_trip_is_exact_and_atomic(cache):
    model = zoo.build_mnist_cnn()
    path = zoo.cache_model(model, "mnist_cnn", verbose=False)
    assert path == cache / "mnist_cnn.keras" and path.is_file()
    assert [p.name for p in cache.iterdir()] == ["mnist_cnn.keras"], "no temporary file left behind"
    loaded = zoo._load_cached("mnist_cnn", (None, 28, 28, 1), (None, 10), verbose=False)
    images = np.random.default_rng(0).integers(0, 256, (4, 28, 28, 1), dtype=np.uint8)
    np.testing.assert_array_equal(loaded.predict(images, verbose=0), model.predict(images, verbose=0))
    loaded_again = zoo.mnist_cnn(verbose=False)  # from the cache: no training
    np.testing.assert_array_equal(loaded_again.predict(images, verbose=0), model.predict(images, verbose=0))


def test_corrupt_or_truncated_cache_file_is_removed_not_used(cache, capsys):
    cache.mkdir(parents=True)
    path = cache / "mnist_cnn.keras"
    zoo.build_mnist_cnn().save(path)
    path.write_bytes(path.read_bytes()[:1000])  # a killed copy
    assert zoo._load_cached("mnist_cnn", (None, 28, 28, 1), (None, 10), verbose=True) is None
    assert not path.exists()
    assert "unusable" in capsys.readouterr().out


def test_cached_model_of_the_wrong_shape_is_rejected(cache):
    inputs = keras.Input((28, 28, 1), dtype="uint8")
    other = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Flatten()(inputs)))
    zoo.cache_model(other, "mnist_cnn", verbose=False)
    assert zoo._load_cached("mnist_cnn", (None, 28, 28, 1), (None, 10), verbose=False) is None
    assert not (cache / "mnist_cnn.keras").exists()


def test_bad_arguments_raise_value_error():
    with pytest.raises(ValueError, match="model name"):
        zoo.cached_model_path("resnet")
    with pytest.raises(ValueError, match=r"keras\.Model"):
        zoo.cache_model("not a model", "mnist_cnn")
    with pytest.raises(ValueError, match="dropout"):
        zoo.build_mnist_cnn(dropout=1.5)
    with pytest.raises(ValueError, match="epochs"):
        zoo.train_mnist_cnn(epochs=0)
    with pytest.raises(ValueError, match="a layer named 'classifier'"):
        zoo.with_softmax(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]))
    with pytest.raises(ValueError, match="train_top_layers"):
        zoo.train_review_classifier(train_top_layers=0)


def test_zoo_cnn_is_the_cnn_that_notebook_04_defines():
    """04 shows its model's code inline (for reading); zoo keeps a copy for 09-11. Same layers, same configs."""
    import ast

    notebook = nbformat.read(Path(__file__).resolve().parents[1] / "notebooks" / "04_mnist_cnn.ipynb", as_version=4)
    source = next(cell.source for cell in notebook.cells if "def build_cnn(" in cell.source)
    definition = next(node for node in ast.parse(source).body if getattr(node, "name", "") == "build_cnn")
    namespace = {"keras": keras, "layers": keras.layers}
    exec(compile(ast.Module(body=[definition], type_ignores=[]), "04_mnist_cnn", "exec"), namespace)

    def configs(model):
        return [
            (type(layer).__name__, {k: v for k, v in layer.get_config().items() if k != "dtype"})
            for layer in model.layers
        ]

    for options in ({}, {"batch_norm": False, "dropout": 0.0}):
        assert configs(namespace["build_cnn"](**options)) == configs(zoo.build_mnist_cnn(**options))


# --- issue 16, bug 3: a cache that cannot be written, or read now, costs no trained model --------------


def _quick_train(verbose=True):
    return zoo.build_mnist_cnn()


_quick_train.__name__ = "quick_train"
SHAPES = ((None, 28, 28, 1), (None, 10))


def test_a_directory_in_the_way_returns_the_trained_model_with_a_warning(cache):
    (cache / "mnist_cnn.keras").mkdir(parents=True)
    with pytest.warns(RuntimeWarning, match="mnist_cnn was trained but not cached"):
        model = zoo._cached_or_trained("mnist_cnn", *SHAPES, _quick_train, retrain=False, verbose=False)
    assert isinstance(model, keras.Model)
    assert (cache / "mnist_cnn.keras").is_dir(), "left as it was"


def test_an_unwritable_cache_returns_the_trained_model_with_a_warning(cache):
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("a file where the models directory should be")  # mkdir fails (as root, chmod would not)
    with pytest.warns(RuntimeWarning, match=r"not cached \((FileExistsError|NotADirectoryError)"):
        model = zoo._cached_or_trained("mnist_cnn", *SHAPES, _quick_train, retrain=True, verbose=False)
    assert isinstance(model, keras.Model)


def test_a_transient_read_error_never_deletes_or_replaces_the_cached_model(cache, monkeypatch, capsys):
    path = zoo.cache_model(zoo.build_mnist_cnn(), "mnist_cnn", verbose=False)
    saved = path.read_bytes()

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(keras.saving, "load_model", denied)
    with pytest.warns(RuntimeWarning, match="trained but not cached"):
        model = zoo._cached_or_trained("mnist_cnn", *SHAPES, _quick_train, retrain=False, verbose=True)
    assert isinstance(model, keras.Model)
    assert path.read_bytes() == saved, "the cached model is kept as it was"
    assert "cannot be read now (PermissionError" in capsys.readouterr().out
    for error in (MemoryError(), OSError(5, "Input/output error")):
        assert zoo._transient(error)
    assert not zoo._transient(ValueError("bad shapes")) and not zoo._transient(OSError("unable to open"))


# --- the GPT of notebook 08 and the LSTM of notebook 05 -------------------------------------------------


def test_cached_gpt_round_trip_needs_its_custom_classes_and_keeps_logits(cache):
    from course_utils import gpt

    model = gpt.GPT(vocabulary_size=12, context_length=16, d_model=16, num_layers=1, num_heads=2)
    zoo.cache_model(model, "gpt", verbose=False)
    ids = np.random.default_rng(0).integers(0, 12, (2, 9)).astype(np.int32)
    loaded = zoo.gpt(verbose=False)  # from the cache: no training
    np.testing.assert_array_equal(loaded(ids).numpy(), model(ids).numpy())
    assert isinstance(loaded, gpt.GPT) and loaded.get_config()["context_length"] == 16


def test_cached_char_lstm_round_trip_and_shape_check(cache):
    model = zoo.build_char_model(vocabulary_size=12, embedding_dim=4, units=8)
    zoo.cache_model(model, "char_lstm", verbose=False)
    ids = np.random.default_rng(0).integers(0, 12, (2, 7)).astype(np.int32)
    np.testing.assert_array_equal(zoo.char_lstm(verbose=False)(ids).numpy(), model(ids).numpy())
    # an image model cached under the name of a sequence model is refused and removed
    zoo.cache_model(zoo.build_mnist_cnn(), "char_lstm", verbose=False)
    assert zoo._load_cached("char_lstm", (None, None), (None, None, None), verbose=False) is None
    assert not (cache / "char_lstm.keras").exists()


def test_zoo_char_model_is_the_model_notebook_05_defines():
    """05 marks its build_char_model cell '# package copy: course_utils.zoo' (tests/test_lesson_code.py);
    here the copy must also build the model 05 counts: 4 (u (d + u) + u) LSTM parameters."""
    model = zoo.build_char_model(vocabulary_size=74, embedding_dim=64, units=256)
    assert model.get_layer("lstm").count_params() == 4 * (256 * (64 + 256) + 256)
    assert model.count_params() == 74 * 64 + 4 * (256 * (64 + 256) + 256) + 256 * 74 + 74
    with pytest.raises(ValueError, match=r"cell must be one of \['gru', 'lstm', 'simple_rnn'\]"):
        zoo.build_char_model(74, 64, 256, cell="rnn")


def test_shape_compatibility_rules():
    assert zoo._compatible((None, None, None), (None, None, 74))
    assert zoo._compatible((None, 10), (None, 10)) and not zoo._compatible((None, 10), (None, 3))
    assert not zoo._compatible((None, None), (None, 28, 28, 1))


def test_zoo_gpt_recipe_is_notebook_08s():
    """zoo.train_gpt retrains 08's GPT when the cache lacks it (09 and 10 on their own): same peak rate,
    warm-up and step floor as 08's default run, or a slow machine gets a weaker model than 08's."""
    notebook = nbformat.read(
        Path(__file__).resolve().parents[1] / "notebooks" / "08_gpt_from_scratch.ipynb", as_version=4
    )
    source = next(cell.source for cell in notebook.cells if "MIN_STEPS =" in cell.source)
    recipe = re.search(r"MIN_STEPS = \(1e-3 if FULL_TRAINING else ([0-9.e-]+)\), (\d+), (\d+)", source)
    assert recipe, "08's recipe line changed: update this test"
    assert (float(recipe[1]), int(recipe[2]), int(recipe[3])) == (
        zoo.GPT_TRAINING["peak_learning_rate"],
        zoo.GPT_TRAINING["warmup_steps"],
        zoo.GPT_TRAINING["min_steps"],
    )
