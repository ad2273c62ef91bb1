"""Which training runs a config asks for, and what they are called: light enough for ``make
plan`` and the eval stage to import without the trainer.

Every variant of :mod:`fusion.variants` plus the CLM baseline, once per seed of
``reporting.seeds``; the run with ``training.seed`` keeps the variant's name.
"""

from __future__ import annotations

from configs.schema import SuiteConfig
from fusion.variants import fuse_variants

CLM = "clm"  # the λ = 1 baseline: no distillation targets


def TRAIN_VARIANTS(cfg: SuiteConfig) -> list[str]:
    """Every variant ``make train`` produces, in order: the CLM baseline, then the fused ones."""
    return [CLM, *fuse_variants(cfg)]


def replica(cfg: SuiteConfig, variant: str, seed: int) -> str:
    """The name a variant trained with ``seed`` goes by: the variant itself for
    ``training.seed``, else ``<variant>-seed<seed>`` (its own dir, eval run and MLflow runs)."""
    return variant if seed == cfg.training.seed else f"{variant}-seed{seed}"


def train_runs(cfg: SuiteConfig, variants: list[str] | None = None) -> list[tuple[str, int]]:
    """(variant, seed) of every training run: each variant once per ``reporting.seeds``, so the
    tables can show mean ± std over the seeds."""
    return [(v, s) for s in cfg.reporting.seeds for v in (variants or TRAIN_VARIANTS(cfg))]


def lineage(meta: dict) -> dict[str, str]:
    """Tags that group a variant's seeds: the tables average over runs sharing ``variant``."""
    return {"variant": meta["variant"], "seed": str(meta.get("seed", ""))}
