"""course_utils.bpe (byte-level BPE, explained in notebooks/07_bert_classifier.ipynb) against
``keras_hub.tokenizers.BytePairTokenizer`` given the same vocabulary and merges, plus round trips,
merge order and unseen bytes.

keras_hub is run on its TensorFlow path (``_allow_python_workflow=False``), which splits words with
GPT-2's pattern. Its pure-Python path (keras_hub 0.32, used outside ``tf.function`` by default)
hands its split pattern to ``tokenizers.pre_tokenizers.Split`` as a plain string, not a ``Regex``,
so it does not split the text into words at all, and merges then cross word boundaries.
"""

from __future__ import annotations

import pytest

from course_utils import bpe

CORPUS = [
    "The film is a quiet, moving triumph.",
    "A dull, lifeless film; the actors seem bored.",
    "It's the director's best film, and it isn't close.",
    "Boring boring boring: the sequel nobody asked for.",
    "Moving, funny and smart -- one of the year's best films.",
] * 20
# keras_hub's TensorFlow path stops reading a string at a NUL byte, so NUL is left out here.
HARD = [
    "Café naïve résumé 😀 日本語 Привет",
    "tab\tnew\nline  two  spaces   ",
    "  leading spaces",
    "it's I'LL don't we've 12345 $5.99!!",
    "zero\u200bwidth soft\u00adhyphen \ufffd",
    "unseenwordzzz qqq xylophone",
    "",
]


@pytest.fixture(scope="module")
def learnt():
    return bpe.learn_bpe(CORPUS, 60)


def test_byte_symbols_are_a_bijection_of_printable_characters():
    table = bpe.byte_symbols()
    assert sorted(table) == list(range(256)) and len(set(table.values())) == 256
    assert all(symbol.isprintable() and not symbol.isspace() for symbol in table.values())
    assert table[ord(" ")] == "Ġ" and table[ord("\n")] == "Ċ" and table[ord("A")] == "A"  # GPT-2's choices


def test_round_trip_recovers_every_string(learnt):
    vocabulary, merges = learnt
    for text in HARD + CORPUS[:5]:
        assert bpe.bpe_decode(bpe.bpe_encode([text], vocabulary, merges)[0], vocabulary) == text


def test_first_merge_is_the_most_frequent_pair_counted_by_hand():
    texts = ["aaab aab", "ab ab"]  # words: aaab, Ġaab, ab, Ġab
    vocabulary, merges = bpe.learn_bpe(texts, 1)
    # pairs: (a,a) x2+1 = 3, (a,b) x1+1+1+1 = 4, (Ġ,a) x2 -> (a, b) first
    assert merges == [("a", "b")]
    assert vocabulary[-1] == "ab" and len(vocabulary) == 257


def test_merges_are_applied_in_the_order_learnt():
    vocabulary = [*bpe.BYTE_SYMBOLS.values(), "bc", "ab"]
    ids = {token: number for number, token in enumerate(vocabulary)}
    # "bc" was learnt first, so "abc" -> a + bc even though "ab" also occurs
    assert bpe.bpe_encode(["abc"], vocabulary, [("b", "c"), ("a", "b")])[0] == [ids["a"], ids["bc"]]
    assert bpe.bpe_encode(["abc"], vocabulary, [("a", "b"), ("b", "c")])[0] == [ids["ab"], ids["c"]]


def test_unseen_bytes_fall_back_to_byte_tokens(learnt):
    vocabulary, merges = learnt
    ids = bpe.bpe_encode(["😀"], vocabulary, merges)[0]
    assert [vocabulary[i] for i in ids] == [bpe.BYTE_SYMBOLS[byte] for byte in "😀".encode()]  # 4 bytes, 4 tokens


def test_encoder_matches_keras_hub_byte_pair_tokenizer(learnt):
    keras_hub = pytest.importorskip("keras_hub")
    tf = pytest.importorskip("tensorflow")
    vocabulary, merges = learnt
    arguments = {
        "vocabulary": {token: number for number, token in enumerate(vocabulary)},
        "merges": [f"{left} {right}" for left, right in merges],
    }
    try:  # keras_hub >= 0.32 also has a pure-Python path; ask for the TensorFlow one
        reference = keras_hub.tokenizers.BytePairTokenizer(**arguments, _allow_python_workflow=False)
    except (TypeError, ValueError):  # older keras_hub refuses the argument; its TensorFlow path is the only one
        reference = keras_hub.tokenizers.BytePairTokenizer(**arguments)
    texts = HARD + sorted(set(CORPUS))
    expected = [[int(i) for i in row] for row in reference.tokenize(tf.constant(texts))]
    assert bpe.bpe_encode(texts, vocabulary, merges) == expected
    assert sum(len(row) for row in expected) < sum(len(text.encode()) for text in texts), "merges were used"


def test_bad_input_is_refused(learnt):
    vocabulary, _ = learnt
    with pytest.raises(ValueError, match="sequence of strings"):
        bpe.learn_bpe("one text", 10)
    with pytest.raises(ValueError, match="num_merges"):
        bpe.learn_bpe(["a"], -1)
    with pytest.raises(ValueError, match="256 byte symbols"):
        bpe.bpe_encode(["a"], ["a"], [])
    with pytest.raises(ValueError, match="not in the vocabulary"):
        bpe.bpe_encode(["a"], vocabulary, [("q", "z")])
