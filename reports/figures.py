"""Figures of the reproduction: every paper table as bars beside the paper, and training curves.

A table holds dozens of numbers; bars of reproduced vs paper per model show at a glance whether
the paper's ordering survives. Benchmark tables compare their average column; the others (and
the per-domain perplexities of ``ensemble_merging``) compare every column. A missing value is
an absent bar marked "n/a" — never a 0 — with a note pointing at the table's reasons.
Bars are read from the ``<table>.csv`` that ``reports.tables`` wrote, so a figure always shows
exactly its table; curves come from the MLflow metric histories of the ``train`` runs.
Drawn with the Agg canvas: files only, no display needed on a server.
``python -m reports`` draws them after the tables: ``$(RUNS)/<name>/tables/<table>.png`` and
``training_curves.png``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from mlflow.tracking import MlflowClient

from configs.layout import Layout
from configs.schema import SuiteConfig
from reports.beyond import MARK, table_rows
from reports.beyond import label as row_label  # ``label`` names a legend entry here
from reports.diagnostics import CHOICE
from reports.diagnostics import grid as diagnostics_grid
from reports.paper import COLUMN_LABELS, PAPER_TABLES, as_frame
from reports.tables import FINISHED, Built, search

LOSSES = {"train/clm_loss": ("CLM loss", "-"), "train/distill_loss": ("distill loss", "--")}
PANELS_PER_LINE = 3
BAR = 0.38
SERIES, COLORS = ("reproduced", "paper"), ("tab:blue", "tab:gray")
Curves = dict[str, dict[str, list[tuple[int, float]]]]


def figure_columns(name: str) -> list[str]:
    """What a table's figure compares: the average of benchmark tables, else every column."""
    paper = PAPER_TABLES[name]
    if paper.average_column and name != "ensemble_merging":
        return [paper.average_column]
    return [c for c in paper.columns if c != paper.average_column]


def read_built(csv: Path) -> Built:
    """A table as ``reports.tables`` wrote it (long csv: row, column, reproduced, std, reason)."""
    paper = PAPER_TABLES[csv.stem]
    cells = pd.read_csv(csv, dtype={"row": str, "column": str})

    rows = list(table_rows(csv.stem, list(dict.fromkeys(cells["row"]))))  # the table's order

    def grid(field: str) -> pd.DataFrame:
        frame = cells.pivot(index="row", columns="column", values=field)
        return frame.reindex(index=rows, columns=list(paper.columns)).astype(float)

    cells["reason"] = cells["reason"].fillna("")
    reasons = {
        (r, c): why for r, c, why in cells[["row", "column", "reason"]].itertuples(False) if why
    }
    return Built(csv.stem, grid("reproduced"), reasons, grid("std"))


def _grid(n: int, width: float, height: float, **kw) -> tuple[Figure, list[Axes]]:
    """A figure of ``n`` panels, at most ``PANELS_PER_LINE`` per line; spare panels hidden."""
    cols = min(n, PANELS_PER_LINE)
    lines = math.ceil(n / cols)
    fig = Figure(figsize=(width * cols, height * lines), layout="constrained")
    axes = list(fig.subplots(lines, cols, squeeze=False, **kw).ravel())
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def draw_bars(
    ax: Axes,
    rows: list[str],
    series: list[tuple[np.ndarray, str]],
    fmt: str = "%.1f",
    errors: np.ndarray | None = None,
) -> list[int]:
    """Side-by-side bars per row, one (values, color) per series, each labelled with its value
    (so a 0 reads as 0); a NaN gets no bar but an "n/a" mark. ``errors`` (std over seeds) are
    drawn on the first series. Missing values per series."""
    x = np.arange(len(rows))
    missing = []
    for i, (values, color) in enumerate(series):
        at = x + (i - (len(series) - 1) / 2) * BAR
        present = ~np.isnan(values)
        yerr = None
        if i == 0 and errors is not None and not np.isnan(errors[present]).all():
            yerr = np.nan_to_num(errors[present])
        bars = ax.bar(at[present], values[present], BAR, color=color, yerr=yerr, capsize=2)
        ax.bar_label(bars, fmt=fmt, size=7, padding=1)
        for pos in at[~present]:
            ax.annotate("n/a", (pos, 0), (0, 2), textcoords="offset points", ha="center", size=8)
        missing.append(int((~present).sum()))
    ax.set_xticks(x, [row_label(r) for r in rows], rotation=30, ha="right")
    ax.set_ylim(bottom=0)  # every score and perplexity is >= 0; the axis stays put when all n/a
    return missing


def table_figure(built: Built, path: Path) -> Path:
    """Grouped bars, reproduced vs paper per row, one panel per compared column."""
    paper = PAPER_TABLES[built.name]
    rows = list(built.values.index)  # the paper's rows, then those beyond it (no paper bar)
    theirs = as_frame(built.name).reindex(rows)
    columns = figure_columns(built.name)
    fig, axes = _grid(len(columns), 0.8 * len(rows) + 1.5, 3.6)
    missing = np.zeros(2, dtype=int)
    for ax, column in zip(axes, columns, strict=True):
        ours = built.values.loc[rows, column].to_numpy(dtype=float)
        paper_values = theirs.loc[rows, column].to_numpy(dtype=float)
        series = [(ours, COLORS[0]), (paper_values, COLORS[1])]
        spread = (
            built.spread.loc[rows, column].to_numpy(dtype=float)
            if built.spread is not None
            else None
        )
        missing += draw_bars(ax, rows, series, f"%.{min(paper.decimals, 2)}f", spread)
        ax.set_title(COLUMN_LABELS.get(column, column))
    keys = [Patch(color=color, label=label) for label, color in zip(SERIES, COLORS, strict=True)]
    fig.legend(handles=keys, loc="outside upper right", fontsize=8)
    better = "higher" if paper.higher_is_better else "lower"
    fig.suptitle(f"{built.name}: {paper.paper_label} ({better} is better)\n{paper.metric}")
    beyond = len(rows) - len(paper.rows)
    missing[1] -= beyond * len(columns)  # rows beyond the paper have no paper value to miss
    notes = [f"{MARK} beyond the paper: no paper value"] if beyond else []
    if missing.any():
        notes.append(
            f"n/a: {missing[0]} reproduced and {missing[1]} paper values missing; "
            f"reasons in {built.name}.md"
        )
    if notes:
        fig.supxlabel("\n".join(notes), fontsize=8)
    return _save(fig, path)


def train_histories(layout: Layout) -> Curves:
    """Per ``train`` run (the newest per run name): its step-indexed losses from MLflow."""
    runs = search(
        layout,
        filter_string=f"tags.stage = 'train' and {FINISHED}",
        order_by=["attributes.start_time DESC"],
    )
    if runs.empty:
        return {}
    runs = runs.drop_duplicates("tags.mlflow.runName", keep="first")
    client = MlflowClient(layout.tracking_uri)
    return {
        name: {
            key: sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))
            for key in LOSSES
        }
        for run_id, name in zip(runs["run_id"], runs["tags.mlflow.runName"], strict=True)
    }


def training_curves(layout: Layout, path: Path) -> Path | None:
    """CLM vs distill loss per step, one panel per ``train:<variant>`` run; None if none ran."""
    curves = train_histories(layout)
    if not curves:
        return None
    fig, axes = _grid(len(curves), 4.2, 3.0, sharey=True)
    for ax, (name, losses) in zip(axes, sorted(curves.items()), strict=True):
        for key, (label, style) in LOSSES.items():
            if losses[key]:
                steps, values = zip(*losses[key], strict=True)
                ax.plot(steps, values, style, label=label)
        ax.set_title(name)
        ax.set_xlabel("step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=8)
    axes[0].set_ylabel("loss")
    fig.suptitle(f"{layout.cfg.name}: training losses per step (MLflow train runs)")
    return _save(fig, path)


def diagnostics_figure(cfg: SuiteConfig, csv: Path, path: Path) -> Path | None:
    """The fusion diagnostics as written in ``fusion_diagnostics.csv``: alignment shares per
    source (stacked: exact, MinED, fallback), MinCE's picks per domain (stacked per model) and
    each model's mean block CE per domain; None when the csv holds nothing to draw."""
    frame = pd.read_csv(csv, dtype={"row": str, "column": str})
    align = diagnostics_grid(cfg, frame, "alignment").drop(columns="aligned", errors="ignore")
    kind = next((k for k in CHOICE if (frame["section"] == k).any()), None)
    panels = [p for p in ("alignment", kind, "ce") if p and (frame["section"] == p).any()]
    if not panels:
        return None
    fig, axes = _grid(len(panels), 5.0, 3.6)
    for ax, panel in zip(axes, panels, strict=True):
        table = align if panel == "alignment" else diagnostics_grid(cfg, frame, panel)
        x = np.arange(len(table.index))
        if panel == "ce":
            width = 0.8 / max(len(table.columns), 1)
            for i, model in enumerate(table.columns):
                ax.bar(x + (i - (len(table.columns) - 1) / 2) * width, table[model], width)
            low, high = np.nanmin(table.to_numpy()), np.nanmax(table.to_numpy())
            pad = max(high - low, 1e-3) * 0.25
            ax.set_ylim(low - pad, high + pad)  # CEs differ by little: not from 0
        else:
            bottom = np.zeros(len(x))
            for model in table.columns:
                values = table[model].fillna(0).to_numpy(dtype=float)
                ax.bar(x, values, 0.7, bottom=bottom)
                bottom += values
            ax.set_ylim(0, 100)
        ax.legend(list(table.columns), fontsize=7, framealpha=0.7)
        ax.set_xticks(x, list(table.index), rotation=30, ha="right")
        ax.set_title(
            {"alignment": "alignment (% of target positions)", "ce": "mean block CE"}.get(
                panel, CHOICE.get(panel, panel)
            ),
            fontsize=9,
        )
    fig.suptitle(f"{cfg.name}: fusion diagnostics (fuse runs in MLflow)")
    return _save(fig, path)


def _save(fig: Figure, path: Path) -> Path:
    """PNG through the Agg canvas, written beside ``path`` and renamed: never half a file."""
    FigureCanvasAgg(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, format="png", dpi=100)
    tmp.rename(path)
    return path
