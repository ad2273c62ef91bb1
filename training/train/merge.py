"""FuseChat's merged variants in ``make train``: one seed's pairwise targets, merged.

FuseChat (arXiv:2402.16107; FuseChat 2.0, arXiv:2408.07990) fuses each source into its own
copy of the target, then merges those same-architecture targets in parameter space. The
pairwise targets here are the ``fusellm_<source>`` variants; a merged variant (``Variant.merge``
in :mod:`configs.variants`) merges the ones trained with its own seed, so each seed's replica
is a full fuse-then-merge run and the tables' spread over seeds covers both halves. The
output has a trained variant's shape (``<out>/model``, then ``meta.json`` with the lineage
tags), so ``make eval`` and the tables take it as they take any trained variant; its MLflow
run is ``merge:<name>`` (no training curve to draw).
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow

from configs import tracking
from configs.errors import SuiteError
from configs.layout import Layout
from configs.schema import SuiteConfig
from configs.variants import Variant, lineage, replica
from fusion.merge.driver import merge_checkpoints
from fusion.models import local_checkpoint


def merge_variant(
    cfg: SuiteConfig, layout: Layout, spec: Variant, seed: int, targets: list[Path]
) -> Path:
    """Merge ``targets`` (the model dirs of ``spec.merge.variants`` for ``seed``) around the
    target before fusion, into ``layout.trained(replica(...))``; idempotent (``meta.json``).

    A model left by a run that stopped before ``meta.json`` is whole (the driver renames a
    finished merge into place) and is kept; the merge is deterministic anyway.
    """
    if spec.merge is None:
        raise SuiteError(f"{spec.name} is not a merged variant: train it with `make train`")
    name = replica(cfg, spec.name, seed)
    out = layout.trained(name)
    if (out / "meta.json").exists():
        return out
    params = dict(spec.merge.params)
    pivot = local_checkpoint(cfg.models.target, layout)
    if not (out / "model").exists():
        paths = [str(t) for t in targets]
        merge_checkpoints(paths, str(out / "model"), spec.merge.method, params, base=pivot)
    meta = {
        "variant": spec.name,
        "seed": seed,
        "method": spec.merge.method,
        "params": params,
        "merged": [replica(cfg, v, seed) for v in spec.merge.variants],
        "pivot": cfg.models.target.name,
        "model": str(out / "model"),
    }
    logged = {k: meta[k] for k in ("variant", "method", "params", "merged", "pivot")}
    with tracking.stage_run(layout, "merge", name, params=logged):
        mlflow.set_tags({"model_path": str((out / "model").resolve()), **lineage(meta)})
    (out / "meta.json.tmp").write_text(json.dumps(meta, indent=2))
    (out / "meta.json.tmp").rename(out / "meta.json")
    return out
