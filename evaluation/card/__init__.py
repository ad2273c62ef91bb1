"""``make card``: the world card — every world model on the probes of each knowledge
partition and skill, and on the fusion corpus.

The tiny world exists to put fusion's premise in miniature: each source knows a partition the
target does not, the two sources know different partitions, the teacher knows both, and on
the fusion corpus each source is a peer of the target. This stage measures that premise for
every model the world builds (target, sources, KD teacher, Pythia base) and for the Pythia
experts (after ``make pythia``): accuracy on the world's probes (``world/probes.jsonl``,
loglikelihood multiple choice, `evaluation.card.score`) and bits per byte on the fusion
corpus. Per model: ``$(RUNS)/<name>/card/<model>/`` (``items.jsonl``, ``docs.jsonl``,
``summary.json``; written to a temp dir, renamed when complete) and the MLflow run
``card:<model>``: metrics ``card/<partition>/acc``, ``…/n``, ``…/chance`` and
``card/fusion_corpus/bits_per_byte``; per-item artifacts ``card/items_<partition>.jsonl`` and
the per-document ``eval/perplexity/docs_fusion_corpus.jsonl`` (the tables' interval readers
take both). ``reports.card`` renders it as the first table of ``report.md``.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow

from configs import tracking
from configs.errors import SuiteError
from configs.layout import Layout, atomic_dir
from configs.schema import SuiteConfig
from evaluation.card.score import score_probes
from evaluation.outputs import write_text
from evaluation.perplexity import docs_artifact, documents_jsonl, pool, score_documents
from fusion.corpus import corpus_texts
from fusion.models import context_length, load_causal_lm

FUSION_CORPUS = "fusion_corpus"
STAGE = "card"


def items_artifact(partition: str) -> str:
    """Where a card run keeps one partition's per-item results."""
    return f"card/items_{partition}.jsonl"


def card_models(cfg: SuiteConfig, layout: Layout) -> dict[str, str]:
    """Model name -> checkpoint, for every model the world card measures.

    The Pythia experts are the first training seed's (``make pythia``); before that stage
    they are absent and the card has the world's models only.
    """
    models = {m.name: layout.model(m) for m in cfg.models.all()}
    if cfg.pythia:
        base = cfg.pythia.base
        models[base.name] = layout.model(base)
        experts = layout.child("pythia", cfg).root / "experts"
        for domain in cfg.pythia.domains:
            if (experts / domain).is_dir():
                models[f"{base.name}_{domain}"] = str(experts / domain)
    return models


def load_probes(layout: Layout) -> list[dict]:
    """The world's probes; one line naming the fix when the world predates them."""
    if not layout.probes.is_file():
        raise SuiteError(
            f"no world probes at {layout.probes}: run `python -m world --config CONFIG` "
            "(it adds only what an older world lacks)"
        )
    return [json.loads(line) for line in layout.probes.read_text().splitlines()]


def _chance(probes: list[dict]) -> dict[str, float]:
    by: dict[str, list[float]] = {}
    for p in probes:
        by.setdefault(p["partition"], []).append(1 / len(p["choices"]))
    return {k: sum(v) / len(v) for k, v in by.items()}


def summarize_card(items: list[dict], chance: dict[str, float]) -> dict[str, dict[str, float]]:
    """Per partition: accuracy (0–1), item count and the accuracy of guessing."""
    out: dict[str, dict[str, float]] = {}
    for part in chance:
        scores = [r["correct"] for r in items if r["partition"] == part]
        out[part] = {"acc": sum(scores) / len(scores), "n": len(scores), "chance": chance[part]}
    return out


def card_model(
    cfg: SuiteConfig, layout: Layout, name: str, path: str, probes: list[dict], texts: list[str]
) -> Path:
    """Score one model (cached: a finished model's dir is kept) and log its run."""
    out = layout.root / STAGE / name
    if (out / "summary.json").is_file():
        return out
    tok, model = load_causal_lm(path, name=name)
    window = context_length(path) or cfg.fusion.block_size
    items = score_probes(model, tok, probes, cfg.evaluation.batch_size * 4, window)
    docs = score_documents(model, tok, texts, window)
    summary = summarize_card(items, _chance(probes))
    fused = pool(docs)
    with atomic_dir(out) as tmp, tracking.stage_run(layout, STAGE, name, {"checkpoint": path}):
        write_text(tmp / "items.jsonl", "".join(json.dumps(r) + "\n" for r in items))
        write_text(tmp / "docs.jsonl", documents_jsonl(docs))
        write_text(tmp / "summary.json", json.dumps({**summary, FUSION_CORPUS: fused}, indent=1))
        for part, figures in summary.items():
            for key, value in figures.items():
                mlflow.log_metric(tracking.metric_key(STAGE, part, key), value)
            rows = "".join(json.dumps(r) + "\n" for r in items if r["partition"] == part)
            mlflow.log_text(rows, items_artifact(part))
        mlflow.log_metric(
            tracking.metric_key(STAGE, FUSION_CORPUS, "bits_per_byte"), fused["bits_per_byte"]
        )
        mlflow.log_text(documents_jsonl(docs), docs_artifact(FUSION_CORPUS))
    return out


def run_card(cfg: SuiteConfig, layout: Layout) -> dict[str, Path]:
    """The card of every model of :func:`card_models`; nothing for hub configs (no world)."""
    if not cfg.is_tiny:
        print(f"config '{cfg.name}' has no tiny world: no world card to measure")
        return {}
    probes, texts = load_probes(layout), corpus_texts(cfg, layout)
    tracking.use_store(layout)
    return {
        name: card_model(cfg, layout, name, path, probes, texts)
        for name, path in card_models(cfg, layout).items()
    }
