"""Making models small: affine quantisation, TensorFlow Lite conversion, magnitude pruning, distillation.

Explained in notebooks/09_compression_deployment.ipynb. The pieces:

- :func:`affine_params`, :func:`quantize`, :func:`dequantize`: the affine (asymmetric) integer code
  ``q = round(x / scale) + zero_point`` that TensorFlow Lite stores for every int8 tensor, and its
  inverse ``x ≈ scale * (q - zero_point)``;
- :func:`to_tflite` converts a Keras model to a ``.tflite`` flatbuffer (float, dynamic-range or full
  int8), :func:`tflite_predict` runs one over a batch of inputs with ``tf.lite.Interpreter``;
- :func:`magnitude_mask` / :func:`magnitude_masks`, :func:`apply_masks`, :class:`KeepMasks` and
  :func:`kernel_sparsity` prune by hand: zero the smallest-magnitude weights and keep them zero;
- :func:`distillation_loss`: Hinton et al.'s knowledge-distillation loss; :func:`two_class_logits`
  and :func:`review_distillation_loss` apply it to a one-logit (sigmoid) classifier and to
  unlabelled text;
- :func:`token_ids_model` and :func:`parameter_breakdown`: the MiniLM review classifier with its
  tokenizer outside the graph (for TensorFlow Lite), and where its parameters sit.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import warnings

import numpy as np

from course_utils._checks import (
    finite_array,
    finite_number,
    fraction,
    integer_array,
    positive_int,
    positive_number,
    unit_interval,
)

try:  # keras is needed only for KeepMasks; importing this module must not require it
    import keras

    _CallbackBase = keras.callbacks.Callback
except ImportError:  # pragma: no cover - the course always has keras
    _CallbackBase = object

__all__ = [
    "KeepMasks",
    "affine_params",
    "apply_masks",
    "dequantize",
    "distillation_loss",
    "kernel_sparsity",
    "magnitude_mask",
    "magnitude_masks",
    "parameter_breakdown",
    "quantize",
    "review_distillation_loss",
    "review_student_inputs",
    "round_half_away",
    "tflite_interpreter",
    "tflite_predict",
    "to_tflite",
    "token_ids_model",
    "train_review_student",
    "two_class_logits",
]

_INTEGER_RANGES = {"int8": (-128, 127), "uint8": (0, 255)}
# tf.lite.Interpreter warns on creation that it is deprecated in favour of LiteRT (ai_edge_litert).
INTERPRETER_WARNING = r"(?s).*tf\.lite\.Interpreter is deprecated"


def _integer_range(dtype: str) -> tuple[int, int]:
    if dtype not in _INTEGER_RANGES:
        raise ValueError(f"dtype must be one of {tuple(_INTEGER_RANGES)}, got {dtype!r}")
    return _INTEGER_RANGES[dtype]


def _check_scale(scale) -> np.ndarray:
    scale = finite_array("scale", scale)
    if np.any(scale <= 0):
        raise ValueError(f"scale must be positive and finite, got {scale!r}")
    return scale


def _check_affine_range(minimum, maximum, dtype):
    """``(q_min, q_max, minimum, maximum)``: the integer range of ``dtype`` and a finite float range."""
    q_min, q_max = _integer_range(dtype)
    minimum, maximum = finite_number("minimum", minimum), finite_number("maximum", maximum)
    if minimum >= maximum:
        raise ValueError(f"need finite minimum < maximum, got minimum={minimum!r}, maximum={maximum!r}")
    return q_min, q_max, minimum, maximum


def _check_quantize_arguments(values, scale, zero_point, dtype):
    """``(values, scale, zero_point, (q_min, q_max))`` as arrays, each checked."""
    q_min, q_max = _integer_range(dtype)
    scale = _check_scale(scale)
    zero_point = np.asarray(zero_point)
    if not np.issubdtype(zero_point.dtype, np.integer) or np.any((zero_point < q_min) | (zero_point > q_max)):
        raise ValueError(f"zero_point must be integers in [{q_min}, {q_max}] for {dtype}, got {zero_point!r}")
    values = finite_array("values", values, allow_empty=True)  # NaN would silently become a code
    return values, scale, zero_point, (q_min, q_max)


def _check_dequantize_arguments(codes, scale, zero_point):
    """``(codes, scale, zero_point)`` as arrays: integer codes, positive scales, integer zero points."""
    codes = np.asarray(codes)
    if not np.issubdtype(codes.dtype, np.integer):
        raise ValueError(f"codes must be an integer array, got dtype {codes.dtype}")
    return codes, _check_scale(scale), integer_array("zero_point", zero_point)


def round_half_away(values):
    """Round to the nearest integer, halves away from zero (C's ``round``, as TensorFlow Lite does;
    ``np.round`` sends halves to the even neighbour instead). Explained in
    notebooks/09_compression_deployment.ipynb."""
    values = np.asarray(values, dtype=np.float64)
    return np.sign(values) * np.floor(np.abs(values) + 0.5)


def affine_params(minimum, maximum, dtype="int8"):
    """The ``(scale, zero_point)`` that map the float range ``[minimum, maximum]`` onto ``dtype``.

    ``scale = (maximum - minimum) / (q_max - q_min)`` (255 steps for 8 bits) and
    ``zero_point = q_min + round(-minimum / scale)``, clipped to ``[q_min, q_max]``: the integer that
    encodes the float 0 *exactly* (zero padding and ReLU zeros must stay exact). The range is first
    widened to contain 0, as TensorFlow Lite and ``tf.quantization.fake_quant_with_min_max_args`` do.
    Explained in notebooks/09_compression_deployment.ipynb.
    """
    q_min, q_max, minimum, maximum = _check_affine_range(minimum, maximum, dtype)
    minimum, maximum = min(minimum, 0.0), max(maximum, 0.0)  # the range must contain 0
    scale = (maximum - minimum) / (q_max - q_min)
    zero_point = int(np.clip(q_min + round_half_away(-minimum / scale), q_min, q_max))
    return scale, zero_point


def quantize(values, scale, zero_point, dtype="int8"):
    """``q = clip(round(x / scale) + zero_point, q_min, q_max)`` as an integer array of ``dtype``.

    ``scale`` and ``zero_point`` may be arrays that broadcast against ``values`` (per-channel
    quantisation: one scale per output channel). Halves round away from zero.
    Explained in notebooks/09_compression_deployment.ipynb.
    """
    values, scale, zero_point, (q_min, q_max) = _check_quantize_arguments(values, scale, zero_point, dtype)
    codes = round_half_away(values / scale) + zero_point
    return np.clip(codes, q_min, q_max).astype(dtype)


def dequantize(codes, scale, zero_point):
    """``x ≈ scale * (q - zero_point)`` as float32: the float an integer code stands for.

    Explained in notebooks/09_compression_deployment.ipynb.
    """
    codes, scale, zero_point = _check_dequantize_arguments(codes, scale, zero_point)
    return (scale * (codes.astype(np.float64) - zero_point)).astype(np.float32)


# ----------------------------------------------------------------------------- TensorFlow Lite

TFLITE_MODES = ("float", "dynamic", "int8")


def to_tflite(model, mode: str = "float", representative_images=None, calibration_batch: int = 1) -> bytes:
    """Convert a Keras model to a TensorFlow Lite flatbuffer and return its bytes.

    - ``"float"``: float32 weights and arithmetic, as in Keras;
    - ``"dynamic"`` (dynamic-range quantisation): weights stored as int8 with one scale per output
      channel, activations stay float (weights are dequantised, or activations quantised on the fly);
    - ``"int8"`` (full-integer quantisation): weights *and* activations int8, every operation
      integer-only. The activation ranges come from running the float model on
      ``representative_images`` (a few hundred real inputs, in the dtype and scale the model
      takes), ``calibration_batch`` at a time.

    Inputs and outputs keep the model's own types (here: raw ``uint8`` pixels in, float32
    probabilities out); the converter adds the quantise/dequantise steps at the edges.
    The converter's progress notes (Python and C++) are hidden. Explained in notebooks/09_compression_deployment.ipynb.
    """
    import keras
    import tensorflow as tf

    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model, got {type(model).__name__}")
    if mode not in TFLITE_MODES:
        raise ValueError(f"mode must be one of {TFLITE_MODES}, got {mode!r}")
    if (
        isinstance(calibration_batch, bool)
        or not isinstance(calibration_batch, (int, np.integer))
        or calibration_batch < 1
    ):
        raise ValueError(f"calibration_batch must be a positive integer, got {calibration_batch!r}")
    if mode == "int8":
        if representative_images is None or len(representative_images) == 0:
            raise ValueError("mode 'int8' needs representative_images: real inputs to calibrate activation ranges")
        representative_images = np.asarray(representative_images)
        expected = tuple(model.input_shape[1:])
        if representative_images.shape[1:] != expected:
            raise ValueError(
                f"representative_images must have shape (N, *{expected}), got {representative_images.shape}"
            )
        input_dtype = np.dtype(model.inputs[0].dtype)
        if representative_images.dtype != input_dtype:
            raise ValueError(
                f"representative_images must have the model's input dtype {input_dtype} (same values and scale "
                f"as real inputs), got {representative_images.dtype}"
            )
    elif representative_images is not None:
        raise ValueError(f"representative_images are only used by mode 'int8', not {mode!r}")

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if mode != "float":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "int8":

        def representative_dataset():
            for start in range(0, len(representative_images), calibration_batch):
                yield [representative_images[start : start + calibration_batch]]

        converter.representative_dataset = representative_dataset
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    with _quiet():
        return converter.convert()


@contextlib.contextmanager
def _quiet():
    """Silence the converter's notes: Python prints and warnings, TensorFlow's logger ("Assets written
    to ..."), and its C++ messages ("fully_quantize: 0, ..."), which bypass Python and go straight
    to file descriptors 1 and 2. Exceptions still propagate."""
    import tensorflow as tf

    logger = tf.get_logger()
    level = logger.level
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            os.dup2(devnull.fileno(), 2)
            logger.setLevel("ERROR")
            with (
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()),
                warnings.catch_warnings(),
            ):
                warnings.simplefilter("ignore")  # "Statistics for quantized inputs were expected, ..."
                yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for descriptor in saved:
            os.close(descriptor)
        logger.setLevel(level)


def tflite_interpreter(model_bytes: bytes, preserve_all_tensors: bool = False):
    """A ``tf.lite.Interpreter`` for a flatbuffer, without its LiteRT deprecation warning.

    ``preserve_all_tensors=True`` keeps every intermediate tensor readable after ``invoke()``
    (more memory; for inspection; its "debugging only" warning is silenced too). Explained in notebooks/09_compression_deployment.ipynb.
    """
    import tensorflow as tf

    if not isinstance(model_bytes, (bytes, bytearray)) or len(model_bytes) == 0:
        raise ValueError(
            f"model_bytes must be the non-empty bytes of a .tflite model, got {type(model_bytes).__name__}"
        )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=INTERPRETER_WARNING, category=UserWarning)
        warnings.filterwarnings("ignore", message=r"(?s).*experimental_preserve_all_tensors", category=UserWarning)
        return tf.lite.Interpreter(
            model_content=bytes(model_bytes), experimental_preserve_all_tensors=preserve_all_tensors
        )


def tflite_predict(model_bytes: bytes, inputs, batch_size: int = 1000) -> np.ndarray:
    """Run a single-input, single-output ``.tflite`` model over ``inputs``, ``batch_size`` at a time.

    The interpreter's batch dimension is resized to each chunk. If the model's input is a quantised
    integer tensor and ``inputs`` are floats, they are quantised with the stored scale and zero point;
    a quantised integer output is dequantised. Returns float32 outputs (N, ...).
    Explained in notebooks/09_compression_deployment.ipynb.
    """
    positive_int("batch_size", batch_size)
    inputs = np.asarray(inputs)
    if inputs.ndim < 1 or len(inputs) == 0:
        raise ValueError(f"inputs must be an array of shape (N, ...) with N > 0, got shape {inputs.shape}")
    interpreter = tflite_interpreter(model_bytes)
    input_details, output_details = interpreter.get_input_details(), interpreter.get_output_details()
    if len(input_details) != 1 or len(output_details) != 1:
        raise ValueError("tflite_predict handles models with one input and one output")
    input_detail, output_detail = input_details[0], output_details[0]
    expected = tuple(int(n) for n in input_detail["shape_signature"][1:])
    if inputs.shape[1:] != expected:
        raise ValueError(f"inputs must have shape (N, *{expected}), got {inputs.shape}")
    input_dtype = np.dtype(input_detail["dtype"])
    input_scale, input_zero_point = input_detail["quantization"]
    if input_scale and not np.issubdtype(inputs.dtype, np.integer):
        inputs = quantize(inputs, input_scale, np.int64(input_zero_point), dtype=input_dtype.name)
    inputs = inputs.astype(input_dtype)
    output_scale, output_zero_point = output_detail["quantization"]

    outputs, current = [], None
    for start in range(0, len(inputs), batch_size):
        chunk = inputs[start : start + batch_size]
        if len(chunk) != current:
            interpreter.resize_tensor_input(input_detail["index"], [len(chunk), *expected])
            interpreter.allocate_tensors()
            current = len(chunk)
        interpreter.set_tensor(input_detail["index"], chunk)
        interpreter.invoke()
        result = interpreter.get_tensor(output_detail["index"])
        if output_scale:
            result = dequantize(result, output_scale, output_zero_point)
        outputs.append(np.asarray(result, dtype=np.float32))
    return np.concatenate(outputs)


# ------------------------------------------------------------------------------------ pruning


def _check_pruning_arguments(weights, sparsity):
    """``(weights, sparsity)``: finite weights (NaN has no magnitude rank) and a sparsity in [0, 1)."""
    weights = finite_array("weights", weights)
    return weights, fraction("sparsity", sparsity, " (the fraction of weights set to zero)")


def magnitude_mask(weights, sparsity):
    """A 0/1 float32 mask of ``weights``' shape that zeroes the ``round(sparsity * size)``
    weights of smallest absolute value and keeps the others (ties: the earlier index is pruned first).

    Explained in notebooks/09_compression_deployment.ipynb.
    """
    weights, sparsity = _check_pruning_arguments(weights, sparsity)
    smallest = np.argsort(np.abs(weights), axis=None, kind="stable")[: round(sparsity * weights.size)]
    mask = np.ones(weights.size, dtype=np.float32)
    mask[smallest] = 0.0
    return mask.reshape(weights.shape)


def magnitude_masks(weights: dict, sparsity: float, scope: str = "layer") -> dict:
    """Masks for several named weight arrays (``{name: array}`` → ``{name: mask}``).

    ``scope="layer"`` prunes each array to ``sparsity`` on its own; ``scope="global"`` ranks all
    weights together by magnitude with one threshold, so layers end up with different sparsities.
    Explained in notebooks/09_compression_deployment.ipynb.
    """
    if not isinstance(weights, dict) or not weights:
        raise ValueError("weights must be a non-empty dict {name: array}")
    if scope == "layer":
        return {name: magnitude_mask(array, sparsity) for name, array in weights.items()}
    if scope != "global":
        raise ValueError(f"scope must be 'layer' or 'global', got {scope!r}")
    arrays = {name: np.asarray(array) for name, array in weights.items()}
    flat_mask = magnitude_mask(np.concatenate([array.ravel() for array in arrays.values()]), sparsity)
    masks, start = {}, 0
    for name, array in arrays.items():
        masks[name] = flat_mask[start : start + array.size].reshape(array.shape)
        start += array.size
    return masks


def _kernel(model, layer_name: str):
    try:
        layer = model.get_layer(layer_name)
    except ValueError as error:
        raise ValueError(f"the model has no layer named {layer_name!r}") from error
    if not hasattr(layer, "kernel"):
        raise ValueError(f"layer {layer_name!r} has no kernel to prune")
    return layer.kernel


def apply_masks(model, masks: dict) -> None:
    """Multiply the kernel of each layer named in ``masks`` by its mask (in place).

    Explained in notebooks/09_compression_deployment.ipynb.
    """
    if not isinstance(masks, dict) or not masks:
        raise ValueError("masks must be a non-empty dict {layer name: mask}")
    for layer_name, mask in masks.items():
        kernel = _kernel(model, layer_name)
        mask = np.asarray(mask, dtype=np.float32)
        if tuple(mask.shape) != tuple(kernel.shape):
            raise ValueError(f"mask for {layer_name!r} has shape {mask.shape}, its kernel {tuple(kernel.shape)}")
        kernel.assign(kernel.numpy() * mask)


def kernel_sparsity(model, layer_names) -> dict:
    """The fraction of exactly-zero entries in each named layer's kernel.

    Explained in notebooks/09_compression_deployment.ipynb.
    """
    return {name: float(np.mean(_kernel(model, name).numpy() == 0)) for name in layer_names}


class KeepMasks(_CallbackBase):
    """Keras callback: re-apply pruning masks after every training step, so pruned weights stay zero.

    The optimiser moves every weight, pruned or not (Adam's momentum alone would revive them);
    multiplying the kernels by their masks after each step undoes that.
    Explained in notebooks/09_compression_deployment.ipynb.
    """

    def __init__(self, masks: dict):
        super().__init__()
        if not isinstance(masks, dict) or not masks:
            raise ValueError("masks must be a non-empty dict {layer name: mask}")
        self.masks = {name: np.asarray(mask, dtype=np.float32) for name, mask in masks.items()}

    def on_train_begin(self, logs=None):
        apply_masks(self.model, self.masks)

    def on_train_batch_end(self, batch, logs=None):
        apply_masks(self.model, self.masks)


# ------------------------------------------------------------------------------- distillation


def _check_distillation_arguments(labels, student_logits, teacher_logits, temperature, alpha):
    """``(labels, student_logits, teacher_logits, temperature, alpha)``: int32 labels, float32
    logits of one shape (N, classes), a temperature > 0 and an alpha in [0, 1]."""
    from keras import ops

    temperature = positive_number("temperature", temperature)  # NumPy scalars too
    alpha = unit_interval("alpha", alpha)
    labels, student_logits, teacher_logits = _distillation_inputs(labels, student_logits, teacher_logits)
    if len(student_logits.shape) != 2 or tuple(student_logits.shape) != tuple(teacher_logits.shape):
        raise ValueError(
            f"student and teacher logits must both have shape (N, classes), got {tuple(student_logits.shape)} "
            f"and {tuple(teacher_logits.shape)}"
        )
    labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
    return labels, ops.cast(student_logits, "float32"), ops.cast(teacher_logits, "float32"), temperature, alpha


def distillation_loss(labels, student_logits, teacher_logits, temperature=4.0, alpha=0.1):
    """Knowledge-distillation loss per example (Hinton, Vinyals & Dean, 2015):

    ``alpha * CE(labels, softmax(s)) + (1 - alpha) * T² * KL(softmax(t / T) || softmax(s / T))``

    with integer ``labels``, student logits ``s`` and teacher logits ``t`` of shape (N, classes).
    The gradient of the KL term with respect to ``s`` shrinks like 1/T², so the ``T²`` keeps both
    terms on the same scale whatever the temperature. ``alpha=1`` is plain cross-entropy on labels.
    Written with ``keras.ops`` so it works on NumPy arrays and inside ``model.fit`` (average the
    result for a batch loss; Keras does when it is used as a loss). Returns shape (N,).
    Explained in notebooks/09_compression_deployment.ipynb.
    """
    labels, student_logits, teacher_logits, temperature, alpha = _check_distillation_arguments(
        labels, student_logits, teacher_logits, temperature, alpha
    )
    hard = keras.ops.sparse_categorical_crossentropy(labels, student_logits, from_logits=True)
    teacher_probabilities = keras.ops.softmax(teacher_logits / temperature, axis=-1)
    teacher_log_probabilities = keras.ops.log_softmax(teacher_logits / temperature)
    student_log_probabilities = keras.ops.log_softmax(student_logits / temperature)
    soft = keras.ops.sum(teacher_probabilities * (teacher_log_probabilities - student_log_probabilities), axis=-1)
    return alpha * hard + (1.0 - alpha) * temperature**2 * soft


def _distillation_inputs(labels, student_logits, teacher_logits):
    """Lists become arrays; concrete NumPy values are checked (finite logits, labels in range, one
    per row, a non-empty batch). Tensors pass as they are: inside ``fit`` they are symbolic."""
    student_logits, teacher_logits = (
        finite_array(name, values, allow_empty=True) if isinstance(values, (list, tuple, np.ndarray)) else values
        for name, values in (("student_logits", student_logits), ("teacher_logits", teacher_logits))
    )
    shape = tuple(student_logits.shape)
    if len(shape) == 2 and shape[0] == 0:
        raise ValueError("the batch is empty: student_logits has shape (0, classes); a mean over it is undefined")
    if isinstance(labels, (list, tuple, np.ndarray)) and len(shape) == 2 and shape[1] is not None:
        labels = integer_array("labels", labels, low=0, high=shape[1]).reshape(-1)
        if shape[0] is not None and len(labels) != shape[0]:
            raise ValueError(f"labels must hold one class per row of the logits ({shape[0]}), got {len(labels)}")
    return labels, student_logits, teacher_logits


def two_class_logits(logit):
    """A sigmoid classifier's logit ``z`` (shape (N, 1)) as two softmax logits ``[0, z]``:
    ``softmax([0, z]) = [1 - sigmoid(z), sigmoid(z)]``, so the softmax losses apply unchanged.
    Explained in notebooks/09_compression_deployment.ipynb."""
    from keras import ops

    return ops.concatenate([ops.zeros_like(logit), logit], axis=-1)


def review_distillation_loss(targets, student_logit, temperature=2.0, alpha=0.5):
    """:func:`distillation_loss` for a one-logit review classifier, per example. ``targets`` packs three
    columns: the label (any value where there is none), the teacher's logit, and 1 for a labelled
    review or 0 for unlabelled text, which gets the soft term alone (``alpha = 0``).
    Explained in notebooks/09_compression_deployment.ipynb."""
    from keras import ops

    labels, teacher_logit, labelled = ops.cast(targets[:, 0], "int32"), targets[:, 1:2], targets[:, 2]
    student, teacher = two_class_logits(student_logit), two_class_logits(teacher_logit)
    with_labels = distillation_loss(labels, student, teacher, temperature, alpha)
    soft_only = distillation_loss(labels, student, teacher, temperature, 0.0)
    return labelled * with_labels + (1 - labelled) * soft_only


TINY_BERT = {"num_layers": 2, "num_heads": 2, "hidden_dim": 128, "intermediate_dim": 256}  # lesson 07's student


def review_student_inputs(texts, vocabulary, sequence_length=48):
    """Lesson 07's tiny-BERT inputs for ``texts``: lower-cased basic tokenizer and WordPiece with
    ``vocabulary`` (``[PAD]`` = 0, ``[CLS]`` = 2, ``[SEP]`` = 3), packed to ``sequence_length``.
    Explained in notebooks/09_compression_deployment.ipynb."""
    from course_utils import bert, tokenization

    ids_of = tokenization.check_wordpiece_inputs(texts, vocabulary, bert.UNK_TOKEN)
    unknown = ids_of[bert.UNK_TOKEN]
    lists = [
        [
            piece
            for word in tokenization.basic_tokenize(text)
            for piece in tokenization.wordpiece_split(word, ids_of, unknown)
        ]
        for text in texts
    ]
    ids, mask = bert.pack_token_ids(lists, sequence_length)
    return {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": mask}


def train_review_student(inputs, targets, test_inputs, vocabulary_size, alpha, steps, seed, temperature=2.0):
    """Train lesson 07's tiny BERT ([CLS] pooling, one logit, AdamW 5e-4 decaying linearly to 0,
    batches of 32 drawn with ``seed``) for ``steps`` steps with :func:`review_distillation_loss`
    on ``targets`` (label, teacher logit, labelled), and return its logits on ``test_inputs``.
    ``alpha=1`` trains on the labels alone. Explained in notebooks/09_compression_deployment.ipynb."""
    import keras

    from course_utils import bert

    positive_int("steps", steps)
    keras.utils.set_random_seed(seed)
    sequence_length = inputs["token_ids"].shape[1]
    encoder = bert.build_bert_encoder(vocabulary_size, **TINY_BERT, max_sequence_length=sequence_length, name="student")
    pooled = keras.layers.Dropout(0.1, name="classifier_dropout")(encoder(encoder.input)["pooled_output"])
    model = keras.Model(encoder.input, keras.layers.Dense(1, name="logit")(pooled))

    def loss(packed, logit):
        return review_distillation_loss(packed, logit, temperature, alpha)

    schedule = keras.optimizers.schedules.PolynomialDecay(5e-4, steps, 0.0)
    model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=0.01), loss=loss)
    rng = np.random.default_rng(seed)
    targets = np.asarray(targets, dtype=np.float32)
    for _ in range(steps):
        batch = rng.choice(len(targets), size=32, replace=False)
        model.train_on_batch({key: value[batch] for key, value in inputs.items()}, targets[batch])
    return model.predict(test_inputs, batch_size=256, verbose=0)[:, 0]


# -------------------------------------------------------------- the MiniLM review classifier


def _check_review_classifier(classifier, sequence_length):
    """The review classifier of notebook 07 / ``zoo.review_classifier`` and a packing length."""
    import keras

    if not isinstance(classifier, keras.Model):
        raise ValueError(f"classifier must be a keras.Model, got {type(classifier).__name__}")
    names = {layer.name for layer in classifier.layers}
    missing = {"minilm", "mean_pooling", "sentiment"} - names
    if missing:
        raise ValueError(
            f"classifier must be the MiniLM review classifier (zoo.review_classifier); no layer {sorted(missing)}"
        )
    positive_int("sequence_length", sequence_length)


def token_ids_model(classifier, sequence_length=64):
    """The review classifier with its tokenizer outside the graph: packed MiniLM token ids in
    (int32, (N, sequence_length), [PAD] = 0), the logit of *fresh* out. Shares the classifier's
    layers. Explained in notebooks/09_compression_deployment.ipynb."""
    import keras

    _check_review_classifier(classifier, sequence_length)
    token_ids = keras.Input(shape=(sequence_length,), dtype="int32", name="token_ids")
    mask = keras.ops.not_equal(token_ids, 0)
    inputs = {"token_ids": token_ids, "segment_ids": keras.ops.zeros_like(token_ids)}
    inputs["padding_mask"] = keras.ops.cast(mask, "int32")
    encoded = classifier.get_layer("minilm")(inputs)["sequence_output"]
    pooled = classifier.get_layer("mean_pooling")(encoded, mask=mask)
    logit = keras.layers.Dense(1, name="logit")
    output = logit(pooled)
    logit.set_weights(classifier.get_layer("sentiment").get_weights())  # the sigmoid head, without the sigmoid
    return keras.Model(token_ids, output, name="review_logit")


COMPONENTS = {"token_embedding": "token embedding table", "pooled_dense": "[CLS] pooler (unused by mean pooling)"}


def parameter_breakdown(encoder):
    """Parameters of a BERT encoder (``bert.build_bert_encoder``) by component: ``{component: count}``.
    Explained in notebooks/09_compression_deployment.ipynb."""
    _check_model(encoder)
    parts = {}
    for layer in encoder.layers:
        name = "transformer blocks" if layer.name.startswith("transformer_layer_") else None
        name = name or COMPONENTS.get(layer.name, "positions, segments, LayerNorm")
        parts[name] = parts.get(name, 0) + layer.count_params()
    return parts


def _check_model(model):
    """A Keras model with weights."""
    import keras

    if not isinstance(model, keras.Model) or not model.count_params():
        raise ValueError(f"expected a built keras.Model with weights, got {type(model).__name__}")
