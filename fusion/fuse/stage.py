"""``make fuse``: one fused target distribution per target position, per variant.

Candidate 0 is the target's own top-k (the reference's "ref model"), then each aligned
source of the variant (:mod:`configs.variants`); :func:`fusion.fuse.fuse_topk` picks or mixes
them per block. The KD variant's only candidate is the teacher's own top-k (same tokenizer,
so no alignment). Output columns: ``block_id``, ``input_ids`` (target tokens),
``target_ids`` / ``target_probs`` (flat) and ``target_len`` (entries per position).
Usage: ``python -m fusion.fuse --config configs/tiny.yaml [--variant NAME]``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mlflow
from datasets import Dataset, Features, Sequence, Value, load_from_disk

from configs import tracking
from configs.errors import SuiteError
from configs.layout import Layout, atomic_dir, fresh_scratch
from configs.schema import SuiteConfig
from configs.variants import Variant
from fusion.align.stage import load_alignment
from fusion.fuse.methods import fuse_topk
from fusion.ragged import flatten, rows_of, unflatten
from fusion.represent import load_representation

FUSED = Features(
    {
        "block_id": Value("int64"),
        "input_ids": Sequence(Value("int32")),
        "target_ids": Sequence(Value("int32")),
        "target_probs": Sequence(Value("float32")),
        "target_len": Sequence(Value("int32")),
    }
)


def candidates_table(cfg: SuiteConfig, layout: Layout, variant: Variant) -> Dataset:
    """The base representation with each source's aligned columns added as ``s<i>_*``."""
    base_name = variant.teacher or cfg.models.target.name
    base = load_representation(layout.representation(base_name))
    if variant.teacher:
        target_ids = load_representation(layout.representation(cfg.models.target.name))
        if target_ids["input_ids"] != base["input_ids"]:
            raise SuiteError(
                f"teacher '{variant.teacher}' tokenizes the blocks differently from "
                "the target: KD needs the target's tokenizer"
            )
    for i, source in enumerate(variant.sources):
        aligned = load_alignment(layout, source, variant.vocab)
        if aligned["block_id"] != base["block_id"]:
            raise SuiteError(
                f"alignment of '{source}' covers different blocks: re-run `make align`"
            )
        for col in ("ce", "aligned_ids", "aligned_logits", "aligned_len"):
            base = base.add_column(f"s{i}_{col}", aligned[col])
    return base


def fuse_block(
    row: dict, variant: Variant, k: int, temperature: float, reference_rounding: bool
) -> dict:
    """Fuse one block's candidates into flat target ids/probs."""
    cand_ids = [rows_of(row["topk_ids"], k).tolist()]
    cand_logits = [rows_of(row["topk_logits"], k).astype("float32").tolist()]
    cand_ce = [row["ce"]]
    for i in range(len(variant.sources)):
        cand_ids.append(unflatten(row[f"s{i}_aligned_ids"], row[f"s{i}_aligned_len"]))
        cand_logits.append(unflatten(row[f"s{i}_aligned_logits"], row[f"s{i}_aligned_len"]))
        cand_ce.append(row[f"s{i}_ce"])
    ids, probs = fuse_topk(
        cand_ids,
        cand_logits,
        cand_ce,
        method=variant.method,
        temperature=temperature,
        reference_rounding=reference_rounding,
    )
    flat_ids, lengths = flatten(ids, "int32")
    flat_probs, _ = flatten(probs, "float32")
    return {"target_ids": flat_ids, "target_probs": flat_probs, "target_len": lengths}


def fuse_variant(cfg: SuiteConfig, layout: Layout, variant: Variant) -> Path:
    """Write the fused dataset of ``variant``; cached, atomic."""
    out = layout.fused(variant.name)
    if (out / "meta.json").exists():
        return out
    table = candidates_table(cfg, layout, variant)
    f = cfg.fusion
    scratch = fresh_scratch(layout.root / f".fuse-cache-{variant.name}")
    try:
        fused = table.map(
            fuse_block,
            num_proc=f.num_proc,
            features=FUSED,
            fn_kwargs={
                "variant": variant,
                "k": f.topk,
                "temperature": f.temperature,
                "reference_rounding": f.reference_rounding,
            },
            remove_columns=[c for c in table.column_names if c not in ("block_id", "input_ids")],
            cache_file_name=str(scratch / "fused.arrow"),
            new_fingerprint=f"fuse-{variant.name}",
            desc=f"fuse {variant.name}",
        )
        support = [n for lengths in fused["target_len"] for n in lengths]
        with atomic_dir(out) as tmp:
            fused.save_to_disk(str(tmp))
            (tmp / "meta.json").write_text(json.dumps({**variant.__dict__, "blocks": len(fused)}))
            # logged before the rename: a kill between the two redoes both, never loses the run
            with tracking.stage_run(layout, "fuse", variant.name, variant.__dict__):
                mean = sum(support) / max(len(support), 1)
                mlflow.log_metrics({"fuse/blocks": len(fused), "fuse/mean_support": mean})
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out


def load_fused(layout: Layout, variant: str) -> Dataset:
    """A finished fused dataset, or a one-line error naming the target to run."""
    out = layout.fused(variant)
    if not (out / "meta.json").exists():
        raise SuiteError(f"no fused targets '{variant}' at {out}: run `make fuse`")
    return load_from_disk(str(out))
