"""Does masked-language-model pretraining help the tiny BERT of notebook 07? A learning curve over
labelled examples: from scratch vs MLM-pretrained vs frozen features (the tiny MLM encoder's and
MiniLM's), with several seeds.

Issue 13's goal: **pretraining beats scratch by at least 3 points at 1,000 labels or fewer.** The
script prints every accuracy with a 95 % interval over seeds (Student t) and the paired gain of
pretraining over scratch, and says whether the goal is met. It writes
``course_utils/results/reviews_mlm_learning_curve.json`` (package data, read by lesson 07), after
every size, so that an interrupted run keeps the sizes it finished.

* Pretraining text: every training-split review (labels unused) plus the plot summaries that
  ``data.load_movie_reviews`` drops (unlabelled text), of movies that are not in the validation or
  test splits. No validation or test text is ever seen.
* MLM: 15 % of the pieces chosen (80 % [MASK], 10 % random, 10 % kept), a fresh masking every
  epoch, the head tied to the token embeddings (logits = h · Eᵀ + b). Held-out MLM loss and
  accuracy on the validation reviews (masked once, fixed seed) are compared with a unigram predictor
  (the pretraining pieces' frequencies), not with 1/V chance, at several epochs (``curve``).
* Fine-tuning, the same protocol for the random and the pretrained start: the tiny encoder (2
  blocks, hidden 128, 2 heads, feed-forward 256), the **mean of its outputs over the real pieces**
  (MLM never trains [CLS], so [CLS] pooling would read a vector pretraining did not shape), dropout,
  one logit; AdamW with a linear decay over max(300, 3 epochs) steps; every 25 steps the validation
  accuracy is measured and the test accuracy at the best validation check is reported (early
  stopping; the test split chooses nothing); the learning rate is chosen per start from
  ``LEARNING_RATES`` on the validation split. The labelled subsets are drawn from the training
  split, per seed.
* Frozen features + logistic regression on the same subsets: the pretrained tiny encoder's
  mean-pooled outputs, and MiniLM's sentence embeddings (the reference for what large-scale
  pretraining buys).

    python benchmarks/search/reviews_mlm_learning_curve.py           # 3 seeds, 3 pretrainings: 32 min on a quiet 2-core CPU
    python benchmarks/search/reviews_mlm_learning_curve.py --pretraining-seeds 0   # one shared pretraining
    python benchmarks/search/reviews_mlm_learning_curve.py --quick   # one seed, 1,000 labels, 3 epochs; no JSON
"""

from __future__ import annotations

import argparse
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
from course_utils.bert_layers import TiedLogits

OUTPUT = Path(__file__).resolve().parents[2] / "course_utils" / "results" / "reviews_mlm_learning_curve.json"
TINY = {"num_layers": 2, "num_heads": 2, "hidden_dim": 128, "intermediate_dim": 256}
SEQUENCE_LENGTH = 48
MAX_PREDICTIONS = 8
BATCH = 32
PRETRAINING_EPOCHS = 10
CURVE_EPOCHS = (1, 2, 3, 5, 10, 20, 30, 40)
LEARNING_RATES = (2e-4, 1e-3)
STEPS_BETWEEN_CHECKS = 25


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
    validation = mlm_batches(validation_ids, validation_mask, vocabulary_size, np.random.default_rng(99))
    curve = []
    started = time.perf_counter()
    for epoch in range(1, epochs + 1):
        features, labels, weights = mlm_batches(token_ids, padding_mask, vocabulary_size, rng)  # dynamic masking
        model.fit(features, labels, sample_weight=weights, batch_size=64, epochs=1, verbose=0, shuffle=True)
        if epoch in CURVE_EPOCHS or epoch == epochs:
            curve.append({"epoch": epoch, **heldout(model, validation, unigram)})
            print(f"  seed {seed} epoch {epoch}: {curve[-1]} ({time.perf_counter() - started:.0f} s)", flush=True)
    seconds = time.perf_counter() - started
    return tiny.get_weights(), {**curve[-1], "curve": curve, "pretraining_seconds": seconds}


def heldout(model, validation, unigram):
    """Held-out MLM loss and accuracy on the validation reviews, and those of the unigram predictor."""
    features, labels, weights = validation
    logits = model.predict(features, batch_size=256, verbose=0)  # (reviews, MAX_PREDICTIONS, V)
    chosen = weights > 0
    shifted = logits[chosen] - logits[chosen].max(axis=1, keepdims=True)  # per chosen token, not per slot
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return {
        "heldout_mlm_loss": float(-log_probabilities[np.arange(len(log_probabilities)), labels[chosen]].mean()),
        "heldout_mlm_accuracy": float(np.mean(log_probabilities.argmax(axis=1) == labels[chosen])),
        "unigram_loss": float(-np.log(unigram[labels[chosen]]).mean()),
        "unigram_accuracy": float(np.mean(labels[chosen] == np.argmax(unigram))),
    }


def classifier(weights, vocabulary_size, seed, trainable=True):
    """The tiny encoder (random or pretrained), the mean of its outputs over the real pieces (the
    padding mask excludes [PAD]; MLM never trains the [CLS] vector, so [CLS] pooling would read a
    vector that pretraining did not shape), dropout, one logit."""
    tiny = encoder(vocabulary_size, seed)
    if weights is not None:
        tiny.set_weights(weights)
    tiny.trainable = trainable
    sequence = tiny(tiny.input)["sequence_output"]
    pooled = keras.layers.GlobalAveragePooling1D(name="mean_pool")(sequence, mask=tiny.input["padding_mask"])
    pooled = keras.layers.Dropout(0.1)(pooled)
    return keras.Model(tiny.input, keras.layers.Dense(1, name="logit")(pooled))


def accuracy_of(model, inputs, labels):
    return float(np.mean((model.predict(inputs, batch_size=512, verbose=0)[:, 0] > 0) == labels))


def fine_tune(
    weights, vocabulary_size, inputs, labels, validation, test, steps, seed, learning_rate, every=STEPS_BETWEEN_CHECKS
):
    """AdamW with a linear decay for ``steps`` batches; every ``every`` steps the validation
    accuracy is measured, and the test accuracy reported is the one at the best validation check
    (early stopping on the validation split; the test split never chooses anything). Returns
    ``(validation accuracy, test accuracy, step)`` at that check."""
    model = classifier(weights, vocabulary_size, seed)
    model.compile(
        optimizer=keras.optimizers.AdamW(keras.optimizers.schedules.PolynomialDecay(learning_rate, steps, 0.0), 0.01),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    rng = np.random.default_rng(seed)
    best = (-1.0, float("nan"), 0)
    for step in range(1, steps + 1):
        batch = rng.choice(len(labels), size=min(BATCH, len(labels)), replace=False)
        model.train_on_batch(
            {key: value[batch] for key, value in inputs.items()}, labels[batch, None].astype("float32")
        )
        if step % every == 0 or step == steps:
            validation_accuracy = accuracy_of(model, *validation)
            if validation_accuracy > best[0]:
                best = (validation_accuracy, accuracy_of(model, *test), step)
    return best


def tuned(weights, vocabulary_size, inputs, labels, validation, test, steps, seed):
    """The fine-tuning learning rate chosen per start from LEARNING_RATES on the validation split
    (the same grid and budget for the random and the pretrained start)."""
    runs = {rate: fine_tune(weights, vocabulary_size, inputs, labels, validation, test, steps, seed, rate)
            for rate in LEARNING_RATES}  # fmt: skip
    rate = max(runs, key=lambda key: runs[key][0])
    return {"test": runs[rate][1], "validation": runs[rate][0], "step": runs[rate][2], "learning_rate": rate}


def encoder_features(weights, vocabulary_size, inputs, seed):
    """Frozen features: the mean of the encoder's outputs over the real pieces."""
    model = classifier(weights, vocabulary_size, seed, trainable=False)
    pooled = keras.Model(model.input, model.get_layer("mean_pool").output)
    return pooled.predict(inputs, batch_size=512, verbose=0)


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
    parser.add_argument("--quick", action="store_true", help="one seed, 1,000 labels, three pretraining epochs")
    parser.add_argument("--pretraining-epochs", type=int, default=PRETRAINING_EPOCHS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--pretraining-seeds", type=int, nargs="+", default=None, help="default: one per seed")
    arguments = parser.parse_args()
    seeds = (0,) if arguments.quick else tuple(arguments.seeds)
    sizes = (1000,) if arguments.quick else (250, 1000, "all")
    epochs = 3 if arguments.quick else arguments.pretraining_epochs

    reviews = data.load_movie_reviews(verbose=False)
    texts = np.array(reviews["texts"], dtype=object)
    labels = np.array(reviews["labels"], dtype=np.int32)
    split = bert.split_by_movie(reviews["movies"])
    movies = np.array(reviews["movies"], dtype=object)
    held_out_movies = set(movies[split["validation"]]) | set(movies[split["test"]])
    plots = data.load_plot_summaries(held_out_movies, verbose=False)
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

    validation = inputs_of(split["validation"]), labels[split["validation"]]
    test = inputs_of(split["test"]), labels[split["test"]]
    minilm = minilm_features(texts)
    results = {
        "sizes": [str(size) for size in sizes],
        "seeds": list(seeds),
        "pretraining_epochs": epochs,
        "learning_rates": list(LEARNING_RATES),
        "steps_between_checks": STEPS_BETWEEN_CHECKS,
        "encoder": TINY,
        "pretraining_texts": {"training_reviews": len(split["train"]), "plot_summaries": len(plots)},
        "pretraining_pieces": int(counts.sum()),
        "runs": [],
    }
    pretrained = {}
    started = time.perf_counter()
    pretraining_seeds = arguments.pretraining_seeds or seeds
    results["pretraining_seeds"] = list(pretraining_seeds)
    for seed in pretraining_seeds:
        pretrained[seed], report = pretrain(
            pretraining_ids, pretraining_mask, review_ids[split["validation"]], review_mask[split["validation"]],
            len(vocabulary), epochs, seed, unigram,
        )  # fmt: skip
        results.setdefault("mlm", []).append({"seed": seed, **report})
    everything = inputs_of(np.arange(len(texts)))
    for size in sizes:
        for seed in seeds:
            rng = np.random.default_rng(1000 + seed)
            index = split["train"] if size == "all" else rng.choice(split["train"], size=size, replace=False)
            steps = max(300, 3 * len(index) // BATCH)
            row = {"size": str(size), "seed": seed, "steps": steps}
            weights_of = pretrained[seed if seed in pretrained else pretraining_seeds[0]]
            for arm, weights in (("scratch", None), ("mlm", weights_of)):
                row[arm + "_run"] = tuned(
                    weights, len(vocabulary), inputs_of(index), labels[index], validation, test, steps, seed
                )
                row[arm] = row[arm + "_run"]["test"]
            frozen = encoder_features(weights_of, len(vocabulary), everything, seed)
            row["mlm_frozen"] = probe(frozen[index], labels[index], frozen[split["test"]], test[1], seed)
            row["minilm_frozen"] = probe(minilm[index], labels[index], minilm[split["test"]], test[1], seed)
            results["runs"].append(row)
            print({key: value for key, value in row.items() if not key.endswith("_run")}, flush=True)
        summarise(results, sizes[: sizes.index(size) + 1], write=not arguments.quick)
    results["seconds"] = time.perf_counter() - started
    summarise(results, sizes, write=not arguments.quick)


def summarise(results, sizes, write):
    """Intervals over seeds per size, the goal's verdict; the JSON is rewritten after every size."""
    summary = {}
    for size in sizes:
        rows = [row for row in results["runs"] if row["size"] == str(size)]
        entry = {}
        for key in ("scratch", "mlm", "mlm_frozen", "minilm_frozen"):
            values = [row[key] for row in rows]
            entry[key] = bert.seed_interval(values) if len(values) > 1 else (values[0], float("nan"))
        gains = [row["mlm"] - row["scratch"] for row in rows]
        entry["mlm_minus_scratch"] = bert.seed_interval(gains) if len(gains) > 1 else (gains[0], float("nan"))
        summary[str(size)] = entry
        line = ", ".join(f"{key} {mean:.4f} ± {half:.4f}" for key, (mean, half) in entry.items())
        print(f"{size} labels: {line}", flush=True)
    results["summary"] = summary
    results["sizes"] = [str(size) for size in sizes]
    small = [summary[str(size)]["mlm_minus_scratch"] for size in sizes if size != "all" and size <= 1000]
    met = any(mean >= 0.03 and mean - half > 0 for mean, half in small)  # 3 points on average, outside the noise
    results["goal"] = "pretraining beats scratch by >= 3 points at <= 1,000 labels: " + ("met" if met else "missed")
    print(results["goal"], flush=True)
    if write:
        OUTPUT.write_text(json.dumps(results, indent=1) + "\n")
        print("wrote", OUTPUT, flush=True)


if __name__ == "__main__":
    main()
