"""``make fuse``: one fused target distribution per target position, per variant.

Candidate 0 is the target's own top-k (the reference's "ref model"), then each aligned
source of the variant (:mod:`configs.variants`); :func:`fusion.fuse.fuse_topk` picks or mixes
them per block. The KD variant's only candidate is the teacher's own top-k (same tokenizer,
so no alignment). The variant's ``target`` and ``fallback`` choices shape each candidate's rows
(:mod:`fusion.fuse.candidates`). Output columns: ``block_id``, ``input_ids`` (target tokens),
``target_ids`` / ``target_probs`` (flat), ``target_len`` (entries per position) and
``fallbacks`` (positions whose fused distribution drew on a fallback row); with
``target=tail`` also ``target_tail`` (per position the mass outside the listed ids), with
``fallback=none`` also ``distill_mask`` (false where no distillation takes place).
The variant's MLflow run also gets the diagnostics of :mod:`fusion.fuse.diagnostics` (alignment
shares per source, MinCE's picks and each model's CE per corpus domain).
Usage: ``python -m fusion.fuse --config configs/tiny.yaml [--variant NAME]``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mlflow
import numpy as np
import pyarrow.compute as pc
from datasets import Dataset, Features, Sequence, Value, load_from_disk

from configs import tracking
from configs.errors import SuiteError
from configs.layout import Layout, atomic_dir, fresh_scratch
from configs.schema import SuiteConfig
from configs.variants import Variant
from fusion.align.stage import load_alignment
from fusion.blocks import block_domains
from fusion.fuse.candidates import own_candidate, source_candidate, undistilled
from fusion.fuse.diagnostics import fuse_diagnostics, true_next_probability
from fusion.fuse.methods import contributors, fuse_topk
from fusion.ragged import flatten
from fusion.represent import load_representation

FUSED = Features(
    {
        "block_id": Value("int64"),
        "input_ids": Sequence(Value("int32")),
        "target_ids": Sequence(Value("int32")),
        "target_probs": Sequence(Value("float32")),
        "target_len": Sequence(Value("int32")),
        "fallbacks": Value("int32"),
    }
)
SOURCE_COLUMNS = ("ce", "aligned_ids", "aligned_logits", "aligned_len", "aligned_matched")


def fused_features(variant: Variant) -> Features:
    """The fused dataset's columns: :data:`FUSED` plus those the variant's choices add."""
    extra = {}
    if variant.target == "tail":
        extra["target_tail"] = Sequence(Value("float32"))
    if variant.fallback == "none":
        extra["distill_mask"] = Sequence(Value("bool"))
    return Features({**FUSED, **extra})


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
        for col in (*SOURCE_COLUMNS, "aligned_lse", "aligned_exact"):
            if col in aligned.column_names:  # aligned_exact: absent from older alignments
                base = base.add_column(f"s{i}_{col}", aligned[col])
    return base


def fuse_block(
    row: dict, variant: Variant, k: int, temperature: float, reference_rounding: bool
) -> dict:
    """Fuse one block's candidates into flat target ids/probs (and the choices' columns)."""
    base_ids, target = row["input_ids"], variant.target
    own_ids, own_values = own_candidate(row["topk_ids"], row["topk_logits"], row["lse"], k, target)
    cand_ids, cand_logits, cand_ce = [own_ids], [own_values], [row["ce"]]
    matched = [np.ones(len(base_ids), dtype=bool)]
    for i in range(len(variant.sources)):
        aligned = {c: row[f"s{i}_{c}"] for c in (*SOURCE_COLUMNS, "aligned_lse")}
        ids, values = source_candidate(aligned, base_ids, target, variant.fallback)
        cand_ids.append(ids)
        cand_logits.append(values)
        cand_ce.append(row[f"s{i}_ce"])
        matched.append(aligned["aligned_matched"])
    ids, probs = fuse_topk(
        cand_ids,
        cand_logits,
        cand_ce,
        method=variant.method,
        temperature=temperature,
        reference_rounding=reference_rounding,
        target=target,
    )
    skipped = undistilled(matched, contributors(cand_ce, variant.method, reference_rounding))
    flat_ids, lengths = flatten(ids, "int32")
    flat_probs, _ = flatten(probs, "float32")
    out = {"target_ids": flat_ids, "target_probs": flat_probs, "target_len": lengths}
    out["fallbacks"] = int(skipped.sum())
    if target == "tail":
        pos = np.repeat(np.arange(len(lengths)), lengths)
        mass = np.bincount(pos, weights=flat_probs, minlength=len(lengths))
        out["target_tail"] = np.clip(1.0 - mass, 0.0, 1.0).astype(np.float32)
    if variant.fallback == "none":
        out["distill_mask"] = ~skipped
    return out


def fuse_variant(cfg: SuiteConfig, layout: Layout, variant: Variant) -> Path:
    """Write the fused dataset of ``variant``; cached, atomic."""
    out = layout.fused(variant.name)
    if (out / "meta.json").exists():
        return out
    table = candidates_table(cfg, layout, variant)
    f = cfg.fusion
    names = [variant.teacher or cfg.models.target.name, *variant.sources]
    domains = block_domains(cfg, layout)
    diagnostics = fuse_diagnostics(table, names, domains, variant.method, f.reference_rounding)
    scratch = fresh_scratch(layout.root / f".fuse-cache-{variant.name}")
    try:
        fused = table.map(
            fuse_block,
            num_proc=f.num_proc,
            features=fused_features(variant),
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
        teacher = true_next_probability(fused, table, f.topk, domains)
        with atomic_dir(out) as tmp:
            fused.save_to_disk(str(tmp))
            (tmp / "meta.json").write_text(json.dumps({**variant.__dict__, "blocks": len(fused)}))
            # logged before the rename: a kill between the two redoes both, never loses the run
            with tracking.stage_run(layout, "fuse", variant.name, variant.__dict__):
                mlflow.log_metrics(fuse_stats(fused) | diagnostics | teacher)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out


def fuse_stats(fused: Dataset) -> dict[str, float]:
    """Blocks, mean entries per position, the share of positions that drew on a fallback and,
    for the tail target, the mean tail mass (1 - the mean top-k mass)."""
    table = fused.data.table
    lengths = pc.list_flatten(table["target_len"])
    positions = max(len(lengths), 1)
    stats = {
        "fuse/blocks": len(fused),
        "fuse/mean_support": (pc.sum(lengths).as_py() or 0) / positions,
        "fuse/fallback_share": (pc.sum(table["fallbacks"]).as_py() or 0) / positions,
    }
    if "target_tail" in table.column_names:
        tail = pc.list_flatten(table["target_tail"])
        stats["fuse/tail_mass"] = pc.mean(tail).as_py() or 0.0
    return stats


def load_fused(layout: Layout, variant: str) -> Dataset:
    """A finished fused dataset, or a one-line error naming the target to run."""
    out = layout.fused(variant)
    if not (out / "meta.json").exists():
        raise SuiteError(f"no fused targets '{variant}' at {out}: run `make fuse`")
    return load_from_disk(str(out))
