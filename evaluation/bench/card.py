"""Card scoring throughput: logits only where a continuation is predicted (``make card``'s way)
against logits at every position (the way before), on the same model and sequences in one run.

The model is a random-init Llama of the tiny target's shape (hidden 128, 4 layers, vocabulary
3,000, 512 positions); the sequences have the card's shapes, drawn from a seeded generator:
reading items (a ~300-token passage with four continuations of 1–8 tokens) and short clozes
(8–20 context tokens, four continuations of 1–4). Rounds alternate the two ways and each
way's fastest round counts; both must give the same log-probabilities (within 1e-4), else
`ScoreMismatch`.
"""

from __future__ import annotations

import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM

from evaluation.bench.throughput import ScoreMismatch
from evaluation.card.score import continuation_logprobs

VOCAB, BATCH = 3000, 32  # the tiny target's vocabulary; the card's batch (eval batch x 4)


def card_sequences(passages: int, clozes: int, seed: int = 0) -> list[tuple[list[int], int]]:
    """(token ids, continuation length) per choice, four choices per item."""
    gen = torch.Generator().manual_seed(seed)

    def ids(n: int) -> list[int]:
        return torch.randint(1, VOCAB, (n,), generator=gen).tolist()

    def span(low: int, high: int) -> int:
        return int(torch.randint(low, high + 1, (1,), generator=gen))

    out = []
    for context, longest in [(300, 8)] * passages + [(0, 4)] * clozes:
        shared = ids(context or span(8, 20))
        for _ in range(4):
            tail = ids(span(1, longest))
            out.append(([0, *shared, *tail], len(tail)))
    return out


def bench_card(passages: int = 100, clozes: int = 400, repeats: int = 3) -> dict:
    """One row: sequences/s of both ways and their ratio, the largest log-probability gap."""
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=VOCAB,
        hidden_size=128,
        intermediate_size=512,
        num_hidden_layers=4,
        num_attention_heads=4,
        max_position_embeddings=512,
    )
    model = LlamaForCausalLM(config).eval()
    sequences = card_sequences(passages, clozes)
    best = {"kept": float("inf"), "all": float("inf")}
    gap = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        kept = continuation_logprobs(model, sequences, 0, BATCH)
        middle = time.perf_counter()
        full = continuation_logprobs(model, sequences, 0, BATCH, all_logits=True)
        best["kept"] = min(best["kept"], middle - start)
        best["all"] = min(best["all"], time.perf_counter() - middle)
        gap = max(gap, *(abs(a - b) for a, b in zip(kept, full, strict=True)))
    if gap > 1e-4:
        raise ScoreMismatch(f"card log-probabilities differ by {gap:.1e}")
    return {
        "name": "card scoring",
        "sequences": len(sequences),
        "kept_logits_seq_per_s": round(len(sequences) / best["kept"], 1),
        "all_logits_seq_per_s": round(len(sequences) / best["all"], 1),
        "ratio": round(best["all"] / best["kept"], 2),
        "max_logprob_diff": f"{gap:.1e}",
    }
