"""The world card as a table: read back from the ``card`` runs in MLflow, never recomputed.

The card is the tiny world's premise, measured (``evaluation.card``): every world model's
accuracy on each knowledge partition's probes and its bits per byte on the fusion corpus,
each with its n and a 95% bootstrap interval over items (one checkpoint per model: no seed
noise). Two views: the values (a mark where the interval's low end clears guessing), and
each model against the target on the same items (paired interval): the premise holds where
each source is above the target on its own partitions and not on the other's, the teacher
above it everywhere, and the sources near the target on the fusion corpus. Beside them, the
top-k regime the reference's approximation assumes (``represent/topk_mass`` and
``represent/topk_coverage``, where the represent stage has run).
``$(RUNS)/<name>/tables/world_card.{csv,md}``; ``report.md`` opens with it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from configs.layout import Layout
from configs.schema import SuiteConfig
from evaluation.card import FUSION_CORPUS, STAGE
from evaluation.outputs import write_text
from reports.intervals import ItemReader, Stratum
from reports.stats import Estimate, Items, difference, estimate
from reports.tables import FINISHED, search

NAME = "world_card"
ABOVE, BELOW, SAME = "▲", "▼", "·"
CORPUS = Stratum("perplexity", FUSION_CORPUS, "", "")


def card_runs(layout: Layout) -> pd.DataFrame:
    """The newest finished card run per model of the main experiment, by model name."""
    runs = search(
        layout,
        filter_string=f"tags.stage = '{STAGE}' and {FINISHED}",
        order_by=["attributes.start_time DESC"],
    )
    if runs.empty:
        return runs
    sub = runs.get("tags.sub", pd.Series("", index=runs.index)).fillna("")
    return runs[sub == ""].drop_duplicates("tags.model").set_index("tags.model")


def roles(cfg: SuiteConfig) -> dict[str, str]:
    """Model name -> its role in the world, in the card's row order."""
    m = cfg.models
    out = {m.target.name: "target"} | {s.name: "source" for s in m.sources}
    if m.teacher:
        out[m.teacher.name] = "KD teacher"
    if cfg.pythia:
        out[cfg.pythia.base.name] = "Pythia base"
        out |= {f"{cfg.pythia.base.name}_{d}": f"Pythia expert ({d})" for d in cfg.pythia.domains}
    return out


def partitions(runs: pd.DataFrame) -> list[str]:
    """Probe partitions, in the order the card runs logged them (the world's order)."""
    keys = [c for c in runs.columns if c.startswith(f"metrics.{STAGE}/") and c.endswith("/acc")]
    found = {k.split("/")[1] for k in keys}
    return [p for p in PARTITION_ORDER if p in found] + sorted(found - set(PARTITION_ORDER))


PARTITION_ORDER = (
    "facts_a",
    "facts_b",
    "arithmetic",
    "code",
    "logic",
    "commonsense",
    "translation",
    "reading",
    "phil",
    "nih",
    "uspto",
)


def _aligned(a: dict, b: dict) -> tuple[list[Items], list[Items]]:
    """Both models' scores on the items both have, in one order (a paired comparison)."""
    ids = sorted(set(a) & set(b))
    return [{"x": np.array([a[i] for i in ids], float)}], [
        {"x": np.array([b[i] for i in ids], float)}
    ]


def _cell(e: Estimate, digits: int) -> str:
    return f"{e.value:.{digits}f} [{e.low:.{digits}f}, {e.high:.{digits}f}]"


def _mark(d: Estimate, higher_is_better: bool = True) -> str:
    if d.low > 0:
        return ABOVE if higher_is_better else BELOW
    if d.high < 0:
        return BELOW if higher_is_better else ABOVE
    return SAME


def card_frames(
    cfg: SuiteConfig, runs: pd.DataFrame, reader: ItemReader
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(values, differences from the target, long csv) of every model with a card run."""
    models = [m for m in roles(cfg) if m in runs.index]
    parts = partitions(runs)
    target = cfg.models.target.name
    values, diffs, rows = {}, {}, []
    strata = [Stratum(STAGE, p, "correct", "") for p in parts] + [CORPUS]
    scores = {m: {s.task: reader.scores(runs.loc[m], s) for s in strata} for m in models}
    for m in models:
        vrow, drow = {"model": m, "role": roles(cfg)[m]}, {"model": m, "role": roles(cfg)[m]}
        for s in strata:
            got = scores[m][s.task]
            if not got:
                continue
            digits, higher = (3, False) if s is CORPUS else (1, True)
            arr = np.array(list(got.values()), dtype=float)
            e = estimate([{"x": arr}])
            chance = runs.loc[m].get(f"metrics.{STAGE}/{s.task}/chance", np.nan) * 100
            clear = s is not CORPUS and e.low > chance
            vrow[s.task] = _cell(e, digits) + (" *" if clear else "")
            rows.append(
                {
                    "model": m,
                    "column": s.task,
                    "value": e.value,
                    "low": e.low,
                    "high": e.high,
                    "n": e.items,
                    "chance": chance,
                    "versus": "",
                }
            )
            base = scores.get(target, {}).get(s.task)
            if m == target or not base:
                continue
            d = difference(*_aligned(got, base))
            drow[s.task] = f"{d.value:+.{digits}f} {_mark(d, higher)}"
            rows.append(
                {
                    "model": m,
                    "column": s.task,
                    "value": d.value,
                    "low": d.low,
                    "high": d.high,
                    "n": d.items,
                    "chance": np.nan,
                    "versus": target,
                }
            )
        values[m] = vrow
        if m != target:
            diffs[m] = drow
    return pd.DataFrame(values.values()), pd.DataFrame(diffs.values()), pd.DataFrame(rows)


def _header(runs: pd.DataFrame, column: str) -> str:
    if column == FUSION_CORPUS:
        return "fusion corpus (bits/byte)"
    first = runs.iloc[0]
    n = first.get(f"metrics.{STAGE}/{column}/n", np.nan)
    chance = first.get(f"metrics.{STAGE}/{column}/chance", np.nan) * 100
    return f"{column} (n={n:.0f}, chance {chance:.0f})"


def topk_regime(layout: Layout) -> pd.DataFrame:
    """Per represented model: mean top-k probability mass and top-k coverage of the true next
    token (the regime the reference's renormalized top-k assumes), from the represent runs."""
    runs = search(layout, filter_string=f"tags.stage = 'represent' and {FINISHED}")
    cols = ["metrics.represent/topk_mass", "metrics.represent/topk_coverage"]
    if runs.empty or not set(cols) <= set(runs.columns):
        return pd.DataFrame()
    sub = runs.get("tags.sub", pd.Series("", index=runs.index)).fillna("")
    runs = runs[sub == ""].drop_duplicates("tags.model")
    return pd.DataFrame(
        {
            "model": runs["tags.model"],
            "top-k mass": (runs[cols[0]] * 100).round(1),
            "top-k coverage of the true next token (%)": (runs[cols[1]] * 100).round(1),
        }
    ).sort_values("model")


def card_markdown(cfg: SuiteConfig, layout: Layout, reader: ItemReader) -> tuple[str, pd.DataFrame]:
    """The card's page (markdown) and its long csv; a line naming `make card` when no run
    exists."""
    runs = card_runs(layout)
    if runs.empty:
        return "_no world card yet: run `make card`_\n", pd.DataFrame()
    values, diffs, long = card_frames(cfg, runs, reader)
    names = {c: _header(runs, c) for c in values.columns if c not in ("model", "role")}
    lines = [
        "Accuracy (%) of every world model on the probes of each knowledge partition "
        "(loglikelihood multiple choice, held-out skill items or clozes of stated facts; "
        "95% bootstrap interval over items; `*`: the interval's low end is above guessing), "
        "and bits per byte on the fusion corpus (interval over its documents).",
        "",
        values.rename(columns=names).to_markdown(index=False, disable_numparse=True),
        "",
        f"Each model minus the target ({cfg.models.target.name}) on the same items (paired "
        f"interval): {ABOVE} better, {BELOW} worse, {SAME} not resolved at 95%. The premise of "
        "fusion holds where each source is better on its own partitions, the teacher better "
        "everywhere, and the sources near the target on the fusion corpus.",
        "",
        diffs.rename(columns=names).to_markdown(index=False, disable_numparse=True),
        "",
    ]
    regime = topk_regime(layout)
    if not regime.empty:
        lines += [
            "Top-k regime on the fusion corpus (represent stage): the reference keeps each "
            f"model's top-{cfg.fusion.topk} and renormalizes it; the mass it keeps and how "
            "often the true next token is in it:",
            "",
            regime.to_markdown(index=False),
            "",
        ]
    return "\n".join(lines), long


def write_card(cfg: SuiteConfig, layout: Layout, reader: ItemReader) -> list:
    """``tables/world_card.{md,csv}``, read by ``report.md``."""
    body, long = card_markdown(cfg, layout, reader)
    layout.tables.mkdir(parents=True, exist_ok=True)
    md, csv = layout.tables / f"{NAME}.md", layout.tables / f"{NAME}.csv"
    write_text(md, f"# World card\n\n{body}")
    write_text(csv, long.to_csv(index=False))
    return [md, csv]
