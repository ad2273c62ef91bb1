"""Per-item scores of a table cell, read back from the eval runs' artifacts in MLflow.

A cell's interval (`reports.stats`) needs what its number averages: the score of every item
of every task behind it, per seed. The eval stage logs each harness's per-sample records as
artifacts of the run (``eval/<suite>/samples_<task>.jsonl`` from lm-eval,
``eval/multiple/samples_<lang>.jsonl`` from MultiPL-E); this module reads them back and lines
the items up by id, so two models are compared on the same items. A score that is not a mean
over items (corpus BLEU) has no per-item form: its cell gets a reason instead of an
interval, never a made-up one. Pooled bits per byte (the Pythia table) is a ratio of sums
over documents, each run logs every document's NLL and bytes
(``eval/perplexity/docs_<domain>.jsonl``), and the bootstrap resamples documents.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import mlflow
import numpy as np
import pandas as pd

from configs.schema import SuiteConfig
from evaluation.card import items_artifact
from evaluation.perplexity import docs_artifact
from evaluation.suites import SUITES, real_bbh_task
from reports.paper import BENCHMARK_TABLES, PAPER_TABLES, SUMMARY_SOURCE, TABLE_SUITE
from reports.stats import Estimate, Items, estimate, point

PER_ITEM = {"acc", "acc_norm", "exact_match", "em"}  # metrics that are means over items
Score = float | tuple[float, float]  # an item's score, or a document's (bits, bytes)


@dataclass(frozen=True)
class Stratum:
    """One task's items in a cell: where its samples are and which score each item has."""

    suite: str
    task: str
    metric: str  # the per-item key of the record ("pass" for MultiPL-E)
    filter: str  # lm-eval's filter name; "" for MultiPL-E

    @property
    def artifact(self) -> str:
        if self.suite == "perplexity":
            return docs_artifact(self.task)
        if self.suite == "card":
            return items_artifact(self.task)
        return f"eval/{self.suite}/samples_{self.task}.jsonl"


def _benchmark_strata(cfg: SuiteConfig, table: str) -> dict[str, Stratum | str]:
    """Column -> its stratum, or why it has none, for the harness-scored tables."""
    suite = TABLE_SUITE[table]
    out: dict[str, Stratum | str] = {}
    for b in SUITES[suite]:
        column = b.paper.lower().replace("-", "_")
        metric, _, filt = b.metric.partition(",")
        if cfg.evaluation.backend == "opencompass" and suite == "generation":
            out[column] = "scored by OpenCompass: no per-item records read"
        elif metric not in PER_ITEM:
            out[column] = f"{metric} is not a mean over items: no per-item interval"
        else:
            task = b.tiny if cfg.is_tiny else b.lm_eval
            if cfg.evaluation.items == "real" and suite == "bbh":
                task = real_bbh_task(b.paper)
            out[column] = Stratum(suite, task, metric, filt)
    return out


def strata(cfg: SuiteConfig, table: str, column: str) -> list[Stratum] | str:
    """The strata a cell averages (every task of an average column), or why there are none."""
    paper = PAPER_TABLES[table]
    if table == "ensemble_merging":  # bits per byte pooled over each domain's documents
        domains = [c for c in paper.columns if c != paper.average_column]
        chosen = domains if column == paper.average_column else [column]
        return [Stratum("perplexity", d, "bits_per_byte", "") for d in chosen]
    if table in SUMMARY_SOURCE.values() or table in TABLE_SUITE:
        if table == "table3":
            leaves = {c: Stratum("multiple", c, "pass", "") for c in paper.columns}
        else:
            leaves = _benchmark_strata(cfg, table)
        if column != paper.average_column:
            found = leaves[column]
            return [found] if isinstance(found, Stratum) else found
        missing = [why for c, why in leaves.items() if isinstance(why, str)]
        if missing:
            return f"average over a column without per-item scores ({missing[0]})"
        return [s for c, s in leaves.items() if c != paper.average_column]
    source = SUMMARY_SOURCE[column]  # kd / sources / ablation: suite averages
    return strata(cfg, source, PAPER_TABLES[source].average_column)


def _lm_eval_scores(lines: list[str], stratum: Stratum) -> dict[str, float]:
    rows = (json.loads(line) for line in lines if line.strip())
    return {
        str(r["doc_id"]): float(r[stratum.metric])
        for r in rows
        if r.get("filter", "none") == (stratum.filter or "none") and stratum.metric in r
    }


def _document_scores(lines: list[str]) -> dict[str, tuple[float, float]]:
    """Per document (bits, bytes): their summed ratio over any documents is bits per byte."""
    rows = (json.loads(line) for line in lines if line.strip())
    return {str(r["doc"]): (r["nll_sum"] / math.log(2), float(r["bytes"])) for r in rows}


def _multiple_scores(lines: list[str]) -> dict[str, float]:
    """pass@1 per problem: the share of its samples that passed (unbiased for pass@1)."""
    passed: dict[str, list[bool]] = {}
    for line in lines:
        if line.strip():
            r = json.loads(line)
            passed.setdefault(r["problem"], []).append(r["status"] == "passed")
    return {p: float(np.mean(v)) for p, v in passed.items()}


class ItemReader:
    """Per-item scores of eval runs, read once per (run, artifact).

    A local store's artifacts (the sqlite default keeps them under RUNS) are read in place;
    another store's are downloaded, without MLflow's progress bars (stderr stays one line on
    an error)."""

    def __init__(self, tracking_uri: str):
        self.tracking_uri = tracking_uri
        self._cache: dict[tuple[str, str], dict[str, Score] | None] = {}

    def _path(self, run: pd.Series, artifact: str) -> Path:
        root = urlparse(str(run["artifact_uri"]))
        if root.scheme in ("", "file"):
            return Path(unquote(root.path)) / artifact
        os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
        return Path(
            mlflow.artifacts.download_artifacts(
                run_id=run["run_id"], artifact_path=artifact, tracking_uri=self.tracking_uri
            )
        )

    def scores(
        self, run: pd.Series, stratum: Stratum, guess: bool = False
    ) -> dict[str, Score] | None:
        """Item id -> score in that run (``guess``: what a uniform guess scores on the item),
        or None when the run logged no samples."""
        key = (run["run_id"], stratum.artifact, guess)
        if key not in self._cache:
            try:
                lines = self._path(run, stratum.artifact).read_text().splitlines()
            except (OSError, mlflow.exceptions.MlflowException):
                self._cache[key] = None
            else:
                self._cache[key] = (_guess if guess else _parse)(lines, stratum) or None
        return self._cache[key]


def _parse(lines: list[str], stratum: Stratum) -> dict[str, Score]:
    """Item id -> score: percent for accuracies and pass@1, (bits, bytes) for a document."""
    if stratum.suite == "perplexity":
        return dict(_document_scores(lines))
    if stratum.suite == "card":  # the world card's probes: right (1) or wrong (0)
        return {r["id"]: 100.0 * r["correct"] for r in map(json.loads, filter(str.strip, lines))}
    raw = (
        _multiple_scores(lines) if stratum.suite == "multiple" else _lm_eval_scores(lines, stratum)
    )
    return {item: 100 * score for item, score in raw.items()}


def _choices(arguments: list) -> int:
    """An lm-eval item's number of choices: one loglikelihood request (context, continuation)
    per choice; a generation request (context, settings) or a lone continuation, 0."""
    scored = all(isinstance(a, list) and len(a) == 2 and isinstance(a[1], str) for a in arguments)
    return len(arguments) if scored and len(arguments) > 1 else 0


def _guess(lines: list[str], stratum: Stratum) -> dict[str, Score]:
    """Item id -> percent a uniform guess scores: 100 / choices for a multiple-choice item,
    0 for a generated answer or program (no finite set to guess from); nothing when the
    records do not say what was asked."""
    if stratum.suite == "multiple":
        return {item: 0.0 for item in _parse(lines, stratum)}
    rows = [json.loads(line) for line in lines if line.strip()]
    if not all("arguments" in r for r in rows):
        return {}
    return {
        str(r["doc_id"]): 100.0 / n if (n := _choices(r["arguments"])) else 0.0
        for r in rows
        if r.get("filter", "none") == (stratum.filter or "none")
    }


def guessing(reader: ItemReader, run: pd.Series, strata_: list[Stratum]) -> float | None:
    """The score a uniform guess gets on a cell's tasks (averaged as the cell is), from one
    run's samples; None without them."""
    items = {}
    for s in strata_:
        found = reader.scores(run, s, guess=True)
        if not found:
            return None
        items[s.task] = np.array(list(found.values()), dtype=float)
    return point([items])


def cell_items(
    reader: ItemReader, runs: pd.DataFrame, strata_: list[Stratum]
) -> tuple[list[Items], str | None]:
    """Per seed (one eval run each), the items of every stratum in a fixed order.

    Items are the ids every seed scored (seeds of one variant see the same task files);
    a seed's run without samples makes the cell interval-less, with the reason.
    """
    per_run: list[dict[str, dict[str, float]]] = []
    for _, run in runs.iterrows():
        found = {}
        for s in strata_:
            scores = reader.scores(run, s)
            if scores is None:
                return [], f"no per-item samples {s.artifact} in run {run['run_id'][:8]}"
            found[s.task] = scores
        per_run.append(found)
    if not per_run:
        return [], "no eval run"
    out: list[Items] = []
    for found in per_run:
        ids = {t: sorted(set.intersection(*(set(r[t]) for r in per_run))) for t in found}
        out.append({t: np.array([found[t][i] for i in ids[t]]) for t in found})
    return out, None


@dataclass(frozen=True)
class CellStats:
    """Intervals of a table's cells, the per-item scores behind them (for paired claims), why a
    cell has none, and per row how many seeds were seen and whether the row is trained."""

    estimates: dict[tuple[str, str], Estimate]
    scores: dict[tuple[str, str], list[Items]]
    missing: dict[tuple[str, str], str]
    seeds: dict[str, tuple[int, bool]]
    guesses: dict[str, float]  # column -> what a uniform guess scores on its items

    def seeds_known(self, row: str) -> bool:
        """A trained row needs two seeds or more before its training noise counts as seen."""
        count, trained = self.seeds.get(row, (0, False))
        return not trained or count >= 2


def newest_per_seed(runs: pd.DataFrame) -> pd.DataFrame:
    """One eval run per seed: the newest (a re-run of the eval replaces the older one)."""
    if runs.empty:
        return runs
    return runs.sort_values("start_time", ascending=False).drop_duplicates("tags.seed")


def cell_stats(
    cfg: SuiteConfig,
    table: str,
    values: pd.DataFrame,
    row_runs: Callable[[str], pd.DataFrame],
    reader: ItemReader,
) -> CellStats:
    """Every valued cell of ``table``: its 95% interval over items and seeds, or why not."""
    estimates, scores, missing, seeds, guesses = {}, {}, {}, {}, {}
    for row in values.index:
        runs = newest_per_seed(row_runs(row))
        seeds[row] = (len(runs), bool(len(runs)) and bool(runs["tags.seed"].iloc[0]))
        for column in values.columns:
            if pd.isna(values.loc[row, column]):
                continue
            found = strata(cfg, table, column)
            if isinstance(found, str):
                missing[(row, column)] = found
                continue
            items, why = cell_items(reader, runs, found)
            if why:
                missing[(row, column)] = why
                continue
            scores[(row, column)] = items
            estimates[(row, column)] = estimate(items)
            benchmark = table in BENCHMARK_TABLES and column not in guesses
            if benchmark and (g := guessing(reader, runs.iloc[0], found)) is not None:
                guesses[column] = g
    return CellStats(estimates, scores, missing, seeds, guesses)
