"""The course's trained models, reused by later lessons: cached on disk, retrained when missing.

Later notebooks study the models that 04 (the MNIST CNN), 05 (the character LSTM), 07 (the
MiniLM review classifier) and 08 (the character GPT) train. Those notebooks save their trained
model into the model cache (``<data cache>/models``, see :func:`course_utils.data.cache_dir`)
with :func:`cache_model`; the later notebooks call :func:`mnist_cnn`, :func:`char_lstm`,
:func:`review_classifier` or :func:`gpt`, which load the cached file when it is there and
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

import keras
import numpy as np
from keras import layers

from course_utils import data
from course_utils._checks import positive_int

__all__ = [
    "build_char_model",
    "build_mnist_cnn",
    "cache_model",
    "cached_model_path",
    "char_lstm",
    "gpt",
    "mnist_cnn",
    "review_classifier",
    "train_char_lstm",
    "train_gpt",
    "train_mnist_cnn",
    "train_review_classifier",
]

MODEL_NAMES = ("mnist_cnn", "char_lstm", "review_classifier", "gpt")


def _check_name(name: str) -> str:
    if name not in MODEL_NAMES:
        raise ValueError(f"model name must be one of {MODEL_NAMES}, got {name!r}")
    return name


def cached_model_path(name: str) -> Path:
    """Where the model cache keeps model ``name`` (one of ``MODEL_NAMES``).

    Explained in notebooks/09_compression_deployment.ipynb.
    """
    return data.cache_dir() / "models" / f"{_check_name(name)}.keras"


def cache_model(model, name: str, verbose: bool = True) -> Path:
    """Save ``model`` as the cached ``name`` model (atomically) and return the path.

    Notebooks 04, 05, 07 and 08 call this at the end of training so that later lessons reuse their models.
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


def _load_cached(name: str, input_shape: tuple, output_shape: tuple, verbose: bool, custom_objects=None):
    """The cached model, or None when absent or unusable (an unusable file is removed)."""
    import keras

    path = cached_model_path(name)
    if not path.is_file():
        return None
    try:
        model = keras.saving.load_model(path, custom_objects=custom_objects)
        shapes = _shapes(model)
        if not (_compatible(input_shape, shapes[0]) and _compatible(output_shape, shapes[1])):
            raise ValueError(f"shapes {shapes[0]} -> {shapes[1]}, expected {input_shape} -> {output_shape}")
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


def _shapes(model) -> tuple[tuple, tuple]:
    """(input shape, output shape). A functional model knows them; a subclassed one (the GPT) is
    probed with one short sequence of ids, its batch and time axes reported as None."""
    if hasattr(model, "input_shape"):
        return tuple(model.input_shape), tuple(model.output_shape)
    output = model(np.zeros((1, 2), np.int32))
    return (None, None), (None, None, *output.shape[2:])


def _compatible(expected: tuple, actual: tuple) -> bool:
    """Same rank, and every axis that ``expected`` fixes (not None) has that size."""
    return len(expected) == len(actual) and all(e is None or e == a for e, a in zip(expected, actual, strict=True))


_TRANSIENT_ERRNOS = {errno.EACCES, errno.EPERM, errno.EIO, errno.EAGAIN, errno.EBUSY, errno.EINTR, errno.EMFILE}
_TRANSIENT_ERRNOS |= {errno.ENFILE, errno.ENOMEM, errno.ESTALE, errno.ETIMEDOUT}


def _transient(error: BaseException) -> bool:
    """True for errors that say nothing about the file's content (it may load next time)."""
    return isinstance(error, MemoryError) or (isinstance(error, OSError) and error.errno in _TRANSIENT_ERRNOS)


def _cached_or_trained(
    name: str, input_shape: tuple, output_shape: tuple, train, retrain: bool, verbose: bool, custom_objects=None
):
    model = None if retrain else _load_cached(name, input_shape, output_shape, verbose, custom_objects)
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
    """The CNN of notebook 04: raw uint8 (28, 28, 1) pixels in, 10 class logits out (train it with
    ``from_logits=True``; :func:`with_softmax` gives the probability model the later lessons load).

    Two blocks of Conv 3×3 → MaxPool → BatchNorm → ReLU (32 then 64 filters), Dense 128 with
    BatchNorm, dropout, a linear classifier: 225,706 parameters with the defaults.
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
    logits = layers.Dense(10, name="classifier")(x)
    return keras.Model(inputs, logits, name=name)


def with_softmax(model):
    """The same network and weights with the softmax folded into its ``classifier`` layer: the
    probability model that notebooks 09-11 load as ``zoo.mnist_cnn()`` (same layer names).

    Notebook 04 trains the logits model of :func:`build_mnist_cnn`; its cache holds this copy.
    Explained in notebooks/04_mnist_cnn.ipynb.
    """
    import keras

    if not isinstance(model, keras.Model) or "classifier" not in [layer.name for layer in model.layers]:
        raise ValueError(f"model must be a keras.Model with a layer named 'classifier', got {model!r}")
    config = model.get_config()
    for layer in config["layers"]:
        if layer["config"]["name"] == "classifier":
            layer["config"]["activation"] = "softmax"
    probabilities = keras.Model.from_config(config)
    probabilities.set_weights(model.get_weights())
    return probabilities


def train_mnist_cnn(epochs: int = 3, batch_size: int = 128, seed: int = 42, verbose: bool = True):
    """Train :func:`build_mnist_cnn` on the 55,000 training images with notebook 04's recipe
    (AdamW, one-cycle learning rate peaking at 3e-3, cross-entropy from logits), for ``epochs``
    epochs; about 99.2 % test accuracy after 3 epochs. Returns the probability model
    (:func:`with_softmax`), as notebooks 09-11 expect. Explained in notebooks/04_mnist_cnn.ipynb.
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
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    started = time.perf_counter()
    model.fit(dataset, steps_per_epoch=steps_per_epoch, epochs=epochs, verbose=2 if verbose else 0)
    if verbose:
        print(f"trained the MNIST CNN for {epochs} epochs in {time.perf_counter() - started:.0f} s")
    return with_softmax(model)


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

    from course_utils import bert, convert, tokenization
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
    vocabulary = bert.load_vocabulary(paths["vocab.txt"])
    # MiniLM's own tokenizer (BERT's basic tokenizer + WordPiece), as in notebook 07
    normalizer = tokenization.BertTextNormalizer(name="bert_text_normalizer")
    tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=vocabulary, lowercase=False, strip_accents=True, oov_token="[UNK]", name="minilm_wordpiece"
    )

    reviews = data.load_movie_reviews(verbose=verbose)
    texts, labels = np.asarray(reviews["texts"], dtype=object), np.asarray(reviews["labels"], dtype=np.int32)
    train_index = bert.split_by_movie(reviews["movies"])["train"]
    ids, mask = bert.pack_token_ids(
        tokenization.wordpiece_encode(list(texts[train_index]), vocabulary),
        MINILM_SEQUENCE_LENGTH,
        cls_id=101,
        sep_id=102,
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
        sequence_length=MINILM_SEQUENCE_LENGTH, start_value=101, end_value=102, pad_value=0
    )
    packed_ids = packer(tokenizer(normalizer(review_input)))
    # the mask from the ids ([PAD] is id 0, no real piece is): keras-hub before 0.29 cannot return the
    # packer's (ids, mask) pair inside a functional model
    packed_mask = keras.ops.not_equal(packed_ids, 0)
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
    from course_utils import tokenization  # noqa: F401 (registers the text normaliser layer the saved model uses)

    return _cached_or_trained("review_classifier", (None,), (None, 1), train_review_classifier, retrain, verbose)


# ------------------------------------------------------------ character LSTM (notebook 05)


def _shakespeare_ids(verbose: bool):
    """05's split and vocabulary: (train_ids, vocabulary_size), the ids of a ``StringLookup`` ([UNK] = 0)."""
    from course_utils import text

    train_ids, _, vocabulary_size = text.encoded_split(data.load_shakespeare(verbose=verbose))
    return train_ids, vocabulary_size


def build_char_model(vocabulary_size, embedding_dim, units, cell="lstm", name="char_lstm"):
    recurrent_layers = {"lstm": layers.LSTM, "gru": layers.GRU, "simple_rnn": layers.SimpleRNN}
    if cell not in recurrent_layers:
        raise ValueError(f"cell must be one of {sorted(recurrent_layers)}, got {cell!r}")
    inputs = keras.Input(shape=(None,), dtype="int32", name="char_ids")
    embedded = layers.Embedding(vocabulary_size, embedding_dim, name="embedding")(inputs)
    hidden = recurrent_layers[cell](units, return_sequences=True, name=cell)(embedded)
    logits = layers.Dense(vocabulary_size, name="logits")(hidden)
    model = keras.Model(inputs, logits, name=name)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=6e-3, clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def train_char_lstm(seconds: float | None = None, seed: int = 42, verbose: bool = True):
    """05's character LSTM trained with 05's recipe (Embedding 64 → LSTM 256 → Dense, Adam 6e-3,
    windows of 100, batches of 64) for ``seconds`` (default ``text.training_seconds()``).
    Explained in notebooks/05_lstm_text_generator.ipynb."""
    import tensorflow as tf

    from course_utils import text
    from course_utils.repro import set_seed

    set_seed(seed)
    seconds = text.training_seconds() if seconds is None else seconds
    train_ids, vocabulary_size = _shakespeare_ids(verbose)
    windows = tf.data.Dataset.from_tensor_slices(train_ids).batch(101, drop_remainder=True)
    dataset = windows.map(lambda w: (w[:-1], w[1:])).shuffle(20_000, seed=seed).batch(64, drop_remainder=True)
    model = build_char_model(vocabulary_size, 64, 256)
    budget = text.time_budget_callback(seconds, min_batches=400)
    model.fit(
        dataset.repeat().prefetch(tf.data.AUTOTUNE), epochs=10_000, steps_per_epoch=100, callbacks=[budget], verbose=0
    )
    if verbose:
        print(f"trained the character LSTM for {budget.elapsed:.0f} s ({budget.batches} batches)")
    return model


def char_lstm(retrain: bool = False, verbose: bool = True):
    """The trained character LSTM of notebook 05 (ids in, next-character logits out): from the
    model cache, else trained now with :func:`train_char_lstm` and cached.
    Explained in notebooks/08_gpt_from_scratch.ipynb."""
    return _cached_or_trained("char_lstm", (None, None), (None, None, None), train_char_lstm, retrain, verbose)


# ------------------------------------------------------------ character GPT (notebook 08)

# The default-size GPT of notebook 08 (the one the later lessons are written for).
GPT_SIZES = {"context_length": 128, "d_model": 96, "num_layers": 3, "num_heads": 4}
GPT_TRAINING = {"batch_size": 32, "peak_learning_rate": 4e-3, "warmup_steps": 100, "min_steps": 800}


def train_gpt(seconds: float | None = None, seed: int = 42, verbose: bool = True):
    """Notebook 08's GPT (``GPT_SIZES``) trained with 08's recipe (``GPT_TRAINING``: random windows,
    AdamW with warm-up and cosine decay over the time budget, global-norm clipping) for ``seconds``
    (default ``text.training_seconds()``). Explained in notebooks/08_gpt_from_scratch.ipynb."""
    import tensorflow as tf

    from course_utils import gpt as gpt_module
    from course_utils import text
    from course_utils.repro import set_seed

    set_seed(seed)
    seconds = text.training_seconds() if seconds is None else seconds
    train_ids, vocabulary_size = _shakespeare_ids(verbose)
    context, batch = GPT_SIZES["context_length"], GPT_TRAINING["batch_size"]
    train_tensor = tf.constant(train_ids, dtype=tf.int32)

    def random_windows(step):
        offsets = tf.random.stateless_uniform(
            (batch,), seed=tf.stack([step, seed]), maxval=len(train_ids) - context - 1, dtype=tf.int64
        )
        windows = tf.gather(train_tensor, offsets[:, None] + tf.range(context + 1, dtype=tf.int64))
        return windows[:, :-1], windows[:, 1:]

    dataset = tf.data.Dataset.range(10**9).map(random_windows).prefetch(tf.data.AUTOTUNE)
    model = gpt_module.GPT(vocabulary_size, **GPT_SIZES)
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=1e-3, weight_decay=0.1, beta_2=0.99, global_clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta", "position_embeddings"])
    schedule = gpt_module.WarmupCosineBudget(
        GPT_TRAINING["peak_learning_rate"], seconds, GPT_TRAINING["warmup_steps"], min_steps=GPT_TRAINING["min_steps"]
    )
    model.fit(dataset, epochs=10_000, steps_per_epoch=100, callbacks=[schedule], verbose=0)
    if verbose:
        print(f"trained the GPT for {schedule.elapsed:.0f} s ({schedule.steps} steps)")
    return model


def gpt(retrain: bool = False, verbose: bool = True):
    """The trained character GPT of notebook 08 (ids in, next-character logits out): from the model
    cache, else trained now with :func:`train_gpt` and cached. Explained in notebooks/08_gpt_from_scratch.ipynb."""
    from course_utils import gpt as gpt_module

    return _cached_or_trained(
        "gpt", (None, None), (None, None, None), train_gpt, retrain, verbose, gpt_module.custom_objects()
    )
