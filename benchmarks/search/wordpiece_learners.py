"""Three subword learners on the same training reviews, compared on the validation reviews: WordPiece
by the likelihood score (``tokenization.learn_wordpiece``, from scratch), TF-Text's WordPiece learner
(``bert.train_wordpiece_vocabulary``, what ``bert_vocab_from_dataset`` runs: a top-down search over
count thresholds, not a merge rule) and byte-level BPE (``bpe.learn_bpe``, GPT's tokeniser); MiniLM's
own 30,522-token vocabulary (learnt on English Wikipedia and books) as a fourth column. Two variants
feed the likelihood learner only the words seen at least 2 or 5 times (TF-Text's learner keeps only
pieces whose count passes a threshold it searches for), to show what the score does with rare words.

All three learners get the same vocabulary size: the number of tokens TF-Text's learner returns when
asked for 6,000 (lesson 07's call; it returns a few fewer). They see only the training split
(``bert.split_by_movie``); no validation or test text is learnt from. The two WordPiece vocabularies
and MiniLM's encode with the same greedy longest match (``tokenization.wordpiece_encode``), BPE with
its merges in the order learnt (``bpe.bpe_encode``). Reported: vocabulary overlap, tokens per
validation review, the [UNK] rate, how unseen and misspelt words split, the first pieces each learner
adds, and, for the likelihood vocabulary, how often greedy longest match at encode time splits a
training word differently from the learner's own merges.

Writes ``course_utils/results/wordpiece_learners.json`` (package data, for lesson 07). The run of
2026-12-02 found the ratio score spending its vocabulary on words seen once (each pair inside such
a word scores high, n(ab) = n(a) = n(b) = 1 at best), so frequent words stay in characters: 75.0
tokens per validation review against 28.7 for TF-Text's learner and 29.3 for BPE.

    python benchmarks/search/wordpiece_learners.py          # 91 s wall, 41 s CPU (2-core machine, under load)
    python benchmarks/search/wordpiece_learners.py --quick  # 800 training reviews; no JSON
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from itertools import pairwise
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from course_utils import bert, bpe, data, tokenization

OUTPUT = Path(__file__).resolve().parents[2] / "course_utils" / "results" / "wordpiece_learners.json"
REQUESTED_SIZE = 6000  # lesson 07 asks TF-Text's learner for this many tokens
WORDS = [
    "unbelievabley",
    "cinematographically",
    "Schwarzenegger",
    "café",
    "naïve",
    "unwatchable",
    "absolutly",
    "Kurosawa",
    "Tarantino's",
    "😀",
    "movie",
    "performances",
]
MIN_COUNTS = (2, 5)  # variants: the likelihood learner on the words seen at least this often
LEARNERS = ("likelihood", "tf_text", "bpe", "minilm", *(f"likelihood_min{count}" for count in MIN_COUNTS))


def bpe_as_wordpiece(token):
    """A byte-level BPE token in WordPiece's spelling, to compare vocabularies: a token with a leading
    space ("Ġfilm") starts a word ("film"), any other continues one ("ing" -> "##ing"); lower-cased,
    accents kept. None for a token that is not whole UTF-8 characters or is only a space. Approximate:
    a BPE token without a space can also start a word (at the start of a text, after punctuation)."""
    byte_of = {symbol: byte for byte, symbol in bpe.BYTE_SYMBOLS.items()}
    try:
        text = bytes(byte_of[symbol] for symbol in token).decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text.strip():
        return None
    return text[1:].lower() if text.startswith(" ") else "##" + text.lower()


def merge_split(word, rank):
    """The learner's own split of ``word``: its characters, then the learnt merges applied in the
    order learnt (as BPE encodes), not greedy longest match."""
    pieces = [word[0], *("##" + char for char in word[1:])]
    while len(pieces) > 1:
        pair = min(pairwise(pieces), key=lambda pair: rank.get(pair, len(rank)))
        if pair not in rank:
            break
        merged = bpe.merge_pair(pieces, pair)
        pieces = [pair[0] + pair[1][2:] if piece == pair[0] + pair[1] else piece for piece in merged]
    return pieces


def wordpiece_column(vocabulary, validation_texts):
    ids = tokenization.wordpiece_encode(validation_texts, vocabulary)
    unknown = vocabulary.index("[UNK]")
    words = [word for text in validation_texts for word in tokenization.basic_tokenize(text)]
    tokens = sum(len(row) for row in ids)
    unknown_tokens = sum(row.count(unknown) for row in ids)
    return {
        "vocabulary_size": len(vocabulary),
        "continuation_pieces": sum(token.startswith("##") for token in vocabulary),
        "tokens_per_validation_review": round(tokens / len(ids), 3),
        "vocabulary_used_on_validation": len({i for row in ids for i in row}),
        "tokens_per_word": round(tokens / len(words), 4),
        "unknown_tokens": unknown_tokens,
        "unknown_rate": unknown_tokens / tokens,
        "validation_tokens": tokens,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="800 training reviews; print, write no JSON")
    arguments = parser.parse_args()

    reviews = data.load_movie_reviews(verbose=False)
    split = bert.split_by_movie(reviews["movies"])
    train_texts = [reviews["texts"][i] for i in split["train"]]
    validation_texts = [reviews["texts"][i] for i in split["validation"]]
    if arguments.quick:
        train_texts = train_texts[:800]
    word_counts = Counter(word for text in train_texts for word in tokenization.basic_tokenize(text))
    print(f"{len(train_texts)} training reviews, {len(word_counts)} distinct words; {len(validation_texts)} validation")

    seconds, vocabularies = {}, {}
    started = time.process_time()
    vocabularies["tf_text"] = bert.train_wordpiece_vocabulary(train_texts, vocabulary_size=REQUESTED_SIZE)
    seconds["tf_text"] = time.process_time() - started
    size = len(vocabularies["tf_text"])
    started = time.process_time()
    vocabularies["likelihood"], merges = tokenization.learn_wordpiece(word_counts, size)
    seconds["likelihood"] = time.process_time() - started
    for count in MIN_COUNTS:
        frequent = {word: n for word, n in word_counts.items() if n >= count}
        vocabularies[f"likelihood_min{count}"] = tokenization.learn_wordpiece(frequent, size)[0]
    started = time.process_time()
    vocabularies["bpe"], bpe_merges = bpe.learn_bpe(train_texts, size - 256)
    seconds["bpe"] = time.process_time() - started
    vocabularies["minilm"] = bert.load_vocabulary(data.minilm_files(verbose=False)["vocab.txt"])
    for name, value in seconds.items():
        print(f"{name:<16} learnt {len(vocabularies[name])} tokens in {value:.1f} s CPU")

    columns = {name: wordpiece_column(vocabularies[name], validation_texts) for name in LEARNERS if name != "bpe"}
    bpe_ids = bpe.bpe_encode(validation_texts, vocabularies["bpe"], bpe_merges)
    bpe_tokens = sum(len(row) for row in bpe_ids)
    columns["bpe"] = {
        "vocabulary_size": len(vocabularies["bpe"]),
        "continuation_pieces": sum((bpe_as_wordpiece(token) or "").startswith("##") for token in vocabularies["bpe"]),
        "tokens_per_validation_review": round(bpe_tokens / len(bpe_ids), 3),
        "vocabulary_used_on_validation": len({i for row in bpe_ids for i in row}),
        "tokens_per_word": None,  # BPE's words (GPT-2's pattern) are not BERT's words
        "unknown_tokens": 0,
        "unknown_rate": 0.0,
        "validation_tokens": bpe_tokens,
    }
    for name, value in seconds.items():
        columns[name]["learning_seconds_cpu_under_load"] = round(value, 1)
    for name in LEARNERS:
        column = columns[name]
        print(
            f"{name:<16} {column['vocabulary_size']:>6} tokens ({column['continuation_pieces']} ##)  "
            f"{column['tokens_per_validation_review']:6.2f} tokens/review  [UNK] {column['unknown_rate']:.4%} "
            f"({column['unknown_tokens']})  {column['vocabulary_used_on_validation']} tokens used"
        )

    comparable = {name: set(vocabularies[name]) - set(bert.SPECIAL_TOKENS) for name in LEARNERS}
    comparable["bpe"] = {bpe_as_wordpiece(token) for token in vocabularies["bpe"]} - {None}
    overlap = {}
    for number, first in enumerate(LEARNERS):
        for second in LEARNERS[number + 1 :]:
            shared = len(comparable[first] & comparable[second])
            overlap[f"{first}&{second}"] = shared
            print(f"overlap {first:<16} & {second:<16} {shared:>5} tokens")

    splits = {}
    for word in WORDS:
        row = {}
        for name in LEARNERS:
            if name == "bpe":
                continue
            ids = tokenization.wordpiece_encode([word], vocabularies[name])[0]
            row[name] = [vocabularies[name][i] for i in ids]
        row["bpe"] = [vocabularies["bpe"][i] for i in bpe.bpe_encode([" " + word], vocabularies["bpe"], bpe_merges)[0]]
        splits[word] = row
        print(word)
        for name, pieces in row.items():
            print(f"  {name:<16} {' '.join(pieces)}")

    # Greedy longest match vs the learner's own merges, on the training words it learnt from.
    rank = {pair: number for number, pair in enumerate(merges)}
    token_ids = {token: number for number, token in enumerate(vocabularies["likelihood"])}
    differ = {}
    for word in word_counts:
        greedy = [vocabularies["likelihood"][i] for i in tokenization.wordpiece_split(word, token_ids, 1)]
        own = merge_split(word, rank)
        if greedy != own:
            differ[word] = (greedy, own)
    known = set(vocabularies["likelihood"])
    validation_words = [word for text in validation_texts for word in tokenization.basic_tokenize(text)]
    merge_splits = (merge_split(word, rank) for word in validation_words)
    by_merges = sum(len(pieces) if set(pieces) <= known else 1 for pieces in merge_splits)  # 1: [UNK]
    greedy_vs_merges = {
        "tokens_per_validation_review_by_merges": round(by_merges / len(validation_texts), 3),
        "tokens_per_validation_review_by_greedy": columns["likelihood"]["tokens_per_validation_review"],
        "distinct_training_words": len(word_counts),
        "split_differently": len(differ),
        "occurrences_split_differently": sum(word_counts[word] for word in differ),
        "training_word_occurrences": sum(word_counts.values()),
        "greedy_pieces_minus_merge_pieces": sum(
            word_counts[word] * (len(greedy) - len(own)) for word, (greedy, own) in differ.items()
        ),
        "examples": {
            word: {"greedy": greedy, "merges": own}
            for word, (greedy, own) in sorted(differ.items(), key=lambda item: -word_counts[item[0]])[:8]
        },
    }
    print(
        f"likelihood vocabulary, tokens per validation review: greedy longest match "
        f"{greedy_vs_merges['tokens_per_validation_review_by_greedy']}, replaying the merges "
        f"{greedy_vs_merges['tokens_per_validation_review_by_merges']}"
    )
    print(
        f"greedy longest match splits {len(differ)} of {len(word_counts)} distinct training words "
        f"({greedy_vs_merges['occurrences_split_differently']} of {greedy_vs_merges['training_word_occurrences']} "
        "occurrences) differently from the learner's merges; e.g.",
        dict(list(greedy_vs_merges["examples"].items())[:3]),
    )

    first_merges = {
        "likelihood": [left + right.removeprefix("##") for left, right in merges[:20]],
        "bpe": [left + right for left, right in bpe_merges[:20]],
    }
    last_merges = {
        "likelihood": [left + right.removeprefix("##") for left, right in merges[-20:]],
        "bpe": [left + right for left, right in bpe_merges[-20:]],
    }
    print("first merges:", first_merges)
    print("last merges:", last_merges)

    result = {
        "description": __doc__.split("\n\n")[0].replace("\n", " "),
        "data": {
            "train_reviews": len(train_texts),
            "validation_reviews": len(validation_texts),
            "distinct_training_words": len(word_counts),
            "training_word_occurrences": sum(word_counts.values()),
        },
        "requested_size": REQUESTED_SIZE,
        "vocabulary_size": size,
        "columns": columns,
        "variants": {
            f"likelihood_min{count}": f"learn_wordpiece on the training words seen at least {count} times "
            "(its alphabet then lacks the rarest characters)"
            for count in MIN_COUNTS
        },
        "overlap": overlap,
        "overlap_note": "tokens shared by two vocabularies, special tokens left out; BPE tokens respelt as "
        "WordPiece (leading space -> word start, else '##'; lower-cased), so its overlap is approximate",
        "splits": splits,
        "first_merges": first_merges,
        "last_merges": last_merges,
        "greedy_vs_merges": greedy_vs_merges,
        "machine": "2 CPU cores shared with other jobs: CPU seconds distorted by load; token counts are not",
    }
    if arguments.quick:
        return
    OUTPUT.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print("wrote", OUTPUT)


if __name__ == "__main__":
    main()
