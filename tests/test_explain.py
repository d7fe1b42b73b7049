"""Tests for course_utils.explain, each against an independent reference (closed forms, finite differences, NumPy)."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_utils import explain

RNG = np.random.default_rng(0)


def flat(x):
    return tf.reshape(x, (tf.shape(x)[0], -1))


# ------------------------------------------------------------------ saliency and gradients


def test_gradients_match_closed_form_and_finite_differences():
    weights = RNG.normal(size=(3, 4)).astype(np.float32)

    def f(x):  # sum(sin(x) * w) per example: gradient cos(x) * w
        return tf.reduce_sum(flat(tf.sin(x) * weights), axis=1)

    x = RNG.normal(size=(5, 3, 4)).astype(np.float32)
    gradient = explain.gradients(f, x)
    np.testing.assert_allclose(gradient, np.cos(x) * weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(explain.saliency(f, x), np.abs(np.cos(x) * weights), rtol=1e-5, atol=1e-6)

    # central finite differences in float64 on one entry of each example
    def f64(values):
        return np.sum(np.sin(values) * weights.astype(np.float64), axis=(1, 2))

    step = 1e-6
    for index in [(0, 0), (1, 2), (2, 3)]:
        bump = np.zeros((5, 3, 4))
        bump[(slice(None), *index)] = step
        numeric = (f64(x + bump) - f64(x - bump)) / (2 * step)
        np.testing.assert_allclose(gradient[(slice(None), *index)], numeric, rtol=1e-4, atol=1e-5)


def test_gradients_of_a_keras_model_match_finite_differences():
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="tanh"), keras.layers.Dense(1)])
    x = RNG.normal(size=(4, 6)).astype(np.float32)
    gradient = explain.gradients(model, x)  # (n, 1) outputs are accepted
    step = 1e-2
    for column in range(6):
        bump = np.zeros_like(x)
        bump[:, column] = step
        numeric = (model(x + bump).numpy()[:, 0] - model(x - bump).numpy()[:, 0]) / (2 * step)
        np.testing.assert_allclose(gradient[:, column], numeric, rtol=2e-3, atol=2e-4)


# ------------------------------------------------------------------ integrated gradients


@pytest.mark.parametrize("method", explain.PATH_METHODS)
def test_ig_of_a_linear_function_is_exact(method):
    w = RNG.normal(size=(2, 5)).astype(np.float32)

    def f(x):
        return tf.reduce_sum(flat(x * w), axis=1) + 3.0

    x, baseline = RNG.normal(size=(2, 5)), RNG.normal(size=(2, 5))
    attributions = explain.integrated_gradients(f, x, baseline, steps=3, batch_size=2, method=method)
    np.testing.assert_allclose(attributions, (x - baseline) * w, rtol=1e-5, atol=1e-6)


def test_ig_of_a_quadratic_matches_the_closed_form_path_integral():
    a = RNG.normal(size=(4, 4)).astype(np.float32)
    a = (a + a.T) / 2
    b = RNG.normal(size=4).astype(np.float32)

    def f(x):  # x^T A x / 2 + b.x: gradient A x + b, linear along the path
        return 0.5 * tf.einsum("ni,ij,nj->n", x, a, x) + tf.reduce_sum(x * b, axis=1)

    x, baseline = RNG.normal(size=4), RNG.normal(size=4)
    # ∫_0^1 A(x' + α(x - x')) + b dα = A (x + x') / 2 + b
    expected = (x - baseline) * (a @ ((x + baseline) / 2) + b)
    for method in ("trapezoid", "midpoint"):  # exact for a linear integrand
        attributions = explain.integrated_gradients(f, x, baseline, steps=4, method=method)
        np.testing.assert_allclose(attributions, expected, rtol=1e-4, atol=1e-5)
    difference = 0.5 * x @ a @ x + b @ x - (0.5 * baseline @ a @ baseline + b @ baseline)
    assert abs(expected.sum() - difference) < 1e-9  # the closed form itself is complete
    gap = explain.completeness_gap(f, x, baseline, explain.integrated_gradients(f, x, baseline, steps=4))
    assert gap["relative_error"] < 1e-4
    assert gap["difference"] == pytest.approx(difference, rel=1e-5)
    left = explain.integrated_gradients(f, x, baseline, steps=4, method="left")
    assert np.abs(left - expected).max() > 1e-3, "a left Riemann sum is not exact for a quadratic"


def test_ig_of_a_separable_function_converges_at_the_trapezoid_rate():
    def f(x):  # sum_i sin(3 x_i): IG_i = sin(3 x_i) - sin(3 x'_i) exactly
        return tf.reduce_sum(tf.sin(3.0 * x), axis=1)

    x, baseline = np.array([1.2, -0.7, 0.4, 2.0]), np.zeros(4)
    exact = np.sin(3 * x) - np.sin(3 * baseline)
    errors = {}
    for steps in (8, 16, 32):
        attributions = explain.integrated_gradients(f, x, baseline, steps=steps, batch_size=5)
        errors[steps] = np.abs(attributions - exact).max()
    assert errors[32] < 2e-3
    assert errors[8] / errors[16] > 3.5 and errors[16] / errors[32] > 3.5, errors  # O(1/steps²)
    left = {
        s: np.abs(explain.integrated_gradients(f, x, baseline, steps=s, method="left") - exact).max() for s in (8, 16)
    }
    assert 1.6 < left[8] / left[16] < 2.4, left  # O(1/steps)


def test_ig_batch_size_does_not_change_the_result():
    def f(x):
        return tf.reduce_sum(tf.tanh(x) ** 2, axis=(1, 2))

    x = RNG.normal(size=(3, 2)).astype(np.float32)
    results = [explain.integrated_gradients(f, x, steps=10, batch_size=size) for size in (1, 4, None)]
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(results[0], results[2], rtol=1e-6, atol=1e-7)


def test_path_weights():
    alphas, weights = explain.path_weights(4)
    np.testing.assert_allclose(alphas, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(weights, [0.125, 0.25, 0.25, 0.25, 0.125])
    for method in explain.PATH_METHODS:
        assert explain.path_weights(7, method)[1].sum() == pytest.approx(1.0)
    np.testing.assert_allclose(explain.path_weights(2, "midpoint")[0], [0.25, 0.75])


# ------------------------------------------------------------------ Grad-CAM


def numpy_conv_valid(images, kernel, bias):
    """'valid' cross-correlation, stride 1, NHWC, written with loops (independent of TensorFlow)."""
    n, height, width, _ = images.shape
    size, _, _, filters = kernel.shape
    out = np.zeros((n, height - size + 1, width - size + 1, filters))
    for i in range(out.shape[1]):
        for j in range(out.shape[2]):
            patch = images[:, i : i + size, j : j + size, :]
            out[:, i, j, :] = np.einsum("nabc,abcf->nf", patch, kernel) + bias
    return out


def tiny_cnn(head):
    keras.utils.set_random_seed(3)
    inputs = keras.Input((6, 6, 1))
    maps = keras.layers.Conv2D(3, 3, activation="relu", name="conv")(inputs)
    if head == "gap":
        pooled = keras.layers.GlobalAveragePooling2D()(maps)
    else:
        pooled = keras.layers.Flatten()(maps)
    outputs = keras.layers.Dense(4, name="scores")(pooled)
    model = keras.Model(inputs, outputs)
    conv = model.get_layer("conv")
    conv.set_weights([RNG.normal(size=(3, 3, 1, 3)).astype(np.float32), np.array([0.1, -0.2, 0.3], np.float32)])
    return model


@pytest.mark.parametrize("head", ["gap", "flatten"])
def test_grad_cam_matches_a_manual_numpy_computation(head):
    model = tiny_cnn(head)
    images = RNG.normal(size=(2, 6, 6, 1)).astype(np.float32)
    kernel, bias = (v.astype(np.float64) for v in model.get_layer("conv").get_weights())
    dense_kernel = model.get_layer("scores").get_weights()[0].astype(np.float64)
    maps = np.maximum(numpy_conv_valid(images.astype(np.float64), kernel, bias), 0.0)  # (2, 4, 4, 3)
    classes = np.array([1, 3])
    if head == "gap":  # d score_c / d A[i, j, k] = W[k, c] / 16 everywhere
        channel_weights = dense_kernel[:, classes].T / 16
    else:  # Flatten order is (i, j, k): d score_c / d A[i, j, k] = W[(i*4 + j)*3 + k, c]
        channel_weights = dense_kernel[:, classes].T.reshape(2, 4, 4, 3).mean(axis=(1, 2))
    expected = np.maximum(np.einsum("nhwk,nk->nhw", maps, channel_weights), 0.0)
    cam = explain.grad_cam(model, "conv", images, classes)
    assert cam.shape == (2, 4, 4)
    np.testing.assert_allclose(cam, expected, rtol=1e-4, atol=1e-5)
    one_class = explain.grad_cam(model, "conv", images, 1)
    np.testing.assert_allclose(one_class[0], cam[0], rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------ deletion and rank correlation


def test_delete_top_k():
    x = np.arange(12, dtype=np.float32).reshape(2, 2, 3) + 1
    scores = np.array([[[0.5, 9, 1], [3, -4, 2]], [[0, 0, 7], [0, 8, 0]]])
    deleted = explain.delete_top_k(x, scores, 2, fill=-1)
    assert deleted.tolist() == [[[1, -1, 3], [-1, 5, 6]], [[7, 8, -1], [10, -1, 12]]]
    assert x[0, 0, 1] == 2, "the input is not modified"
    assert np.array_equal(explain.delete_top_k(x, np.abs(scores), 1)[0], [[1, 0, 3], [4, 5, 6]])


def test_rank_correlation_against_known_values():
    a = RNG.normal(size=50)
    assert explain.rank_correlation(a, np.exp(a)) == pytest.approx(1.0)
    assert explain.rank_correlation(a, -(a**3)) == pytest.approx(-1.0)
    b = RNG.normal(size=50)
    ranks_a, ranks_b = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))  # no ties: plain ranks
    assert explain.rank_correlation(a, b) == pytest.approx(np.corrcoef(ranks_a, ranks_b)[0, 1])
    # ties: ranks (0, 1.5, 1.5, 3) and (0, 1, 2, 3) -> Pearson of those
    expected = np.corrcoef([0, 1.5, 1.5, 3], [0, 1, 2, 3])[0, 1]
    assert explain.rank_correlation([1, 2, 2, 5], [10, 20, 30, 40]) == pytest.approx(expected)


# ------------------------------------------------------------------ argument checking


def test_value_errors():
    def f(x):
        return tf.reduce_sum(x, axis=1)

    with pytest.raises(ValueError, match="baseline must have the shape"):
        explain.integrated_gradients(f, np.ones(3), np.zeros(4))
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        explain.integrated_gradients(f, np.ones(3), steps=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        explain.integrated_gradients(f, np.ones(3), batch_size=0)
    with pytest.raises(ValueError, match="method must be one of"):
        explain.integrated_gradients(f, np.ones(3), method="simpson")
    with pytest.raises(ValueError, match="scalar"):
        explain.integrated_gradients(f, 1.0)
    with pytest.raises(ValueError, match="one score per example"):
        explain.gradients(lambda x: x, np.ones((2, 3)))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        explain.gradients(f, np.ones(3))
    with pytest.raises(ValueError, match="f must be callable"):
        explain.saliency("f", np.ones((2, 3)))
    with pytest.raises(ValueError, match="one shape"):
        explain.completeness_gap(f, np.ones(3), np.zeros(3), np.zeros(4))
    model = tiny_cnn("gap")
    images = np.zeros((2, 6, 6, 1), np.float32)
    with pytest.raises(ValueError, match="no layer named"):
        explain.grad_cam(model, "conv9", images, 0)
    with pytest.raises(ValueError, match=r"must output \(n, h, w, channels\)"):
        explain.grad_cam(model, "scores", images, 0)
    with pytest.raises(ValueError, match="class_index must be integers"):
        explain.grad_cam(model, "conv", images, 4)
    with pytest.raises(ValueError, match=r"keras\.Model"):
        explain.grad_cam(lambda x: x, "conv", images, 0)
    with pytest.raises(ValueError, match="k must be at most"):
        explain.delete_top_k(np.zeros((1, 3)), np.zeros((1, 3)), 4)
    with pytest.raises(ValueError, match="attributions its shape"):
        explain.delete_top_k(np.zeros((1, 3)), np.zeros((1, 4)), 1)
    with pytest.raises(ValueError, match="same number"):
        explain.rank_correlation([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="constant"):
        explain.rank_correlation([1, 1, 1], [1, 2, 3])
