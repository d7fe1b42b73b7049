"""Tests of course_utils.compression (explained in notebooks/09_compression_deployment.ipynb).

References: ``tf.quantization.fake_quant_with_min_max_args`` and hand-computed codes for the affine
quantisation, Keras' own ``predict`` for the TensorFlow Lite runner, a sort for the magnitude
masks, Keras' cross-entropy and KL-divergence losses and a closed-form gradient for distillation.
Only tiny models, so the file runs in a few seconds.
"""

from __future__ import annotations

import os
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from course_utils import compression as cp  # noqa: E402

RNG = np.random.default_rng(0)


# ------------------------------------------------------------------------------------ affine codes


@pytest.mark.parametrize("minimum, maximum", [(-1.3, 2.1), (0.0, 6.0), (-0.7, 0.2), (0.4, 3.0), (-5.0, -1.0)])
@pytest.mark.parametrize("dtype", ["int8", "uint8"])
def test_round_trip_matches_tensorflow_fake_quant(minimum, maximum, dtype):
    values = RNG.uniform(min(minimum, 0) - 1, max(maximum, 0) + 1, size=2000).astype(np.float32)
    scale, zero_point = cp.affine_params(minimum, maximum, dtype=dtype)
    ours = cp.dequantize(cp.quantize(values, scale, zero_point, dtype=dtype), scale, zero_point)
    reference = tf.quantization.fake_quant_with_min_max_args(
        values, min=min(minimum, 0.0), max=max(maximum, 0.0), num_bits=8
    ).numpy()
    np.testing.assert_allclose(ours, reference, atol=1e-5)


def test_affine_params_known_numbers():
    scale, zero_point = cp.affine_params(-1.0, 3.0, dtype="int8")
    assert scale == pytest.approx(4 / 255) and zero_point == -64  # round(-128 + 1 / (4/255)) = round(-64.25)
    assert cp.quantize(0.0, scale, zero_point) == zero_point  # zero is exact
    assert cp.dequantize(np.int8(zero_point), scale, zero_point) == 0.0
    assert cp.affine_params(0.0, 6.0, dtype="uint8") == (pytest.approx(6 / 255), 0)  # ReLU6 range
    assert cp.affine_params(2.0, 6.0, dtype="uint8") == (pytest.approx(6 / 255), 0)  # widened to contain 0


def test_quantize_known_codes_rounding_and_clipping():
    codes = cp.quantize([0.5, -0.5, 1.5, 2.4, 300.0, -300.0], scale=1.0, zero_point=np.int64(0))
    assert codes.dtype == np.int8
    assert codes.tolist() == [1, -1, 2, 2, 127, -128]  # halves away from zero, then clipped
    assert cp.quantize([0.0, 1.0], scale=0.5, zero_point=np.int64(10), dtype="uint8").tolist() == [10, 12]
    np.testing.assert_allclose(
        cp.dequantize(np.array([-128, 0, 127], np.int8), 0.1, -28), [-10.0, 2.8, 15.5], rtol=1e-6
    )


def test_per_channel_scales_broadcast():
    weights = RNG.normal(size=(5, 3)).astype(np.float32)
    scales = np.abs(weights).max(axis=0) / 127  # symmetric, one scale per output column
    codes = cp.quantize(weights, scales, np.zeros(3, np.int64))
    assert np.abs(codes).max(axis=0).tolist() == [127, 127, 127]
    assert np.all(np.abs(cp.dequantize(codes, scales, 0) - weights) <= scales / 2 + 1e-7)


@pytest.mark.parametrize(
    "call",
    [
        lambda: cp.affine_params(1.0, 1.0),
        lambda: cp.affine_params(0.0, np.inf),
        lambda: cp.affine_params(0.0, 1.0, dtype="int16"),
        lambda: cp.quantize([1.0], scale=0.0, zero_point=np.int64(0)),
        lambda: cp.quantize([1.0], scale=0.1, zero_point=np.int64(200)),
        lambda: cp.quantize([1.0], scale=0.1, zero_point=0.5),
        lambda: cp.dequantize([0.5], scale=0.1, zero_point=0),
    ],
)
def test_quantization_rejects_bad_arguments(call):
    with pytest.raises(ValueError):
        call()


# ----------------------------------------------------------------------------------- TensorFlow Lite


def _tiny_image_model(seed: int = 0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(8, 8, 1), dtype="uint8")
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(4, 3, activation="relu")(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(3, activation="softmax")(x)
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def tiny():
    model = _tiny_image_model()
    images = RNG.integers(0, 256, size=(23, 8, 8, 1)).astype(np.uint8)
    return model, images


def test_float_tflite_predicts_like_keras(tiny):
    model, images = tiny
    flatbuffer = cp.to_tflite(model, "float")
    assert isinstance(flatbuffer, bytes) and flatbuffer[4:8] == b"TFL3"  # the flatbuffer's file identifier
    ours = cp.tflite_predict(flatbuffer, images, batch_size=10)  # chunks of 10, 10 and 3
    np.testing.assert_allclose(ours, model.predict(images, verbose=0), atol=1e-5)


def test_int8_tflite_is_integer_and_close_to_keras(tiny):
    model, images = tiny
    flatbuffer = cp.to_tflite(model, "int8", representative_images=images)
    interpreter = cp.tflite_interpreter(flatbuffer)
    kernels = [d for d in interpreter.get_tensor_details() if len(d["shape"]) == 4 and d["shape"][0] == 4]
    assert kernels and all(np.dtype(d["dtype"]) == np.int8 for d in kernels)  # the conv kernel is int8
    ours = cp.tflite_predict(flatbuffer, images)
    np.testing.assert_allclose(ours, model.predict(images, verbose=0), atol=0.05)


def test_tflite_predict_quantises_float_inputs_and_dequantises_outputs():
    keras.utils.set_random_seed(1)
    inputs = keras.Input(shape=(6,))
    model = keras.Model(inputs, keras.layers.Dense(4)(keras.layers.Dense(8, activation="relu")(inputs)))
    samples = RNG.normal(size=(50, 6)).astype(np.float32)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([samples[i : i + 1]] for i in range(50))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.int8
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Statistics for quantized inputs were expected, but not specified"
        flatbuffer = converter.convert()
    detail = cp.tflite_interpreter(flatbuffer).get_input_details()[0]
    assert np.dtype(detail["dtype"]) == np.int8 and detail["quantization"][0] > 0
    ours = cp.tflite_predict(flatbuffer, samples)
    expected = model.predict(samples, verbose=0)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, expected, atol=0.1 * np.abs(expected).max())


def test_tflite_rejects_bad_arguments(tiny):
    model, images = tiny
    with pytest.raises(ValueError, match="mode"):
        cp.to_tflite(model, "int4")
    with pytest.raises(ValueError, match="representative_images"):
        cp.to_tflite(model, "int8")
    with pytest.raises(ValueError, match="dtype"):
        cp.to_tflite(model, "int8", representative_images=images / 255)  # wrong dtype and scale
    with pytest.raises(ValueError, match="only used"):
        cp.to_tflite(model, "dynamic", representative_images=images)
    with pytest.raises(ValueError, match=r"keras\.Model"):
        cp.to_tflite("model.keras")
    flatbuffer = cp.to_tflite(model, "float")
    with pytest.raises(ValueError, match="shape"):
        cp.tflite_predict(flatbuffer, images[:, :4])
    with pytest.raises(ValueError, match="batch_size"):
        cp.tflite_predict(flatbuffer, images, batch_size=0)
    with pytest.raises(ValueError, match="bytes"):
        cp.tflite_interpreter(b"")


# ------------------------------------------------------------------------------------------ pruning


@pytest.mark.parametrize("sparsity", [0.0, 0.5, 0.75, 0.9, 0.95])
def test_magnitude_mask_exact_sparsity_keeps_the_largest(sparsity):
    weights = RNG.normal(size=(7, 11, 3)).astype(np.float32)
    mask = cp.magnitude_mask(weights, sparsity)
    assert mask.shape == weights.shape and set(np.unique(mask)) <= {0.0, 1.0}
    pruned = round(sparsity * weights.size)
    assert int((mask == 0).sum()) == pruned
    reference = np.ones(weights.size, np.float32)  # independent: sort the magnitudes, keep the top
    reference[np.argsort(np.abs(weights.ravel()))[:pruned]] = 0
    np.testing.assert_array_equal(mask.ravel(), reference)


def test_global_masks_use_one_threshold():
    weights = {"small": RNG.normal(scale=0.1, size=(40,)), "large": RNG.normal(scale=1.0, size=(60,))}
    masks = cp.magnitude_masks(weights, 0.5, scope="global")
    assert sum(int((m == 0).sum()) for m in masks.values()) == 50
    kept = np.concatenate([np.abs(w)[masks[n] == 1] for n, w in weights.items()])
    dropped = np.concatenate([np.abs(w)[masks[n] == 0] for n, w in weights.items()])
    assert kept.min() >= dropped.max()
    assert (masks["small"] == 0).mean() > 0.9  # the small-scale layer is pruned almost entirely
    per_layer = cp.magnitude_masks(weights, 0.5, scope="layer")
    assert [(m == 0).mean() for m in per_layer.values()] == [0.5, 0.5]


def test_keep_masks_holds_pruned_weights_at_zero_during_training():
    keras.utils.set_random_seed(2)
    inputs = keras.Input(shape=(5,))
    model = keras.Model(inputs, keras.layers.Dense(3, name="dense")(inputs))
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    x, y = RNG.normal(size=(64, 5)), RNG.normal(size=(64, 3))
    masks = {"dense": cp.magnitude_mask(model.get_layer("dense").get_weights()[0], 0.6)}
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[cp.KeepMasks(masks)])
    kernel = model.get_layer("dense").get_weights()[0]
    np.testing.assert_array_equal(kernel == 0, masks["dense"] == 0)
    assert cp.kernel_sparsity(model, ["dense"]) == {"dense": 9 / 15}
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)  # without the callback the zeros come back to life
    assert cp.kernel_sparsity(model, ["dense"])["dense"] == 0.0


@pytest.mark.parametrize(
    "call",
    [
        lambda: cp.magnitude_mask(np.ones(4), 1.0),
        lambda: cp.magnitude_mask(np.ones(4), -0.1),
        lambda: cp.magnitude_mask(np.ones(4), True),
        lambda: cp.magnitude_mask(np.array([]), 0.5),
        lambda: cp.magnitude_masks({}, 0.5),
        lambda: cp.magnitude_masks({"a": np.ones(3)}, 0.5, scope="row"),
        lambda: cp.KeepMasks({}),
    ],
)
def test_pruning_rejects_bad_arguments(call):
    with pytest.raises(ValueError):
        call()


def test_apply_masks_rejects_unknown_layers_and_shapes():
    inputs = keras.Input(shape=(5,))
    model = keras.Model(inputs, keras.layers.Dense(3, name="dense")(keras.layers.Flatten(name="flat")(inputs)))
    with pytest.raises(ValueError, match="no layer"):
        cp.apply_masks(model, {"missing": np.ones((5, 3))})
    with pytest.raises(ValueError, match="no kernel"):
        cp.apply_masks(model, {"flat": np.ones((5, 3))})
    with pytest.raises(ValueError, match="shape"):
        cp.apply_masks(model, {"dense": np.ones((3, 5))})


# ------------------------------------------------------------------------------------- distillation

LABELS = np.array([0, 2, 1, 2, 0, 1])
STUDENT = RNG.normal(size=(6, 3)).astype(np.float32) * 2
TEACHER = RNG.normal(size=(6, 3)).astype(np.float32) * 3


@pytest.mark.parametrize("temperature, alpha", [(1.0, 0.5), (4.0, 0.1), (2.5, 0.0), (3.0, 1.0)])
def test_distillation_loss_matches_keras_losses(temperature, alpha):
    hard = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)(LABELS, STUDENT)
    soft = keras.losses.KLDivergence(reduction=None)(
        tf.nn.softmax(TEACHER / temperature), tf.nn.softmax(STUDENT / temperature)
    )
    expected = alpha * np.asarray(hard) + (1 - alpha) * temperature**2 * np.asarray(soft)
    ours = np.asarray(cp.distillation_loss(LABELS, STUDENT, TEACHER, temperature=temperature, alpha=alpha))
    assert ours.shape == (6,)
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("temperature", [1.0, 2.0, 8.0])
def test_distillation_gradient_closed_form(temperature):
    # d/ds [T² KL(softmax(t/T) || softmax(s/T))] = T (softmax(s/T) - softmax(t/T)): the T² undoes the 1/T².
    student = tf.Variable(STUDENT)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(cp.distillation_loss(LABELS, student, TEACHER, temperature=temperature, alpha=0.0))
    gradient = tape.gradient(loss, student).numpy()
    expected = temperature * (tf.nn.softmax(STUDENT / temperature) - tf.nn.softmax(TEACHER / temperature)).numpy()
    np.testing.assert_allclose(gradient, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"temperature": 0.0},
        {"temperature": -1.0},
        {"alpha": 1.5},
        {"alpha": True},
        {"teacher_logits": TEACHER[:, :2]},
    ],
)
def test_distillation_rejects_bad_arguments(kwargs):
    arguments = {"labels": LABELS, "student_logits": STUDENT, "teacher_logits": TEACHER} | kwargs
    with pytest.raises(ValueError):
        cp.distillation_loss(**arguments)


# ------------------------------------------------------------------- one-logit (review) distillation


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_two_class_logits_softmax_is_the_sigmoid():
    z = np.array([[-3.0], [0.0], [0.7], [5.0]])
    probabilities = tf.nn.softmax(cp.two_class_logits(z)).numpy()
    np.testing.assert_allclose(probabilities[:, 1], _sigmoid(z[:, 0]), rtol=1e-6)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("temperature, alpha", [(1.0, 0.5), (2.0, 0.5), (4.0, 0.1), (3.0, 1.0)])
def test_review_distillation_loss_closed_form(temperature, alpha):
    """Binary cross-entropy and the KL divergence of two Bernoulli distributions, in float64."""
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, size=12).astype(np.float64)
    student, teacher = rng.normal(0, 2, size=(12, 1)), rng.normal(0, 3, size=(12, 1))
    labelled = np.array([1.0] * 8 + [0.0] * 4)
    targets = np.stack([labels, teacher[:, 0], labelled], axis=1).astype(np.float32)
    loss = np.asarray(cp.review_distillation_loss(targets, student.astype(np.float32), temperature, alpha))
    s, t = student[:, 0], teacher[:, 0]
    hard = -(labels * np.log(_sigmoid(s)) + (1 - labels) * np.log(_sigmoid(-s)))
    p, q = _sigmoid(t / temperature), _sigmoid(s / temperature)
    kl = p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))
    soft = temperature**2 * kl
    expected = np.where(labelled == 1, alpha * hard + (1 - alpha) * soft, soft)
    np.testing.assert_allclose(loss, expected, rtol=2e-4, atol=1e-5)


# ------------------------------------------------------------------------ the review classifier


def _small_classifier():
    from course_utils import bert

    keras.utils.set_random_seed(0)
    encoder = bert.build_bert_encoder(50, num_layers=2, num_heads=2, hidden_dim=8, intermediate_dim=12, name="minilm")
    ids = keras.Input(shape=(10,), dtype="int32")
    mask = keras.ops.not_equal(ids, 0)
    inputs = {"token_ids": ids, "segment_ids": keras.ops.zeros_like(ids), "padding_mask": keras.ops.cast(mask, "int32")}
    pooled = keras.layers.GlobalAveragePooling1D(name="mean_pooling")(encoder(inputs)["sequence_output"], mask=mask)
    probability = keras.layers.Dense(1, activation="sigmoid", name="sentiment")(pooled)
    return keras.Model(ids, probability), encoder


def test_token_ids_model_is_the_classifier_before_its_sigmoid():
    classifier, _ = _small_classifier()
    ids = np.zeros((5, 10), dtype=np.int32)
    for row, length in enumerate([2, 4, 6, 9, 10]):
        ids[row, :length] = RNG.integers(1, 50, size=length)
    logits = cp.token_ids_model(classifier, sequence_length=10).predict(ids, verbose=0)[:, 0]
    np.testing.assert_allclose(_sigmoid(logits), classifier.predict(ids, verbose=0)[:, 0], atol=1e-6)
    with pytest.raises(ValueError, match="MiniLM review classifier"):
        cp.token_ids_model(keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)]))
    with pytest.raises(ValueError, match="sequence_length"):
        cp.token_ids_model(classifier, sequence_length=0)


def test_parameter_breakdown_closed_form():
    _, encoder = _small_classifier()
    parts = cp.parameter_breakdown(encoder)
    vocabulary, hidden, feed_forward, positions = 50, 8, 12, 64
    block = 4 * (hidden * hidden + hidden) + 2 * hidden * feed_forward + feed_forward + hidden + 2 * 2 * hidden
    assert parts["token embedding table"] == vocabulary * hidden
    assert parts["transformer blocks"] == 2 * block
    assert parts["positions, segments, LayerNorm"] == positions * hidden + 2 * hidden + 2 * hidden
    assert parts["[CLS] pooler (unused by mean pooling)"] == hidden * hidden + hidden
    assert sum(parts.values()) == encoder.count_params()
    with pytest.raises(ValueError, match=r"keras\.Model with weights"):
        cp.parameter_breakdown("encoder")


def test_review_student_inputs_by_hand():
    from course_utils import bert

    vocabulary = [*bert.SPECIAL_TOKENS, "the", "film", "##s", "great", "!"]
    inputs = cp.review_student_inputs(["The films, great!", "Great"], vocabulary, sequence_length=9)
    # [CLS] the film ##s [UNK] (the comma) great ! [SEP] ; [CLS] great [SEP] [PAD]...
    assert inputs["token_ids"].tolist() == [[2, 5, 6, 7, 1, 8, 9, 3, 0], [2, 8, 3, 0, 0, 0, 0, 0, 0]]
    assert inputs["padding_mask"].tolist() == [[1] * 8 + [0], [1] * 3 + [0] * 6]
    assert not inputs["segment_ids"].any()
    with pytest.raises(ValueError, match="sequence of strings"):
        cp.review_student_inputs("The film", vocabulary)
