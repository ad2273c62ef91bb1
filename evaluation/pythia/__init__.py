"""Scoring of the Pythia experiment (the paper's Table 7): every row by perplexity per domain.

The models themselves (experts, weight merge, FuseLLM of the experts, and beyond the paper
FuseChat's VaRM and SCE merges of the experts) come from `training.pythia`; the ensemble is
scored as one model (uniform mixture of the experts' next-token distributions). Each row's
figures are logged to MLflow with the tag ``sub=pythia``.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
from transformers import AutoTokenizer

from configs import tracking
from configs.errors import SuiteError
from configs.layout import Layout
from configs.schema import SuiteConfig
from configs.stages import STAGES
from configs.workers import run_stage_in_workers
from evaluation.outputs import write_text
from evaluation.perplexity import docs_artifact, documents_jsonl, pool, score_documents
from fusion.corpus import domain_texts
from fusion.ensemble import EnsembleLM
from fusion.models import load_causal_lm
from training.pythia import BASE_ROW, candidates, seed_layout

RESULTS = "results.json"  # a seed's rows; marks the seed done


def evaluate_row(cfg: SuiteConfig, sub: Layout, row: str, model: object, seed: str) -> dict:
    """Perplexity figures of one model on every domain's test split, logged to MLflow (in the
    seed's sub-experiment ``sub``) with each document's figures (the table's intervals
    resample documents). ``seed`` is the training seed of a trained row ("" for the base), so
    the report knows how many training seeds a row was seen with."""
    if isinstance(model, dict):
        paths = [str(p) for p in model.values()]
        lm, tok = EnsembleLM.from_pretrained(paths).eval(), AutoTokenizer.from_pretrained(paths[0])
    else:
        tok, lm = load_causal_lm(model)
    block = cfg.pythia.base.build.max_positions if cfg.pythia.base.build else 2048
    docs = {
        d: score_documents(lm, tok, domain_texts(cfg, sub, d, "test"), block)
        for d in cfg.pythia.domains
    }
    figures = {d: pool(parts) for d, parts in docs.items()}
    with tracking.stage_run(sub, "eval", row, {"block_size": block}):
        mlflow.set_tags({"variant": row, "seed": seed})
        mlflow.log_metrics(
            {
                tracking.metric_key("eval", "perplexity", d, k): v
                for d, f in figures.items()
                for k, v in f.items()
            }
        )
        for d, parts in docs.items():
            mlflow.log_text(documents_jsonl(parts), docs_artifact(d))
    return figures


def run_seed(cfg: SuiteConfig, layout: Layout, seed: int, with_base: bool) -> Path:
    """One seed's run of the experiment; its ``results.json`` (row -> domain -> figures)
    marks it done. The untrained base is scored once, in the run ``with_base``."""
    seeded, sub = seed_layout(cfg, layout, seed)
    out = sub.root / RESULTS
    if out.exists():
        return out
    rows = candidates(seeded, sub)
    if not with_base:
        del rows[BASE_ROW]
    results = {
        row: evaluate_row(seeded, sub, row, m, "" if row == BASE_ROW else str(seed))
        for row, m in rows.items()
    }
    write_text(out, json.dumps(results, indent=1))
    return out


def run_pythia(cfg: SuiteConfig, layout: Layout) -> Path:
    """The whole experiment, once per seed of ``reporting.seeds``; the first seed's
    ``results.json`` (which holds the base row too)."""
    if cfg.pythia is None:
        raise SuiteError(f"config '{cfg.name}' has no pythia section: add one (see tiny.yaml)")
    seeds = cfg.reporting.seeds
    todo = [str(s) for s in seeds if not (seed_layout(cfg, layout, s)[1].root / RESULTS).exists()]
    if cfg.workers > 1 and len(todo) > 1:
        run_stage_in_workers(cfg, layout, STAGES["pythia"].module, todo, verb="pythia seed")
    return [run_seed(cfg, layout, s, with_base=s == seeds[0]) for s in seeds][0]
