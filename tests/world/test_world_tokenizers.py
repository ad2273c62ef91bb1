"""Tiny-world tokenizers: the two conventions, exact round trips, determinism, HF reload."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from configs.domains import DOMAINS, MIXES
from world.corpus import mix_corpus
from world.tokenizers import TOKENIZER_KINDS, train_tokenizer

Corpora = dict[str, dict[str, list[str]]]
VOCAB = 1500


@pytest.fixture(scope="module")
def texts(corpora: Corpora) -> list[str]:
    return mix_corpus(corpora, MIXES["general"], n_docs=300, seed=0)


@pytest.fixture(scope="module")
def trained(texts: list[str]) -> dict[str, PreTrainedTokenizerFast]:
    return {kind: train_tokenizer(kind, texts, VOCAB) for kind in TOKENIZER_KINDS}


def test_word_markers_follow_each_convention(trained: dict[str, PreTrainedTokenizerFast]) -> None:
    meta, byte = trained["metaspace_bpe"].get_vocab(), trained["byte_bpe"].get_vocab()
    assert any(t.startswith("▁") for t in meta) and not any(t.startswith("Ġ") for t in meta)
    assert any(t.startswith("Ġ") for t in byte) and not any(t.startswith("▁") for t in byte)
    assert len(meta) == len(byte) == VOCAB


def test_a_newline_is_a_token_boundary_as_in_llama(
    trained: dict[str, PreTrainedTokenizerFast], texts: list[str]
) -> None:
    """A prompt ending in a newline (BBH's "...step by step.\\n") tokenizes as the start of
    the text it begins, whichever the kind: the model continues from a boundary it knows."""
    meta = trained["metaspace_bpe"]
    assert not any("\n" in t and t != "\n" for t in meta.get_vocab())
    for tok in trained.values():
        for text in texts[:50]:
            # a single newline before a word (a run of them is one byte-level pre-token)
            single = re.finditer(r"(?<!\n)\n(?=\S)", text)
            for cut in [m.end() for m in single][:5]:
                prompt = tok(text[:cut]).input_ids
                assert tok(text).input_ids[: len(prompt)] == prompt, repr(text[:cut][-30:])


def test_special_tokens_match_llama_and_gpt_neox(
    trained: dict[str, PreTrainedTokenizerFast],
) -> None:
    meta, byte = trained["metaspace_bpe"], trained["byte_bpe"]
    assert meta.convert_ids_to_tokens([0, 1, 2]) == ["<unk>", "<s>", "</s>"]
    assert (meta.bos_token, meta.eos_token, meta.unk_token, meta.pad_token) == (
        "<s>",
        "</s>",
        "<unk>",
        "<unk>",
    )
    assert meta("The river.")["input_ids"][0] == meta.bos_token_id
    assert meta("The river.", add_special_tokens=False)["input_ids"][0] != meta.bos_token_id
    assert {byte.bos_token, byte.eos_token, byte.unk_token, byte.pad_token} == {"<|endoftext|>"}
    assert byte.convert_tokens_to_ids("<|endoftext|>") == 0
    assert (
        byte("The river.")["input_ids"] == byte("The river.", add_special_tokens=False)["input_ids"]
    )


@pytest.mark.parametrize("kind", TOKENIZER_KINDS)
def test_corpus_text_round_trips(
    kind: str, trained: dict[str, PreTrainedTokenizerFast], corpora: Corpora
) -> None:
    tok = trained[kind]
    for domain in DOMAINS:
        for doc in corpora[domain]["test"][:5]:
            ids = tok(doc)["input_ids"]
            assert tok.decode(ids, skip_special_tokens=True) == doc, domain
            assert tok.unk_token_id not in ids or kind == "byte_bpe"


@pytest.mark.parametrize("kind", TOKENIZER_KINDS)
def test_training_is_deterministic(
    kind: str, trained: dict[str, PreTrainedTokenizerFast], texts: list[str]
) -> None:
    again = train_tokenizer(kind, texts, VOCAB)
    assert again.backend_tokenizer.to_str() == trained[kind].backend_tokenizer.to_str()


@pytest.mark.parametrize("kind", TOKENIZER_KINDS)
def test_save_and_reload_through_auto_tokenizer(
    kind: str, tmp_path: Path, trained: dict[str, PreTrainedTokenizerFast], corpora: Corpora
) -> None:
    tok = trained[kind]
    tok.save_pretrained(tmp_path)
    loaded = AutoTokenizer.from_pretrained(tmp_path)
    assert isinstance(loaded, PreTrainedTokenizerFast)
    assert loaded.get_vocab() == tok.get_vocab()
    assert loaded.special_tokens_map == tok.special_tokens_map
    doc = corpora["code"]["test"][0]
    assert loaded(doc)["input_ids"] == tok(doc)["input_ids"]
    assert loaded.decode(loaded(doc)["input_ids"], skip_special_tokens=True) == doc


def test_metaspace_tokenizers_of_different_mixes_differ(
    trained: dict[str, PreTrainedTokenizerFast], corpora: Corpora
) -> None:
    source_texts = mix_corpus(corpora, MIXES["source_llama"], n_docs=300, seed=0)
    source = train_tokenizer("metaspace_bpe", source_texts, VOCAB)
    target_vocab = set(trained["metaspace_bpe"].get_vocab())
    assert len(set(source.get_vocab()) ^ target_vocab) > VOCAB // 10
    smaller = train_tokenizer("metaspace_bpe", source_texts, VOCAB // 2)
    assert len(smaller) == VOCAB // 2


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="metaspace_bpe"):
        train_tokenizer("wordpiece", ["text"], 100)
