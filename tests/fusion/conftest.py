"""Fixtures for the fusion core: golden tokenizers and vectors, and small in-test tokenizers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"
ALIGNMENT = GOLDEN / "alignment"


def _jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture(scope="session")
def base_tokenizer() -> PreTrainedTokenizerFast:
    """Golden base tokenizer: Metaspace BPE (marker ``▁``)."""
    return PreTrainedTokenizerFast(tokenizer_file=str(ALIGNMENT / "base_tokenizer.json"))


@pytest.fixture(scope="session")
def blend_tokenizer() -> PreTrainedTokenizerFast:
    """Golden blend tokenizer: byte-level BPE (marker ``Ġ``)."""
    return PreTrainedTokenizerFast(tokenizer_file=str(ALIGNMENT / "blend_tokenizer.json"))


@pytest.fixture(scope="session")
def alignment_cases() -> list[dict]:
    return _jsonl(ALIGNMENT / "cases.jsonl")


@pytest.fixture(scope="session")
def golden_mapping() -> dict[str, str]:
    with open(ALIGNMENT / "vocab_mapping_mined.json", encoding="utf-8") as handle:
        return json.load(handle)["mapping"]


@pytest.fixture(scope="session")
def fusion_cases() -> list[dict]:
    return _jsonl(GOLDEN / "fusion" / "cases.jsonl")


@pytest.fixture(scope="session")
def golden_texts(alignment_cases: list[dict]) -> list[str]:
    return [case["text"] for case in alignment_cases]


@pytest.fixture(scope="session")
def plain_tokenizer(golden_texts: list[str]) -> PreTrainedTokenizerFast:
    """A third kind: BPE split on whitespace/punctuation, so its tokens carry no marker."""
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(
        golden_texts, trainers.BpeTrainer(vocab_size=600, special_tokens=["[UNK]"])
    )
    return PreTrainedTokenizerFast(tokenizer_object=tok)


@pytest.fixture(scope="session")
def metaspace_tokenizer(golden_texts: list[str]) -> PreTrainedTokenizerFast:
    """A second Metaspace tokenizer (different vocabulary from the golden base)."""
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.BpeTrainer(vocab_size=800, special_tokens=["<unk>"])
    tok.train_from_iterator(golden_texts, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok)
