"""One page per config, ``$(RUNS)/<name>/report.md``: what was reproduced and what produced it.

A reproduction is only checkable with its inputs: the page holds every table (the markdown
``reports.tables`` wrote) with its figure, the validated config, the version of every locked
package as actually installed (a drifted environment shows here, not in the numbers), the
wall time of every pipeline stage as ``make`` measured it (the stage stamps; an MLflow run's
duration is not the work's: most stages log their run once the work is done) and the MLflow
runs per stage. The time per stage is printed too, so ``make reproduce`` ends with it.
Written last by ``python -m reports`` (``make tables``).
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

import pandas as pd
import yaml

from configs.layout import Layout
from configs.schema import SuiteConfig
from configs.stages import times, total
from reports.card import NAME as CARD
from reports.diagnostics import NAME as DIAGNOSTICS
from reports.floors import floor_section
from reports.paper import PAPER_TABLES
from reports.tables import search
from reports.teacher import teacher_section

LOCK = Path(__file__).resolve().parents[1] / "requirements.lock"


def _duration(seconds: float) -> str:
    """``1h 02m 03s`` / ``4m 05s`` / ``6.7s``: readable at any scale."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def stage_times(layout: Layout) -> pd.DataFrame:
    """Wall time of every stamped pipeline stage, in pipeline order, and the pipeline's
    (``configs.stages.total``: stages that ran side by side count once)."""
    rows = times(layout)
    if not rows:
        return pd.DataFrame(columns=["stage", "wall"])
    rows.append(("total", total(layout)))
    return pd.DataFrame({"stage": [s for s, _ in rows], "wall": [_duration(t) for _, t in rows]})


def stage_runs(layout: Layout) -> pd.DataFrame:
    """MLflow runs and unfinished runs per stage (a run left open is a stage that died).

    Stages of a sub-experiment read ``<sub>/<stage>``; rows follow the order stages first ran.
    """
    runs = search(layout)
    if runs.empty:
        return pd.DataFrame(columns=["stage", "runs", "unfinished"])
    blank = pd.Series("", index=runs.index)
    sub = runs.get("tags.sub", blank).fillna("")
    stage = runs.get("tags.stage", blank).fillna("")
    frame = pd.DataFrame(
        {
            "stage": (sub + "/").where(sub != "", "") + stage,
            "start": runs["start_time"],
            "open": runs["end_time"].isna(),
        }
    )
    grouped = frame.groupby("stage").agg(
        first=("start", "min"), runs=("start", "size"), unfinished=("open", "sum")
    )
    grouped = grouped.sort_values("first").reset_index()
    grouped["unfinished"] = grouped["unfinished"].astype(int)
    return grouped[["stage", "runs", "unfinished"]]


def package_versions(lock: Path = LOCK) -> pd.DataFrame:
    """Every package pinned in ``lock``: the locked and the installed version."""
    rows = []
    for line in lock.read_text().splitlines():
        spec = line.split("#", 1)[0].split(";", 1)[0].strip()
        name, sep, locked = spec.partition("==")
        if not sep:
            continue
        try:
            installed = metadata.version(name.split("[", 1)[0].strip())
        except metadata.PackageNotFoundError:
            installed = "not installed"
        rows.append({"package": name.strip(), "locked": locked.strip(), "installed": installed})
    return pd.DataFrame(rows, columns=["package", "locked", "installed"])


def _tables_section(layout: Layout) -> list[str]:
    """Each table's markdown (headings one level down) and its figure, linked relatively."""
    lines = ["## Tables", ""]
    for name in PAPER_TABLES:
        md, png = layout.tables / f"{name}.md", layout.tables / f"{name}.png"
        if not md.is_file():
            lines += [f"### {name}", "", "_not rendered yet: run `make tables`_", ""]
            continue
        lines += [re.sub(r"^#", "###", md.read_text(), flags=re.M), ""]
        if png.is_file():
            lines += [f"![{name}]({png.relative_to(layout.root).as_posix()})", ""]
    return lines


def _embedded(md: Path) -> str:
    """A rendered page's body, its title dropped (the report's section heading replaces it)."""
    return re.sub(r"^# .*\n", "", md.read_text(), count=1).strip()


def _diagnostics_section(layout: Layout) -> list[str]:
    """The fusion diagnostics page (``reports.diagnostics``) and its figure."""
    md, png = (layout.tables / f"{DIAGNOSTICS}.{ext}" for ext in ("md", "png"))
    lines = ["## Fusion diagnostics", ""]
    if not md.is_file():
        return [*lines, "_not rendered yet: run `make tables`_", ""]
    lines += [_embedded(md), ""]
    if png.is_file():
        lines += [f"![{DIAGNOSTICS}]({png.relative_to(layout.root).as_posix()})", ""]
    return lines


def card_section(layout: Layout) -> list[str]:
    """The world card (``reports.card``): the premise of fusion in the tiny world, measured."""
    md = layout.tables / f"{CARD}.md"
    if not md.is_file():
        return []
    return ["## World card", "", _embedded(md), ""]


def findings(layout: Layout) -> list[str]:
    """Every ordering claim of the paper: its difference in the paper, ours with its 95%
    interval, and the verdict (holds / reversed / unresolved, `reports.stats`)."""
    frames = [
        pd.read_csv(p, dtype=str, keep_default_na=False)
        for name in PAPER_TABLES
        if (p := layout.tables / f"{name}.claims.csv").is_file()
    ]
    lines = ["## Findings", ""]
    if not frames:
        return [*lines, "_no tables rendered yet: run `make tables`_", ""]
    claims = pd.concat(frames)[
        ["table", "claim", "column", "paper difference", "difference [95% CI]", "reproduced"]
    ].rename(columns={"difference [95% CI]": "ours [95% CI]", "reproduced": "verdict"})
    lines += [
        "Each claim of the paper, judged on this run: *holds* when the 95% interval of the "
        "difference (paired bootstrap over items, with the seeds resampled) excludes 0 in the "
        "paper's direction, *reversed* when it excludes 0 the other way, else *unresolved*.",
        "",
        claims.to_markdown(index=False, disable_numparse=True),
        "",
    ]
    return lines


def report(cfg: SuiteConfig, layout: Layout, times: pd.DataFrame) -> str:
    """The page: findings, tables and figures, training curves, time per stage, config,
    environment."""
    curves = layout.tables / "training_curves.png"
    packages = package_versions()
    drifted = packages[packages["locked"] != packages["installed"]]
    runs = stage_runs(layout)
    lines = [f"# Reproduction report: {cfg.name}", "", *card_section(layout), *findings(layout)]
    lines += floor_section(layout)
    lines += teacher_section(layout)
    lines += [*_tables_section(layout), *_diagnostics_section(layout)]
    lines += ["## Training curves", ""]
    lines += [
        f"![training curves]({curves.relative_to(layout.root).as_posix()})"
        if curves.is_file()
        else "_no training curves yet: run `make train`, then `make tables`_",
        "",
        "## Time per stage (wall, as `make` measured it)",
        "",
        times.to_markdown(index=False) if not times.empty else "_no stage stamped yet_",
        "",
        "MLflow runs per stage (unfinished: a run a killed stage left open):",
        "",
        runs.to_markdown(index=False) if not runs.empty else "_none_",
        "",
        "## Config (validated)",
        "",
        "```yaml",
        yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False).rstrip(),
        "```",
        "",
        "## Environment",
        "",
        f"Python {sys.version.split()[0]}; {len(packages) - len(drifted)} of {len(packages)} "
        f"packages of requirements.lock installed at their locked version.",
        "",
    ]
    if not drifted.empty:
        lines += ["Not at the locked version:", "", drifted.to_markdown(index=False), ""]
    lines += ["<details><summary>All packages</summary>", "", packages.to_markdown(index=False)]
    return "\n".join([*lines, "", "</details>", ""])
