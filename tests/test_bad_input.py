"""Bad input to the helpers gives a ValueError that says what was expected (issue 16, section 4).

Each case was, before, a silent NaN, a wrong answer or an obscure error (OverflowError, a NumPy
"could not convert", a TensorFlow InvalidArgumentError, an AttributeError). The shared checks
live in course_utils/_checks.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import _checks, text
from course_utils import attention as at
from course_utils import backprop as bp
from course_utils import compression as cp
from course_utils import compute as cm
from course_utils import explain as ex
from course_utils import optimizers as op
from course_utils import softmax as sm

NAN, INF = float("nan"), float("inf")
RNG = np.random.default_rng(0)


def _score(batch):
    import tensorflow as tf

    return tf.reduce_sum(batch, axis=list(range(1, batch.shape.rank)))


def _lstm(x):
    return text.lstm_step(x, np.zeros(1), np.zeros(1), np.zeros((1, 4)), np.zeros((1, 4)), np.zeros(4))


def _distill(labels=(0,), student=None, teacher=None, **options):
    student = np.zeros((1, 3)) if student is None else student
    teacher = np.zeros((1, 3)) if teacher is None else teacher
    return cp.distillation_loss(np.asarray(labels), student, teacher, **options)


CASES = {
    # softmax and cross-entropy
    "softmax of NaN": (lambda: sm.softmax([1.0, NAN]), "must not contain NaN or \\+inf .* got 1 NaN and 0 \\+inf"),
    "softmax of +inf": (lambda: sm.softmax([1.0, INF]), "got 0 NaN and 1 \\+inf"),
    "softmax of a row of -inf": (lambda: sm.softmax([[0.0, 1.0], [-INF, -INF]]), "-inf for every class of some row"),
    "logsumexp of +inf": (lambda: sm.logsumexp([INF, 1.0]), "must not contain NaN or \\+inf"),
    "log_softmax of strings": (lambda: sm.log_softmax(["a", "b"]), "logits must be an array of real numbers"),
    "cross_entropy of NaN": (lambda: sm.cross_entropy(np.array([[NAN, 1.0]]), [0]), "must not contain NaN"),
    "cross_entropy_grad of +inf": (lambda: sm.cross_entropy_grad(np.array([[INF, 1.0]]), [0]), "1 \\+inf"),
    "cross_entropy of an empty batch": (
        lambda: sm.cross_entropy(np.zeros((0, 3)), np.zeros(0, int)),
        r"logits must not be empty, got shape \(0, 3\)",
    ),
    # attention
    "init_mha_params with d_model 0": (lambda: at.init_mha_params(0, 2), "d_model must be a positive integer, got 0"),
    "init_mha_params with a string": (lambda: at.init_mha_params("8", 2), "d_model must be a positive integer"),
    "init_mha_params with key_dim 0": (lambda: at.init_mha_params(8, 2, key_dim=0), "key_dim must be a positive"),
    "split_heads into 0 heads": (lambda: at.split_heads(np.zeros((1, 2, 4)), 0), "num_heads must be a positive"),
    "split_heads into 3 heads of 4 columns": (
        lambda: at.split_heads(np.zeros((1, 2, 4)), 3),
        r"x must be \(batch, T, num_heads \* depth\) with num_heads=3",
    ),
    "attention of NaN queries": (
        lambda: at.scaled_dot_product_attention(np.full((2, 4), NAN), np.ones((2, 4)), np.ones((2, 4))),
        "q contains NaN",
    ),
    "attention softmax of NaN": (lambda: at.softmax(np.array([NAN, 1.0])), "must not contain NaN"),
    "sinusoidal positions with odd d": (lambda: at.sinusoidal_positions(4, 5), "d must be even"),
    "sinusoidal positions with a string wavelength": (
        lambda: at.sinusoidal_positions(4, 6, max_wavelength="1e4"),
        "max_wavelength must be a real number",
    ),
    "layer_norm with a string eps": (
        lambda: at.layer_norm(np.ones((2, 4)), np.ones(4), np.zeros(4), "1e-5"),
        "eps must be a positive number",
    ),
    # optimizers
    "rosenbrock of NaN": (lambda: op.rosenbrock([NAN, 1.0]), "point must be finite, got 1 NaN"),
    "rosenbrock of strings": (lambda: op.rosenbrock(["a", 1.0]), "point must be an array of real numbers"),
    "warmup_cosine_decay at step '1'": (
        lambda: op.warmup_cosine_decay("1", 0.1, 100),
        "step must be an array of real numbers",
    ),
    "cosine_decay over '100' steps": (lambda: op.cosine_decay(1, "100", 0.1), "decay_steps must be a positive number"),
    "warmup_cosine_decay with a target and 0 warm-up steps": (
        lambda: op.warmup_cosine_decay(1, 0.0, 100, warmup_target=0.1),
        r"warmup_steps \(needed when warmup_target is given\) must be a positive",
    ),
    "linear_warmup over 0 steps": (lambda: op.linear_warmup(1, 0, 0.0, 0.1), "warmup_steps must be a positive"),
    "clip_by_global_norm of NaN gradients": (
        lambda: op.clip_by_global_norm([np.array([NAN, 1.0])], 1.0),
        "gradient must be finite, got 1 NaN",
    ),
    # backprop
    "relu of a string": (lambda: bp.relu("a"), "z must be an array of real numbers"),
    "sigmoid of booleans": (lambda: bp.sigmoid(np.array([True])), "z must be an array of real numbers, got dtype bool"),
    "tanh_derivative of objects": (lambda: bp.tanh_derivative([None]), "z must be an array of real numbers"),
    "mlp_forward of NaN": (
        lambda: bp.mlp_forward(bp.init_mlp([2, 3, 2], np.random.default_rng(0)), np.array([[NAN, 1.0]])),
        "x must be finite, got 1 NaN",
    ),
    # text
    "perplexity overflows": (lambda: text.perplexity(1000), r"overflows a float for nats > 709\.78"),
    "perplexity of True": (lambda: text.perplexity(True), "nats must be a real number"),
    "nats_to_bits of a string": (lambda: text.nats_to_bits("2"), "nats must be a real number"),
    "add-k with k=inf": (
        lambda: text.unigram_nats_per_char(np.array([0, 1]), np.array([0]), 2, k=INF),
        r"k \(the add-k smoothing count\) must be a positive finite number",
    ),
    "add-k with k=True": (
        lambda: text.bigram_nats_per_char(np.array([0, 1]), np.array([0, 1]), 2, k=True),
        "k .* must be a positive number, got True",
    ),
    "sample_next at T=inf": (
        lambda: text.sample_next(np.array([1.0, 2.0]), temperature=INF),
        "temperature must be a finite number >= 0",
    ),
    "sample_next of strings": (lambda: text.sample_next(["a", "b"]), "logits must be an array of real numbers"),
    "lstm_step of NaN": (lambda: _lstm(np.array([NAN])), "x must be finite, got 1 NaN"),
    "lstm_step of a string": (lambda: _lstm("a"), "x must be an array of real numbers"),
    # compression
    "affine_params of None": (lambda: cp.affine_params(None, 1.0), "minimum must be a real number"),
    "affine_params of inf": (lambda: cp.affine_params(0.0, INF), "maximum must be finite"),
    "quantize NaN": (lambda: cp.quantize(np.array([NAN, 1.0]), 0.1, 0), "values must be finite"),
    "quantize with a string scale": (lambda: cp.quantize([1.0], "x", 0), "scale must be an array of real numbers"),
    "dequantize with a NaN zero point": (
        lambda: cp.dequantize(np.array([1]), 0.1, NAN),
        "zero_point must be an array of integers",
    ),
    "magnitude_mask of NaN": (lambda: cp.magnitude_mask(np.array([NAN, 1.0, 2.0]), 0.5), "weights must be finite"),
    "distillation at T=inf": (lambda: _distill(temperature=INF), "temperature must be a positive finite number"),
    "distillation with alpha=2": (lambda: _distill(alpha=np.float32(2.0)), r"alpha must be in \[0, 1\]"),
    "distillation of NaN logits": (
        lambda: _distill(student=np.array([[NAN, 0.0, 0.0]])),
        "student_logits must be finite",
    ),
    "distillation with label 5 of 3 classes": (lambda: _distill(labels=[5]), "labels must be < 3, got 5"),
    "distillation of an empty batch": (
        lambda: _distill(labels=np.zeros(0, int), student=np.zeros((0, 3)), teacher=np.zeros((0, 3))),
        "the batch is empty",
    ),
    "distillation with more labels than rows": (lambda: _distill(labels=[0, 1]), "one class per row"),
    # explain
    "integrated gradients of NaN": (lambda: ex.integrated_gradients(_score, np.array([NAN, 1.0])), "x must be finite"),
    "gradients of inf": (lambda: ex.gradients(_score, np.array([[INF, 1.0]])), "x must be finite"),
    "completeness of NaN attributions": (
        lambda: ex.completeness_gap(_score, np.ones(2), np.zeros(2), np.array([NAN, 1.0])),
        "attributions must be finite",
    ),
    "delete_top_k of NaN attributions": (
        lambda: ex.delete_top_k(np.ones((1, 3)), np.array([[NAN, 1.0, 2.0]]), 1),
        "attributions must be finite",
    ),
    "delete_top_k of an empty batch": (
        lambda: ex.delete_top_k(np.ones((0, 3)), np.ones((0, 3)), 1),
        "x must be a non-empty batch",
    ),
    "rank_correlation of strings": (
        lambda: ex.rank_correlation(["a", "b"], [1, 2]),
        "a must be an array of real numbers",
    ),
    # compute
    "fit_power_law of strings": (lambda: cm.fit_power_law(["a", "b"], [1, 2]), "x must be an array of real numbers"),
    "fit_power_law of NaN": (lambda: cm.fit_power_law([1, 2, 3], [1, NAN, 3]), "y must be finite"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_gives_a_clear_value_error(case):
    call, message = CASES[case]
    with pytest.raises(ValueError, match=message):
        call()


def test_distillation_loss_accepts_numpy_scalars_and_lists():
    """Bug 4 of issue 16: np.float32(4.0) was refused. Same value as with Python floats."""
    student, teacher, labels = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3)), np.array([0, 2, 1, 2])
    reference = np.asarray(cp.distillation_loss(labels, student, teacher, temperature=4.0, alpha=0.25))
    with_numpy = cp.distillation_loss(labels, student, teacher, temperature=np.float32(4.0), alpha=np.float64(0.25))
    with_lists = cp.distillation_loss(labels.tolist(), student.tolist(), teacher.tolist(), temperature=np.int64(4))
    np.testing.assert_allclose(np.asarray(with_numpy), reference, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(with_lists), np.asarray(cp.distillation_loss(labels, student, teacher)))


def test_perplexity_up_to_the_largest_float():
    nats = float(np.log(np.finfo(np.float64).max))
    assert text.perplexity(nats) == pytest.approx(np.finfo(np.float64).max, rel=1e-12)
    assert text.perplexity(np.float32(0.0)) == 1.0


def test_shared_checks():
    np.testing.assert_array_equal(_checks.finite_array("v", [1, 2]), np.array([1.0, 2.0]))
    assert _checks.finite_array("v", [], allow_empty=True).shape == (0,)
    assert _checks.unit_interval("p", np.float32(1.0)) == 1.0
    assert _checks.non_negative_number("n", np.int64(0)) == 0.0
    for bad, message in [
        (([True, False],), "v must be an array of real numbers, got dtype bool"),
        (([1 + 2j],), "v must be an array of real numbers, got dtype complex"),
        (([[1, 2], [3]],), "v must be an array of real numbers"),
        (([],), r"v must not be empty, got shape \(0,\)"),
        (([INF, NAN, 1.0],), "v must be finite, got 2 NaN or infinite"),
        (([1.0],), r"at least 2 dimension\(s\)"),
    ]:
        with pytest.raises(ValueError, match=message):
            _checks.finite_array("v", *bad, min_ndim=2 if "dimension" in message else 0)
    with pytest.raises(ValueError, match="p must be in"):
        _checks.unit_interval("p", 1.5)
    with pytest.raises(ValueError, match="n must be a finite number >= 0"):
        _checks.non_negative_number("n", -0.5)
    with pytest.raises(ValueError, match="labels must be >= 0"):
        _checks.integer_array("labels", [-1, 0], low=0)


def test_documented_non_finite_behaviour():
    """Where NaN or -inf is the mathematically right answer, it is returned, as NumPy and TensorFlow do."""
    import tensorflow as tf

    # -inf logits are allowed (a mask makes them): probability exactly 0, the rest renormalised.
    np.testing.assert_allclose(sm.softmax([0.0, -INF, 0.0]), [0.5, 0.0, 0.5])
    np.testing.assert_allclose(sm.softmax([0.0, -INF]), tf.nn.softmax([0.0, -INF]).numpy())
    # Elementwise activations propagate NaN like tf.nn: NaN in, NaN out.
    for ours, theirs in [(bp.relu, tf.nn.relu), (bp.sigmoid, tf.math.sigmoid), (bp.tanh, tf.math.tanh)]:
        got, want = ours(np.array([NAN, 1.0])), theirs(tf.constant([NAN, 1.0], tf.float64)).numpy()
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
