"""``make plan``: validate a config and print every stage with its command, I/O and estimates.

Works without any weights present, so a paper config can be checked (and its storage and
GPU-hours budgeted) on a laptop before a cluster job is submitted.
"""

from __future__ import annotations

from dataclasses import dataclass

from configs import cli
from configs.layout import Layout
from configs.params import ParamCount, model_params
from configs.schema import SuiteConfig
from configs.variants import replica, train_runs, train_variants

# Tokens in the corpora the paper configs name (MiniPile: 1M documents, ~1.8B tokens).
KNOWN_CORPUS_TOKENS = {"JeanKaddour/minipile": 1.8e9}
TINY_TOKENS_PER_DOC = 150  # rough size of a tiny-world document in target tokens
GPU_FLOPS = 312e12 * 0.4  # A100 bf16 peak at 40% utilisation: the GPU-hour yardstick


@dataclass(frozen=True)
class Stage:
    """One line of the plan."""

    name: str
    command: str
    inputs: str
    outputs: str
    estimate: str = ""


def corpus_tokens(cfg: SuiteConfig) -> float | None:
    """Estimated corpus size in tokens, or None when nothing is known about it."""
    if cfg.is_tiny:
        docs = cfg.corpus.documents or cfg.world.docs_per_domain * len(cfg.corpus.mix)
        return docs * TINY_TOKENS_PER_DOC
    known = KNOWN_CORPUS_TOKENS.get(cfg.corpus.dataset)
    if known and cfg.corpus.documents:
        return known * min(1.0, cfg.corpus.documents / 1_000_000)
    return known


def _fmt(x: float | None, unit: str = "") -> str:
    if x is None:
        return "unknown"
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= scale:
            return f"{x / scale:.2f}{suffix}{unit}"
    return f"{x:.0f}{unit}"


def _params(counted: ParamCount) -> str:
    """``134,515,008 params (config.json)``; a model card's figure is marked approximate."""
    if counted.count is None:
        return f"params unknown ({counted.source})"
    if counted.exact:
        return f"{int(counted.count):,} params ({counted.source})"
    return f"~{_fmt(counted.count)} params ({counted.source})"


def _gpu_hours(flops: float | None) -> str:
    return "unknown" if flops is None else f"{flops / GPU_FLOPS / 3600:.1f} GPU-h"


def stages(cfg: SuiteConfig, layout: Layout, config_path: str) -> list[Stage]:
    """The ordered stages ``make reproduce`` runs for this config."""
    tokens = corpus_tokens(cfg)
    k = cfg.fusion.topk
    per_token = 6 * k + 12  # int32 ids + fp16 logits per slot; input id, fp32 lse, overhead
    disk = None if tokens is None else tokens * per_token
    arg = f"CONFIG={config_path}"
    out: list[Stage] = []
    if cfg.is_tiny:
        out.append(Stage("world", "make world", "seeded generators", str(layout.world)))
    else:
        out.append(Stage("prefetch", "make prefetch", "hub", "HF caches (offline afterwards)"))
    out.append(
        Stage(
            "blocks",
            "make represent",
            _corpus_name(cfg),
            str(layout.blocks),
            f"{_fmt(tokens)} tokens in blocks of {cfg.fusion.block_size}",
        )
    )
    for spec in cfg.models.all():
        counted = model_params(cfg, layout, spec)
        p = counted.count
        flops = None if p is None or tokens is None else 2 * p * tokens
        out.append(
            Stage(
                f"represent {spec.name}",
                "make represent",
                layout.model(spec),
                str(layout.representation(spec.name)),
                f"{_params(counted)}; top-{k}: {_fmt(disk, 'B')} on disk; {_gpu_hours(flops)}",
            )
        )
    for spec in cfg.models.sources:
        out.append(
            Stage(
                f"align {spec.name}",
                "make align",
                f"represent/{spec.name}",
                str(layout.alignment(spec.name, cfg.fusion.vocab)),
                f"vocab {cfg.fusion.vocab}, DTW per block",
            )
        )
    out.append(
        Stage(
            "fuse",
            "make fuse",
            "aligned sources + target",
            str(layout.fused("fusellm")),
            f"{cfg.fusion.method}, T={cfg.fusion.temperature}",
        )
    )
    out.extend(_train_stages(cfg, layout, tokens))
    if cfg.is_tiny:
        out.append(
            Stage(
                "card",
                "make card",
                f"{layout.probes.name} + every world model, expert and trained variant",
                str(layout.root / "card"),
                "probe accuracy per knowledge partition; fusion-corpus bits/byte",
            )
        )
    ev = cfg.evaluation
    caps = {s: ev.limit_for(s) for s in ev.suites}
    items = ", ".join(f"{s} {'all' if n is None else n}" for s, n in caps.items())
    only = "".join(f"; {s} only on {', '.join(names)}" for s, names in ev.suite_models.items())
    out.append(
        Stage(
            "eval",
            "make eval",
            "trained models",
            str(layout.root / "eval"),
            f"suites {', '.join(ev.suites)} via {ev.backend}; items per task: {items}{only}",
        )
    )
    out.append(Stage("tables", "make tables", layout.tracking_uri, str(layout.tables)))
    return [Stage(s.name, f"{s.command} {arg}", s.inputs, s.outputs, s.estimate) for s in out]


def _corpus_name(cfg: SuiteConfig) -> str:
    if cfg.corpus.dataset:
        return f"{cfg.corpus.dataset} [{cfg.corpus.split}]"
    return f"tiny mix {cfg.corpus.mix}"


def _train_stages(cfg: SuiteConfig, layout: Layout, tokens: float | None) -> list[Stage]:
    t = cfg.training
    p = model_params(cfg, layout, cfg.models.target).count
    flops = None if p is None or tokens is None else 6 * p * tokens * t.epochs
    detail = (
        f"lr {t.lr}, global batch {t.global_batch_size} ({t.num_devices}x"
        f"{t.per_device_batch_size}x{t.grad_accum}), {t.epochs} epoch, lambda {t.clm_weight}, "
        f"AdamW b=({t.adam_beta1}, {t.adam_beta2}), wd {t.weight_decay}, warmup "
        f"{t.warmup_ratio}, {t.scheduler}, grad norm {t.max_grad_norm}, seed {t.seed}, "
        f"bf16 {t.bf16}, grad ckpt {t.gradient_checkpointing}, deepspeed {t.deepspeed}; "
        f"{_gpu_hours(flops)} per variant"
    )
    specs = train_variants(cfg)
    out = []
    for v, seed in train_runs(cfg):
        name, merge = replica(cfg, v, seed), specs[v].merge
        if merge:  # FuseChat: made from this seed's pairwise targets, in seconds, no GPU
            inputs = ", ".join(replica(cfg, m, seed) for m in merge.variants)
            note = f"{merge.method} {dict(merge.params)}, pivot {cfg.models.target.name}"
            out.append(
                Stage(f"merge {name}", "make train", inputs, str(layout.trained(name)), note)
            )
            continue
        note = "same settings as above" if out else detail
        trained = str(layout.trained(name))
        out.append(Stage(f"train {name}", "make train", "fused targets / corpus", trained, note))
    return out


def describe(cfg: SuiteConfig, layout: Layout, config_path: str) -> str:
    """The plan as printable text: models first, then every stage."""
    lines = [f"config {cfg.name}: artifacts under {layout.root}", "models:"]
    roles = [("target", cfg.models.target), *(("source", s) for s in cfg.models.sources)]
    if cfg.models.teacher:
        roles.append(("kd teacher", cfg.models.teacher))
    if cfg.pythia:
        roles.append(("pythia base", cfg.pythia.base))
    for role, spec in roles:
        origin = spec.hub_id or (
            f"real model {spec.real_model} (make real-models)"
            if spec.real_model
            else f"tiny-world {spec.build.architecture} ({spec.build.tokenizer})"
        )
        lines.append(f"  {role:<11} {spec.name:<14} {origin}")
    f = cfg.fusion
    lines.append(
        f"fusion: block {f.block_size}, top-k {f.topk}, vocab {f.vocab}, "
        f"method {f.method}, temperature {f.temperature}"
    )
    if cfg.pythia:
        lines.append(
            f"pythia: domains {', '.join(cfg.pythia.domains)}; ensemble, weight merging, FuseLLM"
        )
    lines.append("stages:")
    for i, s in enumerate(stages(cfg, layout, config_path), 1):
        lines.append(f"  {i:>2}. {s.name:<20} {s.command}")
        lines.append(f"      in: {s.inputs}  ->  out: {s.outputs}")
        if s.estimate:
            lines.append(f"      {s.estimate}")
    return "\n".join(lines)


def main() -> None:
    args = cli.parser("Validate a config and print its plan.").parse_args()
    cfg, layout = cli.load(args)
    print(describe(cfg, layout, args.config))


if __name__ == "__main__":
    cli.run(main)
