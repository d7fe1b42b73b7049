"""The course's trained models, reused by later lessons: cached on disk, retrained when missing.

Notebooks 09–11 study the models that 04 (the MNIST CNN) and 07 (the MiniLM review classifier)
train. Those notebooks save their trained model into the model cache (``<data cache>/models``,
see :func:`course_utils.data.cache_dir`) with :func:`cache_model`; the later notebooks call
:func:`mnist_cnn` / :func:`review_classifier`, which load the cached file when it is there and
otherwise train the model again with a short recipe, cache it, and say which they did.
Nothing is ever downloaded. Writes are atomic (temporary file, then ``os.replace``), and a cached
file that does not load, or loads with the wrong input or output shape, is removed and rebuilt.
A file that cannot be read *now* (permission denied, out of memory, an I/O error) is left alone,
and a model that was trained but cannot be cached is returned with a warning.
"""

from __future__ import annotations

import errno
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from course_utils import data
from course_utils._checks import positive_int

__all__ = [
    "build_mnist_cnn",
    "cache_model",
    "cached_model_path",
    "mnist_cnn",
    "review_classifier",
    "train_mnist_cnn",
    "train_review_classifier",
]

MODEL_NAMES = ("mnist_cnn", "review_classifier")


def _check_name(name: str) -> str:
    if name not in MODEL_NAMES:
        raise ValueError(f"model name must be one of {MODEL_NAMES}, got {name!r}")
    return name


def cached_model_path(name: str) -> Path:
    """Where the model cache keeps model ``name`` (``mnist_cnn`` or ``review_classifier``).

    Explained in notebooks/09_compression_deployment.ipynb.
    """
    return data.cache_dir() / "models" / f"{_check_name(name)}.keras"


def cache_model(model, name: str, verbose: bool = True) -> Path:
    """Save ``model`` as the cached ``name`` model (atomically) and return the path.

    Notebooks 04 and 07 call this at the end of training so that 09–11 reuse their models.
    Explained in notebooks/09_compression_deployment.ipynb.
    """
    import keras

    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model, got {type(model).__name__}")
    path = cached_model_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{name}-", suffix=".keras", dir=path.parent)
    os.close(handle)
    try:
        model.save(temporary)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a cache is shared like any download
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    if verbose:
        print(f"cached {name} in the model cache ({path.stat().st_size / 1e6:.1f} MB)")
    return path


def _load_cached(name: str, input_shape: tuple, output_shape: tuple, verbose: bool):
    """The cached model, or None when absent or unusable (an unusable file is removed)."""
    import keras

    path = cached_model_path(name)
    if not path.is_file():
        return None
    try:
        model = keras.saving.load_model(path)
        if tuple(model.input_shape) != input_shape or tuple(model.output_shape) != output_shape:
            raise ValueError(
                f"shapes {model.input_shape} -> {model.output_shape}, expected {input_shape} -> {output_shape}"
            )
    except Exception as error:  # a truncated zip, a model of another course version, ...
        if _transient(error):  # the file may be fine: never delete it for this
            if verbose:
                print(f"the cached {name} cannot be read now ({type(error).__name__}: {error}); leaving it in place")
            return None
        if verbose:
            print(f"the cached {name} is unusable ({type(error).__name__}: {error}); removing it and training again")
        path.unlink(missing_ok=True)
        return None
    if verbose:
        print(f"{name}: loaded from the model cache (saved by an earlier notebook)")
    return model


_TRANSIENT_ERRNOS = {errno.EACCES, errno.EPERM, errno.EIO, errno.EAGAIN, errno.EBUSY, errno.EINTR, errno.EMFILE}
_TRANSIENT_ERRNOS |= {errno.ENFILE, errno.ENOMEM, errno.ESTALE, errno.ETIMEDOUT}


def _transient(error: BaseException) -> bool:
    """True for errors that say nothing about the file's content (it may load next time)."""
    return isinstance(error, MemoryError) or (isinstance(error, OSError) and error.errno in _TRANSIENT_ERRNOS)


def _cached_or_trained(name: str, input_shape: tuple, output_shape: tuple, train, retrain: bool, verbose: bool):
    model = None if retrain else _load_cached(name, input_shape, output_shape, verbose)
    if model is None:
        in_the_way = not retrain and os.path.lexists(cached_model_path(name))  # unreadable now, or not a file
        if verbose:
            print(f"{name}: not in the model cache; training it now with {train.__name__}() (once; then cached)")
        model = train(verbose=verbose)
        try:
            if in_the_way:
                raise FileExistsError(
                    errno.EEXIST, "something that could not be loaded is there", str(cached_model_path(name))
                )
            cache_model(model, name, verbose=verbose)
        except OSError as error:
            warnings.warn(
                f"{name} was trained but not cached ({type(error).__name__}: {error}); "
                "using it anyway, and the next call trains it again",
                RuntimeWarning,
                stacklevel=3,
            )
    return model


# --------------------------------------------------------------------------- MNIST CNN (notebook 04)


def build_mnist_cnn(batch_norm: bool = True, dropout: float = 0.3, name: str = "mnist_cnn"):
    """The CNN of notebook 04: raw uint8 (28, 28, 1) pixels in, 10 class probabilities out.

    Two blocks of Conv 3×3 → MaxPool → BatchNorm → ReLU (32 then 64 filters), Dense 128 with
    BatchNorm, dropout, softmax: 225,706 parameters with the defaults.
    Explained in notebooks/04_mnist_cnn.ipynb.
    """
    import keras
    from keras import layers

    if not isinstance(batch_norm, bool):
        raise ValueError(f"batch_norm must be True or False, got {batch_norm!r}")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    inputs = keras.Input(shape=(28, 28, 1), dtype="uint8", name="pixels")
    x = layers.Rescaling(1 / 255, name="rescale")(inputs)
    for index, filters in enumerate((32, 64), start=1):
        x = layers.Conv2D(filters, 3, use_bias=not batch_norm, name=f"conv{index}")(x)
        x = layers.MaxPooling2D(name=f"pool{index}")(x)
        if batch_norm:
            x = layers.BatchNormalization(momentum=0.9, name=f"bn{index}")(x)
        x = layers.Activation("relu", name=f"relu{index}")(x)
    x = layers.Flatten(name="flatten")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout1")(x)
    x = layers.Dense(128, use_bias=not batch_norm, name="hidden")(x)
    if batch_norm:
        x = layers.BatchNormalization(momentum=0.9, name="bn3")(x)
    x = layers.Activation("relu", name="relu3")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout2")(x)
    outputs = layers.Dense(10, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name=name)


def train_mnist_cnn(epochs: int = 3, batch_size: int = 128, seed: int = 42, verbose: bool = True):
    """Train :func:`build_mnist_cnn` on the 55,000 training images with notebook 04's recipe
    (AdamW, one-cycle learning rate peaking at 3e-3), for ``epochs`` epochs; about 99.2 % test
    accuracy after 3 epochs. Returns the model. Explained in notebooks/04_mnist_cnn.ipynb.
    """
    import keras

    from course_utils import training
    from course_utils.repro import set_seed

    positive_int("epochs", epochs)
    positive_int("batch_size", batch_size)
    set_seed(seed)
    (x_train, y_train), _ = data.load_mnist(verbose=verbose)
    x_train, y_train = x_train[:-5000, ..., None], y_train[:-5000].astype(np.int64)  # 04's split
    dataset, steps_per_epoch = training.make_dataset(x_train, y_train, batch_size, shuffle=True, seed=seed)
    total_steps = epochs * steps_per_epoch
    warmup_steps = max(1, int(0.1 * total_steps))
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=3e-4,
        decay_steps=total_steps - warmup_steps,
        alpha=0.01,
        warmup_target=3e-3,
        warmup_steps=warmup_steps,
    )
    model = build_mnist_cnn()
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=schedule, weight_decay=1e-4),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    started = time.perf_counter()
    model.fit(dataset, steps_per_epoch=steps_per_epoch, epochs=epochs, verbose=2 if verbose else 0)
    if verbose:
        print(f"trained the MNIST CNN for {epochs} epochs in {time.perf_counter() - started:.0f} s")
    return model


def mnist_cnn(retrain: bool = False, verbose: bool = True):
    """The trained MNIST CNN of notebook 04: from the model cache, else trained now and cached.

    Explained in notebooks/09_compression_deployment.ipynb.
    """
    return _cached_or_trained("mnist_cnn", (None, 28, 28, 1), (None, 10), train_mnist_cnn, retrain, verbose)


# ------------------------------------------------------------ MiniLM review classifier (notebook 07)

MINILM_SEQUENCE_LENGTH = 64


def train_review_classifier(train_top_layers: int = 1, epochs: int = 1, seed: int = 42, verbose: bool = True):
    """A shorter version of notebook 07's MiniLM classifier, for when 07 has not cached its own.

    MiniLM's weights are loaded from the registry package (offline); the lower blocks stay frozen
    and their outputs over the training reviews are computed once; the top ``train_top_layers``
    blocks and a mean-pooling + sigmoid head are trained on them for ``epochs`` epochs. Returns
    the end-to-end model (a ``tf.string`` review in, the probability of *fresh* out), built as in
    07. About 0.78 test accuracy with the defaults, in about two CPU minutes (07's own recipe
    reaches about 0.83). Explained in notebooks/07_bert_classifier.ipynb.
    """
    import keras
    import keras_hub
    from keras import layers

    from course_utils import bert, convert
    from course_utils.repro import set_seed

    positive_int("train_top_layers", train_top_layers)
    positive_int("epochs", epochs)
    set_seed(seed)
    paths = data.minilm_files(verbose=verbose)
    sizes = convert.bert_sizes_from_config(paths["config.json"])
    if train_top_layers > sizes["num_layers"]:
        raise ValueError(f"train_top_layers must be at most {sizes['num_layers']}, got {train_top_layers}")
    encoder = bert.build_bert_encoder(**sizes, dropout=0.0, name="minilm")
    convert.load_bert_weights(encoder, convert.read_safetensors(paths["model.safetensors"]))
    tokenizer = keras_hub.tokenizers.BertTokenizer(vocabulary=str(paths["vocab.txt"]), lowercase=True)

    reviews = data.load_movie_reviews(verbose=verbose)
    texts, labels = np.asarray(reviews["texts"], dtype=object), np.asarray(reviews["labels"], dtype=np.int32)
    train_index = bert.split_by_movie(reviews["movies"])["train"]
    ids, mask = bert.pack_token_ids(
        tokenizer.tokenize(list(texts[train_index])), MINILM_SEQUENCE_LENGTH, cls_id=101, sep_id=102
    )
    lengths = mask.sum(axis=1)
    frozen = sizes["num_layers"] - train_top_layers
    lower = keras.Model(encoder.input, encoder.get_layer(f"transformer_layer_{frozen - 1}").output)

    started = time.perf_counter()
    order = np.argsort(lengths, kind="stable")
    batches = []
    for start in range(0, len(order), 32):
        batch = order[start : start + 32]
        width = int(lengths[batch].max())
        inputs = {"token_ids": ids[batch, :width], "segment_ids": np.zeros_like(ids[batch, :width])}
        inputs["padding_mask"] = mask[batch, :width]
        batches.append((lower(inputs, training=False).numpy(), mask[batch, :width], labels[train_index][batch]))

    hidden_input = keras.Input(shape=(None, sizes["hidden_dim"]), name="hidden")
    mask_input = keras.Input(shape=(None,), dtype="int32", name="padding_mask")
    x = hidden_input
    for number in range(frozen, sizes["num_layers"]):
        x = encoder.get_layer(f"transformer_layer_{number}")(x, padding_mask=mask_input)
    mean_pooling = layers.GlobalAveragePooling1D(name="mean_pooling")
    head_dropout = layers.Dropout(0.1, name="head_dropout")
    head = layers.Dense(1, activation="sigmoid", name="sentiment")
    upper = keras.Model(
        [hidden_input, mask_input], head(head_dropout(mean_pooling(x, mask=keras.ops.cast(mask_input, "bool"))))
    )
    steps = len(batches)
    upper.compile(
        optimizer=keras.optimizers.AdamW(
            keras.optimizers.schedules.PolynomialDecay(2e-4, epochs * steps, 0.0), weight_decay=0.01
        ),
        loss="binary_crossentropy",
    )
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        for number in rng.permutation(steps):
            hidden, batch_mask, batch_labels = batches[number]
            upper.train_on_batch([hidden, batch_mask], batch_labels[:, None].astype(np.float32))

    review_input = keras.Input(shape=(), dtype="string", name="review")
    packer = keras_hub.layers.StartEndPacker(
        sequence_length=MINILM_SEQUENCE_LENGTH, start_value=101, end_value=102, pad_value=0, return_padding_mask=True
    )
    packed_ids, packed_mask = packer(tokenizer(review_input))
    encoded = encoder(
        {
            "token_ids": packed_ids,
            "segment_ids": keras.ops.zeros_like(packed_ids),
            "padding_mask": keras.ops.cast(packed_mask, "int32"),
        }
    )["sequence_output"]
    probability = head(head_dropout(mean_pooling(encoded, mask=packed_mask)))
    if verbose:
        print(
            f"trained MiniLM's top {train_top_layers} block(s) + head on {len(train_index)} reviews "
            f"in {time.perf_counter() - started:.0f} s"
        )
    return keras.Model(review_input, probability, name="review_classifier")


def review_classifier(retrain: bool = False, verbose: bool = True):
    """The fine-tuned MiniLM review classifier of notebook 07 (``tf.string`` in, probability out):
    from the model cache, else trained now with :func:`train_review_classifier` and cached.

    Explained in notebooks/10_explainability.ipynb.
    """
    return _cached_or_trained("review_classifier", (None,), (None, 1), train_review_classifier, retrain, verbose)
