"""Benchmark of the SDPA mask builder: left-padded greedy generation with the broadcast mask
(`fusion.attention_mask`, what every model loaded through `fusion.models` uses) against
transformers' own ``vmap`` builder, same model and prompts, in one run.

The model is a random-init model of the tiny target's build (`fusion.bench.tiny_target`: as
configs/tiny.yaml builds it, vocabulary 3,000); the prompts have BBH's shapes in the tiny
evaluation (a batch of 32, 60–380 tokens, left-padded) and each generates a fixed
number of tokens. Rounds alternate the two builders and each one's fastest round counts; both
must generate the same tokens, else `SuiteError`. Usage: ``python -m fusion.bench.mask``.
"""

from __future__ import annotations

import time

import torch
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask_recent_torch

from configs.errors import SuiteError
from fusion.attention_mask import broadcast_sdpa_mask
from fusion.bench import tiny_target

VOCAB = 3000  # the tiny target's vocabulary


def prompts(batch: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """A left-padded batch of random prompts of 60–380 tokens (pad id 0)."""
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.randint(60, 381, (batch,), generator=gen).tolist()
    width = max(lengths)
    ids = torch.zeros(batch, width, dtype=torch.long)
    mask = torch.zeros(batch, width, dtype=torch.long)
    for row, n in enumerate(lengths):
        ids[row, width - n :] = torch.randint(1, VOCAB, (n,), generator=gen)
        mask[row, width - n :] = 1
    return {"input_ids": ids, "attention_mask": mask}


def bench_mask(batch: int = 32, new_tokens: int = 64, repeats: int = 3) -> dict:
    """One row: generated tokens/s with each builder, their ratio, and whether the generated
    tokens are identical."""
    model = tiny_target(VOCAB)
    inputs = prompts(batch)
    kwargs = {"max_new_tokens": new_tokens, "min_new_tokens": new_tokens, "do_sample": False}
    builders = {"broadcast": broadcast_sdpa_mask, "vmap": sdpa_mask_recent_torch}
    best = dict.fromkeys(builders, float("inf"))
    outputs: dict[str, torch.Tensor] = {}
    try:
        for _ in range(repeats):
            for name, builder in builders.items():
                AttentionMaskInterface.register("sdpa", builder)
                start = time.perf_counter()
                with torch.inference_mode():
                    outputs[name] = model.generate(**inputs, **kwargs, pad_token_id=0)
                best[name] = min(best[name], time.perf_counter() - start)
    finally:
        AttentionMaskInterface.register("sdpa", broadcast_sdpa_mask)
    if not torch.equal(outputs["broadcast"], outputs["vmap"]):
        raise SuiteError("the two mask builders generated different tokens")
    tokens = batch * new_tokens
    return {
        "name": "sdpa mask (generation)",
        "tokens": tokens,
        "broadcast_tokens_per_s": round(tokens / best["broadcast"], 1),
        "vmap_tokens_per_s": round(tokens / best["vmap"], 1),
        "ratio": round(best["vmap"] / best["broadcast"], 2),
        "identical_tokens": True,
    }


if __name__ == "__main__":
    print("  ".join(f"{key}={value}" for key, value in bench_mask().items()))
