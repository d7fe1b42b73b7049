"""Data-parallel training on several processes or machines with ``tf.distribute.MultiWorkerMirroredStrategy``.

Explained in notebooks/11_compute_and_scale.ipynb. Every worker is a separate Python process holding a
copy of the same tiny MNIST classifier (784 → 32 → 10). Each step, the global batch of ``batch_size``
images is split into one contiguous share per worker; each worker computes the gradient of its
share's summed loss divided by the **global** batch size, the strategy **all-reduces** (sums) the
gradients over the network (gRPC between the processes), and every worker applies the same SGD
update, so the copies stay identical and equal to one process training on the whole batch.

Who is who comes from the ``TF_CONFIG`` environment variable, the same on every machine except for
``task.index``::

    TF_CONFIG='{"cluster": {"worker": ["10.0.0.1:12345", "10.0.0.2:12345"]}, "task": {"type": "worker", "index": 0}}'

From the command line (each machine runs the same command with its own ``--index``)::

    python -m course_utils.multiworker --cluster 10.0.0.1:12345,10.0.0.2:12345 --index 0 --output w0.npz
    python -m course_utils.multiworker --cluster 10.0.0.1:12345,10.0.0.2:12345 --index 1 --output w1.npz

or, on one machine, two workers on 127.0.0.1 and a comparison with a single-process run::

    python -m course_utils.multiworker --local 2

A worker that never starts leaves the others waiting at their first collective operation;
:func:`run_local_cluster` therefore waits at most ``timeout`` seconds, then kills every worker it
started and raises ``TimeoutError`` saying which workers did not finish.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from course_utils._checks import positive_int, positive_number

__all__ = ["free_ports", "run_local_cluster", "tf_config", "train", "worker_main"]

HIDDEN_UNITS = 32
LEARNING_RATE = 0.1


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct TCP ports that are free on ``host`` now (the operating system picks them:
    bind to port 0). They are released before returning, so another program could take one in the
    meantime; the launcher then fails with a clear error instead of hanging."""
    sockets = []
    try:
        for _ in range(positive_int("count", count)):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def tf_config(workers: list[str], index: int) -> dict:
    """The ``TF_CONFIG`` of worker ``index`` in a cluster of ``workers`` (``"host:port"`` strings)."""
    if not workers or not all(isinstance(w, str) and w.rpartition(":")[2].isdigit() for w in workers):
        raise ValueError(f"workers must be a non-empty list of 'host:port' strings, got {workers!r}")
    if not isinstance(index, int) or not 0 <= index < len(workers):
        raise ValueError(f"index must be an integer in [0, {len(workers)}), got {index!r}")
    return {"cluster": {"worker": list(workers)}, "task": {"type": "worker", "index": index}}


def _mnist(count: int):
    from course_utils import data

    (images, labels), _ = data.load_mnist(verbose=False)
    return (images[:count].reshape(count, -1) / 255.0).astype("float32"), labels[:count].astype("int32")


def train(strategy=None, steps: int = 5, batch_size: int = 64, seed: int = 0) -> tuple[list[np.ndarray], list[float]]:
    """Train the tiny classifier for ``steps`` SGD steps of a global batch of ``batch_size`` MNIST images
    under ``strategy`` (default: no strategy, one process, the whole batch). Each worker takes its
    contiguous share of every global batch. Returns ``(weights, losses)``: the final weights as NumPy
    arrays and the global mean loss of every step."""
    import keras
    import tensorflow as tf

    strategy = strategy or tf.distribute.get_strategy()
    steps, batch_size = positive_int("steps", steps), positive_int("batch_size", batch_size)
    workers = strategy.extended._num_workers if hasattr(strategy.extended, "_num_workers") else 1
    index = strategy.cluster_resolver.task_id if getattr(strategy, "cluster_resolver", None) else 0
    if batch_size % workers:
        raise ValueError(f"batch_size ({batch_size}) must be divisible by the number of workers ({workers})")
    share = batch_size // workers
    images, labels = _mnist(steps * batch_size)
    keras.utils.set_random_seed(seed)  # the same initial weights in every process
    with strategy.scope():
        model = keras.Sequential(
            [keras.Input((784,)), keras.layers.Dense(HIDDEN_UNITS, activation="relu"), keras.layers.Dense(10)]
        )
        optimizer = keras.optimizers.SGD(LEARNING_RATE)
    per_example_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)

    def replica_step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.nn.compute_average_loss(per_example_loss(y, model(x)), global_batch_size=batch_size)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(
            zip(gradients, model.trainable_variables, strict=True)
        )  # all-reduces (sums) them first
        return loss

    @tf.function
    def step(x, y):
        return strategy.reduce("SUM", strategy.run(replica_step, args=(x, y)), axis=None)

    losses = []
    for s in range(steps):
        rows = slice(s * batch_size + index * share, s * batch_size + (index + 1) * share)
        losses.append(float(step(images[rows], labels[rows])))
    return [w.numpy() if hasattr(w, "numpy") else np.asarray(w) for w in model.get_weights()], losses


def worker_main(output: str | os.PathLike, steps: int = 5, batch_size: int = 64, seed: int = 0) -> None:
    """Run one worker of the cluster described by ``TF_CONFIG`` and save its weights and losses to ``output``."""
    import tensorflow as tf

    if "TF_CONFIG" not in os.environ:
        raise ValueError("TF_CONFIG is not set: give --cluster and --index, or set TF_CONFIG")
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    weights, losses = train(strategy, steps, batch_size, seed)
    arrays = {f"weight_{i}": w for i, w in enumerate(weights)}
    np.savez(output, losses=np.array(losses), **arrays)


def _load(path: Path) -> tuple[list[np.ndarray], list[float]]:
    with np.load(path) as saved:
        count = sum(name.startswith("weight_") for name in saved.files)
        return [saved[f"weight_{i}"] for i in range(count)], saved["losses"].tolist()


def _tail(path: Path, lines: int = 8) -> str:
    text = path.read_text(errors="replace").strip().splitlines() if path.exists() else []
    return "\n".join(f"    {line}" for line in text[-lines:]) or "    (nothing)"


def run_local_cluster(
    num_workers: int = 2, steps: int = 5, batch_size: int = 64, seed: int = 0, timeout: float = 180, start=None
) -> list[tuple[list[np.ndarray], list[float]]]:
    """Start ``num_workers`` worker processes on 127.0.0.1 (free ports, one ``TF_CONFIG`` each), wait for
    them at most ``timeout`` seconds, and return every worker's ``(weights, losses)``.

    ``start`` lists the worker indices to actually start (default: all); leaving one out shows the
    failure mode of a machine that never comes up. Whatever happens, every process started here is
    killed before the function returns. Raises ``TimeoutError`` (workers still running at the deadline)
    or ``RuntimeError`` (a worker failed), with the end of the workers' error output.
    """
    num_workers = positive_int("num_workers", num_workers)
    timeout = positive_number("timeout", timeout)
    start = list(range(num_workers)) if start is None else list(start)
    if not start or any(not isinstance(i, int) or not 0 <= i < num_workers for i in start):
        raise ValueError(f"start must list worker indices in [0, {num_workers}), got {start!r}")
    addresses = [f"127.0.0.1:{port}" for port in free_ports(num_workers)]
    package_root = str(Path(__file__).resolve().parents[1])
    processes: dict[int, subprocess.Popen] = {}
    with tempfile.TemporaryDirectory(prefix="multiworker-") as folder:
        folder = Path(folder)
        try:
            for index in start:
                env = {
                    **os.environ,
                    "TF_CONFIG": json.dumps(tf_config(addresses, index)),
                    "TF_CPP_MIN_LOG_LEVEL": "2",
                    "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
                }
                command = [sys.executable, "-m", "course_utils.multiworker", "--output", str(folder / f"w{index}.npz")]
                command += ["--steps", str(steps), "--batch-size", str(batch_size), "--seed", str(seed)]
                with open(folder / f"w{index}.log", "w") as log:
                    processes[index] = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + timeout
            while any(p.poll() is None for p in processes.values()):
                failed = [i for i, p in processes.items() if p.poll() not in (None, 0)]
                if failed:
                    raise RuntimeError(
                        f"worker {failed[0]} exited with code {processes[failed[0]].returncode}; its last lines:\n"
                        + _tail(folder / f"w{failed[0]}.log")
                    )
                if time.monotonic() > deadline:
                    pending = [i for i, p in processes.items() if p.poll() is None]
                    missing = sorted(set(range(num_workers)) - set(start))
                    reason = f" (worker {missing} was never started)" if missing else ""
                    raise TimeoutError(
                        f"worker(s) {pending} did not finish within {timeout:g} s{reason}: a worker waits at its "
                        "first all-reduce until every worker of TF_CONFIG's cluster has joined. Check that every "
                        "worker was started with the same cluster list and its own index, and that the ports are "
                        f"reachable. Last lines of worker {pending[0]}:\n" + _tail(folder / f"w{pending[0]}.log")
                    )
                time.sleep(0.2)
            failed = [i for i, p in processes.items() if p.returncode != 0]
            if failed:
                raise RuntimeError(
                    f"worker {failed[0]} exited with code {processes[failed[0]].returncode}; its last lines:\n"
                    + _tail(folder / f"w{failed[0]}.log")
                )
            return [_load(folder / f"w{index}.npz") for index in start]
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.kill()
                process.wait()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils.multiworker", description=__doc__.splitlines()[0])
    parser.add_argument("--cluster", help="comma-separated host:port of every worker (else TF_CONFIG is used)")
    parser.add_argument("--index", type=int, help="this worker's position in --cluster")
    parser.add_argument("--output", help="where this worker saves its weights (.npz)")
    parser.add_argument("--local", type=int, metavar="N", help="start N workers on 127.0.0.1 and compare")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=180)
    args = parser.parse_args(argv)
    if args.local:
        results = run_local_cluster(args.local, args.steps, args.batch_size, args.seed, args.timeout)
        reference, reference_losses = train(None, args.steps, args.batch_size, args.seed)
        for index, (weights, losses) in enumerate(results):
            difference = max(float(np.abs(a - b).max()) for a, b in zip(weights, reference, strict=True))
            print(f"worker {index}: losses {np.round(losses, 4).tolist()}, max |Δ| vs one process = {difference:.1e}")
        print(f"one process: losses {np.round(reference_losses, 4).tolist()}")
        return 0
    if args.cluster is not None:
        if args.index is None:
            parser.error("--cluster needs --index")
        os.environ["TF_CONFIG"] = json.dumps(tf_config(args.cluster.split(","), args.index))
    if not args.output:
        parser.error("a worker needs --output")
    worker_main(args.output, args.steps, args.batch_size, args.seed)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
