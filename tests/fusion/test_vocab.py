"""Marker detection and the MinED vocabulary mapping."""

from __future__ import annotations

import pytest
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from fusion.vocab import detect_marker, mined_vocab_map, rewrite_marker, vocab_map_stats

WORDS = ["the", "cat", "sat", "on", "mat"]


def _word_level(vocab_words: list[str], setup=None) -> PreTrainedTokenizerFast:
    """A WordLevel tokenizer over the given tokens (ids in list order), pipeline by ``setup``."""
    vocab = {"<unk>": 0, **{w: i + 1 for i, w in enumerate(vocab_words)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    if setup is not None:
        setup(tok)
    return PreTrainedTokenizerFast(tokenizer_object=tok)


def _metaspace(tok: Tokenizer) -> None:
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()


def _byte_level(tok: Tokenizer) -> None:
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()


def _whitespace(tok: Tokenizer) -> None:
    tok.pre_tokenizer = pre_tokenizers.Whitespace()


def _llama_normalizer(tok: Tokenizer) -> None:
    """Recent Llama fast tokenizers: no pre-tokenizer, a normalizer writes the marker."""
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.Fuse()])


def _bpe_byte_level() -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel()
    tok.add_tokens(["Ġthe", "cat"])
    return PreTrainedTokenizerFast(tokenizer_object=tok)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: _word_level(["▁" + w for w in WORDS], _metaspace), "▁"),
        (lambda: _word_level(["Ġ" + w for w in WORDS], _byte_level), "Ġ"),
        (_bpe_byte_level, "Ġ"),
        (lambda: _word_level(WORDS, _whitespace), ""),
        (lambda: _word_level(["▁" + w for w in WORDS], _llama_normalizer), "▁"),
        (lambda: _word_level(["▁" + w for w in WORDS]), "▁"),  # no pipeline: vocab statistics
        (lambda: _word_level(["Ġ" + w for w in WORDS]), "Ġ"),
        (lambda: _word_level(WORDS), ""),
    ],
    ids=[
        "metaspace",
        "byte-level",
        "bpe-byte-level",
        "whitespace",
        "llama-normalizer",
        "vocab-meta",
        "vocab-byte",
        "vocab-none",
    ],
)
def test_detect_marker_from_the_tokenizer_itself(make, expected) -> None:
    assert detect_marker(make()) == expected


def test_detect_marker_golden(base_tokenizer, blend_tokenizer) -> None:
    assert detect_marker(base_tokenizer) == "▁"
    assert detect_marker(blend_tokenizer) == "Ġ"


def test_rewrite_marker_without_source_marker_is_identity() -> None:
    assert rewrite_marker("abc", "", "▁") == "abc"
    assert rewrite_marker("Ġa Ġb", "Ġ", "▁") == "▁a ▁b"
    assert rewrite_marker("▁▁x", "▁", "") == "x"


def test_mined_vocab_map_equals_golden(base_tokenizer, blend_tokenizer, golden_mapping) -> None:
    assert mined_vocab_map(blend_tokenizer, base_tokenizer) == golden_mapping


def test_mined_ties_go_to_lowest_target_id_not_dict_order() -> None:
    # "ac" has the lower id but sorts after "ab"; "ad" is at distance 1 from both.
    target = _word_level(["▁zz", "ac", "ab"], _metaspace)
    source = _word_level(["Ġzz", "ad", "ab"], _byte_level)
    mapping = mined_vocab_map(source, target)
    assert mapping["ad"] == "ac"
    assert mapping["ab"] == "ab"
    assert mapping["▁zz"] == "▁zz"  # marker rewritten, then matched exactly
    assert set(mapping) == {"<unk>", "▁zz", "ad", "ab"}


def test_mined_map_from_markerless_source_keeps_keys(plain_tokenizer, base_tokenizer) -> None:
    mapping = mined_vocab_map(plain_tokenizer, base_tokenizer)
    assert set(mapping) == set(plain_tokenizer.get_vocab())
    assert set(mapping.values()) <= set(base_tokenizer.get_vocab())


def test_vocab_map_stats() -> None:
    stats = vocab_map_stats({"a": "a", "b": "b", "abc": "ab", "x": "yz"})
    assert stats["size"] == 4
    assert stats["exact_share"] == pytest.approx(0.5)
    assert stats["mined_share"] == pytest.approx(0.5)
    assert stats["mean_mined_distance"] == pytest.approx(1.5)
