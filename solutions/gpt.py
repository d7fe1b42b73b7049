"""Worked solutions to the exercises of notebooks/08_gpt_from_scratch.ipynb."""

import numpy as np

from course_utils.gpt import gpt_parameter_count
from course_utils.sampling import probabilities


def min_p_filter(logits, min_p):
    logits = np.asarray(logits, dtype=np.float64)
    p = probabilities(logits)
    return np.where(p >= min_p * p.max(), logits, -np.inf)


def untied_parameter_count(vocabulary_size, context_length, d_model, num_layers):
    tied = gpt_parameter_count(vocabulary_size, context_length, d_model, num_layers)
    return tied + d_model * vocabulary_size + vocabulary_size


def multi_query_cache_bytes(num_layers, context_length, d_model, num_heads, batch_size=1, bytes_per_value=4):
    return 2 * num_layers * context_length * (d_model // num_heads) * batch_size * bytes_per_value


SOLUTIONS = {
    "gpt.min_p": min_p_filter,
    "gpt.untied_parameters": untied_parameter_count,
    "gpt.multi_query_cache": multi_query_cache_bytes,
}
