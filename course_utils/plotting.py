"""Plots the notebooks share: training curves, image grids, confusion matrices.

Explained in notebooks/00_setup.ipynb; used from notebooks/01_forward_backward.ipynb on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["confusion_matrix", "plot_confusion_matrix", "plot_history", "plot_trajectories", "show_images"]


def _history_dict(history) -> dict[str, list[float]]:
    values = getattr(history, "history", history)
    if not isinstance(values, Mapping) or not values:
        raise ValueError("history must be a keras History or a non-empty dict of metric name -> list of values")
    lengths = {len(v) for v in values.values()}
    if len(lengths) != 1:
        raise ValueError(f"every metric in history must have one value per epoch; got lengths {sorted(lengths)}")
    return {str(k): [float(x) for x in v] for k, v in values.items()}


def plot_history(history, metrics: Sequence[str] | None = None, title: str = ""):
    """Training curves: one panel per metric, training and ``val_`` curves together.

    ``history`` is what ``model.fit`` returns (or its ``.history`` dict). ``metrics`` defaults to
    every metric without a ``val_`` prefix. Returns the matplotlib Figure.
    Explained in notebooks/00_setup.ipynb.
    """
    import matplotlib.pyplot as plt

    values = _history_dict(history)
    if metrics is None:
        metrics = [name for name in values if not name.startswith("val_")]
    unknown = [name for name in metrics if name not in values]
    if unknown or not metrics:
        raise ValueError(f"metrics {unknown or metrics} not in history; available: {sorted(values)}")
    figure, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.2), squeeze=False)
    for axis, name in zip(axes[0], metrics, strict=True):
        epochs = np.arange(1, len(values[name]) + 1)
        axis.plot(epochs, values[name], marker="o", label="train")
        if f"val_{name}" in values:
            axis.plot(epochs, values[f"val_{name}"], marker="o", label="validation")
        axis.set_xlabel("epoch")
        axis.set_title(name)
        axis.grid(alpha=0.3)
        axis.legend()
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def show_images(images, labels=None, columns: int = 10, cmap: str = "gray", size: float = 1.2):
    """A grid of images (N, H, W) or (N, H, W, C) with optional titles. Returns the Figure."""
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    if images.ndim not in (3, 4) or len(images) == 0:
        raise ValueError(f"images must have shape (N, H, W) or (N, H, W, C) with N > 0, got {images.shape}")
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"got {len(labels)} labels for {len(images)} images")
    if not isinstance(columns, int) or columns < 1:
        raise ValueError(f"columns must be a positive integer, got {columns!r}")
    columns = min(columns, len(images))
    rows = -(-len(images) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows * 1.15), squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index < len(images):
            image = images[index]
            axis.imshow(image.squeeze(-1) if image.ndim == 3 and image.shape[-1] == 1 else image, cmap=cmap)
            if labels is not None:
                axis.set_title(str(labels[index]), fontsize=8)
    figure.tight_layout()
    return figure


def confusion_matrix(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """Counts ``C[i, j]`` of examples of true class ``i`` predicted as ``j`` (integer labels)."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D of equal length, got {y_true.shape} and {y_pred.shape}")
    if not (np.issubdtype(y_true.dtype, np.integer) and np.issubdtype(y_pred.dtype, np.integer)):
        raise ValueError("y_true and y_pred must hold integer class labels")
    if num_classes is None:
        num_classes = int(max(y_true.max(initial=0), y_pred.max(initial=0))) + 1
    if (
        min(y_true.min(initial=0), y_pred.min(initial=0)) < 0
        or max(y_true.max(initial=0), y_pred.max(initial=0)) >= num_classes
    ):
        raise ValueError(f"labels must lie in [0, {num_classes})")
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def plot_confusion_matrix(counts, class_names: Sequence[str] | None = None, normalize: bool = False):
    """Heatmap of a confusion matrix with the count (or row fraction) in each cell. Returns the Figure."""
    import matplotlib.pyplot as plt

    counts = np.asarray(counts)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"counts must be a square matrix, got shape {counts.shape}")
    if class_names is not None and len(class_names) != counts.shape[0]:
        raise ValueError(f"got {len(class_names)} class names for {counts.shape[0]} classes")
    shown = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalize else counts
    size = max(4.0, 0.45 * counts.shape[0] + 2)
    figure, axis = plt.subplots(figsize=(size, size))
    axis.imshow(shown, cmap="Blues")
    names = class_names if class_names is not None else [str(i) for i in range(counts.shape[0])]
    axis.set_xticks(range(len(names)), names, rotation=45 if max(map(len, names)) > 2 else 0)
    axis.set_yticks(range(len(names)), names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    threshold = shown.max() / 2 if shown.size else 0
    for (row, column), value in np.ndenumerate(shown):
        text = f"{value:.2f}" if normalize else str(int(value))
        axis.text(
            column, row, text, ha="center", va="center", fontsize=7, color="white" if value > threshold else "black"
        )
    figure.tight_layout()
    return figure


def plot_trajectories(surfaces: Mapping[str, Mapping], paths: Mapping[tuple[str, str], np.ndarray]):
    """Optimizer paths on 2-D loss surfaces: one panel per surface. Returns the Figure.

    ``surfaces[name]`` needs ``"loss"`` (a function of points of shape (..., 2)), ``"box"``
    ``(x_min, x_max, y_min, y_max)``, ``"minimum"`` (a point) and ``"steps"``; ``paths[(surface,
    optimizer)]`` is the (steps + 1, 2) array of visited points. Each panel shows log-loss contours,
    every path (with dots when the steps can be told apart), a big dot where it ended and a star at
    the minimum. Used in notebooks/03_optimizers.ipynb.
    """
    import matplotlib.pyplot as plt

    if not surfaces:
        raise ValueError("surfaces must name at least one loss surface")
    for key in paths:
        if not (isinstance(key, tuple) and len(key) == 2 and key[0] in surfaces):
            raise ValueError(
                f"paths keys must be (surface, optimizer) with a surface in {sorted(surfaces)}, got {key!r}"
            )
        if np.asarray(paths[key]).ndim != 2 or np.asarray(paths[key]).shape[1] != 2:
            raise ValueError(f"path {key} must have shape (steps + 1, 2), got {np.asarray(paths[key]).shape}")
    figure, axes = plt.subplots(1, len(surfaces), figsize=(4.25 * len(surfaces), 3.2), squeeze=False)
    for axis, (surface_name, surface) in zip(axes[0], surfaces.items(), strict=True):
        x_min, x_max, y_min, y_max = surface["box"]
        grid_x, grid_y = np.meshgrid(np.linspace(x_min, x_max, 100), np.linspace(y_min, y_max, 100))
        grid_loss = surface["loss"](np.stack([grid_x, grid_y], axis=-1))
        axis.contour(grid_x, grid_y, np.log10(grid_loss + 1e-3), levels=10, colors="0.65", linewidths=0.5)
        for (name_of_surface, name), path in paths.items():
            if name_of_surface != surface_name:
                continue
            path = np.asarray(path)
            marker = "." if len(path) < 100 else None  # dots only where the steps can be told apart
            line = axis.plot(path[:, 0], path[:, 1], marker=marker, markersize=2, linewidth=1, label=name)[0]
            axis.plot(*path[-1], "o", color=line.get_color(), markersize=6, markeredgecolor="white")  # the end
        axis.plot(*surface["minimum"], marker="*", color="black", markersize=10)
        axis.set_xlim(x_min, x_max)
        axis.set_ylim(y_min, y_max)
        axis.set_title(f"{surface_name}, {surface['steps']} steps")
    axes[0][0].legend(fontsize=8)
    figure.tight_layout()
    return figure
