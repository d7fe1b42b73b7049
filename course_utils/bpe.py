"""Byte-level byte-pair encoding (GPT's tokenizer) from scratch: learning merges from text, encoding
and decoding.

Text is split into words (the pre-tokenization pattern of ``keras_hub.tokenizers.BytePairTokenizer``,
GPT-2's pattern: a word keeps its leading space), each word becomes its UTF-8 bytes (every byte shown as a
printable character, GPT-2's ``bytes_to_unicode``), and learning repeatedly merges the most frequent
adjacent pair. Encoding applies the learnt merges in the order they were learnt (lowest rank first).
No byte is ever unknown: an unseen character falls back to its bytes.

Taught in notebooks/07_bert_classifier.ipynb (its cell marked ``# package copy: course_utils.bpe``);
tests/test_bpe.py checks the encoder against ``keras_hub.tokenizers.BytePairTokenizer`` given the
same vocabulary and merges. Only the standard library and ``regex`` are imported.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from itertools import pairwise

import regex

__all__ = [
    "BYTE_SYMBOLS",
    "SPLIT_PATTERN",
    "bpe_decode",
    "bpe_encode",
    "byte_symbols",
    "learn_bpe",
    "merge_pair",
    "pretokenize",
]

# GPT-2's pre-tokenization pattern: contractions, letters / digits / other symbols each with at most
# one leading space, then runs of whitespace (the last space of a run joins the next word).
SPLIT_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def byte_symbols():
    """GPT-2's table: byte value -> one printable character (printable bytes map to themselves,
    the others, such as the space 32, to characters from 256 on: the space becomes "Ġ")."""
    printable = [*range(33, 127), *range(161, 173), *range(174, 256)]
    others = [byte for byte in range(256) if byte not in printable]
    table = {byte: chr(byte) for byte in printable}
    table.update({byte: chr(256 + number) for number, byte in enumerate(others)})
    return table


BYTE_SYMBOLS = byte_symbols()


def pretokenize(text):
    """Words as byte-symbol strings: split with ``SPLIT_PATTERN``, then each UTF-8 byte as a symbol."""
    return ["".join(BYTE_SYMBOLS[byte] for byte in word.encode("utf-8")) for word in regex.findall(SPLIT_PATTERN, text)]


def merge_pair(symbols, pair):
    """Replace every occurrence of ``pair`` (left to right, not overlapping) by the joined symbol."""
    merged, position = [], 0
    while position < len(symbols):
        if position + 1 < len(symbols) and (symbols[position], symbols[position + 1]) == pair:
            merged.append(symbols[position] + symbols[position + 1])
            position += 2
        else:
            merged.append(symbols[position])
            position += 1
    return merged


def learn_bpe(texts, num_merges):
    """``(vocabulary, merges)``: the 256 byte symbols then one token per merge; ``merges`` in the
    order learnt, each the most frequent adjacent pair over all words (ties: the smaller pair).
    A heap holds (-count, pair) entries; an entry whose count is stale is skipped when popped."""
    check_learn_bpe_inputs(texts, num_merges)
    word_counts = Counter(word for text in texts for word in pretokenize(text))
    words = [list(word) for word in word_counts]
    counts = list(word_counts.values())
    pair_counts, words_with = Counter(), defaultdict(set)
    for number, symbols in enumerate(words):
        for pair in pairwise(symbols):
            pair_counts[pair] += counts[number]
            words_with[pair].add(number)
    heap = [(-count, pair) for pair, count in pair_counts.items()]
    heapq.heapify(heap)
    merges = []
    while len(merges) < num_merges and heap:
        count, best = heapq.heappop(heap)
        if -count != pair_counts.get(best, 0) or count == 0:
            continue  # stale entry
        merges.append(best)
        changed = set()
        for number in words_with.pop(best):
            symbols = words[number]
            for pair in pairwise(symbols):
                pair_counts[pair] -= counts[number]
                changed.add(pair)
            words[number] = symbols = merge_pair(symbols, best)
            for pair in pairwise(symbols):
                pair_counts[pair] += counts[number]
                words_with[pair].add(number)
                changed.add(pair)
        for pair in changed:
            if pair_counts[pair] > 0:
                heapq.heappush(heap, (-pair_counts[pair], pair))
            else:
                del pair_counts[pair]
    vocabulary = list(BYTE_SYMBOLS.values()) + [left + right for left, right in merges]
    return vocabulary, merges


def bpe_encode(texts, vocabulary, merges):
    """Token ids of each text: pre-tokenize, then in each word apply the merge of lowest rank
    (learnt first) present, until no learnt pair is left."""
    token_ids = check_bpe_inputs(texts, vocabulary, merges)
    rank = {pair: number for number, pair in enumerate(merges)}
    ids_of = {}  # each distinct word is encoded once
    encoded = []
    for text in texts:
        ids = []
        for word in pretokenize(text):
            if word not in ids_of:
                symbols = list(word)
                while len(symbols) > 1:
                    pair = min(pairwise(symbols), key=lambda pair: rank.get(pair, len(rank)))
                    if pair not in rank:
                        break
                    symbols = merge_pair(symbols, pair)
                ids_of[word] = [token_ids[symbol] for symbol in symbols]
            ids += ids_of[word]
        encoded.append(ids)
    return encoded


def bpe_decode(ids, vocabulary):
    """The text of token ids: join the tokens' symbols, map symbols back to bytes, decode UTF-8."""
    byte_of = {symbol: byte for byte, symbol in BYTE_SYMBOLS.items()}
    return bytes(byte_of[symbol] for number in ids for symbol in vocabulary[number]).decode("utf-8", errors="replace")


def check_learn_bpe_inputs(texts, num_merges) -> None:
    """The argument checks of :func:`learn_bpe`."""
    if isinstance(texts, (str, bytes)) or not all(isinstance(text, str) for text in texts):
        raise ValueError("texts must be a sequence of strings (wrap a single text in a list)")
    if isinstance(num_merges, bool) or not isinstance(num_merges, int) or num_merges < 0:
        raise ValueError(f"num_merges must be an integer >= 0, got {num_merges!r}")


def check_bpe_inputs(texts, vocabulary, merges) -> dict[str, int]:
    """The argument checks of :func:`bpe_encode`; returns ``{token: id}``."""
    if isinstance(texts, (str, bytes)) or not all(isinstance(text, str) for text in texts):
        raise ValueError("texts must be a sequence of strings (wrap a single text in a list)")
    token_ids = {token: number for number, token in enumerate(vocabulary)}
    missing = [symbol for symbol in BYTE_SYMBOLS.values() if symbol not in token_ids]
    if missing:
        raise ValueError(f"the vocabulary must hold all 256 byte symbols; {len(missing)} are missing")
    for left, right in merges:
        if left + right not in token_ids:
            raise ValueError(f"merge {(left, right)!r} produces {left + right!r}, which is not in the vocabulary")
    return token_ids
