"""Model parallelism with the real tool: Keras 3's ``keras.distribution`` on the JAX backend.

Explained in notebooks/11_compute_and_scale.ipynb, which splits the course GPT by hand first
(:class:`course_utils.parallel.TensorParallelGPT`, Megatron-style with ``tf.device``). Here the same
split is *declared* and the JAX compiler (XLA's GSPMD partitioner) writes the communication:

- a ``DeviceMesh`` of shape ``(1, 2)`` with axes ``("batch", "model")`` over two devices;
- a ``LayoutMap`` whose keys are regular expressions on the weights' paths (``qkv/kernel``,
  ``mlp_in/kernel``, ...): the first matrix of attention and of the MLP split by **columns**
  (``(None, "model")``, their biases with them), the second by **rows** (``("model", None)``);
  everything else (embeddings, LayerNorms, the biases added after the sum) is replicated;
- ``ModelParallel``: every variable created in its scope is placed by that map.

On a CPU, ``XLA_FLAGS=--xla_force_host_platform_device_count=2`` makes JAX see two devices (like the
two logical CPU devices of the lesson's TensorFlow process). The Keras backend is chosen once per
process, before Keras is imported, so this runs in its own process (the lesson keeps TensorFlow)::

    python -m course_utils.jax_parallel          # a report: where each weight lives, max |Δ|
    python -m course_utils.jax_parallel --json   # the same as one JSON object (what the lesson reads)

It builds the course GPT twice from the same initial weights, once sharded over the two devices and
once on a single device without any distribution, then compares the logits, the gradients of the
loss with respect to every weight, and the weights after a few AdamW steps of ``model.fit``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

__all__ = ["LAYOUT", "SIZES", "compare"]

SIZES = {"vocabulary_size": 74, "context_length": 64, "d_model": 32, "num_layers": 2, "num_heads": 2}
LAYOUT = {  # regular expression on a weight's path -> which axis of that weight is split over "model"
    r"(qkv|mlp_in)/kernel": (None, "model"),  # column split: each device computes its own columns
    r"(qkv|mlp_in)/bias": ("model",),  # the bias of those columns goes with them
    r"(proj|mlp_out)/kernel": ("model", None),  # row split: each device a full-size partial sum
}
DEVICE_COUNT_FLAG = "--xla_force_host_platform_device_count=2"


def _environment() -> None:
    """Select the JAX backend and two CPU devices; must run before Keras or JAX is imported."""
    backend = os.environ.setdefault("KERAS_BACKEND", "jax")
    if backend != "jax":
        raise SystemExit(f"course_utils.jax_parallel needs KERAS_BACKEND=jax, the environment says {backend!r}")
    if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + DEVICE_COUNT_FLAG).strip()


def _placement(variable) -> dict:
    """Where one variable lives: its sharding and, per device, the shape of the piece held there."""
    value = variable.value
    return {
        "shape": list(variable.shape),
        "spec": str(value.sharding.spec) if hasattr(value.sharding, "spec") else "single device",
        "shards": [[str(shard.device), list(shard.data.shape)] for shard in value.addressable_shards],
    }


def compare(steps: int = 3, batch_size: int = 8, seed: int = 0) -> dict:
    """Sharded vs single-device course GPT (``SIZES``): placement of the first block's weights, and max |Δ|
    of the logits, of every weight's gradient, and of the weights after ``steps`` AdamW steps."""
    import jax
    import keras
    import numpy as np
    from keras import distribution

    from course_utils import gpt
    from course_utils._checks import positive_int

    steps, batch_size = positive_int("steps", steps), positive_int("batch_size", batch_size)
    if keras.backend.backend() != "jax":
        raise RuntimeError(f"the Keras backend is {keras.backend.backend()!r}; run with KERAS_BACKEND=jax")
    devices = distribution.list_devices()
    if len(devices) < 2:
        raise RuntimeError(f"two devices are needed, JAX sees {devices}; set XLA_FLAGS={DEVICE_COUNT_FLAG}")
    mesh = distribution.DeviceMesh((1, 2), ["batch", "model"], devices=devices[:2])
    layout_map = distribution.LayoutMap(mesh)
    for pattern, axes in LAYOUT.items():
        layout_map[pattern] = axes
    model_parallel = distribution.ModelParallel(layout_map=layout_map, batch_dim_name="batch")

    rng = np.random.default_rng(seed)
    shape = (steps * batch_size, SIZES["context_length"])
    ids = rng.integers(0, SIZES["vocabulary_size"], shape).astype("int32")
    targets = rng.integers(0, SIZES["vocabulary_size"], shape).astype("int32")
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    # (no keras.utils.set_random_seed: it imports TensorFlow; the random start is shared by set_weights)
    single = gpt.GPT(**SIZES)  # no distribution: every weight whole, on the first device
    with model_parallel.scope():
        sharded = gpt.GPT(**SIZES)
    sharded.set_weights(single.get_weights())  # same starting point; assign keeps each variable's layout

    def logits_and_gradients(model):
        trainable = [v.value for v in model.trainable_variables]
        other = [v.value for v in model.non_trainable_variables]

        def loss(trainable_values):
            logits, _ = model.stateless_call(trainable_values, other, ids[:batch_size])
            return loss_fn(targets[:batch_size], logits), logits

        (_, logits), gradients = jax.jit(jax.value_and_grad(loss, has_aux=True))(trainable)  # one compiled program
        return np.asarray(logits), [np.asarray(g) for g in gradients], gradients

    single_logits, single_gradients, _ = logits_and_gradients(single)
    sharded_logits, sharded_gradients, raw_gradients = logits_and_gradients(sharded)
    gradient_shardings = {
        v.path: str(getattr(g.sharding, "spec", "single device"))
        for v, g in zip(sharded.trainable_variables, raw_gradients, strict=True)
        if v.path.startswith(("mlp_in/kernel", "mlp_out/kernel"))
    }

    def train(model, scope):
        with scope:
            optimizer = keras.optimizers.AdamW(1e-3, weight_decay=0.1)
            model.compile(optimizer=optimizer, loss=loss_fn)
            history = model.fit(ids, targets, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
        return [np.asarray(w) for w in model.get_weights()], history.history["loss"][-1]

    from contextlib import nullcontext

    initial_weights = [np.asarray(w) for w in single.get_weights()]
    single_weights, single_loss = train(single, nullcontext())
    sharded_weights, sharded_loss = train(sharded, model_parallel.scope())
    initial_change = max(float(np.abs(a - b).max()) for a, b in zip(single_weights, initial_weights, strict=True))

    first_block = sharded.blocks[0]
    return {
        "backend": keras.backend.backend(),
        "jax": jax.__version__,
        "keras": keras.__version__,
        "devices": [str(device) for device in jax.devices()],
        "mesh": {"shape": list(mesh.shape), "axis_names": list(mesh.axis_names)},
        "layout": {pattern: list(axes) for pattern, axes in LAYOUT.items()},
        "placement": {f"block0/{v.path}": _placement(v) for v in first_block.weights},
        "embedding": _placement(sharded.embedding.token_embeddings),
        "parameters_per_device": _parameters_per_device(sharded),
        "steps": steps,
        "batch_size": batch_size,
        "logits_max_abs_diff": float(np.abs(sharded_logits - single_logits).max()),
        "gradients_max_abs_diff": max(
            float(np.abs(a - b).max()) for a, b in zip(single_gradients, sharded_gradients, strict=True)
        ),
        "largest_gradient": max(float(np.abs(g).max()) for g in single_gradients),
        "gradient_shardings": gradient_shardings,
        "weights_after_training_max_abs_diff": max(
            float(np.abs(a - b).max()) for a, b in zip(single_weights, sharded_weights, strict=True)
        ),
        "training_moved_weights_by": initial_change,
        "loss_single": float(single_loss),
        "loss_sharded": float(sharded_loss),
    }


def _parameters_per_device(model) -> dict:
    counts: dict[str, int] = {}
    for variable in model.weights:
        for shard in variable.value.addressable_shards:
            counts[str(shard.device)] = counts.get(str(shard.device), 0) + int(shard.data.size)
    return counts


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3, help="AdamW steps of the training comparison")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a report")
    arguments = parser.parse_args(argv)
    _environment()
    result = compare(steps=arguments.steps)
    if arguments.json:
        print(json.dumps(result))
        return
    print(f"Keras {result['keras']} on {result['backend']} {result['jax']}, devices {result['devices']}")
    for name, where in result["placement"].items():
        pieces = ", ".join(f"{device} {tuple(shape)}" for device, shape in where["shards"])
        print(f"{name:<24} {tuple(where['shape'])!s:<10} {where['spec']:<28} {pieces}")
    print("parameters per device:", result["parameters_per_device"])
    for key in ("logits_max_abs_diff", "gradients_max_abs_diff", "weights_after_training_max_abs_diff"):
        print(f"{key}: {result[key]:.1e}")


if __name__ == "__main__":
    main(sys.argv[1:])
