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

from collections.abc import Set

import numpy as np
import pandas as pd

from configs.domains import DOMAINS
from configs.layout import Layout
from configs.schema import SuiteConfig
from configs.variants import CLM
from evaluation.card import FUSION_CORPUS, STAGE
from evaluation.card.stated import stated_probes
from evaluation.outputs import write_text
from reports.intervals import ItemReader, Stratum
from reports.stats import Estimate, Items, difference, estimate, verdict
from reports.tables import stage_runs

NAME = "world_card"
ABOVE, BELOW, SAME = "▲", "▼", "·"
CORPUS = Stratum("perplexity", FUSION_CORPUS, "", "")


def card_runs(layout: Layout) -> pd.DataFrame:
    """The newest finished card run per model of the main experiment, by model name."""
    runs = stage_runs(layout, STAGE)
    return runs if runs.empty else runs.set_index("tags.model")


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
    return [p for p in DOMAINS if p in found] + sorted(found - set(DOMAINS))


def _aligned(a: dict, b: dict) -> tuple[list[Items], list[Items]]:
    """Both models' scores on the items both have, in one order (a paired comparison)."""
    ids = sorted(set(a) & set(b))
    return [{"x": np.array([a[i] for i in ids], float)}], [
        {"x": np.array([b[i] for i in ids], float)}
    ]


_MARKS = {"holds": ABOVE, "reversed": BELOW, "unresolved": SAME}


def _mark(d: Estimate, higher_is_better: bool) -> str:
    """▲ when the paired interval says better, ▼ worse, · neither (`reports.stats.verdict`)."""
    return _MARKS[verdict(d, higher_is_better)]


def _row(model: str, column: str, e: Estimate, chance: float, versus: str) -> dict:
    """One line of the long csv: a value or a difference, with its interval and n."""
    return {
        "model": model,
        "column": column,
        "value": e.value,
        "low": e.low,
        "high": e.high,
        "n": e.items,
        "chance": chance,
        "versus": versus,
    }


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
            vrow[s.task] = e.text(digits) + (" *" if clear else "")
            rows.append(_row(m, s.task, e, chance, ""))
            base = scores.get(target, {}).get(s.task)
            if m == target or not base:
                continue
            d = difference(*_aligned(got, base))
            drow[s.task] = f"{d.value:+.{digits}f} {_mark(d, higher)}"
            rows.append(_row(m, s.task, d, np.nan, target))
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


ALL = "all probes"
FACTS = ("facts_a", "facts_b")  # the partitions the sources hold and the target lacks
STATED, UNSTATED = "facts stated in the fusion corpus", "facts not stated"


def _variant_items(
    reader: ItemReader, runs: pd.DataFrame, parts: list[str]
) -> dict[str, list[dict[str, dict]]]:
    """Trained variant -> per seed run, partition -> {item id: score}."""
    seeds = runs.get("tags.seed", pd.Series("", index=runs.index)).fillna("")
    trained = runs.assign(**{"tags.seed": seeds})[seeds != ""]
    out: dict[str, list[dict[str, dict]]] = {}
    for _, run in trained.sort_values("tags.seed").iterrows():
        got = {p: reader.scores(run, Stratum(STAGE, p, "correct", "")) for p in parts}
        out.setdefault(run["tags.variant"], []).append({p: v for p, v in got.items() if v})
    return out


def _seed_items(seeds: list[dict[str, dict]], parts: list[str], ids: dict) -> list[Items]:
    return [{p: np.array([s[p][i] for i in ids[p]], float) for p in parts} for s in seeds]


def _columns(parts: list[str], ids: dict, stated: set[str]) -> list[tuple[str, dict]]:
    """(column, partition -> mask over its ids): each partition, all probes, and — where the
    card knows which facts the fusion corpus states — the facts partitions split by that."""
    every = {p: np.ones(len(ids[p]), bool) for p in parts}
    columns = [*((p, {p: every[p]}) for p in parts), (ALL, every)]
    facts = [p for p in FACTS if p in parts]
    if stated and facts:
        said = {p: np.array([i in stated for i in ids[p]]) for p in facts}
        columns += [(STATED, said), (UNSTATED, {p: ~m for p, m in said.items()})]
    return [(c, {p: m for p, m in masks.items() if m.any()}) for c, masks in columns]


def _before_training(cfg: SuiteConfig, runs: pd.DataFrame, reader: ItemReader, parts) -> dict:
    """The target's own probe scores (its card run as a world model), a one-seed reference."""
    target = cfg.models.target.name
    if target not in runs.index:
        return {}
    got = {p: reader.scores(runs.loc[target], Stratum(STAGE, p, "correct", "")) for p in parts}
    return {f"{target} (before training)": [{p: v for p, v in got.items() if v}]}


def fusion_frame(
    cfg: SuiteConfig, runs: pd.DataFrame, reader: ItemReader, stated: Set[str] = frozenset()
) -> pd.DataFrame:
    """Every trained variant on the probes, against the CLM baseline trained on the same
    blocks and steps: per partition (and over all, and over the facts the fusion corpus
    states or not: ``stated``), its accuracy with a 95% interval over items and seeds, the
    paired difference from CLM and the verdict of "better than CLM"
    (``reports.stats.verdict``: never one from a single seed). The target before training
    stands first, for what training taught at all. Empty without CLM runs."""
    parts = partitions(runs)
    by_variant = _variant_items(reader, runs, parts)
    if CLM not in by_variant:
        return pd.DataFrame()
    before = _before_training(cfg, runs, reader, parts)
    every = [s for seeds in [*by_variant.values(), *before.values()] for s in seeds]
    ids = {p: sorted(set.intersection(*(set(s.get(p, {})) for s in every))) for p in parts}
    parts = [p for p in parts if ids[p]]
    base = _seed_items(by_variant[CLM], parts, ids)
    rows = []
    for variant in [*before, CLM, *sorted(set(by_variant) - {CLM})]:
        items = _seed_items({**before, **by_variant}[variant], parts, ids)
        known = len(items) >= 2 and len(base) >= 2
        for column, masks in _columns(parts, ids, stated):
            mine = [{p: s[p][m] for p, m in masks.items()} for s in items]
            theirs = [{p: s[p][m] for p, m in masks.items()} for s in base]
            e = estimate(mine)
            row = {
                "variant": variant,
                "seeds": len(items),
                "column": column,
                "n": e.items,
                "value": e.text(1),
                "difference [95% CI]": "",
                "verdict": "",
            }
            if variant in by_variant and variant != CLM:
                d = difference(mine, theirs)
                row |= {
                    "difference [95% CI]": d.text(1, signed=True),
                    "verdict": verdict(d, True, known),
                }
            rows.append(row)
    return pd.DataFrame(rows)


def fusion_markdown(frame: pd.DataFrame) -> list[str]:
    """The trained variants' probe table, one row per variant and column per partition:
    CLM's accuracy, then each variant's difference from it with the verdict."""
    if frame.empty:
        return []
    cells = frame.assign(
        cell=lambda f: f["value"].where(
            f["difference [95% CI]"] == "", f["difference [95% CI]"] + " " + f["verdict"]
        )
    )
    rows = list(dict.fromkeys(frame["variant"]))
    wide = cells.pivot(index=["variant", "seeds"], columns="column", values="cell")
    wide = wide.reindex(rows, level="variant")
    order = [c for c in [*DOMAINS, ALL, STATED, UNSTATED] if c in wide.columns]
    n = frame.drop_duplicates("column").set_index("column")["n"]
    wide = wide[order].rename(columns={c: f"{c} (n={n[c]})" for c in order}).reset_index()
    return [
        "Trained variants on the same probes (beyond the paper): what fusion taught the target, "
        f"partition by partition. The `{CLM}` row is its accuracy (%, 95% interval over items "
        "and seeds), the target's row its accuracy before any training; every other row is "
        "its paired difference from CLM (same items, seeds "
        'resampled) and the verdict of "better than CLM": *holds* when the interval is above '
        "0, *reversed* below, else *unresolved* (always with one seed). The last two columns "
        "split the facts probes by whether a fusion-corpus document states the fact word for "
        "word (`evaluation.card.stated`): there CLM reads the fact itself, so the fused "
        "distributions can add to it only where it is not stated.",
        "",
        wide.to_markdown(index=False, disable_numparse=True),
        "",
    ]


def topk_regime(layout: Layout) -> pd.DataFrame:
    """Per represented model: mean top-k probability mass and top-k coverage of the true next
    token (the regime the reference's renormalized top-k assumes), from the represent runs."""
    runs = stage_runs(layout, "represent")
    cols = ["metrics.represent/topk_mass", "metrics.represent/topk_coverage"]
    if runs.empty or not set(cols) <= set(runs.columns):
        return pd.DataFrame()
    return pd.DataFrame(
        {
            "model": runs["tags.model"],
            "top-k mass (%)": (runs[cols[0]] * 100).round(1),
            "top-k coverage of the true next token (%)": (runs[cols[1]] * 100).round(1),
        }
    ).sort_values("model")


def card_markdown(
    cfg: SuiteConfig, layout: Layout, reader: ItemReader
) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    """The card's page (markdown), its long csv and the trained variants' frame; a line
    naming `make card` when no run exists."""
    runs = card_runs(layout)
    if runs.empty:
        return "_no world card yet: run `make card`_\n", pd.DataFrame(), pd.DataFrame()
    values, diffs, long = card_frames(cfg, runs, reader)
    fused = fusion_frame(cfg, runs, reader, stated_probes(cfg, layout))
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
    lines += fusion_markdown(fused)
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
    return "\n".join(lines), long, fused


def write_card(cfg: SuiteConfig, layout: Layout, reader: ItemReader) -> list:
    """``tables/world_card.{md,csv}``, read by ``report.md``."""
    body, long, frame = card_markdown(cfg, layout, reader)
    layout.tables.mkdir(parents=True, exist_ok=True)
    md, csv = layout.tables / f"{NAME}.md", layout.tables / f"{NAME}.csv"
    write_text(md, f"# World card\n\n{body}")
    write_text(csv, long.to_csv(index=False))
    fused = layout.tables / f"{NAME}.fusion.csv"
    write_text(fused, frame.to_csv(index=False))
    return [md, csv, fused]
