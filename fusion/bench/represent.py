"""Benchmark of the represent stage: extraction tokens/s and stored bytes per token.

Uses a randomly initialised Llama with a Llama-2-sized vocabulary (32000) on random token
blocks, so it needs no downloaded weights; what it measures is the top-k extraction and
Arrow storage path of :mod:`fusion.represent`, which does not depend on what the weights are.
Usage: ``python -m fusion.bench.represent``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch
from datasets import Dataset, disable_progress_bars
from transformers import AutoModelForCausalLM, LlamaConfig

from fusion.represent import COLUMNS, FEATURES, represent_batch


def bench_represent(
    vocab: int = 32000, block: int = 512, blocks: int = 8, k: int = 10, batch: int = 4
) -> list[dict]:
    """Time extraction of ``blocks`` random blocks and measure the stored bytes per token."""
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=256,
        intermediate_size=688,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=block,
    )
    model = AutoModelForCausalLM.from_config(config).eval()
    seqs = torch.randint(3, vocab, (blocks, block)).tolist()
    represent_batch(model, seqs[:batch], k)  # warm-up
    start = time.perf_counter()
    rows = [
        r for i in range(0, blocks, batch) for r in represent_batch(model, seqs[i : i + batch], k)
    ]
    seconds = time.perf_counter() - start
    columns = {key: [r[key] for r in rows] for key in COLUMNS}
    ds = Dataset.from_dict({"block_id": list(range(blocks)), **columns}, features=FEATURES)
    with tempfile.TemporaryDirectory() as tmp:
        ds.save_to_disk(tmp)
        stored = sum(p.stat().st_size for p in Path(tmp).rglob("*.arrow"))
    tokens = blocks * block
    return [
        {
            "name": f"represent extraction (2-layer Llama, V={vocab}, K={k})",
            "tokens_per_s": round(tokens / seconds, 1),
        },
        {
            "name": f"representation storage (K={k})",
            "bytes_per_token": round(stored / tokens, 2),
            "budget_6K_plus_12": 6 * k + 12,
            "ratio_to_budget": round(stored / tokens / (6 * k + 12), 3),
        },
    ]


if __name__ == "__main__":
    disable_progress_bars()
    for row in bench_represent():
        print("  ".join(f"{key}={value}" for key, value in row.items()))
