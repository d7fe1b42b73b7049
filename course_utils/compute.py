"""Counting parameters and FLOPs, timing kernels, and the arithmetic of training compute.

Explained in notebooks/11_compute_and_scale.ipynb. Convention: one multiply-add is **2 FLOPs**,
and only the multiply-adds of matrix products and convolutions are counted (bias adds,
activations, normalisations, softmax and pooling are a few percent at most and are left out);
FLOP counts are for the **forward pass** unless a name says otherwise. :func:`graph_flops`
counts the same quantity independently, from the shapes of the ``MatMul`` / ``BatchMatMulV2`` /
``Conv2D`` / ``Einsum`` operations TensorFlow actually traced. Only NumPy is imported at module
level; TensorFlow is imported inside :func:`graph_flops`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from course_utils._checks import finite_array, non_negative_int, positive_int, positive_number

__all__ = [
    "attention_params",
    "batch_norm_params",
    "bert_encoder_flops",
    "bert_encoder_params",
    "best_time",
    "conv2d_flops",
    "conv2d_params",
    "dense_flops",
    "dense_params",
    "embedding_params",
    "fit_power_law",
    "fit_saturating_power_law",
    "gpt_activation_bytes",
    "gpt_forward_flops",
    "gpt_non_embedding_params",
    "graph_flops",
    "layer_norm_params",
    "lstm_flops",
    "lstm_params",
    "matmul_flops",
    "train_language_model",
    "training_flops",
    "training_memory_bytes",
    "training_seconds",
    "transformer_encoder_flops",
    "transformer_encoder_params",
]


def _kernel_size(kernel_size) -> tuple[int, int]:
    if isinstance(kernel_size, (int, np.integer)) and not isinstance(kernel_size, bool):
        kernel_size = (kernel_size, kernel_size)
    if not isinstance(kernel_size, (tuple, list)) or len(kernel_size) != 2:
        raise ValueError(f"kernel_size must be a positive integer or a pair of them, got {kernel_size!r}")
    return positive_int("kernel height", kernel_size[0]), positive_int("kernel width", kernel_size[1])


# --------------------------------------------------------------------------- parameters and FLOPs by layer


def matmul_flops(m: int, k: int, n: int) -> int:
    """FLOPs of an (m, k) @ (k, n) matrix product: ``2 m k n`` (m·n outputs, k multiply-adds each).

    Explained in notebooks/11_compute_and_scale.ipynb.
    """
    return 2 * positive_int("m", m) * positive_int("k", k) * positive_int("n", n)


def dense_params(input_dim: int, units: int, use_bias: bool = True) -> int:
    """Parameters of ``keras.layers.Dense(units)`` on ``input_dim`` features: ``input_dim·units (+ units)``.

    Explained in notebooks/11_compute_and_scale.ipynb.
    """
    input_dim, units = positive_int("input_dim", input_dim), positive_int("units", units)
    return input_dim * units + (units if use_bias else 0)


def dense_flops(input_dim: int, units: int, positions: int = 1) -> int:
    """Forward FLOPs of a Dense layer applied at ``positions`` positions (e.g. tokens): ``2·input_dim·units`` each.

    Explained in notebooks/11_compute_and_scale.ipynb.
    """
    return positive_int("positions", positions) * matmul_flops(1, input_dim, units)


def conv2d_params(in_channels: int, filters: int, kernel_size, use_bias: bool = True) -> int:
    """Parameters of ``keras.layers.Conv2D(filters, kernel_size)``: ``kh·kw·in_channels·filters (+ filters)``.

    Explained in notebooks/11_compute_and_scale.ipynb.
    """
    kh, kw = _kernel_size(kernel_size)
    in_channels, filters = positive_int("in_channels", in_channels), positive_int("filters", filters)
    return kh * kw * in_channels * filters + (filters if use_bias else 0)


def conv2d_flops(in_channels: int, filters: int, kernel_size, output_height: int, output_width: int) -> int:
    """Forward FLOPs of a 2-D convolution for one image: every output value (``output_height·output_width·filters``
    of them) is a dot product of length ``kh·kw·in_channels``, so ``2·oh·ow·filters·kh·kw·in_channels``.

    Explained in notebooks/11_compute_and_scale.ipynb.
    """
    kh, kw = _kernel_size(kernel_size)
    outputs = positive_int("output_height", output_height) * positive_int("output_width", output_width)
    return 2 * outputs * positive_int("filters", filters) * kh * kw * positive_int("in_channels", in_channels)


def embedding_params(vocabulary_size: int, dim: int) -> int:
    """Parameters of ``keras.layers.Embedding(vocabulary_size, dim)``: one row per id. Its forward pass is a
    lookup, 0 FLOPs. Explained in notebooks/11_compute_and_scale.ipynb.
    """
    return positive_int("vocabulary_size", vocabulary_size) * positive_int("dim", dim)


def batch_norm_params(channels: int) -> int:
    """Parameters of ``BatchNormalization`` over ``channels``: γ, β (trained) and the moving mean and variance
    (not trained, but counted by ``count_params``), ``4·channels``. Explained in notebooks/11_compute_and_scale.ipynb.
    """
    return 4 * positive_int("channels", channels)


def layer_norm_params(dim: int) -> int:
    """Parameters of ``LayerNormalization`` over ``dim`` features: γ and β, ``2·dim``.

    Explained in notebooks/11_compute_and_scale.ipynb.
    """
    return 2 * positive_int("dim", dim)


def lstm_params(input_dim: int, units: int) -> int:
    """Parameters of ``keras.layers.LSTM(units)`` on ``input_dim`` features: four gates, each with an input
    kernel, a recurrent kernel and a bias, ``4·(units·(input_dim + units) + units)``.

    Explained in notebooks/11_compute_and_scale.ipynb.
    """
    input_dim, units = positive_int("input_dim", input_dim), positive_int("units", units)
    return 4 * (units * (input_dim + units) + units)


def lstm_flops(input_dim: int, units: int, steps: int = 1) -> int:
    """Forward FLOPs of an LSTM over ``steps`` time steps: per step ``x W`` and ``h U`` for four gates,
    ``2·4·units·(input_dim + units)`` (the gates' element-wise products are not counted).

    Explained in notebooks/11_compute_and_scale.ipynb.
    """
    input_dim, units = positive_int("input_dim", input_dim), positive_int("units", units)
    return positive_int("steps", steps) * 2 * 4 * units * (input_dim + units)


def attention_params(hidden_dim: int, num_heads: int, key_dim: int | None = None) -> int:
    """Parameters of ``keras.layers.MultiHeadAttention(num_heads, key_dim)`` with query, key and value of
    ``hidden_dim`` features and output back to ``hidden_dim``: three input projections
    ``hidden_dim → num_heads·key_dim`` and one output projection, all with biases. ``key_dim``
    defaults to ``hidden_dim // num_heads`` (then it is ``4·H² + 4·H``).

    Explained in notebooks/11_compute_and_scale.ipynb.
    """
    hidden_dim, num_heads = positive_int("hidden_dim", hidden_dim), positive_int("num_heads", num_heads)
    if key_dim is None:
        if hidden_dim % num_heads:
            raise ValueError(f"hidden_dim ({hidden_dim}) must be divisible by num_heads ({num_heads})")
        key_dim = hidden_dim // num_heads
    inner = num_heads * positive_int("key_dim", key_dim)
    return 3 * (hidden_dim * inner + inner) + inner * hidden_dim + hidden_dim


def transformer_encoder_params(hidden_dim: int, intermediate_dim: int, num_heads: int) -> int:
    """Parameters of one Transformer encoder block (``keras_hub.layers.TransformerEncoder``): self-attention,
    two LayerNorms and the feed-forward network ``H → F → H`` with biases.

    Explained in notebooks/11_compute_and_scale.ipynb.
    """
    hidden_dim, intermediate_dim = (
        positive_int("hidden_dim", hidden_dim),
        positive_int("intermediate_dim", intermediate_dim),
    )
    feed_forward = dense_params(hidden_dim, intermediate_dim) + dense_params(intermediate_dim, hidden_dim)
    return attention_params(hidden_dim, num_heads) + 2 * layer_norm_params(hidden_dim) + feed_forward


def transformer_encoder_flops(hidden_dim: int, intermediate_dim: int, sequence_length: int) -> int:
    """Forward FLOPs of one encoder block over one sequence of ``L`` tokens (``H`` = hidden_dim,
    ``F`` = intermediate_dim): the four projections ``8·L·H²``, the scores ``Q Kᵀ`` and the weighted
    values ``A V`` ``2·2·L²·H`` (whatever the number of heads, when ``key_dim = H / heads``), and the
    feed-forward network ``4·L·H·F``. Explained in notebooks/11_compute_and_scale.ipynb.
    """
    H = positive_int("hidden_dim", hidden_dim)
    F = positive_int("intermediate_dim", intermediate_dim)
    L = positive_int("sequence_length", sequence_length)
    return 8 * L * H * H + 4 * L * L * H + 4 * L * H * F


def bert_encoder_params(
    vocabulary_size: int,
    num_layers: int,
    num_heads: int,
    hidden_dim: int,
    intermediate_dim: int,
    max_sequence_length: int,
    num_segments: int = 2,
) -> int:
    """Parameters of :func:`course_utils.bert.build_bert_encoder` with the same arguments: token, position
    and segment embeddings and their LayerNorm, ``num_layers`` encoder blocks and the pooler
    ``Dense(H)``. Accepts ``**convert.bert_sizes_from_config(...)``.

    Explained in notebooks/11_compute_and_scale.ipynb.
    """
    H = positive_int("hidden_dim", hidden_dim)
    embeddings = sum(
        embedding_params(size, H)
        for size in (vocabulary_size, max_sequence_length, num_segments)  # validated by embedding_params
    )
    blocks = positive_int("num_layers", num_layers) * transformer_encoder_params(H, intermediate_dim, num_heads)
    return embeddings + layer_norm_params(H) + blocks + dense_params(H, H)


def bert_encoder_flops(
    sequence_length: int,
    num_layers: int,
    hidden_dim: int,
    intermediate_dim: int,
    max_sequence_length: int | None = None,
    **other_sizes,
) -> int:
    """Forward FLOPs of a BERT encoder for one sequence of ``sequence_length`` tokens: ``num_layers`` encoder
    blocks plus the pooler on the [CLS] vector (``2·H²``); the embeddings are lookups (0 FLOPs).
    Extra size arguments (``vocabulary_size``, ``num_heads``, ``num_segments``) are accepted and
    do not change the count, so ``**convert.bert_sizes_from_config(...)`` can be passed.

    Explained in notebooks/11_compute_and_scale.ipynb.
    """
    unknown = set(other_sizes) - {"vocabulary_size", "num_heads", "num_segments"}
    if unknown:
        raise ValueError(f"unexpected size arguments {sorted(unknown)}")
    sequence_length = positive_int("sequence_length", sequence_length)
    if max_sequence_length is not None and sequence_length > positive_int("max_sequence_length", max_sequence_length):
        raise ValueError(f"sequence_length {sequence_length} exceeds max_sequence_length {max_sequence_length}")
    block = transformer_encoder_flops(hidden_dim, intermediate_dim, sequence_length)
    return positive_int("num_layers", num_layers) * block + matmul_flops(1, hidden_dim, hidden_dim)


# --------------------------------------------------------------------------- an independent count from the graph


def _einsum_macs(equation: str, input_shapes: Sequence[Sequence[int]]) -> int:
    if "..." in equation or "->" not in equation:
        raise ValueError(f"only explicit einsum equations without '...' are supported, got {equation!r}")
    operands = equation.split("->")[0].split(",")
    sizes: dict[str, int] = {}
    for letters, shape in zip(operands, input_shapes, strict=True):
        for letter, size in zip(letters, shape, strict=True):
            sizes[letter] = size
    return int(np.prod(list(sizes.values()), dtype=np.int64))  # every combination of indices is one multiply-add


def graph_flops(function: Callable, *input_signature, by_type: bool = False):
    """Forward FLOPs (2 per multiply-add) of ``function`` traced by ``tf.function`` for ``input_signature``
    (``tf.TensorSpec`` objects or nests of them, with fully known shapes), counted from the graph:
    every ``MatMul``, ``BatchMatMulV2``/``V3``, ``Conv2D`` and ``Einsum`` operation, from the
    shapes of its inputs and output. Nothing else is counted (the same convention as the
    formulas of this module). Loops (``While``) and nested function calls are not looked into, so
    a recurrent layer must be unrolled (``unroll=True``); they raise ``ValueError``. With
    ``by_type=True`` returns ``{op_type: flops}`` instead of the total.

    Explained in notebooks/11_compute_and_scale.ipynb.
    """
    if not callable(function):
        raise ValueError(f"function must be callable, got {function!r}")
    if not input_signature:
        raise ValueError("give at least one input signature (a tf.TensorSpec or a nest of them)")
    import tensorflow as tf

    for spec in tf.nest.flatten(input_signature):
        if not isinstance(spec, tf.TensorSpec) or not spec.shape.is_fully_defined():
            raise ValueError(f"every input must be a tf.TensorSpec with a fully known shape, got {spec!r}")
    graph = tf.function(function).get_concrete_function(*input_signature).graph
    totals: dict[str, int] = {}
    for operation in graph.get_operations():
        kind = operation.type
        if kind in ("While", "StatelessWhile", "PartitionedCall", "StatefulPartitionedCall", "If", "StatelessIf"):
            raise ValueError(f"the graph holds a {kind} operation whose body is not counted (unroll loops)")
        if kind not in ("MatMul", "BatchMatMulV2", "BatchMatMulV3", "Conv2D", "Einsum"):
            continue
        shapes = [tuple(tensor.shape) for tensor in operation.inputs]
        output = tuple(operation.outputs[0].shape)
        if any(size is None for shape in [*shapes, output] for size in shape):
            raise ValueError(f"{operation.name} has an unknown shape: inputs {shapes}, output {output}")
        if kind == "Einsum":
            macs = _einsum_macs(operation.get_attr("equation").decode(), shapes)
        elif kind == "Conv2D":
            if operation.get_attr("data_format") != b"NHWC":
                raise ValueError(f"{operation.name}: only NHWC convolutions are supported")
            kernel_height, kernel_width, in_channels, _ = shapes[1]
            macs = int(np.prod(output, dtype=np.int64)) * kernel_height * kernel_width * in_channels
        else:  # MatMul / BatchMatMul: every output value is a dot product along the contracted axis
            transposed = operation.get_attr("transpose_a" if kind == "MatMul" else "adj_x")
            contracted = shapes[0][-2] if transposed else shapes[0][-1]
            macs = int(np.prod(output, dtype=np.int64)) * contracted
        totals[kind] = totals.get(kind, 0) + 2 * int(macs)
    return totals if by_type else sum(totals.values())


# --------------------------------------------------------------------------- time and training compute


def best_time(function: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    """The shortest wall time in seconds of ``repeats`` calls of ``function()`` after ``warmup`` untimed calls.

    The minimum is the least disturbed run (other processes can only slow a run down), so it is
    the usual estimate of what the hardware does. ``function`` must finish its work before
    returning (call ``.numpy()`` on TensorFlow results). Explained in notebooks/11_compute_and_scale.ipynb.
    """
    if not callable(function):
        raise ValueError(f"function must be callable, got {function!r}")
    repeats = positive_int("repeats", repeats)
    non_negative_int("warmup", warmup)
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def training_flops(parameters: float, tokens: float) -> float:
    """Training compute of a dense model by the ``6·N·D`` rule: 2 FLOPs per parameter per token forward,
    4 backward (gradients with respect to activations and to weights). Explained in notebooks/11_compute_and_scale.ipynb.
    """
    return 6.0 * positive_number("parameters", parameters) * positive_number("tokens", tokens)


def training_seconds(total_flops: float, peak_flops_per_second: float, utilization: float = 1.0) -> float:
    """Seconds to compute ``total_flops`` on hardware with ``peak_flops_per_second`` used at ``utilization``
    (a fraction in (0, 1]). Explained in notebooks/11_compute_and_scale.ipynb.
    """
    total = positive_number("total_flops", total_flops)
    peak = positive_number("peak_flops_per_second", peak_flops_per_second)
    if not 0 < positive_number("utilization", utilization) <= 1:
        raise ValueError(f"utilization must be in (0, 1], got {utilization!r}")
    return total / (peak * utilization)


def fit_power_law(x, y) -> tuple[float, float]:
    """Least-squares fit of ``y = a · x**b`` on log-log axes (a straight line ``log y = log a + b log x``).

    Returns ``(a, b)``; for a loss that falls with size, ``b`` is negative and ``-b`` is the scaling
    exponent. Needs at least two distinct positive ``x`` and positive ``y``.
    Explained in notebooks/11_compute_and_scale.ipynb.
    """
    x = finite_array("x", x, allow_empty=True)
    y = finite_array("y", y, allow_empty=True)
    if x.ndim != 1 or x.shape != y.shape or len(x) < 2:
        raise ValueError(f"x and y must be 1-D arrays of the same length >= 2, got shapes {x.shape} and {y.shape}")
    if not (np.all(x > 0) and np.all(y > 0)):
        raise ValueError("x and y must be positive finite numbers")
    if len(np.unique(x)) < 2:
        raise ValueError("x needs at least two distinct values")
    slope, intercept = np.polyfit(np.log(x), np.log(y), 1)
    return float(np.exp(intercept)), float(slope)


def fit_saturating_power_law(x, y, exponents=None) -> tuple[float, float, float]:
    """Least-squares fit of ``y = E + A · x**(-alpha)`` (a power law that levels off at ``E``).

    For a fixed ``alpha`` the model is linear in ``(E, A)``, solved exactly by least squares; ``alpha``
    is chosen on a fine grid (``exponents``, default 0.005 … 2 in steps of 0.001) then refined by a
    golden-section search around the best grid point. Needs three or more distinct positive ``x``.
    Returns ``(E, A, alpha)``. Explained in notebooks/11_compute_and_scale.ipynb.
    """
    x = finite_array("x", x, allow_empty=True)
    y = finite_array("y", y, allow_empty=True)
    if x.ndim != 1 or x.shape != y.shape or len(x) < 3:
        raise ValueError(f"x and y must be 1-D arrays of the same length >= 3, got shapes {x.shape} and {y.shape}")
    if not np.all(x > 0) or len(np.unique(x)) < 3:
        raise ValueError("x needs at least three distinct positive values")
    scale = float(np.exp(np.mean(np.log(x))))  # fit in x / scale: well-conditioned powers

    def solve(alpha):
        design = np.stack([np.ones_like(x), (x / scale) ** -alpha], axis=1)
        (offset, amplitude), *_ = np.linalg.lstsq(design, y, rcond=None)
        return float(np.sum((design @ [offset, amplitude] - y) ** 2)), offset, amplitude

    grid = np.arange(0.005, 2.0005, 0.001) if exponents is None else finite_array("exponents", exponents)
    best = int(np.argmin([solve(alpha)[0] for alpha in grid]))
    low, high = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    golden = (np.sqrt(5) - 1) / 2
    for _ in range(60):
        a, b = high - golden * (high - low), low + golden * (high - low)
        if solve(a)[0] < solve(b)[0]:
            high = b
        else:
            low = a
    alpha = (low + high) / 2
    _, offset, amplitude = solve(alpha)
    return float(offset), float(amplitude * scale**alpha), float(alpha)


def gpt_non_embedding_params(d_model: int, num_layers: int) -> int:
    """Parameters of the course GPT's blocks and final LayerNorm, ``L (12 d² + 13 d) + 2 d``: Kaplan's N,
    which leaves out the token and position embeddings (and the tied output head adds none).
    Explained in notebooks/11_compute_and_scale.ipynb."""
    d, layers = positive_int("d_model", d_model), positive_int("num_layers", num_layers)
    return layers * (12 * d * d + 13 * d) + 2 * d


def gpt_forward_flops(vocabulary_size: int, context_length: int, d_model: int, num_layers: int) -> int:
    """Forward FLOPs of the course GPT over one full window of ``context_length`` tokens, every matrix
    product counted: per block the encoder-block count of :func:`transformer_encoder_flops` with the
    MLP's ``4 d`` (projections, the full ``T × T`` scores ``Q Kᵀ`` and ``A V``: the causal mask hides
    half of them but they are computed), plus the tied output head ``2 T d V``. The embeddings are
    lookups (0 FLOPs); LayerNorm, softmax and GELU are not counted (the module's convention).
    Training costs three times this (backward: gradients for activations and for weights).
    Explained in notebooks/11_compute_and_scale.ipynb."""
    d, layers = positive_int("d_model", d_model), positive_int("num_layers", num_layers)
    length = positive_int("context_length", context_length)
    blocks = layers * transformer_encoder_flops(d, 4 * d, length)
    return blocks + matmul_flops(length, d, positive_int("vocabulary_size", vocabulary_size))


def train_language_model(
    model, train_ids, heldout_ids, steps, batch_size=32, context=64, peak_learning_rate=3e-3, seed=0
) -> dict:
    """Train a next-character model on ``steps`` batches of random windows, then score held-out text.

    The recipe of the scaling-law sweep (notebook 11 and benchmarks/search/gpt_scaling_law.py):
    ``batch_size`` windows of ``context + 1`` characters at random offsets (NumPy, ``seed``), AdamW
    (weight decay 0.1, β₂ 0.99, global-norm clipping at 1) with a linear warm-up over the first tenth of
    the steps (at most 50) and a cosine decay to 10 % of ``peak_learning_rate``. The number of steps,
    not the clock, sets the budget, so a busy machine changes the time and not the result. Returns
    ``{"steps", "tokens", "train_loss", "heldout", "seconds"}``, ``heldout`` in nats per character
    over non-overlapping windows of ``context`` characters of ``heldout_ids``.
    """
    import keras

    steps = positive_int("steps", steps)
    batch_size, context = positive_int("batch_size", batch_size), positive_int("context", context)
    train_ids, heldout_ids = np.asarray(train_ids), np.asarray(heldout_ids)
    if train_ids.ndim != 1 or heldout_ids.ndim != 1 or min(len(train_ids), len(heldout_ids)) <= context + 1:
        raise ValueError("train_ids and heldout_ids must be 1-D id arrays longer than context + 1")
    rng = np.random.default_rng(seed)
    offsets = rng.integers(0, len(train_ids) - context - 1, size=steps * batch_size)
    windows = train_ids[offsets[:, None] + np.arange(context + 1)].astype("int32")
    warmup = min(50, max(1, steps // 10))
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, max(1, steps - warmup), alpha=0.1, warmup_target=positive_number("peak_learning_rate", peak_learning_rate),
        warmup_steps=warmup,
    )  # fmt: skip
    optimizer = keras.optimizers.AdamW(schedule, weight_decay=0.1, beta_2=0.99, global_clipnorm=1.0)
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    started = time.perf_counter()
    history = model.fit(windows[:, :-1], windows[:, 1:], batch_size=batch_size, shuffle=False, verbose=0)
    seconds = time.perf_counter() - started
    count = len(heldout_ids) // (context + 1)
    heldout = heldout_ids[: count * (context + 1)].reshape(count, context + 1).astype("int32")
    nats = float(model.evaluate(heldout[:, :-1], heldout[:, 1:], batch_size=256, verbose=0))
    return {
        "steps": steps,
        "tokens": steps * batch_size * context,
        "train_loss": float(history.history["loss"][-1]),
        "heldout": nats,
        "seconds": seconds,
    }


# --------------------------------------------------------------------------- memory


def training_memory_bytes(parameters: float, mixed_precision: bool = True) -> dict:
    """Bytes of the per-parameter state of training with Adam, by part (activations not included).

    Mixed precision (16-bit compute, as in the ZeRO paper): 16-bit weights (2 bytes) and gradients (2),
    plus a float32 master copy of the weights (4) and Adam's two float32 moments (4 + 4): 16 bytes per
    parameter. Plain float32: weights, gradients and the two moments, 4 bytes each: also 16.
    Explained in notebooks/11_compute_and_scale.ipynb.
    """
    n = positive_number("parameters", parameters)
    if mixed_precision:
        return {"weights": 2 * n, "gradients": 2 * n, "master weights": 4 * n, "Adam m": 4 * n, "Adam v": 4 * n}
    return {"weights": 4 * n, "gradients": 4 * n, "Adam m": 4 * n, "Adam v": 4 * n}


def gpt_activation_bytes(
    batch_size: int,
    context_length: int,
    d_model: int,
    num_layers: int,
    num_heads: int,
    vocabulary_size: int,
    bytes_per_value: int = 4,
) -> float:
    """Activations the course GPT keeps for its backward pass, by counting the tensors each layer saves.

    Per block and token: the LayerNorms' inputs and outputs (``4d``), the query/key/value (``3d``), the
    merged heads before the output projection (``d``), the MLP's pre-activation and GELU output
    (``4d + 4d``): ``16 d`` values; and per head a row of ``T`` attention scores three times (the scaled
    scores, the masked scores, the softmax): ``3 H T``. After the blocks: the final LayerNorm (``2d``)
    and the logits with their softmax and its gradient (``3 V``). Times ``batch · T`` tokens and
    ``bytes_per_value``. Explained in notebooks/11_compute_and_scale.ipynb.
    """
    b, t = positive_int("batch_size", batch_size), positive_int("context_length", context_length)
    d, layers = positive_int("d_model", d_model), positive_int("num_layers", num_layers)
    heads, vocabulary = positive_int("num_heads", num_heads), positive_int("vocabulary_size", vocabulary_size)
    per_token = layers * (16 * d + 3 * heads * t) + 2 * d + 3 * vocabulary
    return float(b * t * per_token * positive_int("bytes_per_value", bytes_per_value))
