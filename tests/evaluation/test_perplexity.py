"""Perplexity by sliding window: exp(HF loss) on one window, every token scored once."""

from __future__ import annotations

import json
import math

import pytest
import torch

from evaluation.perplexity import documents_jsonl, perplexity, pool, score, score_documents
from fusion.models import load_causal_lm

TEXT = "The city of Brathorn stands on a river. People use a kettle for boiling water."


@pytest.fixture(scope="module")
def target(micro_cfg, micro_world) -> str:
    return micro_world.model(micro_cfg.models.target)


def test_one_window_equals_exp_of_the_hf_loss(target: str) -> None:
    tokenizer, model = load_causal_lm(target)
    body = tokenizer(TEXT, add_special_tokens=False).input_ids
    ids = torch.tensor([[tokenizer.bos_token_id, *body]])
    with torch.no_grad():
        loss = model(ids, labels=ids).loss.item()
    got = perplexity(target, [TEXT], block_size=len(body) + 1)
    assert got["tokens"] == len(body)
    assert got["bytes"] == len(TEXT.encode("utf-8"))
    assert got["perplexity"] == pytest.approx(math.exp(loss), rel=1e-5)
    assert got["loss_per_token"] == pytest.approx(loss, rel=1e-5)
    assert got["bits_per_byte"] == pytest.approx(got["nll_sum"] / (math.log(2) * got["bytes"]))


def test_windows_score_every_token_once_and_pool_sums(target: str) -> None:
    tokenizer, model = load_causal_lm(target)
    texts = [TEXT, TEXT.upper()]
    whole = score(model, tokenizer, texts, block_size=128)
    blocks = score(model, tokenizer, texts, block_size=8)  # non-overlapping: stride 7
    sliding = score(model, tokenizer, texts, block_size=8, stride=2)
    assert whole["tokens"] == blocks["tokens"] == sliding["tokens"]
    assert blocks["nll_sum"] != pytest.approx(whole["nll_sum"])  # shorter context, other NLL
    pooled = pool([score(model, tokenizer, [t], block_size=8) for t in texts])
    assert pooled["nll_sum"] == pytest.approx(blocks["nll_sum"])
    assert pooled["perplexity"] == pytest.approx(blocks["perplexity"])
    with pytest.raises(ValueError, match="stride"):
        score(model, tokenizer, texts, block_size=8, stride=8)


def test_documents_pool_to_the_whole_and_round_trip_as_jsonl(target: str) -> None:
    tokenizer, model = load_causal_lm(target)
    texts = [TEXT, TEXT.upper(), "short"]
    docs = score_documents(model, tokenizer, texts, block_size=8)
    assert pool(docs) == score(model, tokenizer, texts, block_size=8)
    rows = [json.loads(line) for line in documents_jsonl(docs).splitlines()]
    assert [r["doc"] for r in rows] == [0, 1, 2]
    assert [r["bytes"] for r in rows] == [len(t.encode("utf-8")) for t in texts]
    assert [r["nll_sum"] for r in rows] == [d["nll_sum"] for d in docs]
