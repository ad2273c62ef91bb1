"""``make card``: the world card — every model on the probes of each knowledge partition and
on the fusion corpus.

The tiny world exists to put fusion's premise in miniature: each source knows a partition the
target does not, the two sources know different partitions, the teacher knows both, and on
the fusion corpus each source is a peer of the target. This stage measures that premise for
every model the world builds (target, sources, KD teacher, Pythia base), for the Pythia
experts (after ``make pythia``) and, on the same probes, for every trained variant and seed
(after ``make train``: what fusion taught the target). Accuracy on the world's probes
(``world/probes.jsonl``, loglikelihood multiple choice, `evaluation.card.score`) and bits per
byte on the fusion corpus (untrained models only: the trained ones were trained on it). Per
model: ``$(RUNS)/<name>/card/<model>/`` (``items.jsonl``, ``docs.jsonl``, ``summary.json``;
written to a temp dir, renamed when complete) and the MLflow run ``card:<model>`` (tags
``variant`` and ``seed`` for trained models): metrics ``card/<partition>/acc``, ``…/n``,
``…/chance`` and ``card/fusion_corpus/bits_per_byte``; per-item artifacts
``card/items_<partition>.jsonl`` and the per-document ``eval/perplexity/docs_fusion_corpus.jsonl``
(the tables' interval readers take both).
``reports.card`` renders it as the first section of ``report.md``.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow

from configs import tracking
from configs.errors import SuiteError
from configs.layout import Layout, atomic_dir
from configs.schema import SuiteConfig
from configs.stages import STAGES
from configs.variants import lineage, replica, train_runs
from configs.workers import run_stage_in_workers
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


def card_models(cfg: SuiteConfig, layout: Layout) -> dict[str, tuple[str, dict[str, str]]]:
    """Model name -> (checkpoint, lineage tags), for every model the card measures.

    The world's models, then what later stages made, where they exist: the Pythia experts
    (the first training seed's, ``make pythia``) and every trained variant's seed replica
    (``make train``), whose probes show what fusion taught the target, item by item.
    """
    models = {m.name: (layout.model(m), {}) for m in cfg.models.all()}
    if cfg.pythia:
        base = cfg.pythia.base
        models[base.name] = (layout.model(base), {})
        experts = layout.child("pythia", cfg).root / "experts"
        for domain in cfg.pythia.domains:
            if (experts / domain).is_dir():
                models[f"{base.name}_{domain}"] = (str(experts / domain), {})
    for variant, seed in train_runs(cfg):
        trained = layout.trained(replica(cfg, variant, seed))
        if (trained / "meta.json").is_file():
            tags = lineage(json.loads((trained / "meta.json").read_text()))
            models[replica(cfg, variant, seed)] = (str(trained / "model"), tags)
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
    cfg: SuiteConfig,
    layout: Layout,
    name: str,
    model: tuple[str, dict[str, str]],
    probes: list[dict],
    texts: list[str],
) -> Path:
    """Score one model (cached: a finished model's dir is kept) and log its run, tagged with
    its lineage (``variant``, ``seed``) so a trained variant's seeds pool. A trained variant
    was trained on the fusion corpus, so its bits per byte there is a training loss, not a
    measurement: it gets the probes only."""
    path, tags = model
    out = layout.root / STAGE / name
    if (out / "summary.json").is_file():
        return out
    tok, lm = load_causal_lm(path, name=name)
    window = context_length(path) or cfg.fusion.block_size
    items = score_probes(lm, tok, probes, cfg.evaluation.batch_size * 4, window)
    docs = [] if tags else score_documents(lm, tok, texts, window)
    summary: dict = summarize_card(items, _chance(probes))
    with atomic_dir(out) as tmp, tracking.stage_run(layout, STAGE, name, {"checkpoint": path}):
        mlflow.set_tags(tags)
        write_text(tmp / "items.jsonl", "".join(json.dumps(r) + "\n" for r in items))
        mlflow.log_metrics(
            {
                tracking.metric_key(STAGE, part, key): value
                for part, figures in summary.items()
                for key, value in figures.items()
            }
        )
        for part in summary:
            rows = "".join(json.dumps(r) + "\n" for r in items if r["partition"] == part)
            mlflow.log_text(rows, items_artifact(part))
        if docs:
            summary[FUSION_CORPUS] = pool(docs)
            bpb = summary[FUSION_CORPUS]["bits_per_byte"]
            mlflow.log_metric(tracking.metric_key(STAGE, FUSION_CORPUS, "bits_per_byte"), bpb)
            mlflow.log_text(documents_jsonl(docs), docs_artifact(FUSION_CORPUS))
            write_text(tmp / "docs.jsonl", documents_jsonl(docs))
        write_text(tmp / "summary.json", json.dumps(summary, indent=1))
    return out


def run_card(cfg: SuiteConfig, layout: Layout) -> dict[str, Path]:
    """The card of every model of :func:`card_models`; nothing for hub configs (no world)."""
    if not cfg.is_tiny:
        print(f"config '{cfg.name}' has no tiny world: no world card to measure")
        return {}
    models = card_models(cfg, layout)
    todo = [n for n in models if not (layout.root / STAGE / n / "summary.json").is_file()]
    if cfg.workers > 1 and len(todo) > 1:
        run_stage_in_workers(cfg, layout, STAGES[STAGE].module, todo, verb="card")
    return card_of(cfg, layout, list(models))


def card_of(cfg: SuiteConfig, layout: Layout, names: list[str]) -> dict[str, Path]:
    """The card of each named model of :func:`card_models`, in this process."""
    models = card_models(cfg, layout)
    probes, texts = load_probes(layout), corpus_texts(cfg, layout)
    tracking.use_store(layout)
    return {name: card_model(cfg, layout, name, models[name], probes, texts) for name in names}
