"""Fusion diagnostics as tables: read back from the ``fuse`` runs in MLflow, never recomputed.

The fuse stage logs, per fused variant (``fusion.fuse.diagnostics``): per source the share of
target positions aligned 1:1 (exact token / through the MinED map) and fallen back; per corpus
domain the share of blocks where MinCE picked each candidate (AvgCE: its mean weight) and
each model's mean block CE. This module turns those metrics into
``$(RUNS)/<name>/tables/fusion_diagnostics.{csv,md}`` (the figure is drawn from the csv by
``reports.figures.diagnostics_figure``); ``report.md`` includes both. Models and domains come
from the metric keys, so any number of sources shows.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from configs.layout import Layout
from configs.schema import SuiteConfig
from configs.variants import MAIN
from evaluation.outputs import write_text
from reports.tables import stage_runs

NAME = "fusion_diagnostics"
ALL = "all"  # the partition of every block (fusion.fuse.diagnostics.ALL)
SHARES = {"aligned": "aligned", "exact": "exact", "mined": "MinED", "fallback": "fallback"}
CHOICE = {"pick": "MinCE picks (% of the domain's blocks)", "weight": "AvgCE mean weight (%)"}
COLUMNS = ["section", "variant", "row", "column", "value"]


def fuse_runs(layout: Layout) -> pd.DataFrame:
    """The newest finished ``fuse`` run per variant of the main experiment."""
    return stage_runs(layout, "fuse")


def _metrics(run: pd.Series, prefix: str) -> dict[tuple[str, ...], float]:
    """``metrics.<prefix>/a/b`` -> {(a, b): value}, NaN (not logged) left out."""
    head = f"metrics.{prefix}/"
    return {
        tuple(key.removeprefix(head).split("/")): float(run[key])
        for key in sorted(run.index)  # the store's column order varies: never rely on it
        if key.startswith(head) and pd.notna(run[key])
    }


def model_order(cfg: SuiteConfig, models: set[str]) -> list[str]:
    """The target (or teacher) first, then the sources in config order, then any other."""
    m = cfg.models
    known = [m.target.name, *([m.teacher.name] if m.teacher else []), *(s.name for s in m.sources)]
    return [x for x in known if x in models] + sorted(models - set(known))


def domain_order(domains: set[str]) -> list[str]:
    return ([ALL] if ALL in domains else []) + sorted(domains - {ALL})


def diagnostics_frame(cfg: SuiteConfig, runs: pd.DataFrame) -> pd.DataFrame:
    """Long form of every diagnostic: alignment per source (the first variant using each
    (source, vocab) pair), fallback per variant, and the main variant's choice and CE."""
    rows: list[dict] = []
    if runs.empty:
        return pd.DataFrame(rows, columns=COLUMNS)
    seen: set[tuple[str, str]] = set()
    first = runs["tags.model"].map(lambda m: (m != MAIN, m)).sort_values().index
    for _, run in runs.loc[first].iterrows():  # FuseLLM first, then by name
        variant, vocab = run["tags.model"], run.get("params.vocab", "")
        for (source, share), value in sorted(_metrics(run, "fuse/align").items()):
            if (source, vocab) not in seen and share in SHARES:
                label = f"{source} ({vocab})"
                rows.append(_row("alignment", variant, label, SHARES[share], value * 100))
        seen |= {(s, vocab) for s, _ in _metrics(run, "fuse/align")}
        if pd.notna(run.get("metrics.fuse/fallback_share")):
            share = float(run["metrics.fuse/fallback_share"]) * 100
            rows.append(_row("fallback", variant, variant, "positions on a fallback", share))
    main = runs[runs["tags.model"] == MAIN]
    if not main.empty:
        run = main.iloc[0]
        for kind in CHOICE:
            for (domain, model), value in _metrics(run, f"fuse/{kind}").items():
                rows.append(_row(kind, MAIN, domain, model, value * 100))
        for (domain, model), value in _metrics(run, "fuse/ce").items():
            rows.append(_row("ce", MAIN, domain, model, value))
        for (domain,), value in _metrics(run, "fuse/domain_blocks").items():
            rows.append(_row("blocks", MAIN, domain, "blocks", value))
        for (domain, which), value in _metrics(run, "fuse/true_next").items():
            rows.append(_row("true_next", MAIN, domain, TRUE_NEXT[which], value * 100))
    frame = pd.DataFrame(rows, columns=COLUMNS)  # one order whatever order runs came in
    return frame.sort_values(COLUMNS[:4], kind="stable", ignore_index=True)


def _row(section: str, variant: str, row: str, column: str, value: float) -> dict:
    return dict(zip(COLUMNS, (section, variant, row, column, value), strict=True))


TRUE_NEXT = {"fused": "fused targets", "own": "own top-k"}
INDEX = {"alignment": "source (vocab)", "fallback": "variant", "blocks": "domain"}


def grid(cfg: SuiteConfig, frame: pd.DataFrame, section: str) -> pd.DataFrame:
    """One section as rows x columns (domains and models in their display order)."""
    part = frame[frame["section"] == section]
    table = part.pivot_table(index="row", columns="column", values="value", aggfunc="first")
    table = table.rename_axis(index=INDEX.get(section, "domain"), columns=None)
    if section in ("pick", "weight", "ce", "true_next"):
        columns = model_order(cfg, set(table.columns))
        if section == "true_next":
            columns = [c for c in TRUE_NEXT.values() if c in table.columns]
        table = table.reindex(index=domain_order(set(table.index)), columns=columns)
    elif section == "alignment":
        table = table.reindex(columns=[c for c in SHARES.values() if c in table.columns])
    return table


def markdown(cfg: SuiteConfig, frame: pd.DataFrame) -> str:
    """The diagnostics page: alignment per source, fallback per variant, choice and CE."""
    lines = [f"# {NAME}: why fusion helps, from the fuse runs in MLflow", ""]
    if frame.empty:
        return "\n".join([*lines, "_no fuse diagnostics in MLflow: run `make fuse`_", ""])
    fmt = {"floatfmt": ".1f"}
    align = grid(cfg, frame, "alignment")
    if not align.empty:
        lines += [
            "Alignment per source (% of target positions; exact + MinED = aligned, aligned + "
            "fallback = 100; exact: the same token string, MinED: matched through the map):",
            "",
            align.to_markdown(**fmt),
            "",
        ]
    fallback = grid(cfg, frame, "fallback")
    if not fallback.empty:
        lines += ["Fused positions drawing on a fallback row, per variant (%):", ""]
        lines += [fallback.to_markdown(**fmt), ""]
    blocks = grid(cfg, frame, "blocks")
    for kind, title in CHOICE.items():
        choice = grid(cfg, frame, kind)
        if choice.empty:
            continue
        if not blocks.empty:
            choice["blocks"] = blocks.reindex(choice.index)["blocks"].astype("Int64")
        lines += [f"{MAIN}: {title}, per corpus domain (each row sums to 100):", ""]
        lines += [choice.to_markdown(**fmt), ""]
    ce = grid(cfg, frame, "ce")
    if not ce.empty:
        lines += [f"{MAIN}: mean block CE (nats per token) per model and corpus domain:", ""]
        lines += [ce.to_markdown(floatfmt=".3f"), ""]
    teach = grid(cfg, frame, "true_next")
    if not teach.empty:
        lines += [
            f"{MAIN}: mean probability (%) of the true next token under the fused training "
            "targets vs under the base model's own top-k (renormalized), per corpus domain — "
            "fusion can teach more than the target's own outputs only where the first is "
            "higher:",
            "",
            teach.to_markdown(**fmt),
            "",
        ]
    if not any(s in set(frame["section"]) for s in CHOICE):
        lines += [f"_no choice diagnostics for {MAIN}: re-run `make fuse` to log them_", ""]
    return "\n".join(lines)


def write_diagnostics(cfg: SuiteConfig, layout: Layout) -> list[Path]:
    """``fusion_diagnostics.csv`` (long) and ``.md`` under the tables directory."""
    frame = diagnostics_frame(cfg, fuse_runs(layout))
    out = layout.tables
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{NAME}.csv", out / f"{NAME}.md"]
    for path, text in zip(paths, [frame.to_csv(index=False), markdown(cfg, frame)], strict=True):
        write_text(path, text)
    return paths
