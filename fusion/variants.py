"""The fused-target variants the paper's tables need, derived from the config in one place.

- ``fusellm``: every source, the config's vocab mapping and fusion function (Table 1-3).
- ``fusellm_<source>``: the target with one source (the #sources table), when there are 2+.
- ``fusellm_em`` / ``fusellm_mined``: the other vocab mapping (ablation: EM vs MinED).
- ``fusellm_avgce`` / ``fusellm_mince``: the other fusion function (ablation).
- ``kd``: the teacher's own top-k as the target distribution (KD baseline).
"""

from __future__ import annotations

from dataclasses import dataclass

from configs.errors import SuiteError
from configs.schema import SuiteConfig


@dataclass(frozen=True)
class FuseVariant:
    """Which candidates a fused dataset combines and how."""

    name: str
    sources: tuple[str, ...]
    vocab: str
    method: str
    teacher: str | None = None


def fuse_variants(cfg: SuiteConfig) -> dict[str, FuseVariant]:
    """Every variant of ``cfg``, by name, main variant first."""
    f = cfg.fusion
    names = tuple(s.name for s in cfg.models.sources)
    other_vocab = "exact" if f.vocab == "mined" else "mined"
    other_method = "avg_ce" if f.method == "min_ce" else "min_ce"
    out = [FuseVariant("fusellm", names, f.vocab, f.method)]
    if len(names) > 1:
        out += [FuseVariant(f"fusellm_{s}", (s,), f.vocab, f.method) for s in names]
    out.append(
        FuseVariant(
            f"fusellm_{'em' if other_vocab == 'exact' else 'mined'}", names, other_vocab, f.method
        )
    )
    out.append(
        FuseVariant(f"fusellm_{other_method.replace('_', '')}", names, f.vocab, other_method)
    )
    if cfg.models.teacher:
        out.append(FuseVariant("kd", (), f.vocab, f.method, teacher=cfg.models.teacher.name))
    return {v.name: v for v in out}


def get_variant(cfg: SuiteConfig, name: str) -> FuseVariant:
    """The named variant, or a one-line error listing the valid names."""
    variants = fuse_variants(cfg)
    if name not in variants:
        raise SuiteError(f"unknown fusion variant '{name}': choose from {sorted(variants)}")
    return variants[name]
