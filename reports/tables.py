"""Every paper table rebuilt from what MLflow holds, beside the paper's numbers.

A cell is looked up, never typed: the row names a model's ``eval`` run (``tags.model``), the
column names a metric key of the ``eval`` stage (``configs.tracking`` naming). A cell with no
run or no metric stays missing with its reason — never 0. Outputs per table under
``$(RUNS)/<name>/tables/``: ``<table>.csv`` (long: row, column, reproduced, paper, reason),
``<table>.md`` (reproduced in the paper's layout with gains over the target and the best value
in bold, the paper's table, and the paper's ordering claims checked) and ``<table>.tex``.
Run by ``python -m reports`` (``make tables``; ``--table table1`` for one).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
import pandas as pd

from configs import tracking
from configs.errors import SuiteError
from configs.layout import Layout
from configs.schema import SuiteConfig
from configs.tracking import metric_key
from configs.variants import CORRECTED, fuse_variants, merge_variants, train_variants
from evaluation.code.sandbox import ISOLATION
from evaluation.suites import SUITES, real_bbh_task
from reports.beyond import table_rows
from reports.intervals import CellStats, ItemReader, cell_stats
from reports.paper import PAPER_TABLES, SUMMARY_SOURCE, TABLE_SUITE
from reports.sources import source_rows

SUMMARY_TABLES = {"kd", "sources", "ablation"}  # columns are suite averages: bbh, cs, me
PERCENT_METRICS = ("acc", "exact_match", "em", "f1", "pass")  # fractions shown as %
PYTHIA = "pythia"
STORE_WAIT_S = 10.0  # how long a read waits on a writer before the store counts as held
# A killed stage leaves its run RUNNING (or KILLED once redone): only finished runs count.
FINISHED = "attributes.status = 'FINISHED'"
FINISHED_EVAL = f"tags.stage = 'eval' and {FINISHED}"


Samples = dict[str, float]  # seed tag -> value ("" for a model that is not seeded)


@dataclass(frozen=True)
class Built:
    """One reproduced table: values (mean over seeds, NaN where missing), their spread
    (standard deviation over seeds, NaN with one seed) and the reason per missing cell."""

    name: str
    values: pd.DataFrame
    reasons: dict[tuple[str, str], str]
    spread: pd.DataFrame | None = None
    departures: dict[str, str] = field(default_factory=dict)  # row -> settings unlike the paper's
    items: dict[str, str] = field(default_factory=dict)  # row -> "real" / "tiny" items scored
    unisolated: dict[tuple[str, str], str] = field(default_factory=dict)  # cell -> what lacked
    stats: CellStats | None = None  # 95% intervals over items and seeds, per cell
    unplaced: dict[str, str] = field(default_factory=dict)  # evaluated model -> why no row

    def std(self, row: str, column: str) -> float:
        return math.nan if self.spread is None else float(self.spread.loc[row, column])


def row_models(cfg: SuiteConfig) -> dict[str, str]:
    """Row id -> the model name its eval run carries in this config: the paper's rows, the
    sources beyond its two, and the rows beyond the paper this config has."""
    m, f = cfg.models, cfg.fusion
    rows = {"llama2": m.target.name, "llama2_clm": "clm", "fusellm": "fusellm", "llama2_kd": "kd"}
    rows |= source_rows(cfg)  # every source, the paper's two first (reports.sources)
    if m.teacher:
        rows["llama2_13b"] = m.teacher.name
    em, mined = ("fusellm_em", "fusellm") if f.vocab == "mined" else ("fusellm", "fusellm_mined")
    avg, mince = (
        ("fusellm_avgce", "fusellm") if f.method == "min_ce" else ("fusellm", "fusellm_mince")
    )
    rows |= {"fusellm_em": em, "fusellm_mined": mined, "fusellm_avgce": avg, "fusellm_mince": mince}
    beyond = [*merge_variants(cfg), *(v for v in fuse_variants(cfg) if v in CORRECTED)]
    return rows | {name: name for name in beyond}  # FuseChat, corrected FuseLLM


def column_metrics(cfg: SuiteConfig, table: str) -> dict[str, str]:
    """Paper column -> MLflow metric key of the eval run, for harness-scored tables.

    Columns are matched to benchmarks by name (``ARC-easy`` -> ``arc_easy``), never by
    position: the paper orders BBH's tasks differently from the harness.
    """
    suite = TABLE_SUITE[table]
    by_name = {b.paper.lower().replace("-", "_"): b for b in SUITES[suite]}
    columns = [c for c in PAPER_TABLES[table].columns if c != PAPER_TABLES[table].average_column]
    if set(columns) != set(by_name):
        odd = ", ".join(sorted(set(columns) ^ set(by_name)))
        raise SuiteError(
            f"{table}'s paper columns and the {suite} suite's benchmarks differ ({odd}): "
            "make reports/paper.py and evaluation/suites.py name the same benchmarks"
        )
    keys = {}
    for column in columns:
        b = by_name[column]
        task = b.tiny if cfg.is_tiny else (b.lm_eval or b.opencompass)
        if cfg.evaluation.items == "real" and suite == "bbh":
            task = real_bbh_task(b.paper)
        keys[column] = metric_key("eval", suite, task, b.metric)
    return keys


def check_store(layout: Layout) -> None:
    """Fail in one line on a missing, corrupt or locked sqlite store.

    Checked before MLflow touches it: MLflow would create a missing store (minutes of
    migrations, then empty tables) and waits 20 s per query on a locked one.
    """
    uri = layout.tracking_uri
    if not uri.startswith("sqlite:///"):
        return
    path = Path(uri.removeprefix("sqlite:///"))
    if not path.is_file():
        raise SuiteError(f"no MLflow store at {path}: run `make eval` first")
    try:
        ro = f"{path.resolve().as_uri()}?mode=ro"
        with closing(sqlite3.connect(ro, uri=True, timeout=STORE_WAIT_S)) as db:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as err:
        why = "another process holds it; retry when it is done" if "locked" in str(err) else err
        raise SuiteError(f"cannot read the MLflow store {path}: {why}") from None


def search(layout: Layout, **query) -> pd.DataFrame:
    """``mlflow.search_runs`` over the config's experiment (none yet: no runs, quietly);
    an unreadable store is one line."""
    check_store(layout)
    tracking.use_store(layout)
    try:
        experiment = mlflow.get_experiment_by_name(layout.cfg.name)
        if experiment is None:
            return pd.DataFrame()
        return mlflow.search_runs(experiment_ids=[experiment.experiment_id], **query)
    except Exception as err:  # corrupt / locked store: one line naming it
        raise SuiteError(
            f"cannot read the MLflow store {layout.tracking_uri}: {str(err).splitlines()[0][:160]}"
        ) from None


def stage_runs(layout: Layout, stage: str) -> pd.DataFrame:
    """The newest finished run of ``stage`` per model of the main experiment (not ``sub``s)."""
    runs = search(
        layout,
        filter_string=f"tags.stage = '{stage}' and {FINISHED}",
        order_by=["attributes.start_time DESC"],
    )
    if runs.empty:
        return runs
    sub = runs.get("tags.sub", pd.Series("", index=runs.index)).fillna("")
    return runs[sub == ""].drop_duplicates("tags.model", keep="first")


def eval_runs(layout: Layout) -> pd.DataFrame:
    """The newest ``eval`` run per (sub, model) of the config's experiment."""
    runs = search(layout, filter_string=FINISHED_EVAL, order_by=["attributes.start_time DESC"])
    if runs.empty:
        return runs
    for tag in ("sub", "seed", "variant", "parity.departures", "items"):
        runs[f"tags.{tag}"] = runs.get(f"tags.{tag}", pd.Series(index=runs.index)).fillna("")
    runs.loc[runs["tags.variant"] == "", "tags.variant"] = runs["tags.model"]  # older runs
    return runs.drop_duplicates(["tags.sub", "tags.model"], keep="first")


def require_eval_runs(layout: Layout) -> pd.DataFrame:
    """The eval runs, or one line naming the target that makes them."""
    runs = eval_runs(layout)
    if runs.empty:
        raise SuiteError(f"no eval runs for '{layout.cfg.name}': run `make eval`")
    return runs


@contextmanager
def writing(target: Path) -> Iterator[None]:
    """Report a failed write under ``target`` as one line.

    Files are written beside their target and renamed, so the ones already there stay intact.
    """
    try:
        yield
    except OSError as err:
        what = f" ({err.filename})" if err.filename else ""
        raise SuiteError(f"cannot write under {target}: {err.strerror or err}{what}") from None


def in_sub(runs: pd.DataFrame, sub: str) -> pd.Series:
    """Which runs belong to ``sub``: a sub-experiment repeated per seed logs its other seeds
    as ``<sub>/seed<n>``."""
    return runs["tags.sub"].fillna("").str.partition("/")[0] == sub


def runs_of(runs: pd.DataFrame, sub: str, model: str) -> pd.DataFrame:
    """The eval runs of ``model`` (every seed: runs sharing ``tags.variant``) in ``sub``."""
    return runs[in_sub(runs, sub) & (runs["tags.variant"] == model)]


def _lookup(
    runs: pd.DataFrame, sub: str, model: str, key: str, percent: bool = True
) -> tuple[Samples, str | None]:
    """The metric ``key`` of every seed of ``model`` (its eval runs share ``tags.variant``)."""
    if runs.empty:
        return {}, "no eval runs: run `make eval`"
    match = runs_of(runs, sub, model)
    if match.empty:
        return {}, f"no eval run of '{model}'"
    column = match.get(f"metrics.{key}", pd.Series(math.nan, index=match.index))
    samples = {
        seed: _scale(key, float(v)) if percent else float(v)
        for seed, v in zip(match["tags.seed"], column, strict=True)
        if v is not None and not math.isnan(v)
    }
    return (samples, None) if samples else ({}, f"'{model}' has no metric {key}")


def _scale(key: str, value: float) -> float:
    last = key.rsplit("/", 1)[-1]
    return value * 100 if last.startswith(PERCENT_METRICS) else value


def build(
    cfg: SuiteConfig,
    layout: Layout,
    table: str,
    runs: pd.DataFrame,
    reader: ItemReader | None = None,
) -> Built:
    """The reproduced values of ``table`` (rows and columns as in the paper, then the rows
    beyond it this config has): the mean and the standard deviation over the seeds each cell
    was measured with, and each cell's 95% interval over items and seeds (read through
    ``reader``, shared across tables)."""
    paper = PAPER_TABLES[table]
    models = row_models(cfg)
    rows = table_rows(table, None if table == "ensemble_merging" else models)
    values = pd.DataFrame(math.nan, index=list(rows), columns=list(paper.columns))
    spread = values.copy()
    reasons: dict[tuple[str, str], str] = {}
    for row in rows:
        for column in paper.columns:
            samples, why = _cell(cfg, table, row, column, models, runs)
            if why:
                reasons[(row, column)] = why
                continue
            series = pd.Series(list(samples.values()), dtype=float)
            values.loc[row, column] = series.mean()
            spread.loc[row, column] = series.std(ddof=1)  # NaN for a single seed
    departures = row_tags(runs, models, rows, "parity.departures", "; ")
    items = row_tags(runs, models, rows, "items", "+")
    unisolated = unisolated_cells(runs, models, values) if table == "table3" else {}
    sub = PYTHIA if table == "ensemble_merging" else ""

    def row_runs(row: str) -> pd.DataFrame:
        return runs if runs.empty else runs_of(runs, sub, models.get(row, row))

    cells = cell_stats(cfg, table, values, row_runs, reader or ItemReader(layout.tracking_uri))
    unplaced = unplaced_models(cfg, table, runs)
    return Built(table, values, reasons, spread, departures, items, unisolated, cells, unplaced)


def placed_models(cfg: SuiteConfig, table: str) -> set[str]:
    """The models (eval runs' ``variant`` tags) that have a row in ``table``."""
    if table == "ensemble_merging":
        return set(table_rows(table))
    models = row_models(cfg)
    return {models.get(row, row) for row in table_rows(table, models)}


def unplaced_models(cfg: SuiteConfig, table: str, runs: pd.DataFrame) -> dict[str, str]:
    """Models with eval runs in ``table``'s (sub-)experiment but no row in it, with the
    reason: listed under the table, so that no evaluated model is dropped silently."""
    if runs.empty:
        return {}
    sub = PYTHIA if table == "ensemble_merging" else ""
    evaluated = runs.loc[in_sub(runs, sub), "tags.variant"]
    placed = placed_models(cfg, table)
    others = [t for t in PAPER_TABLES if t != table and (t == "ensemble_merging") == bool(sub)]
    known = config_models(cfg)
    out = {}
    for model in sorted(set(evaluated) - placed):
        shown = [t for t in others if model in placed_models(cfg, t)]
        if shown:
            out[model] = f"the paper's table has no row for it; shown in {', '.join(shown)}"
        elif model in known:
            out[model] = f"{known[model]}, with no row in any table"
        else:
            out[model] = "not a model or trained variant of this config (evaluated by path?)"
    return out


def config_models(cfg: SuiteConfig) -> dict[str, str]:
    """Model name -> what it is in the config (a variant's seed replicas share its name)."""
    m = cfg.models
    known = {v: "a trained variant of this config" for v in train_variants(cfg)}
    known |= {s.name: "a source of this config" for s in m.sources}
    known[m.target.name] = "the target of this config"
    if m.teacher:
        known[m.teacher.name] = "the KD teacher of this config"
    if cfg.pythia is not None:  # Table 7 scores it by perplexity in the 'pythia' sub-experiment
        known[cfg.pythia.base.name] = "the Pythia experiment's base (Table 7 scores it apart)"
    return known


def row_tags(
    runs: pd.DataFrame, models: dict[str, str], rows, tag: str, sep: str
) -> dict[str, str]:
    """Row -> the distinct non-empty values of ``tag`` on its eval runs (all seeds), joined.

    Used for ``items`` ("real", "tiny" or "real+tiny") and ``parity.departures``."""
    if runs.empty:
        return {}
    found = {}
    for row in rows:
        match = runs_of(runs, "", models.get(row, row))
        values = sorted({v for v in match[f"tags.{tag}"] if v})
        if values:
            found[row] = sep.join(values)
    return found


def _cell(cfg, table, row, column, models, runs) -> tuple[Samples, str | None]:
    paper = PAPER_TABLES[table]
    if column == paper.average_column:
        parts = [_cell(cfg, table, row, c, models, runs) for c in paper.columns if c != column]
        missing = [why for _, why in parts if why]
        if missing:
            return {}, f"average needs every column ({missing[0]})"
        seeds = set.intersection(*(set(samples) for samples, _ in parts))
        if not seeds:
            return {}, "average needs one seed measured in every column"
        return {s: sum(samples[s] for samples, _ in parts) / len(parts) for s in seeds}, None
    if table == "ensemble_merging":
        if cfg.pythia is None:
            return {}, "config has no pythia section"
        key = metric_key("eval", "perplexity", column, "bits_per_byte")
        return _lookup(runs, PYTHIA, row, key)
    if row not in models:
        return {}, "this config has no such model"
    if table in SUMMARY_TABLES:
        source = SUMMARY_SOURCE[column]
        return _cell(cfg, source, row, PAPER_TABLES[source].average_column, models, runs)
    if table == "table3":
        return _multiple_cell(runs, models[row], column)
    samples, why = _lookup(runs, "", models[row], column_metrics(cfg, table)[column])
    if why and table == "table8" and (key := opencompass_metric(cfg, column)):
        found = _lookup(runs, "", models[row], key, percent=False)  # already 0-100
        return found if found[0] else (samples, why)
    return samples, why


def opencompass_metric(cfg: SuiteConfig, column: str) -> str | None:
    """The metric key of a Table 8 column when OpenCompass scored it (backend opencompass)."""
    b = next(b for b in SUITES["generation"] if b.paper.lower() == column)
    task_metric = (b.tiny, b.oc_metric) if cfg.is_tiny else b.oc_paper
    if task_metric is None or task_metric[1] is None:
        return None
    return metric_key("eval", "generation", *task_metric)


def _multiple_cell(runs: pd.DataFrame, model: str, lang: str) -> tuple[Samples, str | None]:
    """pass@1 of one language (table3's columns are the language keys); where it is absent,
    the missing toolchain's reason if tagged."""
    samples, why = _lookup(runs, "", model, metric_key("eval", "multiple", lang, "pass@1"))
    if samples or runs.empty:
        return samples, why
    match = runs_of(runs, "", model)
    tagged = match.get(f"tags.missing.multiple.{lang}", pd.Series(dtype=object)).dropna()
    return ({}, f"not scored: {tagged.iloc[0]}") if len(tagged) else ({}, why)


def unisolated_cells(
    runs: pd.DataFrame, models: dict[str, str], values: pd.DataFrame
) -> dict[tuple[str, str], str]:
    """table3 cells whose samples ran without full sandbox isolation (on any seed's run), with
    the properties lacking (a run that did not record them lacks them), and their averages."""
    marks = {}
    average = PAPER_TABLES["table3"].average_column
    for row, column in values.drop(columns=average).stack().dropna().index:  # cells with a value
        match = runs_of(runs, "", models[row])
        lang, blank = column, pd.Series("", index=match.index)  # table3 columns are language keys
        tags = {p: match.get(f"tags.isolation.multiple.{lang}.{p}", blank) for p in ISOLATION}
        lacking = [p for p, held in tags.items() if not (held == "true").all()]
        if lacking:
            marks[(row, column)] = f"not isolated: {', '.join(lacking)}"
            if not math.isnan(values.loc[row, average]):
                marks[(row, average)] = "averages a cell that was not isolated"
    return marks


def build_all(cfg: SuiteConfig, layout: Layout, names: list[str] | None = None) -> list[Built]:
    """Every requested table from one read of the MLflow store."""
    runs, reader = eval_runs(layout), ItemReader(layout.tracking_uri)
    return [build(cfg, layout, n, runs, reader) for n in (names or list(PAPER_TABLES))]
