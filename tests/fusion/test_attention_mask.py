"""The broadcast SDPA mask equals transformers' vmap-built one, and generation is unchanged."""

from __future__ import annotations

import pytest
import torch
from transformers.masking_utils import (
    AttentionMaskInterface,
    chunked_causal_mask_function,
    sdpa_mask_recent_torch,
    sliding_window_causal_mask_function,
)

from fusion.attention_mask import broadcast_sdpa_mask
from fusion.bench.mask import bench_mask
from fusion.models import load_causal_lm

LEFT_PADDED = torch.tensor([[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1]]).bool()


@pytest.mark.parametrize(
    "case",
    [
        # prompt of a left-padded batch: the padding and causal patterns together
        dict(cache_position=torch.arange(6), kv_length=6, attention_mask=LEFT_PADDED),
        # one generation step: one query against the whole cache
        dict(cache_position=torch.tensor([5]), kv_length=6, attention_mask=LEFT_PADDED),
        # a chunk continued from a cache of 3 (kv offset 0, queries 3..5)
        dict(cache_position=torch.arange(3, 6), kv_length=6, attention_mask=LEFT_PADDED),
        # no padding, but is_causal may not be used (mask forced)
        dict(cache_position=torch.arange(4), kv_length=4, allow_is_causal_skip=False),
        # no padding: both skip the mask for SDPA's is_causal
        dict(cache_position=torch.arange(4), kv_length=4),
        dict(
            cache_position=torch.arange(6),
            kv_length=6,
            attention_mask=LEFT_PADDED,
            mask_function=sliding_window_causal_mask_function(3),
            local_size=3,
        ),
        dict(
            cache_position=torch.arange(6),
            kv_length=6,
            attention_mask=LEFT_PADDED,
            mask_function=chunked_causal_mask_function(2, torch.tensor([2, 0, 4])),
            local_size=2,
        ),
    ],
)
def test_mask_equals_transformers(case: dict) -> None:
    batch = case.get("attention_mask", torch.ones(1, 1)).shape[0]
    want = sdpa_mask_recent_torch(batch_size=batch, **case)
    got = broadcast_sdpa_mask(batch_size=batch, **case)
    if want is None:
        assert got is None
        return
    assert got.shape == want.shape and got.dtype == want.dtype
    assert torch.equal(got, want)
    assert not got.all()  # the case does mask something


@pytest.mark.parametrize("architecture", ["llama", "gpt_neox"])
def test_generation_is_unchanged(architecture: str, micro_cfg, micro_world) -> None:
    """Left-padded greedy generation: the same tokens and scores under either mask builder."""
    specs = [*micro_cfg.models.all(), micro_cfg.pythia.base]
    spec = next(s for s in specs if s.build.architecture == architecture)
    tok, model = load_causal_lm(micro_world.model(spec))
    assert AttentionMaskInterface._global_mapping["sdpa"] is broadcast_sdpa_mask
    tok.padding_side = "left"
    tok.pad_token = tok.pad_token or tok.eos_token
    batch = tok(["The cat sat on the", "A much longer prompt than the first one is"], padding=True)
    batch = {k: torch.tensor(batch[k]) for k in ("input_ids", "attention_mask")}
    assert not batch["attention_mask"].all()

    def generate() -> tuple[torch.Tensor, torch.Tensor]:
        with torch.inference_mode():
            out = model.generate(
                **batch,
                max_new_tokens=12,
                do_sample=False,
                output_scores=True,
                return_dict_in_generate=True,
                pad_token_id=tok.pad_token_id,
            )
        return out.sequences, torch.stack(out.scores)

    ours = generate()
    AttentionMaskInterface._global_mapping["sdpa"] = sdpa_mask_recent_torch
    try:
        theirs = generate()
    finally:
        AttentionMaskInterface.register("sdpa", broadcast_sdpa_mask)
    assert torch.equal(ours[0], theirs[0])
    assert torch.equal(ours[1], theirs[1])


def test_bench_row_compares_identical_generations() -> None:
    row = bench_mask(batch=3, new_tokens=4, repeats=1)
    assert row["tokens"] == 12 and row["identical_tokens"] is True
    assert row["broadcast_tokens_per_s"] > 0 and row["vmap_tokens_per_s"] > 0
    assert AttentionMaskInterface._global_mapping["sdpa"] is broadcast_sdpa_mask  # restored
