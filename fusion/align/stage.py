"""``make align``: carry each source's top-k onto the target's tokens, block by block.

Reads the target's and the source's representations, builds the vocabulary map once
(MinED, or EM) and one :class:`Aligner` (what :func:`fusion.align.align_topk` uses), aligns
every block through ``datasets.map(num_proc=fusion.num_proc)`` and stores per target position
the aligned ids and logits (flat + lengths, see :mod:`fusion.ragged`) with the source's block CE,
whether a source token matched there (``aligned_matched``; else the row is the reference's
one-hot fallback) and the matched source position's log-normalizer (``aligned_lse``, 0 where
none matched): what ``fusion.fallback`` and ``fusion.target`` need, so neither changes this
stage's output. ``aligned_exact`` marks the matched positions whose tokens are the same string
(the others matched through the MinED map), for the fuse stage's diagnostics.
Usage: ``python -m fusion.align --config configs/tiny.yaml [--source NAME]``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mlflow
import numpy as np
import pyarrow.compute as pc
from datasets import Dataset, Features, Sequence, Value, load_from_disk
from transformers import AutoTokenizer

from configs import tracking
from configs.errors import SuiteError
from configs.layout import Layout, atomic_dir, fresh_scratch
from configs.schema import ModelSpec, SuiteConfig
from configs.variants import fuse_variants
from fusion.align.topk import Aligner
from fusion.ragged import flatten, rows_of
from fusion.represent import load_representation
from fusion.vocab import detect_marker, mined_vocab_map, rewrite_marker, vocab_map_stats

ALIGNED = Features(
    {
        "block_id": Value("int64"),
        "ce": Value("float32"),
        "aligned_ids": Sequence(Value("int32")),
        "aligned_logits": Sequence(Value("float32")),
        "aligned_len": Sequence(Value("int32")),
        "aligned_matched": Sequence(Value("bool")),
        "aligned_lse": Sequence(Value("float32")),
        "aligned_exact": Sequence(Value("bool")),
    }
)


def exact_overlap(source_tok, target_tok) -> float:
    """Share of source tokens (marker rewritten) that exist verbatim in the target vocab."""
    s_marker, t_marker = detect_marker(source_tok), detect_marker(target_tok)
    target_vocab = target_tok.get_vocab()
    tokens = list(source_tok.get_vocab())
    hits = sum(rewrite_marker(t, s_marker, t_marker) in target_vocab for t in tokens)
    return hits / max(len(tokens), 1)


def vocab_mapping(source_tok, target_tok, vocab: str, name: str) -> tuple[dict | None, dict]:
    """The MinED map (None for EM) and statistics; refuse a source sharing no tokens."""
    overlap = exact_overlap(source_tok, target_tok)
    if overlap == 0.0:
        raise SuiteError(
            f"source '{name}' shares no token with the target vocabulary: "
            "check that its tokenizer is the right one"
        )
    if vocab == "exact":
        return None, {"exact_share": overlap}
    mapping = mined_vocab_map(source_tok, target_tok)
    return mapping, vocab_map_stats(mapping)


def _paired(target: Dataset, source: Dataset, name: str) -> Dataset:
    if target["block_id"] != source["block_id"]:
        raise SuiteError(
            f"representations of the target and '{name}' cover different blocks: "
            "delete both and re-run `make represent`"
        )
    return source.add_column("base_ids", target["input_ids"])


def align_source(cfg: SuiteConfig, layout: Layout, spec: ModelSpec, vocab: str) -> Path:
    """Align one source onto the target with ``vocab`` mapping; cached, atomic."""
    out = layout.alignment(spec.name, vocab)
    if (out / "meta.json").exists():
        return out
    target_spec = cfg.models.target
    target = load_representation(layout.representation(target_spec.name))
    source = load_representation(layout.representation(spec.name))
    base_tok = AutoTokenizer.from_pretrained(layout.model(target_spec))
    blend_tok = AutoTokenizer.from_pretrained(layout.model(spec))
    mapping, stats = vocab_mapping(blend_tok, base_tok, vocab, spec.name)
    k = cfg.fusion.topk
    aligner = Aligner(base_tok, blend_tok, vocab, mapping)  # built once for every block

    def align_block(row: dict) -> dict:
        matched = aligner.match(row["base_ids"], row["input_ids"])
        ids, logits = aligner.take(
            row["base_ids"], matched, rows_of(row["topk_ids"], k), rows_of(row["topk_logits"], k)
        )
        flat_ids, lengths = flatten(ids, "int32")
        flat_logits, _ = flatten(logits, "float32")
        lse = np.where(matched >= 0, np.asarray(row["lse"], np.float32)[matched], 0.0)
        return {
            "aligned_ids": flat_ids,
            "aligned_logits": flat_logits,
            "aligned_len": lengths,
            "aligned_matched": matched >= 0,
            "aligned_lse": lse.astype(np.float32),
            "aligned_exact": aligner.exact(row["base_ids"], row["input_ids"], matched),
        }

    scratch = fresh_scratch(layout.root / f".align-cache-{spec.name}_{vocab}")
    try:
        paired = _paired(target, source, spec.name)
        aligned = paired.map(
            align_block,
            num_proc=cfg.fusion.num_proc,
            features=ALIGNED,
            remove_columns=["input_ids", "topk_ids", "topk_logits", "lse", "base_ids"],
            cache_file_name=str(scratch / "aligned.arrow"),
            new_fingerprint=f"align-{spec.name}-{vocab}",
            desc=f"align {spec.name} ({vocab})",
        )
        stats["fallback_share"] = fallback_share(aligned)
        with atomic_dir(out) as tmp:
            aligned.save_to_disk(str(tmp))
            (tmp / "meta.json").write_text(
                json.dumps({"source": spec.name, "vocab": vocab, "blocks": len(aligned), **stats})
            )
            if mapping is not None:
                (tmp / "vocab_map.json").write_text(json.dumps(mapping, ensure_ascii=False))
            # logged before the rename: a kill between the two redoes both, never loses the run
            log_alignment(layout, spec.name, vocab, stats, tmp / "vocab_map.json")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out


def log_alignment(layout: Layout, source: str, vocab: str, stats: dict, vocab_map: Path) -> None:
    """MLflow run ``align:<source>_<vocab>``: the map's statistics and the map itself."""
    with tracking.stage_run(
        layout, "align", f"{source}_{vocab}", {"source": source, "vocab": vocab}
    ):
        mlflow.log_metrics({tracking.metric_key("align", k): v for k, v in stats.items()})
        if vocab_map.is_file():
            mlflow.log_artifact(str(vocab_map))


def fallback_share(aligned: Dataset) -> float:
    """Share of target positions without a matched source token (the fallback's positions)."""
    matched = pc.list_flatten(aligned.data.table["aligned_matched"])
    share = pc.mean(matched.cast("float64")).as_py()
    return 0.0 if share is None else 1.0 - share


def load_alignment(layout: Layout, source: str, vocab: str) -> Dataset:
    """A finished alignment, or a one-line error naming the target to run."""
    out = layout.alignment(source, vocab)
    if not (out / "meta.json").exists():
        raise SuiteError(f"no alignment of '{source}' ({vocab}) at {out}: run `make align`")
    return load_from_disk(str(out))


def needed_alignments(cfg: SuiteConfig) -> list[tuple[str, str]]:
    """(source, vocab) pairs that some fusion variant uses."""
    pairs = {(s, v.vocab) for v in fuse_variants(cfg).values() for s in v.sources}
    return sorted(pairs)
