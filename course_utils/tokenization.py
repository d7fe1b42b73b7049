"""BERT's tokenizer from scratch: the basic tokenizer (clean, split CJK, strip accents, lower-case,
split on whitespace and punctuation) and WordPiece's greedy longest-match encoding; plus
:class:`BertTextNormalizer`, a Keras layer that puts the same normalisation in front of
``keras_hub.tokenizers.WordPieceTokenizer`` inside a model that takes raw text.

The pure-Python functions are the ones taught in notebooks/07_bert_classifier.ipynb (its cell
marked ``# package copy: course_utils.tokenization``). They reproduce the tokenizer that ships with
MiniLM's weights (``tokenizer.json``, Hugging Face's ``BertNormalizer`` + ``BertPreTokenizer`` +
``WordPiece``); tests/test_tokenization.py compares the token ids with the ``tokenizers`` library
on hard strings. Only the standard library is imported at module level (Keras and TensorFlow
inside the layer).
"""

from __future__ import annotations

import unicodedata

import keras

__all__ = [
    "BertTextNormalizer",
    "basic_tokenize",
    "clean_text",
    "is_cjk",
    "is_punctuation",
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
