"""BERT's tokenizer from scratch: the basic tokenizer (clean, split CJK, strip accents, lower-case,
split on whitespace and punctuation), learning a WordPiece vocabulary by the likelihood score, and
WordPiece's greedy longest-match encoding; plus
:class:`BertTextNormalizer`, a Keras layer that puts the same normalisation in front of
``keras_hub.tokenizers.WordPieceTokenizer`` inside a model that takes raw text.

The pure-Python functions are the ones taught in notebooks/07_bert_classifier.ipynb (its cell
marked ``# package copy: course_utils.tokenization``). They reproduce the tokenizer that ships with
MiniLM's weights (``tokenizer.json``, Hugging Face's ``BertNormalizer`` + ``BertPreTokenizer`` +
``WordPiece``); tests/test_tokenization.py compares the token ids with the ``tokenizers`` library
on hard strings. The learner, :func:`learn_wordpiece`, is tested against a brute-force reference in
tests/test_tokenization.py and compared with TF-Text's learner and byte-level BPE in
benchmarks/search/wordpiece_learners.py. Only the standard library, :mod:`course_utils.bpe` and
:mod:`course_utils.bert` (its special tokens) are imported at module level, besides Keras for the layer.
"""

from __future__ import annotations

import heapq
import numbers
import unicodedata
from collections import Counter, defaultdict
from itertools import pairwise

import keras

from course_utils.bert import SPECIAL_TOKENS
from course_utils.bpe import merge_pair

__all__ = [
    "BertTextNormalizer",
    "basic_tokenize",
    "clean_text",
    "is_cjk",
    "is_punctuation",
    "learn_wordpiece",
    "wordpiece_encode",
    "wordpiece_split",
]

CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def is_punctuation(char):
    """BERT's punctuation: every non-alphanumeric printable ASCII character, or Unicode category P*."""
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def is_cjk(char):
    """A CJK ideograph (Chinese characters, also used in Japanese and Korean): one token each."""
    code = ord(char)
    return code >= 0x3400 and any(low <= code <= high for low, high in CJK_RANGES)


def clean_text(text):
    """Tab, newlines and Unicode spaces (category Z*) become a space; U+FFFD and every other
    control, format or private-use character (category C*: NUL, zero-width space, soft hyphen)
    is dropped."""
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if char in "\t\n\r" or category.startswith("Z"):
            kept.append(" ")
        elif char != "\ufffd" and not category.startswith("C"):
            kept.append(char)
    return "".join(kept)


def basic_tokenize(text, lowercase=True):
    """BERT's basic tokenizer: clean, put spaces around CJK ideographs, strip accents (NFD, then
    drop the combining marks, category Mn), lower-case, split on whitespace and punctuation
    (each punctuation character is a word of its own)."""
    text = "".join(f" {char} " if is_cjk(char) else char for char in clean_text(text))
    if lowercase:
        text = unicodedata.normalize("NFD", text)
        text = "".join(char for char in text if unicodedata.category(char) != "Mn").lower()
    words = []
    for chunk in text.split():
        word = ""
        for char in chunk:
            if is_punctuation(char):
                words += [word, char] if word else [char]
                word = ""
            else:
                word += char
        if word:
            words.append(word)
    return words


def wordpiece_split(word, token_ids, unknown_id, max_chars=100):
    """WordPiece encoding of one word: repeatedly take the longest vocabulary piece that starts
    here (continuations carry ``##``); if some position has no piece, the whole word is unknown."""
    if len(word) > max_chars:
        return [unknown_id]
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in token_ids:
                break
            end -= 1
        if end == start:
            return [unknown_id]
        pieces.append(token_ids[piece])
        start = end
    return pieces


def check_wordpiece_inputs(texts, vocabulary, unknown_token) -> dict[str, int]:
    """The argument checks of :func:`wordpiece_encode`; returns ``{token: id}``."""
    if isinstance(texts, (str, bytes)) or not all(isinstance(text, str) for text in texts):
        raise ValueError("texts must be a sequence of strings (wrap a single text in a list)")
    token_ids = {token: number for number, token in enumerate(vocabulary)}
    if unknown_token not in token_ids:
        raise ValueError(f"the vocabulary must contain the unknown token {unknown_token!r}")
    return token_ids


def wordpiece_encode(texts, vocabulary, unknown_token="[UNK]"):
    """Token ids (no [CLS]/[SEP]) of each text: :func:`basic_tokenize`, then :func:`wordpiece_split`
    with ``vocabulary`` (the token on line ``i`` of ``vocab.txt`` has id ``i``).

    Equal to the ``tokenizer.json`` shipped with MiniLM (tests/test_tokenization.py). Explained in
    notebooks/07_bert_classifier.ipynb.
    """
    token_ids = check_wordpiece_inputs(texts, vocabulary, unknown_token)
    unknown_id = token_ids[unknown_token]
    pieces_of = {}  # each distinct word is split once
    encoded = []
    for text in texts:
        ids = []
        for word in basic_tokenize(text):
            if word not in pieces_of:
                pieces_of[word] = wordpiece_split(word, token_ids, unknown_id)
            ids += pieces_of[word]
        encoded.append(ids)
    return encoded


def learn_wordpiece(word_counts, vocabulary_size, special_tokens=SPECIAL_TOKENS):
    """``(vocabulary, merges)`` learnt from ``{word: count}`` (words from :func:`basic_tokenize`) by
    WordPiece's likelihood score; ``merges`` in the order learnt.

    Every word starts as its characters, the first plain and the others continuation pieces
    ("hugs" -> h ##u ##g ##s); the vocabulary starts as ``special_tokens`` then that alphabet
    (sorted). Each step merges the adjacent pair (a, b) with the highest score n(ab) / (n(a) n(b)),
    n counting occurrences in the current split of every word times its count: a pair wins when its
    pieces occur together more often than their own frequencies predict, not merely often (BPE's
    rule). Ties (equal fractions give equal floats) go to the more frequent pair, then to the
    smaller pair in Python's string order. The joined piece drops the right piece's "##" ("hu" +
    "##g" -> "hug"), the way :func:`wordpiece_split` reads pieces, and joins the vocabulary. Learning
    stops at ``vocabulary_size`` tokens, or earlier when every word is one piece. Encoding with the
    result is :func:`wordpiece_split`'s greedy longest match, which does not always replay the merges.

    A heap holds (-score, -count, pair) entries. A merge changes the counts of the pairs in the words
    it touches and the score of every pair holding one of its two pieces; those are pushed again,
    and a popped entry that is out of date is skipped.
    """
    alphabet = check_learn_wordpiece_inputs(word_counts, vocabulary_size, special_tokens)
    words = [[word[0], *("##" + char for char in word[1:])] for word in word_counts]
    counts = list(word_counts.values())
    vocabulary = dict.fromkeys([*special_tokens, *alphabet])  # an ordered set: a word may equal a special token
    piece_counts, pair_counts = Counter(), Counter()
    words_with, pairs_with = defaultdict(set), defaultdict(set)  # pair -> word numbers, piece -> pairs

    def count(number, sign):
        """Add (sign +1) or remove (sign -1) the pieces and pairs of word ``number``."""
        for piece in words[number]:
            piece_counts[piece] += sign * counts[number]
        for pair in pairwise(words[number]):
            pair_counts[pair] += sign * counts[number]
            words_with[pair].add(number)
            pairs_with[pair[0]].add(pair)
            pairs_with[pair[1]].add(pair)

    def entry(pair):
        score = pair_counts[pair] / (piece_counts[pair[0]] * piece_counts[pair[1]])
        return -score, -pair_counts[pair], pair

    for number in range(len(words)):
        count(number, +1)
    heap = [entry(pair) for pair in pair_counts]
    heapq.heapify(heap)
    merges = []
    while len(vocabulary) < vocabulary_size and heap:
        popped = heapq.heappop(heap)
        left, right = best = popped[-1]
        if pair_counts[best] == 0 or popped != entry(best):
            continue  # out of date: the pair is gone, or a newer entry holds its score
        merges.append(best)
        joined = left + right.removeprefix("##")
        vocabulary[joined] = None
        for number in words_with.pop(best):
            count(number, -1)
            merged = merge_pair(words[number], best)  # course_utils.bpe: it joins them as left + right
            words[number] = [joined if piece == left + right else piece for piece in merged]
            count(number, +1)
        for pair in pairs_with[left] | pairs_with[right] | pairs_with[joined]:  # their counts or scores changed
            if pair_counts[pair] > 0:
                heapq.heappush(heap, entry(pair))
            else:
                del pair_counts[pair]
                pairs_with[pair[0]].discard(pair)
                pairs_with[pair[1]].discard(pair)
    return list(vocabulary), merges


def check_learn_wordpiece_inputs(word_counts, vocabulary_size, special_tokens) -> list[str]:
    """The argument checks of :func:`learn_wordpiece`; returns the alphabet, sorted."""
    if not isinstance(word_counts, dict) or not word_counts:
        raise ValueError("word_counts must be a non-empty dict {word: count}, e.g. a Counter of basic_tokenize's words")
    for word, count in word_counts.items():
        if not isinstance(word, str) or not word or any(char.isspace() for char in word):
            raise ValueError(f"every word must be a non-empty string without whitespace, got {word!r}")
        if "#" in word and word != "#":
            raise ValueError(
                f"'#' must be a word of its own, as basic_tokenize makes it ('##' marks continuation pieces), got {word!r}"
            )
        if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 1:
            raise ValueError(f"every count must be a positive integer, got {count!r} for {word!r}")
    if isinstance(special_tokens, (str, bytes)) or not all(
        isinstance(token, str) and token for token in special_tokens
    ):
        raise ValueError(f"special_tokens must be a sequence of non-empty strings, got {special_tokens!r}")
    if len(set(special_tokens)) != len(special_tokens):
        raise ValueError(f"special_tokens must be distinct, got {special_tokens!r}")
    alphabet = sorted({word[0] for word in word_counts} | {"##" + char for word in word_counts for char in word[1:]})
    smallest = len(set(special_tokens) | set(alphabet))
    if (
        isinstance(vocabulary_size, bool)
        or not isinstance(vocabulary_size, numbers.Integral)
        or vocabulary_size < smallest
    ):
        raise ValueError(
            f"vocabulary_size must be an integer >= {smallest} (the special tokens and the alphabet), got {vocabulary_size!r}"
        )
    return alphabet


@keras.saving.register_keras_serializable(package="course_utils")
class BertTextNormalizer(keras.layers.Layer):
    """String in, string out: what :func:`clean_text` does (tab, newlines and Unicode spaces become
    spaces; NUL, U+FFFD and control/format characters are dropped), then a Unicode lower-case.

    Put it in front of ``keras_hub.tokenizers.WordPieceTokenizer(lowercase=False,
    strip_accents=True)``, which then strips accents, splits CJK ideographs and punctuation as
    BERT does: the pair gives the ids of :func:`wordpiece_encode`. Unlike ``lowercase=True``
    there, it does not fold with NFKC ("…" stays "…", as in MiniLM's own tokenizer), and it drops
    a zero-width space instead of splitting a word at it. Explained in
    notebooks/07_bert_classifier.ipynb.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("dtype", "string")
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)

    def call(self, text):
        import tensorflow as tf

        text = tf.strings.regex_replace(text, r"[\t\n\r\p{Z}]", " ")
        text = tf.strings.regex_replace(text, r"[\x{0}\x{FFFD}\p{C}]", "")
        return tf.strings.lower(text, encoding="utf-8")

    def compute_output_shape(self, input_shape):
        return input_shape
