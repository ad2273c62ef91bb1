"""Every training variant the paper's tables need, derived from the config in one place.

Light enough for ``make plan``, the fuse, train and eval stages and the tables to share:
- ``clm``: the continual-training baseline, λ = 1 on the main variant's blocks (no targets);
- ``fusellm``: every source, the config's vocab mapping and fusion function (Tables 1-3);
- ``fusellm_<source>``: the target with one source (the #sources table), when there are 2+;
- ``fusellm_em`` / ``fusellm_mined``: the other vocab mapping (ablation: EM vs MinED);
- ``fusellm_avgce`` / ``fusellm_mince``: the other fusion function (ablation);
- ``fusellm_tail``, ``fusellm_nextfb``, ``fusellm_corrected``: FuseLLM with the corrected
  approximations (a row beyond the paper): the tail-aware target, the next-token fallback,
  both. Each exists when every choice it sets differs from the config's ``fusion.target`` /
  ``fusion.fallback`` (``reference`` by default), which the other variants follow;
- ``kd``: the teacher's own top-k as the target distribution (KD baseline);
- ``fusechat_varm`` / ``fusechat_sce``: FuseChat's fuse-then-merge, beyond the FuseLLM paper:
  the pairwise targets ``fusellm_<source>`` merged in parameter space (VaRM, SCE), when there
  are 2+ sources. They are not trained: ``make train`` merges them (``Variant.merge``).
Each is made once per seed of ``reporting.seeds``; the run with ``training.seed`` keeps the
variant's name, the others are ``<variant>-seed<s>`` (a merge takes its own seed's targets).
"""

from __future__ import annotations

from dataclasses import dataclass

from configs import registry
from configs.schema import SuiteConfig

CLM = "clm"
MAIN = "fusellm"  # the paper's FuseLLM; the CLM baseline trains on its blocks
# FuseLLM with the corrected approximations: the choices each variant overrides.
CORRECTED: dict[str, dict[str, str]] = {
    f"{MAIN}_tail": {"target": "tail"},
    f"{MAIN}_nextfb": {"fallback": "next_token"},
    f"{MAIN}_corrected": {"target": "tail", "fallback": "next_token"},
}

FUSECHAT = "fusechat"


@dataclass(frozen=True)
class Merge:
    """How a merged variant is made: ``method`` of :mod:`fusion.merge` with ``params``, over
    ``variants`` (trained with the same seed), around the target before fusion as the pivot.

    The pivot is the target itself because FuseChat's pivot is the model every pairwise
    target was fine-tuned from: FuseChat (arXiv:2402.16107) fuses each source into a copy of
    the pivot LLM and measures VaRM's variation against it, and FuseChat 2.0's released SCE
    recipe (github.com/fanqiwan/FuseAI, FuseChat/mergekit/fusechat_configs/fusechat-sce.yml)
    sets ``base_model`` to that pivot. Here ``fusellm_<source>`` starts from the target.
    """

    method: str
    variants: tuple[str, ...]
    params: tuple[tuple[str, object], ...] = ()


# FuseChat's merges of its pairwise targets, by variant suffix: (method, params). SCE takes
# FuseChat 2.0's released recipe, which produced FuseChat-7B-v2.0: the top 10% of positions
# by variance across targets (``select_topk: 0.1``), the selection shaping only the weights
# as its sce_merging.py does (``selection="weights"``; mergekit's own sce masks the deltas).
FUSECHAT_MERGES: dict[str, tuple[str, tuple[tuple[str, object], ...]]] = {
    "varm": ("varm", ()),
    "sce": ("sce", (("select_topk", 0.1), ("selection", "weights"))),
}


@dataclass(frozen=True)
class Variant:
    """What one variant trains on: which candidates its fused targets combine, and how.

    ``fused`` is False for the CLM baseline, which has no targets and trains with λ = 1 on
    the blocks of ``data``, and for merged variants: ``merge`` set, they are not trained but
    merged from other variants (``sources`` names the sources fused into those).
    """

    name: str
    sources: tuple[str, ...] = ()
    vocab: str = "mined"
    method: str = "min_ce"
    teacher: str | None = None
    fused: bool = True
    target: str = "reference"  # fusion.target: renormalized top-k, or top-k + tail bucket
    fallback: str = "reference"  # fusion.fallback at positions without an aligned token
    merge: Merge | None = None

    @property
    def data(self) -> str:
        """The fused dataset whose blocks this variant trains on."""
        return self.name if self.fused else MAIN

    def clm_weight(self, cfg: SuiteConfig) -> float:
        """λ of ``λ·CLM + (1−λ)·distill``: 1 without targets, else ``training.clm_weight``."""
        return cfg.training.clm_weight if self.fused else 1.0


def fuse_variants(cfg: SuiteConfig) -> dict[str, Variant]:
    """Every variant with fused targets, by name, main variant first."""
    f = cfg.fusion
    names = tuple(s.name for s in cfg.models.sources)
    other_vocab = "exact" if f.vocab == "mined" else "mined"
    other_method = "avg_ce" if f.method == "min_ce" else "min_ce"
    choices = {"target": f.target, "fallback": f.fallback}
    out = [Variant(MAIN, names, f.vocab, f.method, **choices)]
    if len(names) > 1:
        out += [Variant(f"{MAIN}_{s}", (s,), f.vocab, f.method, **choices) for s in names]
    vocab_name = "em" if other_vocab == "exact" else "mined"
    out.append(Variant(f"{MAIN}_{vocab_name}", names, other_vocab, f.method, **choices))
    other_name = f"{MAIN}_{other_method.replace('_', '')}"
    out.append(Variant(other_name, names, f.vocab, other_method, **choices))
    for name, override in CORRECTED.items():
        if all(choices[key] != value for key, value in override.items()):
            out.append(Variant(name, names, f.vocab, f.method, **(choices | override)))
    if cfg.models.teacher:
        teacher = cfg.models.teacher.name
        out.append(Variant("kd", (), f.vocab, f.method, teacher=teacher, target=f.target))
    return {v.name: v for v in out}


def merge_variants(cfg: SuiteConfig) -> dict[str, Variant]:
    """FuseChat's merged variants: every pairwise target ``fusellm_<source>``, merged with each
    method of ``FUSECHAT_MERGES``; none with one source (there are no pairwise targets)."""
    names = tuple(s.name for s in cfg.models.sources)
    if len(names) < 2:
        return {}
    pairwise = tuple(f"{MAIN}_{s}" for s in names)
    return {
        f"{FUSECHAT}_{suffix}": Variant(
            f"{FUSECHAT}_{suffix}", names, fused=False, merge=Merge(method, pairwise, params)
        )
        for suffix, (method, params) in FUSECHAT_MERGES.items()
    }


def train_variants(cfg: SuiteConfig) -> dict[str, Variant]:
    """Every variant ``make train`` produces, in order: the CLM baseline, the fused ones, then
    the merged ones (after the targets they merge)."""
    return {CLM: Variant(CLM, fused=False)} | fuse_variants(cfg) | merge_variants(cfg)


def get_variant(cfg: SuiteConfig, name: str) -> Variant:
    """The named fused variant, or a one-line error naming the nearest valid ones."""
    return registry.get(fuse_variants(cfg), name, "fusion variant")


def get_train_variant(cfg: SuiteConfig, name: str) -> Variant:
    """The named training variant (CLM included), or a one-line error with a hint."""
    return registry.get(train_variants(cfg), name, "training variant")


def replica(cfg: SuiteConfig, variant: str, seed: int) -> str:
    """The name a variant trained with ``seed`` goes by: the variant itself for
    ``training.seed``, else ``<variant>-seed<seed>`` (its own dir, eval run and MLflow runs)."""
    return variant if seed == cfg.training.seed else f"{variant}-seed{seed}"


def variant_of(cfg: SuiteConfig, model: str) -> str:
    """The variant a seed replica was trained as (`replica` read backwards); other names
    unchanged."""
    for seed in cfg.reporting.seeds:
        if model.endswith(suffix := f"-seed{seed}"):
            return model.removesuffix(suffix)
    return model


def train_runs(cfg: SuiteConfig, variants: list[str] | None = None) -> list[tuple[str, int]]:
    """(variant, seed) of every training run: each variant once per ``reporting.seeds``, so the
    tables can show mean ± std over the seeds."""
    chosen = variants or list(train_variants(cfg))
    return [(v, s) for s in cfg.reporting.seeds for v in chosen]


def is_trained(cfg: SuiteConfig, model: str) -> bool:
    """Whether ``model`` (``make eval MODEL=``) names a model ``make train`` makes: a training
    variant or one of its seed replicas. Config models and checkpoint dirs need no training."""
    return model in set(train_variants(cfg)) | {replica(cfg, v, s) for v, s in train_runs(cfg)}


def lineage(meta: dict) -> dict[str, str]:
    """Tags that group a variant's seeds: the tables average over runs sharing ``variant``."""
    return {"variant": meta["variant"], "seed": str(meta.get("seed", ""))}
