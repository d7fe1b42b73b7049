"""Distil the MiniLM review classifier (22.7 M parameters) into the tiny BERT of lesson 07, against
the same student trained on the labels alone, over several seeds (lesson 09, issue 14).

* Teacher: ``zoo.review_classifier()`` (07's fine-tuned MiniLM, or the zoo's shorter recipe when 07
  has not cached it), read as a logit model on MiniLM's own token ids (``compression.token_ids_model``).
  Its logits are computed once, on the training reviews and on the plot summaries of movies outside
  the validation and test splits (``data.load_plot_summaries``); no validation or test text is seen
  by the student's training.
* Student: ``bert.build_bert_encoder`` with 07's tiny sizes (2 blocks, hidden 128, 2 heads,
  feed-forward 256, 48 pieces, a 6,000-piece WordPiece vocabulary learnt from the training reviews),
  [CLS] pooling and one logit, AdamW 5e-4 with a linear decay, batches of 32.
* Arms, with the same steps, seeds, initial weights and loss function
  (``compression.review_distillation_loss``):
  labels only (alpha = 1, training reviews) and distilled (alpha = 0.5, T = 2, training reviews
  plus plot summaries, the summaries with the soft term alone). T and alpha are not tuned.
* Reported: test accuracy of each run with its 95 % bootstrap interval over test reviews, the
  95 % Student-t interval over seeds, the paired gain per seed and the gap to the teacher.

Writes ``course_utils/results/reviews_minilm_distillation.json`` (package data: lesson 09 prints it and
checks that its own teacher gives the stored teacher's answers).

    python benchmarks/search/reviews_minilm_distillation.py            # 3 seeds
    python benchmarks/search/reviews_minilm_distillation.py --seeds 1  # a quick check
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np

from course_utils import bert, compression, data, tokenization, zoo

OUTPUT = Path(__file__).resolve().parents[2] / "course_utils" / "results" / "reviews_minilm_distillation.json"
RECIPE = {
    "student": compression.TINY_BERT,
    "student_sequence_length": 48,
    "student_vocabulary_size": 6000,
    "teacher_sequence_length": 64,
    "batch_size": 32,
    "epochs_of_training_reviews": 2,
    "learning_rate": 5e-4,
    "temperature": 2.0,
    "alpha": 0.5,
}


def texts_digest(texts) -> str:
    """A short fingerprint of a list of texts, so the lesson can check it trains on the same ones."""
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    arguments = parser.parse_args()
    started = time.perf_counter()

    reviews = data.load_movie_reviews(verbose=False)
    texts = np.array(reviews["texts"], dtype=object)
    labels = np.array(reviews["labels"], dtype=np.float32)
    movies = np.array(reviews["movies"], dtype=object)
    split = bert.split_by_movie(reviews["movies"])
    plots = data.load_plot_summaries(set(movies[split["validation"]]) | set(movies[split["test"]]), verbose=False)
    train_texts, test_texts = list(texts[split["train"]]), list(texts[split["test"]])
    test_labels = labels[split["test"]]

    classifier = zoo.review_classifier()
    teacher = compression.token_ids_model(classifier, RECIPE["teacher_sequence_length"])
    minilm_vocabulary = bert.load_vocabulary(data.minilm_files(verbose=False)["vocab.txt"])

    def teacher_logits(some_texts):
        ids, _ = bert.pack_token_ids(
            tokenization.wordpiece_encode(some_texts, minilm_vocabulary),
            RECIPE["teacher_sequence_length"],
            cls_id=101,
            sep_id=102,
        )
        return teacher.predict(ids, batch_size=128, verbose=0)[:, 0]

    train_logits, plot_logits, test_logits = (teacher_logits(t) for t in (train_texts, plots, test_texts))
    teacher_correct = ((test_logits > 0) == test_labels).astype(float)
    print(
        f"teacher logits in {time.perf_counter() - started:.0f} s; teacher test accuracy {teacher_correct.mean():.4f}"
    )

    vocabulary = bert.train_wordpiece_vocabulary(train_texts, vocabulary_size=RECIPE["student_vocabulary_size"])
    review_inputs = compression.review_student_inputs(train_texts, vocabulary)
    plot_inputs = compression.review_student_inputs(plots, vocabulary)
    test_inputs = compression.review_student_inputs(test_texts, vocabulary)
    labels_only_targets = np.stack([labels[split["train"]], train_logits, np.ones(len(train_texts))], axis=1)
    plot_targets = np.stack([np.zeros(len(plots)), plot_logits, np.zeros(len(plots))], axis=1)
    distilled_inputs = {key: np.concatenate([review_inputs[key], plot_inputs[key]]) for key in review_inputs}
    distilled_targets = np.concatenate([labels_only_targets, plot_targets]).astype(np.float32)
    steps = RECIPE["epochs_of_training_reviews"] * len(train_texts) // RECIPE["batch_size"]

    runs = []
    for seed in range(arguments.seeds):
        row = {"seed": seed}
        for arm, inputs, targets, alpha in [
            ("labels_only", review_inputs, labels_only_targets.astype(np.float32), 1.0),
            ("distilled", distilled_inputs, distilled_targets, RECIPE["alpha"]),
        ]:
            arm_started = time.perf_counter()
            logits = compression.train_review_student(
                inputs, targets, test_inputs, len(vocabulary), alpha, steps, seed, RECIPE["temperature"]
            )
            correct = ((logits > 0) == test_labels).astype(float)
            accuracy, low, high = bert.bootstrap_interval(correct)
            agreement = float(np.mean((logits > 0) == (test_logits > 0)))
            row[arm] = {"accuracy": accuracy, "interval": [low, high], "agreement_with_teacher": agreement}
            row[arm]["seconds"] = time.perf_counter() - arm_started
            row[arm]["correct"] = correct.astype(int).tolist()
            print(
                f"seed {seed} {arm:<12} {accuracy:.4f} [{low:.4f}, {high:.4f}] ({row[arm]['seconds']:.0f} s)",
                flush=True,
            )
        gain = np.array(row["distilled"]["correct"]) - np.array(row["labels_only"]["correct"])
        row["gain"] = dict(zip(("mean", "low", "high"), bert.bootstrap_interval(gain), strict=True))
        runs.append(row)

    summary = {}
    for arm in ("labels_only", "distilled"):
        values = [run[arm]["accuracy"] for run in runs]
        summary[arm] = {"mean": float(np.mean(values)), "per_seed": values}
        if len(values) >= 2:
            summary[arm]["half_width"] = bert.seed_interval(values)[1]
        summary[arm]["gap_to_teacher"] = float(teacher_correct.mean() - np.mean(values))
    gains = [run["distilled"]["accuracy"] - run["labels_only"]["accuracy"] for run in runs]
    summary["gain"] = {"mean": float(np.mean(gains)), "per_seed": gains}
    if len(gains) >= 2:
        summary["gain"]["half_width"] = bert.seed_interval(gains)[1]
    teacher_accuracy, teacher_low, teacher_high = bert.bootstrap_interval(teacher_correct)
    result = {
        "recipe": {**RECIPE, "steps": steps, "seeds": arguments.seeds},
        "texts": {
            "training_reviews": len(train_texts),
            "plot_summaries": len(plots),
            "test_reviews": len(test_texts),
            "training_reviews_digest": texts_digest(train_texts),
            "plot_summaries_digest": texts_digest(plots),
        },
        "teacher": {
            "parameters": int(classifier.count_params()),
            "accuracy": teacher_accuracy,
            "interval": [teacher_low, teacher_high],
            "correct": teacher_correct.astype(int).tolist(),
        },
        "student_parameters": None,
        "runs": runs,
        "summary": summary,
        "teacher_logits": {
            "training_reviews": [round(float(v), 4) for v in train_logits],
            "plot_summaries": [round(float(v), 4) for v in plot_logits],
        },
        "seconds": time.perf_counter() - started,
    }
    result["student_parameters"] = int(
        bert.build_bert_encoder(len(vocabulary), **RECIPE["student"], max_sequence_length=48).count_params() + 129
    )
    OUTPUT.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    print(f"wrote {OUTPUT.name} in {result['seconds']:.0f} s")


if __name__ == "__main__":
    main()
