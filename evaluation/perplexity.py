"""Perplexity and bits per byte of a causal LM on held-out text, by sliding window.

Method. Each text is scored on its own: its tokens (no special tokens) are preceded by one
context token, the tokenizer's BOS (else EOS) as lm-eval's rolling loglikelihood does, so every
token of the text is predicted exactly once. Windows hold at most `block_size` tokens; each
scores the next `stride` tokens given everything before them in the window. With the default
stride ``block_size - 1`` consecutive windows share one token (non-overlapping blocks; the
cheapest exact scoring); a smaller stride gives each prediction more context at more compute.

Totals. ``nll_sum`` is in nats over every text token; ``perplexity = exp(nll_sum / tokens)``;
``bits_per_byte = nll_sum / (ln 2 * bytes)`` with the texts' UTF-8 bytes: unlike perplexity it
does not depend on the tokenizer, so models with different vocabularies compare directly.
Tiny-world held-out text is the ``test`` split of every domain corpus.
"""

from __future__ import annotations

import json
import math

import torch
from transformers import (
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from fusion.models import load_causal_lm


def summarize(nll_sum: float, tokens: int, n_bytes: int) -> dict[str, float]:
    """The reported figures from summed NLL, predicted tokens and text bytes."""
    loss = nll_sum / tokens if tokens else float("nan")
    return {
        "tokens": tokens,
        "bytes": n_bytes,
        "nll_sum": nll_sum,
        "loss_per_token": loss,
        "perplexity": math.exp(loss),
        "bits_per_byte": nll_sum / (math.log(2) * n_bytes) if n_bytes else float("nan"),
    }


def docs_artifact(domain: str) -> str:
    """Where an eval run keeps one domain's per-document figures (for the table's intervals)."""
    return f"eval/perplexity/docs_{domain}.jsonl"


def documents_jsonl(docs: list[dict[str, float]]) -> str:
    """Per-document figures as JSONL, one line per text in scoring order (``doc`` = index)."""
    keys = ("nll_sum", "tokens", "bytes")
    return "".join(
        json.dumps({"doc": i, **{k: d[k] for k in keys}}) + "\n" for i, d in enumerate(docs)
    )


def pool(parts: list[dict[str, float]]) -> dict[str, float]:
    """Figures over several scored sets at once (e.g. all domains): sums, not means."""
    return summarize(
        sum(p["nll_sum"] for p in parts),
        sum(int(p["tokens"]) for p in parts),
        sum(int(p["bytes"]) for p in parts),
    )


@torch.no_grad()
def sequence_nll(model: PreTrainedModel, ids: torch.Tensor, block_size: int, stride: int) -> float:
    """Summed NLL (nats) of ids[1:] given their predecessors, by windows of `block_size`.

    Args:
        model: a causal LM.
        ids: (T,) int64 token ids; ids[0] is context only.
        block_size: most tokens one forward pass sees.
        stride: tokens scored per window, in [1, block_size - 1], so that the first scored
            token always has at least one token of context inside its window.
    """
    nll = 0.0
    for t0 in range(1, len(ids), stride):
        t1 = min(t0 + stride, len(ids))
        begin = max(0, t1 - block_size)
        logits = model(ids[begin:t1].unsqueeze(0)).logits[0].float()  # (t1 - begin, V)
        logprobs = torch.log_softmax(logits[t0 - 1 - begin : t1 - 1 - begin], dim=-1)
        nll -= logprobs.gather(1, ids[t0:t1, None]).double().sum().item()
    return nll


def score_documents(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: list[str],
    block_size: int,
    stride: int | None = None,
) -> list[dict[str, float]]:
    """Every text's figures on its own, so an interval can resample documents; `pool` of
    them equals `score` of the same texts."""
    stride = stride or block_size - 1
    if not 1 <= stride < block_size:
        raise ValueError(f"stride {stride} must be in [1, block_size - 1 = {block_size - 1}]")
    bos = tokenizer.bos_token_id
    context = bos if bos is not None else tokenizer.eos_token_id
    docs = []
    for text in texts:
        body = tokenizer(text, add_special_tokens=False).input_ids
        nll = sequence_nll(model, torch.tensor([context, *body]), block_size, stride)
        docs.append(summarize(nll, len(body), len(text.encode("utf-8"))))
    return docs


def score(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: list[str],
    block_size: int,
    stride: int | None = None,
) -> dict[str, float]:
    """`perplexity` with a loaded model, so several text sets share one load."""
    return pool(score_documents(model, tokenizer, texts, block_size, stride))


def perplexity(
    model_path: str, texts: list[str], block_size: int, stride: int | None = None
) -> dict[str, float]:
    """Score `texts` with the model at `model_path` (the method is in the module docstring).

    Returns:
        ``tokens``, ``bytes``, ``nll_sum`` (nats), ``loss_per_token``, ``perplexity``,
        ``bits_per_byte``.
    """
    tokenizer, model = load_causal_lm(model_path)
    return score(model, tokenizer, texts, block_size, stride)
