"""course_utils.tokenization against an independent reference: the ``tokenizers`` library (Hugging
Face) loading the ``tokenizer.json`` that ships with MiniLM's weights (explained in
notebooks/07_bert_classifier.ipynb)."""

from __future__ import annotations

import pytest

from course_utils import bert, data, tokenization

HARD_STRINGS = [
    "Café, naïve résumé: déjà vu!",
    "ÀÉÎÕÜ ß İstanbul Ǆ ﬁlm ² ½ Ｆｕｌｌｗｉｄｔｈ Ⅻ ℃ ㎏",  # compatibility characters: no NFKC folding
    "e\u0301 combining acute, ﬀ ligature",
    "日本語のテキストと中文字符 mixed中文text",  # CJK ideographs become one word each
    "한국어 영화 리뷰",
    "Привет, мир! Это фильм.",
    "مرحبا بالعالم שלום हिन्दी फ़िल्म ไทย Ελληνικά",
    "zero\u200bwidth\u200cnon\u200djoiner\ufeffbom soft\u00adhyphen",  # format characters are dropped
    "ctrl\x00\x01\x07\x1b[0m\x7f\x85\x0b\x0cchars \ufffd \U000e0001 \ue000",  # control, tag, private use
    "tab\tnew\nline\rcr nbsp\u00a0thin\u2009ideo\u3000line\u2028para\u2029end",
    "… “quotes” ‘single’ «guillemets» – — ¡¿ $5.99 @user #tag ^caret `tick` ~tilde |pipe",
    "emoji 😀👍🏽 🇫🇷 ❤️",
    "x" * 100 + " " + "y" * 101,  # WordPiece gives up on words longer than 100 characters
    "super" + "califragilistic" * 8,
    " ".join(["long"] * 600),
    "",
    "   ",
]


@pytest.fixture(scope="module")
def minilm():
    tokenizers = pytest.importorskip("tokenizers")
    paths = data.minilm_files(verbose=False)
    reference_path = paths["vocab.txt"].parent / "tokenizer.json"
    if not reference_path.exists():  # pragma: no cover (the registry package ships it)
        pytest.skip("MiniLM's tokenizer.json is not installed")
    reference = tokenizers.Tokenizer.from_file(str(reference_path))
    reference.no_truncation()
    reference.no_padding()
    return bert.load_vocabulary(paths["vocab.txt"]), reference


def _reference_ids(reference, texts):
    return [encoding.ids[1:-1] for encoding in reference.encode_batch(list(texts))]  # without [CLS] ... [SEP]


def test_python_tokenizer_matches_the_shipped_tokenizer_on_hard_strings(minilm):
    vocabulary, reference = minilm
    expected = _reference_ids(reference, HARD_STRINGS)
    got = tokenization.wordpiece_encode(HARD_STRINGS, vocabulary)
    for text, want, have in zip(HARD_STRINGS, expected, got, strict=True):
        assert have == want, (
            f"{text[:40]!r}: {[vocabulary[i] for i in have][:20]} != {[vocabulary[i] for i in want][:20]}"
        )
    assert any(vocabulary.index("[UNK]") in ids for ids in expected), "the hard strings include unknown words"


def test_keras_pipeline_matches_the_shipped_tokenizer_on_hard_strings(minilm):
    keras_hub = pytest.importorskip("keras_hub")
    import tensorflow as tf

    vocabulary, reference = minilm
    tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=vocabulary, lowercase=False, strip_accents=True, oov_token="[UNK]"
    )
    normalizer = tokenization.BertTextNormalizer()
    got = [list(map(int, row)) for row in tokenizer.tokenize(normalizer(tf.constant(HARD_STRINGS)))]
    assert got == _reference_ids(reference, HARD_STRINGS)


def test_keras_hub_lowercase_folds_with_nfkc_where_the_reference_does_not(minilm):
    """Why the normaliser layer exists: keras_hub's own lower-casing is an NFKC case fold."""
    keras_hub = pytest.importorskip("keras_hub")
    vocabulary, reference = minilm
    tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=vocabulary, lowercase=True, strip_accents=True, oov_token="[UNK]"
    )
    text = "Wait… what?"
    assert [int(i) for i in tokenizer.tokenize([text])[0]] != _reference_ids(reference, [text])[0]


def test_basic_tokenizer_by_hand():
    assert tokenization.basic_tokenize("Café—NAÏVE, don't!") == ["cafe", "—", "naive", ",", "don", "'", "t", "!"]
    assert tokenization.basic_tokenize("中文ok") == ["中", "文", "ok"]
    assert tokenization.basic_tokenize("zero\u200bwidth") == ["zerowidth"]
    assert tokenization.basic_tokenize("Keep Case", lowercase=False) == ["Keep", "Case"]


def test_greedy_longest_match_and_unknown_words():
    vocabulary = ["[UNK]", "un", "unwatch", "##watch", "##able", "##a", "##b"]
    ids = {token: number for number, token in enumerate(vocabulary)}
    assert tokenization.wordpiece_split("unwatchable", ids, 0) == [2, 4]  # longest first piece wins
    assert tokenization.wordpiece_split("unwatchab", ids, 0) == [2, 5, 6]
    assert tokenization.wordpiece_split("unx", ids, 0) == [0]  # one missing piece: the whole word is unknown
    assert tokenization.wordpiece_split("un" * 60, ids, 0, max_chars=100) == [0]


def test_wordpiece_encode_rejects_bad_input():
    with pytest.raises(ValueError, match="sequence of strings"):
        tokenization.wordpiece_encode("one text", ["[UNK]"])
    with pytest.raises(ValueError, match="unknown token"):
        tokenization.wordpiece_encode(["text"], ["a", "b"])
