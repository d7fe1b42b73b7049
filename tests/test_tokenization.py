"""course_utils.tokenization against an independent reference: the ``tokenizers`` library (Hugging
Face) loading the ``tokenizer.json`` that ships with MiniLM's weights (explained in
notebooks/07_bert_classifier.ipynb)."""

from __future__ import annotations

from collections import Counter

import pytest

from course_utils import bert, bpe, data, tokenization

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


# ------------------------------------------------------------------ learning a WordPiece vocabulary

# The corpus of the Hugging Face course's WordPiece chapter: word -> count.
HUG_CORPUS = {"hug": 10, "pug": 5, "pun": 12, "bun": 4, "hugs": 5}


def _naive_wordpiece_merges(word_counts, max_merges=10_000):
    """Brute force: every step recounts all pieces and pairs from scratch, scores every pair with
    exact fractions and takes the best (ties: more frequent pair, then the smaller pair)."""
    from collections import Counter
    from fractions import Fraction

    splits = {word: [word[0]] + ["##" + char for char in word[1:]] for word in word_counts}
    merges = []
    while len(merges) < max_merges:
        piece_n, pair_n = Counter(), Counter()
        for word, pieces in splits.items():
            for i, piece in enumerate(pieces):
                piece_n[piece] += word_counts[word]
                if i + 1 < len(pieces):
                    pair_n[piece, pieces[i + 1]] += word_counts[word]
        if not pair_n:
            return merges
        best = min(pair_n, key=lambda p: (-Fraction(pair_n[p], piece_n[p[0]] * piece_n[p[1]]), -pair_n[p], p))
        merges.append(best)
        for word, pieces in splits.items():
            joined, i = [], 0
            while i < len(pieces):
                if tuple(pieces[i : i + 2]) == best:
                    joined.append(best[0] + best[1][2:])  # the right piece always starts with "##"
                    i += 2
                else:
                    joined.append(pieces[i])
                    i += 1
            splits[word] = joined
    return merges


def test_first_merge_by_hand_and_where_it_differs_from_bpe():
    # pieces: h ##u ##g (10), p ##u ##g (5), p ##u ##n (12), b ##u ##n (4), h ##u ##g ##s (5)
    # n: h 15, p 17, b 4, ##u 36, ##g 20, ##n 16, ##s 5
    # score: (h,##u) 15/(15·36) = 1/36, (p,##u) 17/(17·36), (b,##u) 4/(4·36), (##u,##g) 20/(36·20),
    # (##u,##n) 16/(36·16): all 1/36; (##g,##s) 5/(20·5) = 1/20 wins, though it is the rarest pair.
    vocabulary, merges = tokenization.learn_wordpiece(HUG_CORPUS, 13)
    assert merges == [("##g", "##s")] and vocabulary[-1] == "##gs"
    assert vocabulary[:12] == [*bert.SPECIAL_TOKENS, "##g", "##n", "##s", "##u", "b", "h", "p"]
    # Step 2: every pair scores 1/36 again (hugs is h ##u ##gs now); the tie goes to the most
    # frequent pair, (p, ##u) with 17.
    assert tokenization.learn_wordpiece(HUG_CORPUS, 14)[1][1] == ("p", "##u")
    # equal score and count: the smaller pair in string order first
    assert tokenization.learn_wordpiece({"cd": 1, "ab": 1}, 11)[1] == [("a", "##b"), ("c", "##d")]
    # BPE's rule on the same words (course_utils.bpe, one word per text so none has a leading
    # space) takes the most frequent pair: (u, g) 10 + 5 + 5 = 20 beats (u, n) 16 and (p, u) 17.
    texts = [word for word, count in HUG_CORPUS.items() for _ in range(count)]
    assert bpe.learn_bpe(texts, 1)[1] == [("u", "g")]


@pytest.mark.parametrize("seed", range(6))
def test_learner_equals_a_brute_force_reference(seed):
    import random

    rng = random.Random(seed)
    letters = "abcde"[: 2 + seed % 4]  # few letters: long runs such as "aaaa" and many ties
    word_counts = {}
    while len(word_counts) < 60:
        word = "".join(rng.choice(letters) for _ in range(rng.randint(1, 9)))
        word_counts[word] = rng.choice([1, 1, 2, 3, 5, 8, 20])
    expected = _naive_wordpiece_merges(word_counts)
    vocabulary, merges = tokenization.learn_wordpiece(word_counts, 10_000)  # until every word is one piece
    assert merges == expected
    joined = [left + right[2:] for left, right in expected]
    assert len(set(joined)) == len(joined), "a merge never forms a piece that an earlier merge formed"
    alphabet = sorted({w[0] for w in word_counts} | {"##" + c for w in word_counts for c in w[1:]})
    assert vocabulary == [*bert.SPECIAL_TOKENS, *alphabet, *joined]
    # a smaller vocabulary is the start of the same run
    size = len(vocabulary) // 2
    small_vocabulary, small_merges = tokenization.learn_wordpiece(word_counts, size)
    assert small_vocabulary == vocabulary[:size] and small_merges == merges[: len(small_merges)]


def test_every_training_word_is_encoded_without_unknown_and_an_unseen_character_is_unknown():
    text = " ".join(["The film is a quiet, moving triumph; the actors seem bored.", "Moving, funny & smart!"] * 3)
    word_counts = Counter(tokenization.basic_tokenize(text))
    vocabulary, _ = tokenization.learn_wordpiece(word_counts, 45)
    ids = {token: number for number, token in enumerate(vocabulary)}
    unknown = ids["[UNK]"]
    for word in word_counts:
        pieces = tokenization.wordpiece_split(word, ids, unknown)
        assert unknown not in pieces
        assert "".join(vocabulary[i].removeprefix("##") for i in pieces) == word
    for unseen in ["filmed", "smartest", "moved", "tt"]:  # never seen; each character was, in its place
        assert unseen not in word_counts and unknown not in tokenization.wordpiece_split(unseen, ids, unknown)
    assert "##u" in ids and "u" not in ids  # no training word starts with "u":
    assert tokenization.wordpiece_split("unmoving", ids, unknown) == [unknown]
    assert tokenization.wordpiece_split("borez", ids, unknown) == [unknown]  # no "z": the whole word is [UNK]


def test_learn_wordpiece_rejects_bad_input():
    with pytest.raises(ValueError, match="non-empty dict"):
        tokenization.learn_wordpiece(["hug", "pug"], 20)
    with pytest.raises(ValueError, match="non-empty string without whitespace"):
        tokenization.learn_wordpiece({"two words": 3}, 20)
    with pytest.raises(ValueError, match="'#' must be a word of its own"):
        tokenization.learn_wordpiece({"a##b": 3}, 20)
    with pytest.raises(ValueError, match="positive integer"):
        tokenization.learn_wordpiece({"hug": 0}, 20)
    with pytest.raises(ValueError, match="special_tokens must be distinct"):
        tokenization.learn_wordpiece(HUG_CORPUS, 20, special_tokens=("[UNK]", "[UNK]"))
    with pytest.raises(
        ValueError, match=r"vocabulary_size must be an integer >= 12 \(the special tokens and the alphabet\)"
    ):
        tokenization.learn_wordpiece(HUG_CORPUS, 11)
