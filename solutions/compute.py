"""Worked solutions to the exercises of notebooks/11_compute_and_scale.ipynb."""

from __future__ import annotations

import math

from course_utils import compute

bert_base_parameters = compute.bert_encoder_params(30522, 12, 12, 768, 3072, max_sequence_length=512)


def compute_optimal(flops):
    if not flops > 0:
        raise ValueError(f"flops must be a positive budget, got {flops!r}")
    parameters = math.sqrt(flops / 120)
    return parameters, 20 * parameters


def weighted_gradient_mean(part_gradients, part_sizes):
    total = sum(part_sizes)
    return sum(size / total * gradient for gradient, size in zip(part_gradients, part_sizes, strict=True))


def zero_bytes_per_device(parameters, devices, stage):
    weights, gradients, optimiser = 2 * parameters, 2 * parameters, 12 * parameters
    if stage == 0:
        return weights + gradients + optimiser
    if stage == 1:
        return weights + gradients + optimiser / devices
    if stage == 2:
        return weights + (gradients + optimiser) / devices
    if stage == 3:
        return (weights + gradients + optimiser) / devices
    raise ValueError(f"stage must be 0, 1, 2 or 3, got {stage!r}")


SOLUTIONS = {
    "compute.bert_base_parameters": bert_base_parameters,
    "compute.compute_optimal": compute_optimal,
    "compute.weighted_gradient_mean": weighted_gradient_mean,
    "compute.zero_bytes_per_device": zero_bytes_per_device,
}
