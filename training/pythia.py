"""The models of the Pythia experiment (the paper's Table 7); `evaluation.pythia` scores them.

One base model (Pythia-1B in the paper, the tiny world's GPT-NeoX base here) is continually
trained on three domains, giving three same-architecture experts. Compared, by perplexity on
each domain's test split: the base, each expert, their output ensemble (uniform mixture of
next-token distributions), their linear weight merge, and FuseLLM with the base as target and
the experts as sources (same tokenizer: alignment takes the exact path); beyond the paper,
FuseChat's VaRM and SCE merges of the experts around the base. Everything lives in
the sub-experiment ``$(RUNS)/<name>/pythia/`` and is logged with the tag ``sub=pythia``.
Every row but the base is trained, so the whole experiment is repeated per seed of
``reporting.seeds`` (the rows' spread over seeds is their training noise): ``training.seed``
in ``pythia/``, any other seed in ``pythia/seed<n>/`` (tag ``sub=pythia/seed<n>``).
``make pythia`` runs ``python -m evaluation.pythia``, which asks `candidates` for the rows.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from configs import tracking
from configs.layout import Layout, atomic_dir
from configs.schema import ModelSpec, SuiteConfig
from configs.variants import FUSECHAT, FUSECHAT_MERGES, get_variant
from fusion.align.stage import align_source
from fusion.blocks import make_blocks
from fusion.corpus import domain_texts
from fusion.fuse.stage import fuse_variant
from fusion.merge.driver import merge_checkpoints
from fusion.models import load_causal_lm, local_checkpoint
from fusion.represent import represent_model
from training.causal_lm import clm_arguments, pack_texts, train_clm
from training.train import train_variant

SUB = "pythia"
BASE_ROW = "pythia"  # the table row of the untrained base model
FUSED = "fusellm"


def seed_layout(cfg: SuiteConfig, layout: Layout, seed: int) -> tuple[SuiteConfig, Layout]:
    """The config (trained with ``seed``) and sub-experiment layout of one seed's run."""
    sub = SUB if seed == cfg.training.seed else f"{SUB}/seed{seed}"
    seeded = cfg.model_copy(update={"training": cfg.training.model_copy(update={"seed": seed})})
    return seeded, layout.child(sub, seeded)


def train_expert(cfg: SuiteConfig, sub: Layout, domain: str) -> Path:
    """Continue the base on one domain (CLM through the Trainer); cached, atomic."""
    p = cfg.pythia
    out = sub.root / "experts" / domain
    if out.exists():
        return out
    base = sub.model(p.base)
    tok, model = load_causal_lm(base)
    seq_len = p.base.build.seq_len if p.base.build else cfg.fusion.block_size
    batch = p.base.build.batch_size if p.base.build else cfg.training.per_device_batch_size
    data = pack_texts(domain_texts(cfg, sub, domain, "train"), tok, seq_len)
    with atomic_dir(out) as tmp, tracking.stage_run(sub, "expert", domain, p.model_dump()):
        args = clm_arguments(
            tmp / "trainer",
            steps=p.continual_steps,
            batch_size=batch,
            lr=p.lr,
            seed=cfg.training.seed,
        )
        tracking.log_history("expert", train_clm(model, data, args))
        model.save_pretrained(str(tmp))
        tok.save_pretrained(str(tmp))
        shutil.rmtree(tmp / "trainer", ignore_errors=True)
    return out


def fusion_config(cfg: SuiteConfig, layout: Layout, experts: dict[str, Path]) -> SuiteConfig:
    """The FuseLLM config of the experiment: base as target, experts as sources, EM."""
    base = ModelSpec(name=cfg.pythia.base.name, hub_id=str(Path(layout.model(cfg.pythia.base))))
    sources = [ModelSpec(name=f"{base.name}_{d}", hub_id=str(p)) for d, p in experts.items()]
    models = cfg.models.model_copy(update={"target": base, "sources": sources, "teacher": None})
    fusion = cfg.fusion.model_copy(update={"vocab": "exact"})
    return cfg.model_copy(update={"models": models, "fusion": fusion})


def fuse_experts(cfg: SuiteConfig, sub: Layout, experts: dict[str, Path]) -> Path:
    """Represent, align, fuse and train: FuseLLM of the experts into the base (in the
    seed's sub-experiment ``sub``)."""
    fcfg = fusion_config(cfg, sub, experts)
    sub = sub.child(sub.sub, fcfg)
    if cfg.pythia.fusion_corpus == "domains":
        make_blocks(fcfg, sub, [t for d in experts for t in domain_texts(cfg, sub, d, "train")])
    for spec in fcfg.models.all():
        represent_model(fcfg, sub, spec)
    for spec in fcfg.models.sources:
        align_source(fcfg, sub, spec, "exact")
    fuse_variant(fcfg, sub, get_variant(fcfg, FUSED))
    return train_variant(fcfg, sub, FUSED) / "model"


def merge_experts(cfg: SuiteConfig, sub: Layout, experts: dict[str, Path]) -> dict[str, str]:
    """FuseChat's merges of the experts (beyond the paper): VaRM and SCE, the base as pivot.

    FuseChat merges same-architecture targets fine-tuned from one pivot; the experts already
    are that (the base continually trained per domain), so they are merged as they are, with
    the recipes of the main experiment's ``fusechat_*`` variants. Cached, atomic (the driver).
    """
    base = local_checkpoint(cfg.pythia.base, sub)
    paths, rows = [str(p) for p in experts.values()], {}
    for suffix, (method, params) in FUSECHAT_MERGES.items():
        out = sub.root / f"{FUSECHAT}_{suffix}"
        if not out.exists():
            merge_checkpoints(paths, str(out), method, dict(params), base=base)
        rows[out.name] = str(out)
    return rows


def candidates(cfg: SuiteConfig, sub: Layout) -> dict[str, object]:
    """Every compared model of one seed's run (`seed_layout`) by table row: a path, or the
    loaded ensemble."""
    experts = {d: train_expert(cfg, sub, d) for d in cfg.pythia.domains}
    merged = sub.root / "weight_merging"
    if not merged.exists():
        merge_checkpoints([str(p) for p in experts.values()], str(merged), "linear", {})
    rows: dict[str, object] = {BASE_ROW: sub.model(cfg.pythia.base)}
    rows |= {f"pythia_{d}": str(p) for d, p in experts.items()}
    rows["ensemble"] = experts
    rows["weight_merging"] = str(merged)
    rows["fusellm"] = str(fuse_experts(cfg, sub, experts))
    return rows | merge_experts(cfg, sub, experts)
