"""``make pythia``: the paper's ensemble / weight-merging comparison (its Table 7).

One base model (Pythia-1B in the paper, the tiny world's GPT-NeoX base here) is continually
trained on three domains, giving three same-architecture experts. Compared, by perplexity on
each domain's test split: the base, each expert, their output ensemble (uniform mixture of
next-token distributions), their linear weight merge, and FuseLLM with the base as target and
the experts as sources (same tokenizer: alignment takes the exact path). Everything lives in
the sub-experiment ``$(RUNS)/<name>/pythia/`` and is logged with the tag ``sub=pythia``.
Usage: ``python -m training.pythia --config configs/tiny.yaml``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mlflow
from datasets import load_dataset
from transformers import AutoModelForCausalLM, AutoTokenizer

from configs import cli
from configs.errors import SuiteError
from configs.layout import Layout, atomic_dir
from configs.schema import ModelSpec, SuiteConfig
from evaluation.perplexity import load, score
from fusion.align_stage import align_source
from fusion.ensemble import EnsembleLM
from fusion.fuse_stage import fuse_variant
from fusion.merge.driver import merge_checkpoints
from fusion.represent import represent_model
from fusion.variants import get_variant
from reports import tracking
from training.clm import clm_arguments, pack_texts, train_clm
from training.train import train_variant

SUB = "pythia"
FUSED = "fusellm"


def domain_texts(cfg: SuiteConfig, layout: Layout, domain: str, split: str) -> list[str]:
    """A domain's documents: the tiny world's corpus, or the hub dataset of the paper config."""
    p = cfg.pythia
    if p.domain_datasets is None:
        from training.world.build import load_corpora

        return load_corpora(layout)[domain][split]
    ds = load_dataset(p.domain_datasets[domain], split="train")
    cut = max(1, len(ds) // 20)  # the paper's test split: a held-out twentieth of each domain
    part = ds.select(range(cut)) if split == "test" else ds.select(range(cut, len(ds)))
    return part[cfg.corpus.text_field]


def train_expert(cfg: SuiteConfig, layout: Layout, domain: str) -> Path:
    """Continue the base on one domain (CLM through the Trainer); cached, atomic."""
    p, sub = cfg.pythia, layout.child(SUB, cfg)
    out = sub.root / "experts" / domain
    if out.exists():
        return out
    base = layout.model(p.base)
    tok = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base)
    seq_len = p.base.build.seq_len if p.base.build else cfg.fusion.block_size
    batch = p.base.build.batch_size if p.base.build else cfg.training.per_device_batch_size
    data = pack_texts(domain_texts(cfg, layout, domain, "train"), tok, seq_len)
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


def fuse_experts(cfg: SuiteConfig, layout: Layout, experts: dict[str, Path]) -> Path:
    """Represent, align, fuse and train: FuseLLM of the experts into the base."""
    fcfg = fusion_config(cfg, layout, experts)
    sub = layout.child(SUB, fcfg)
    for spec in fcfg.models.all():
        represent_model(fcfg, sub, spec)
    for spec in fcfg.models.sources:
        align_source(fcfg, sub, spec, "exact")
    fuse_variant(fcfg, sub, get_variant(fcfg, FUSED))
    return train_variant(fcfg, sub, FUSED) / "model"


def candidates(cfg: SuiteConfig, layout: Layout) -> dict[str, object]:
    """Every compared model by table row: a path, or the loaded ensemble."""
    experts = {d: train_expert(cfg, layout, d) for d in cfg.pythia.domains}
    sub = layout.child(SUB, cfg)
    merged = sub.root / "weight_merging"
    if not merged.exists():
        merge_checkpoints([str(p) for p in experts.values()], str(merged), "linear", {})
    rows: dict[str, object] = {"pythia": layout.model(cfg.pythia.base)}
    rows |= {f"pythia_{d}": str(p) for d, p in experts.items()}
    rows["ensemble"] = experts
    rows["weight_merging"] = str(merged)
    rows["fusellm"] = str(fuse_experts(cfg, layout, experts))
    return rows


def evaluate_row(cfg: SuiteConfig, layout: Layout, row: str, model: object) -> dict:
    """Perplexity figures of one model on every domain's test split, logged to MLflow."""
    if isinstance(model, dict):
        paths = [str(p) for p in model.values()]
        lm, tok = EnsembleLM.from_pretrained(paths).eval(), AutoTokenizer.from_pretrained(paths[0])
    else:
        lm, tok = load(model)
    block = cfg.pythia.base.build.max_positions if cfg.pythia.base.build else 2048
    figures = {
        d: score(lm, tok, domain_texts(cfg, layout, d, "test"), block) for d in cfg.pythia.domains
    }
    with tracking.stage_run(layout.child(SUB, cfg), "eval", row, {"block_size": block}):
        mlflow.log_metrics(
            {
                tracking.metric_key("eval", "perplexity", d, k): v
                for d, f in figures.items()
                for k, v in f.items()
            }
        )
    return figures


def run_pythia(cfg: SuiteConfig, layout: Layout) -> Path:
    """The whole experiment; ``results.json`` (row -> domain -> figures) marks it done."""
    if cfg.pythia is None:
        raise SuiteError(f"config '{cfg.name}' has no pythia section: add one (see tiny.yaml)")
    out = layout.child(SUB, cfg).root / "results.json"
    if out.exists():
        return out
    results = {row: evaluate_row(cfg, layout, row, m) for row, m in candidates(cfg, layout).items()}
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=1))
    tmp.rename(out)
    return out


def main() -> None:
    args = cli.parser("Pythia experiment: experts, ensemble, weight merging, FuseLLM.").parse_args()
    cfg, layout = cli.load(args)
    path = run_pythia(cfg, layout)
    for row, figures in json.loads(path.read_text()).items():
        cells = "  ".join(f"{d}={f['bits_per_byte']:.4f}" for d, f in figures.items())
        print(f"{row:<16} bits/byte  {cells}")


if __name__ == "__main__":
    cli.run(main)
