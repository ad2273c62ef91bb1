"""Card scoring throughput: each item's shared context run once and its choices continued from
the cached keys and values (``make card``'s way, `choice_logprobs`) against every choice run
whole (the way before, `continuation_logprobs`), on the same model and items in one run.

The model is a random-init model of the tiny target's build (`fusion.bench.tiny_target`: as
configs/tiny.yaml builds it, vocabulary 3,000), scored in the card's batches (tiny.yaml's
evaluation batch x 4, as `make card` scores); the sequences have the card's shapes, drawn
from a seeded generator: reading items (a ~300-token passage with four continuations of 1–8
tokens) and short clozes (8–20 context tokens, four continuations of 1–4). Rounds alternate
the two ways and each way's fastest round counts; both must give the same log-probabilities
(within 1e-4), else `ScoreMismatch`.
"""

from __future__ import annotations

import time

import torch

from configs.loader import load_config
from evaluation.bench.throughput import ScoreMismatch
from evaluation.card.score import choice_logprobs, continuation_logprobs
from fusion.bench import TINY, tiny_target

VOCAB = 3000  # the tiny target's vocabulary
BATCH = load_config(TINY).evaluation.batch_size * 4  # the card's batch, as `make card` sets it
Item = list[tuple[list[int], int]]


def card_items(passages: int, clozes: int, seed: int = 0) -> list[Item]:
    """Per item, four choices as (token ids, continuation length)."""
    gen = torch.Generator().manual_seed(seed)

    def ids(n: int) -> list[int]:
        return torch.randint(1, VOCAB, (n,), generator=gen).tolist()

    def span(low: int, high: int) -> int:
        return int(torch.randint(low, high + 1, (1,), generator=gen))

    out = []
    for context, longest in [(300, 8)] * passages + [(0, 4)] * clozes:
        shared = ids(context or span(8, 20))
        tails = [ids(span(1, longest)) for _ in range(4)]
        out.append([([0, *shared, *tail], len(tail)) for tail in tails])
    return out


def bench_card(passages: int = 100, clozes: int = 400, repeats: int = 3) -> dict:
    """One row: sequences/s of both ways and their ratio, the largest log-probability gap."""
    model = tiny_target(VOCAB)
    items = card_items(passages, clozes)
    sequences = [seq for item in items for seq in item]
    best = {"shared": float("inf"), "whole": float("inf")}
    gap = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        shared = [x for sums in choice_logprobs(model, items, 0, BATCH) for x in sums]
        middle = time.perf_counter()
        whole = continuation_logprobs(model, sequences, 0, BATCH)
        best["shared"] = min(best["shared"], middle - start)
        best["whole"] = min(best["whole"], time.perf_counter() - middle)
        gap = max(gap, *(abs(a - b) for a, b in zip(shared, whole, strict=True)))
    if gap > 1e-4:
        raise ScoreMismatch(f"card log-probabilities differ by {gap:.1e}")
    return {
        "name": "card scoring",
        "sequences": len(sequences),
        "shared_context_seq_per_s": round(len(sequences) / best["shared"], 1),
        "whole_choices_seq_per_s": round(len(sequences) / best["whole"], 1),
        "ratio": round(best["whole"] / best["shared"], 2),
        "max_logprob_diff": f"{gap:.1e}",
    }
