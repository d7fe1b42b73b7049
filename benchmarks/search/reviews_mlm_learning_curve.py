"""Does masked-language-model pretraining help the tiny BERT of notebook 07? A learning curve over
labelled examples: from scratch vs MLM-pretrained vs MiniLM's frozen features, with several seeds.

Issue 13's goal: **pretraining beats scratch by at least 3 points at 1,000 labels or fewer.** The
script prints every accuracy with a 95 % interval over seeds (Student t) and the paired gain of
pretraining over scratch, and says whether the goal is met. It writes
``reviews_mlm_learning_curve.json`` next to this file.

* Pretraining text: every training-split review (labels unused) plus the plot summaries that
  ``data.load_movie_reviews`` drops (unlabelled text), of movies that are not in the validation or
  test splits. No validation or test text is ever seen.
* MLM: 15 % of the pieces chosen (80 % [MASK], 10 % random, 10 % kept), the head tied to the token
  embeddings (logits = h · Eᵀ + b). Held-out MLM loss and accuracy on the validation reviews are
  compared with a unigram predictor (the training pieces' frequencies), not with 1/V chance.
* Fine-tuning: the same tiny encoder (2 blocks, hidden 128, 2 heads, feed-forward 256), [CLS]
  pooling, one logit, AdamW with a linear decay, the same number of steps for both starts; the
  labelled subsets are drawn from the training split, per seed.
* MiniLM: its full encoder's mean-pooled features, frozen, and a logistic regression on the same
  labelled subsets (the reference for what large-scale pretraining buys).

    python benchmarks/search/reviews_mlm_learning_curve.py               # about 15 minutes on 2 quiet cores
    python benchmarks/search/reviews_mlm_learning_curve.py --quick       # one seed, two sizes, short pretraining
"""

from __future__ import annotations

import argparse
import bz2
import csv
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import keras
import numpy as np

from course_utils import bert, convert, data, tokenization

OUTPUT = Path(__file__).with_suffix(".json")
TINY = {"num_layers": 2, "num_heads": 2, "hidden_dim": 128, "intermediate_dim": 256}
SEQUENCE_LENGTH = 48
MAX_PREDICTIONS = 8
BATCH = 32


class TiedLogits(keras.layers.Layer):
    """Logits over the vocabulary from the token embedding matrix itself: h · Eᵀ + b."""

    def __init__(self, embedding, **kwargs):
        super().__init__(**kwargs)
        self.embedding = embedding

    def build(self, input_shape):
        self.bias = self.add_weight(shape=(self.embedding.input_dim,), initializer="zeros", name="bias")

    def call(self, hidden):
        return keras.ops.matmul(hidden, keras.ops.transpose(self.embedding.embeddings)) + self.bias


def plot_summaries(excluded_movies: set[str]) -> list[str]:
    """The unlabelled plot-summary rows of the Rotten Tomatoes file, without the excluded movies."""
    located = data.locate("movie_reviews", verbose=False)
    with bz2.open(located["rotten_tomatoes_corpus_full.csv.bz2"], "rt", encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    texts = {
        " ".join(row["text"].split())
        for row in rows
        if row["category"] not in ("fresh", "rotten") and row["movie_name"] not in excluded_movies
    }
    return sorted(text for text in texts if text)


def encoder(vocabulary_size, seed):
    keras.utils.set_random_seed(seed)
    return bert.build_bert_encoder(vocabulary_size, **TINY, max_sequence_length=SEQUENCE_LENGTH, name="tiny_bert")


def mlm_batches(token_ids, padding_mask, vocabulary_size, rng):
    inputs, targets, weights = bert.mask_tokens(token_ids, rng, vocabulary_size)
    positions, position_labels, position_weights = bert.masked_positions(targets, weights, MAX_PREDICTIONS)
    features = {
        "token_ids": inputs,
        "segment_ids": np.zeros_like(inputs),
        "padding_mask": padding_mask,
        "mask_positions": positions,
    }
    return features, position_labels, position_weights


def pretrain(token_ids, padding_mask, validation_ids, validation_mask, vocabulary_size, epochs, seed, unigram):
    tiny = encoder(vocabulary_size, seed)
    positions = keras.Input(shape=(MAX_PREDICTIONS,), dtype="int32", name="mask_positions")
    sequence = tiny(tiny.input)["sequence_output"]
    gathered = keras.ops.take_along_axis(sequence, positions[:, :, None], axis=1)
    hidden = keras.layers.Dense(TINY["hidden_dim"], activation="gelu", name="mlm_dense")(gathered)
    hidden = keras.layers.LayerNormalization(epsilon=1e-12, name="mlm_layer_norm")(hidden)
    logits = TiedLogits(tiny.get_layer("token_embedding"), name="mlm_logits")(hidden)
    model = keras.Model({**tiny.input, "mask_positions": positions}, logits)
    steps = epochs * (len(token_ids) // 64)
    model.compile(
        optimizer=keras.optimizers.AdamW(keras.optimizers.schedules.PolynomialDecay(1e-3, steps, 1e-5), 0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        weighted_metrics=["accuracy"],
    )
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    for _ in range(epochs):
        features, labels, weights = mlm_batches(token_ids, padding_mask, vocabulary_size, rng)
        model.fit(features, labels, sample_weight=weights, batch_size=64, epochs=1, verbose=0, shuffle=True)
    seconds = time.perf_counter() - started
    features, labels, weights = mlm_batches(validation_ids, validation_mask, vocabulary_size, np.random.default_rng(99))
    logits = model.predict(features, batch_size=256, verbose=0)  # (reviews, MAX_PREDICTIONS, V)
    chosen = weights > 0
    shifted = logits[chosen] - logits[chosen].max(axis=1, keepdims=True)  # per chosen token, not per slot
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = float(-log_probabilities[np.arange(len(log_probabilities)), labels[chosen]].mean())
    accuracy = float(np.mean(log_probabilities.argmax(axis=1) == labels[chosen]))
    unigram_loss = float(-np.log(unigram[labels[chosen]]).mean())
    unigram_accuracy = float(np.mean(labels[chosen] == np.argmax(unigram)))
    return tiny.get_weights(), {
        "heldout_mlm_loss": float(loss),
        "heldout_mlm_accuracy": float(accuracy),
        "unigram_loss": unigram_loss,
        "unigram_accuracy": unigram_accuracy,
        "pretraining_seconds": seconds,
    }


def fine_tune(weights, vocabulary_size, inputs, labels, test_inputs, test_labels, steps, seed):
    tiny = encoder(vocabulary_size, seed)
    if weights is not None:
        tiny.set_weights(weights)
    pooled = keras.layers.Dropout(0.1)(tiny(tiny.input)["pooled_output"])
    model = keras.Model(tiny.input, keras.layers.Dense(1, name="logit")(pooled))
    model.compile(
        optimizer=keras.optimizers.AdamW(keras.optimizers.schedules.PolynomialDecay(5e-4, steps, 0.0), 0.01),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        batch = rng.choice(len(labels), size=min(BATCH, len(labels)), replace=False)
        model.train_on_batch(
            {key: value[batch] for key, value in inputs.items()}, labels[batch, None].astype("float32")
        )
    logits = model.predict(test_inputs, batch_size=256, verbose=0)[:, 0]
    return float(np.mean((logits > 0) == test_labels))


def probe(features, labels, test_features, test_labels, seed):
    keras.utils.set_random_seed(seed)
    mean, std = features.mean(axis=0), features.std(axis=0) + 1e-6
    inputs = keras.Input(shape=(features.shape[1],))
    model = keras.Model(inputs, keras.layers.Dense(1, kernel_regularizer=keras.regularizers.L2(1e-3))(inputs))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    model.fit((features - mean) / std, labels, batch_size=64, epochs=60, verbose=0)
    logits = model.predict((test_features - mean) / std, batch_size=512, verbose=0)[:, 0]
    return float(np.mean((logits > 0) == test_labels))


def minilm_features(texts):
    paths = data.minilm_files(verbose=False)
    sizes = convert.bert_sizes_from_config(paths["config.json"])
    model = bert.build_bert_encoder(**sizes, dropout=0.0, name="minilm")
    convert.load_bert_weights(model, convert.read_safetensors(paths["model.safetensors"]))
    vocabulary = bert.load_vocabulary(paths["vocab.txt"])
    ids, mask = bert.pack_token_ids(tokenization.wordpiece_encode(list(texts), vocabulary), 64, cls_id=101, sep_id=102)
    lengths = mask.sum(axis=1)
    order = np.argsort(lengths, kind="stable")
    features = np.zeros((len(texts), sizes["hidden_dim"]), np.float32)
    for start in range(0, len(order), 64):
        batch = order[start : start + 64]
        width = int(lengths[batch].max())
        inputs = {"token_ids": ids[batch, :width], "segment_ids": np.zeros_like(ids[batch, :width])}
        inputs["padding_mask"] = mask[batch, :width]
        hidden = model(inputs, training=False)["sequence_output"].numpy()
        weights = mask[batch, :width, None].astype(np.float32)
        features[batch] = (hidden * weights).sum(axis=1) / weights.sum(axis=1)
    return features


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one seed, two sizes, two pretraining epochs")
    arguments = parser.parse_args()
    seeds = (0,) if arguments.quick else (0, 1, 2)
    sizes = (250, 1000) if arguments.quick else (250, 1000, "all")
    epochs = 2 if arguments.quick else 8

    reviews = data.load_movie_reviews(verbose=False)
    texts = np.array(reviews["texts"], dtype=object)
    labels = np.array(reviews["labels"], dtype=np.int32)
    split = bert.split_by_movie(reviews["movies"])
    movies = np.array(reviews["movies"], dtype=object)
    held_out_movies = set(movies[split["validation"]]) | set(movies[split["test"]])
    plots = plot_summaries(held_out_movies)
    pretraining_texts = list(texts[split["train"]]) + plots
    print(f"pretraining text: {len(split['train'])} training reviews + {len(plots)} plot summaries")

    vocabulary = bert.train_wordpiece_vocabulary(list(texts[split["train"]]), vocabulary_size=6000)
    unknown = vocabulary.index(bert.UNK_TOKEN)
    ids_of = {token: number for number, token in enumerate(vocabulary)}

    def encode(some_texts):
        lists = [
            [
                piece
                for word in tokenization.basic_tokenize(text)
                for piece in tokenization.wordpiece_split(word, ids_of, unknown)
            ]
            for text in some_texts
        ]
        return bert.pack_token_ids(lists, SEQUENCE_LENGTH)

    pretraining_ids, pretraining_mask = encode(pretraining_texts)
    review_ids, review_mask = encode(texts)
    counts = np.bincount(pretraining_ids[pretraining_ids > 4], minlength=len(vocabulary)).astype(np.float64)
    unigram = (counts + 1) / (counts + 1).sum()

    def inputs_of(index):
        return {
            "token_ids": review_ids[index],
            "segment_ids": np.zeros_like(review_ids[index]),
            "padding_mask": review_mask[index],
        }

    test_inputs, test_labels = inputs_of(split["test"]), labels[split["test"]]
    features = minilm_features(texts)
    results = {"sizes": [str(size) for size in sizes], "seeds": list(seeds), "pretraining_epochs": epochs, "runs": []}
    results["pretraining_texts"] = {"training_reviews": len(split["train"]), "plot_summaries": len(plots)}
    pretrained = {}
    for seed in seeds:
        pretrained[seed], report = pretrain(
            pretraining_ids, pretraining_mask, review_ids[split["validation"]], review_mask[split["validation"]],
            len(vocabulary), epochs, seed, unigram,
        )  # fmt: skip
        results.setdefault("mlm", []).append({"seed": seed, **report})
        print(f"seed {seed}: held-out MLM loss {report['heldout_mlm_loss']:.3f} accuracy {report['heldout_mlm_accuracy']:.3f}"
              f" vs unigram {report['unigram_loss']:.3f} / {report['unigram_accuracy']:.3f}", flush=True)  # fmt: skip
    for size in sizes:
        for seed in seeds:
            rng = np.random.default_rng(1000 + seed)
            index = split["train"] if size == "all" else rng.choice(split["train"], size=size, replace=False)
            steps = max(300, 3 * len(index) // BATCH)
            row = {"size": str(size), "seed": seed, "steps": steps}
            row["scratch"] = fine_tune(
                None, len(vocabulary), inputs_of(index), labels[index], test_inputs, test_labels, steps, seed
            )
            row["mlm"] = fine_tune(
                pretrained[seed],
                len(vocabulary),
                inputs_of(index),
                labels[index],
                test_inputs,
                test_labels,
                steps,
                seed,
            )
            row["minilm_frozen"] = probe(features[index], labels[index], features[split["test"]], test_labels, seed)
            results["runs"].append(row)
            print(row, flush=True)
    summary = {}
    for size in sizes:
        rows = [row for row in results["runs"] if row["size"] == str(size)]
        entry = {}
        for key in ("scratch", "mlm", "minilm_frozen"):
            values = [row[key] for row in rows]
            entry[key] = bert.seed_interval(values) if len(values) > 1 else (values[0], float("nan"))
        gains = [row["mlm"] - row["scratch"] for row in rows]
        entry["mlm_minus_scratch"] = bert.seed_interval(gains) if len(gains) > 1 else (gains[0], float("nan"))
        summary[str(size)] = entry
        line = ", ".join(f"{key} {mean:.4f} ± {half:.4f}" for key, (mean, half) in entry.items())
        print(f"{size} labels: {line}")
    results["summary"] = summary
    small = [summary[str(size)]["mlm_minus_scratch"] for size in sizes if size != "all" and size <= 1000]
    met = any(mean >= 0.03 and mean - half > 0 for mean, half in small)  # 3 points on average, outside the noise
    results["goal"] = "pretraining beats scratch by >= 3 points at <= 1,000 labels: " + ("met" if met else "missed")
    print(results["goal"])
    if not arguments.quick:
        OUTPUT.write_text(json.dumps(results, indent=1) + "\n")
        print("wrote", OUTPUT)


if __name__ == "__main__":
    main()
