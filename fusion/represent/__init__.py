"""``make represent``: each model's top-k next-token logits and sequence CE over the blocks.

Per block and model we keep ``input_ids`` (the model's own tokens of the block text),
``topk_ids`` / ``topk_logits`` (flattened ``[n_tokens * K]``: row t is the prediction made at
position t, i.e. for token t+1), ``lse`` (per position the log-normalizer, logsumexp of the
logits over the whole vocabulary, fp32: ``exp(logit - lse)`` is a top-k entry's true
probability, which the tail-aware target needs) and ``ce`` (mean next-token cross-entropy of
the block, the reference's per-sequence loss). That is 4 + 4K + 2K + 4 bytes per token plus a
few bytes of Arrow offsets per block: within the 6K + 12 budget.

Shards of ``fusion.shard_blocks`` blocks are written atomically, so a killed run resumes at
the first missing shard. Ranks of ``accelerate launch`` take shards round-robin and
compute each one exactly as a single process would, so results do not depend on the number
of processes. ``meta.json``, written last by rank 0, marks a complete representation; just
before it, rank 0 logs the MLflow run ``represent:<model>`` (the fusion settings; tokens,
blocks, stored bytes per token, wall seconds, and the top-k regime: mean top-k mass and top-k
coverage of the true next token).
Usage: ``python -m fusion.represent --config configs/tiny.yaml [--model NAME]``.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import mlflow
import numpy as np
import pyarrow.compute as pc
import torch
from accelerate import PartialState
from datasets import Dataset, Features, Sequence, Value, load_from_disk
from tqdm import tqdm
from transformers import PreTrainedModel

from configs import registry, tracking
from configs.errors import SuiteError
from configs.layout import Layout, atomic_dir
from configs.schema import ModelSpec, SuiteConfig
from fusion.blocks import make_blocks
from fusion.models import context_length, load_model

FEATURES = Features(
    {
        "block_id": Value("int64"),
        "input_ids": Sequence(Value("int32")),
        "topk_ids": Sequence(Value("int32")),
        "topk_logits": Sequence(Value("float16")),
        "lse": Sequence(Value("float32")),
        "ce": Value("float32"),
    }
)
COLUMNS = ("input_ids", "topk_ids", "topk_logits", "lse", "ce")  # what represent_batch returns


@torch.no_grad()
def represent_batch(model: PreTrainedModel, seqs: list[list[int]], k: int) -> list[dict]:
    """Top-k logits per position and the block CE for a batch of token sequences."""
    device = next(model.parameters()).device
    width = max(len(s) for s in seqs)
    ids = torch.zeros(len(seqs), width, dtype=torch.long)
    mask = torch.zeros(len(seqs), width, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
    logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()
    if not torch.isfinite(logits[mask.to(device).bool()]).all():
        raise SuiteError("model produced NaN/inf logits: check its weights and dtype")
    values, index = logits.topk(k, dim=-1)  # (B, T, K)
    lse = logits.logsumexp(-1)  # (B, T)
    logp = logits[:, :-1].log_softmax(-1)
    nll = -logp.gather(-1, ids[:, 1:, None].to(device)).squeeze(-1)  # (B, T-1)
    out = []
    for i, s in enumerate(seqs):
        n = len(s)
        ce = nll[i, : n - 1].mean().item() if n > 1 else 0.0
        out.append(
            {
                "input_ids": np.asarray(s, dtype=np.int32),
                "topk_ids": index[i, :n].reshape(-1).cpu().numpy().astype(np.int32),
                "topk_logits": values[i, :n].reshape(-1).cpu().numpy().astype(np.float16),
                "lse": lse[i, :n].cpu().numpy().astype(np.float32),
                "ce": np.float32(ce),
            }
        )
    return out


def represent_shard(model, tok, blocks: Dataset, cfg: SuiteConfig, name: str) -> Dataset:
    """Representations of one shard of blocks, batched by ``fusion.batch_size``."""
    limit = context_length(model.config) or 1 << 30
    seqs = tok(blocks["text"], add_special_tokens=False)["input_ids"]
    for bid, s in zip(blocks["block_id"], seqs, strict=True):
        if len(s) > limit:
            raise SuiteError(
                f"block {bid} is {len(s)} tokens for '{name}', over its context "
                f"of {limit}: lower fusion.block_size"
            )
    rows: list[dict] = []
    bs = cfg.fusion.batch_size
    for i in range(0, len(seqs), bs):
        rows.extend(represent_batch(model, seqs[i : i + bs], cfg.fusion.topk))
    columns = {key: [r[key] for r in rows] for key in COLUMNS}
    return Dataset.from_dict({"block_id": blocks["block_id"], **columns}, features=FEATURES)


def shard_dir(out: Path, index: int) -> Path:
    return out / f"shard-{index:05d}"


def represent_model(cfg: SuiteConfig, layout: Layout, spec: ModelSpec) -> Path:
    """Represent every block with ``spec``; this rank's shards only, resumable."""
    state = PartialState(cpu=not torch.cuda.is_available())  # else CPU ranks each run alone
    out = layout.representation(spec.name)
    if (out / "meta.json").exists():
        return out
    started = time.monotonic()
    blocks = make_blocks(cfg, layout) if state.is_main_process else None
    state.wait_for_everyone()
    blocks = blocks if blocks is not None else load_from_disk(str(layout.blocks))
    per = cfg.fusion.shard_blocks
    n_shards = math.ceil(len(blocks) / per)
    todo = [
        i
        for i in range(state.process_index, n_shards, state.num_processes)
        if not shard_dir(out, i).exists()
    ]
    if todo:
        torch.manual_seed(0)
        tok, model = load_model(spec, layout, state.device)
        for i in tqdm(todo, desc=f"represent {spec.name} (rank {state.process_index})"):
            part = blocks.select(range(i * per, min((i + 1) * per, len(blocks))))
            with atomic_dir(shard_dir(out, i)) as tmp:
                represent_shard(model, tok, part, cfg, spec.name).save_to_disk(str(tmp))
    state.wait_for_everyone()
    if state.is_main_process:
        meta = summary(out, spec, cfg, n_shards, len(blocks))
        log_run(layout, cfg, meta, out, time.monotonic() - started, state.num_processes)
        write_meta(out, meta)
    state.wait_for_everyone()
    return out


def summary(out: Path, spec: ModelSpec, cfg: SuiteConfig, n_shards: int, n_blocks: int) -> dict:
    """What ``meta.json`` records (after checking every shard loads)."""
    tokens = sum(len(x) for x in load_representation(out, n_shards)["input_ids"])
    return {
        "model": spec.name,
        "topk": cfg.fusion.topk,
        "shards": n_shards,
        "blocks": n_blocks,
        "tokens": tokens,
        **topk_regime(out, n_shards, cfg.fusion.topk),
    }


def log_run(
    layout: Layout, cfg: SuiteConfig, meta: dict, out: Path, seconds: float, processes: int
) -> None:
    """MLflow run ``represent:<model>``, logged before ``meta.json`` so that a kill between
    the two redoes the run rather than losing it. ``seconds`` is this process's wall time:
    after a resume, the time of the shards it wrote."""
    f = cfg.fusion
    params = {"model": meta["model"], "block_size": f.block_size, "topk": f.topk}
    params |= {"shard_blocks": f.shard_blocks, "batch_size": f.batch_size, "processes": processes}
    stored = sum(p.stat().st_size for p in out.rglob("*.arrow"))
    with tracking.stage_run(layout, "represent", meta["model"], params):
        metrics = {"tokens": meta["tokens"], "blocks": meta["blocks"], "seconds": seconds}
        metrics |= {"topk_mass": meta["topk_mass"], "topk_coverage": meta["topk_coverage"]}
        metrics["bytes_per_token"] = stored / max(meta["tokens"], 1)
        mlflow.log_metrics({tracking.metric_key("represent", k): v for k, v in metrics.items()})


def write_meta(out: Path, meta: dict) -> None:
    """Mark the representation complete."""
    tmp = out / "meta.json.tmp"
    tmp.write_text(json.dumps(meta, indent=1))
    tmp.rename(out / "meta.json")


def topk_regime(out: Path, n_shards: int, k: int) -> dict[str, float]:
    """The regime the reference's top-k approximation assumes, per position: the mean
    probability mass of the top-k (what the renormalized target scales up to 1; README, "The
    approximations") and the share of positions whose true next token is among the top-k
    (coverage; the last position of a block has no next token and is not counted). One shard
    in memory at a time."""
    mass, positions, covered, predicted = 0.0, 0, 0, 0
    for i in range(n_shards):
        table = load_from_disk(str(shard_dir(out, i))).data.table
        logits = pc.list_flatten(table["topk_logits"]).to_numpy().astype(np.float64)
        lse = pc.list_flatten(table["lse"]).to_numpy().astype(np.float64)
        mass += np.exp(logits.reshape(-1, k) - lse[:, None]).sum()
        positions += len(lse)
        ids = pc.list_flatten(table["topk_ids"]).to_numpy().reshape(-1, k)
        tokens = pc.list_flatten(table["input_ids"]).to_numpy()
        lengths = pc.list_value_length(table["input_ids"]).to_numpy()
        last = np.cumsum(lengths) - 1  # each block's last position
        has_next = np.ones(len(tokens), dtype=bool)
        has_next[last[lengths > 0]] = False
        nxt = np.append(tokens[1:], -1)  # the token after each position (within its block)
        covered += int((ids == nxt[:, None]).any(axis=1)[has_next].sum())
        predicted += int(has_next.sum())
    return {
        "topk_mass": round(mass / max(positions, 1), 4),
        "topk_coverage": round(covered / max(predicted, 1), 4),
    }


def load_representation(out: Path, n_shards: int | None = None) -> Dataset:
    """All shards of a representation as one dataset, ordered by block id."""
    from datasets import concatenate_datasets

    if n_shards is None:
        meta = out / "meta.json"
        if not meta.exists():
            raise SuiteError(f"{out} is incomplete: run `make represent`")
        n_shards = json.loads(meta.read_text())["shards"]
    parts = []
    for i in range(n_shards):
        try:
            parts.append(load_from_disk(str(shard_dir(out, i))))
        except Exception as err:  # truncated / corrupt Arrow: name the shard and the fix
            raise SuiteError(
                f"shard {shard_dir(out, i)} is missing or corrupt "
                f"({type(err).__name__}): delete it and re-run `make represent`"
            ) from None
    data = concatenate_datasets(parts)
    if "lse" not in data.column_names:
        raise SuiteError(
            f"{out} was made by an older version (no log-normalizer column 'lse'): "
            "delete it and re-run `make represent`"
        )
    return data


def models_to_represent(cfg: SuiteConfig, only: str | None) -> list[ModelSpec]:
    """Target, sources and teacher (or just ``only``)."""
    specs = cfg.models.all()
    if only is None:
        return specs
    registry.check(only, [s.name for s in specs], "model")
    return [s for s in specs if s.name == only]
