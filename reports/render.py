"""Write a reproduced table as csv, markdown and LaTeX, beside the paper and its claims.

Layout follows the paper: benchmark tables (1, 2, 3, 8) list tasks as rows and models as
columns; the others list models as rows. Reproduced cells show the gain over the target
before fusion ("(+x.xx%)") for the continually trained models, the best value of each task
in bold, and a missing cell as "—" with its reason listed under the table.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from configs.layout import Layout
from reports.beyond import BASELINES, group_note, label
from reports.floors import SUFFIX as FLOOR_SUFFIX
from reports.floors import floors
from reports.paper import BENCHMARK_TABLES, PAPER_TABLES, as_frame
from reports.sources import NOT_IN_PAPER
from reports.stats import difference
from reports.stats import verdict as stats_verdict
from reports.tables import Built

ITEMS_ROW, SEEDS_COLUMN = "n (items)", "seeds"
GAIN_ROWS = {"llama2_clm", "llama2_kd", "fusellm", "fusechat_varm", "fusechat_sce"}
# The paper's ordering claims, per table: (better row, worse row); judged on every column.
CLAIMS: dict[str, list[tuple[str, str]]] = {
    "table1": [("fusellm", "llama2_clm"), ("llama2_clm", "llama2")],
    "table2": [("fusellm", "llama2_clm"), ("llama2_clm", "llama2")],
    "table3": [("fusellm", "llama2_clm"), ("llama2_clm", "llama2")],
    "table8": [("fusellm", "llama2")],
    "kd": [("fusellm", "llama2_kd"), ("llama2_kd", "llama2")],
    "sources": [("fusellm", "llama2_openllama"), ("fusellm", "llama2_mpt")],
    "ablation": [("fusellm_mined", "fusellm_em"), ("fusellm_mince", "fusellm_avgce")],
    "ensemble_merging": [("fusellm", "ensemble"), ("fusellm", "weight_merging")],
}


def _fmt(value: float, decimals: int) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.{decimals}f}"


def _interval(built: Built, row: str, col: str, decimals: int) -> str:
    """`` [low, high]``: the cell's 95% interval; else the spread over seeds (`` ± sd``)."""
    est = built.stats.estimates.get((row, col)) if built.stats else None
    if est is not None:
        return f" [{est.low:.{decimals}f}, {est.high:.{decimals}f}]"
    sd = built.std(row, col)
    return "" if math.isnan(sd) else f" ± {sd:.{decimals}f}"


def _counts(built: Built) -> tuple[dict[str, str], dict[str, str]]:
    """Items behind each column's cells (n) and seeds behind each row."""
    if built.stats is None:
        return {}, {}
    n = {
        c: {e.items for (_, col), e in built.stats.estimates.items() if col == c}
        for c in built.values.columns
    }
    items = {c: "/".join(str(k) for k in sorted(v)) for c, v in n.items() if v}
    seeds = {r: str(count) for r, (count, _) in built.stats.seeds.items() if count}
    return items, seeds


def formatted(built: Built, bold: tuple[str, str] = ("**", "**")) -> pd.DataFrame:
    """Display strings: value with its 95% interval, gain over the target, best per column in
    ``bold``; a last row gives each column's items (n), a last column each row's seeds."""
    paper = PAPER_TABLES[built.name]
    v = built.values
    best = v.min() if not paper.higher_is_better else v.max()
    out = pd.DataFrame("", index=v.index, columns=v.columns)
    for row in v.index:
        for col in v.columns:
            x = v.loc[row, col]
            text = _fmt(x, paper.decimals)
            if not math.isnan(x):
                text += _interval(built, row, col, paper.decimals)
            base = v.loc["llama2", col] if "llama2" in v.index else math.nan
            if row in GAIN_ROWS and not math.isnan(x) and not math.isnan(base) and base:
                text += f" ({(x - base) / abs(base) * 100:+.2f}%)"
            if not math.isnan(x) and x == best[col]:
                text = f"{bold[0]}{text}{bold[1]}"
            out.loc[row, col] = text + (" ‡" if (row, col) in built.unisolated else "")
    items, seeds = _counts(built)
    if items:
        out.loc[ITEMS_ROW] = [items.get(c, "—") for c in out.columns]
        out[SEEDS_COLUMN] = [seeds.get(r, "") for r in out.index]
    return out.rename(index=lambda r: label(r) + (" †" if r in built.departures else ""))


def claims(built: Built) -> pd.DataFrame:
    """Each ordering claim of the paper, in the paper and in this run.

    The paper's numbers are single values: the claim "holds" or "fails" on them. Ours is
    judged from the paired 95% interval of the difference (`reports.stats`): *holds* when it
    excludes 0 in the paper's direction, *reversed* the other way, else *unresolved*; a
    trained row seen with one seed is always unresolved, and a cell without per-item scores
    says why it cannot be judged."""
    paper = PAPER_TABLES[built.name]
    theirs = as_frame(built.name)
    rows = []
    for hi, lo in CLAIMS[built.name]:
        cols = [paper.average_column] if paper.average_column else list(paper.columns)
        for col in cols:
            difference, verdict = judged(built, hi, lo, col, paper.higher_is_better)
            rows.append(
                {
                    "claim": f"{label(hi)} {'>' if paper.higher_is_better else '<'} {label(lo)}",
                    "column": col,
                    "paper difference": _paper_difference(theirs, hi, lo, col),
                    "paper": _paper_verdict(theirs, hi, lo, col, paper.higher_is_better),
                    "difference [95% CI]": difference,
                    "reproduced": verdict,
                }
            )
    return pd.DataFrame(rows)


def _paper_difference(frame: pd.DataFrame, hi: str, lo: str, col: str) -> str:
    if hi not in frame.index or lo not in frame.index:
        return "—"
    gap = frame.loc[hi, col] - frame.loc[lo, col]
    return "—" if math.isnan(gap) else f"{gap:+.2f}"


def findings(built: Built) -> pd.DataFrame:
    """Each row beyond the paper (FuseChat, corrected FuseLLM, further sources) against
    FuseLLM and the fused-into model, with intervals.

    No claim of the paper is judged (it makes none about these rows); the outcome is read
    from the paired 95% interval of the difference, as claims are: *better* or *worse* when
    it excludes 0, else *unresolved* (and always unresolved with one seed of a trained row)."""
    paper, v = PAPER_TABLES[built.name], built.values
    cols = [paper.average_column] if paper.average_column else list(paper.columns)
    rows = []
    for row in (r for r in v.index if r not in paper.rows):  # every row beyond the paper
        for other in BASELINES.get(built.name, ()):
            if row not in v.index or other not in v.index:
                continue
            for col in cols:
                gap, verdict = judged(built, row, other, col, paper.higher_is_better)
                outcome = {"holds": "better", "reversed": "worse"}.get(verdict, verdict)
                rows.append(
                    {
                        "row": label(row),
                        "compared with": label(other),
                        "column": col,
                        "row value": _value(built, row, col, paper.decimals),
                        "other value": _value(built, other, col, paper.decimals),
                        "difference [95% CI]": gap,
                        "outcome": outcome,
                    }
                )
    return pd.DataFrame(rows)


def _value(built: Built, row: str, col: str, decimals: int) -> str:
    """The cell's value with its interval (or spread), "—" when missing."""
    x = built.values.loc[row, col]
    return _fmt(x, decimals) + ("" if math.isnan(x) else _interval(built, row, col, decimals))


def _paper_verdict(frame: pd.DataFrame, hi: str, lo: str, col: str, higher: bool) -> str:
    if hi not in frame.index or lo not in frame.index:
        return "missing"
    a, b = frame.loc[hi, col], frame.loc[lo, col]
    if math.isnan(a) or math.isnan(b):
        return "missing"
    return "holds" if (a > b if higher else a < b) else "fails"


def judged(built: Built, hi: str, lo: str, col: str, higher: bool) -> tuple[str, str]:
    """(difference with its interval, verdict) of "hi better than lo" in this run."""
    v = built.values
    if hi not in v.index or lo not in v.index or v[[col]].loc[[hi, lo]].isna().any().any():
        return "—", "missing"
    cells, d = built.stats, PAPER_TABLES[built.name].decimals
    if cells is None or (hi, col) not in cells.scores or (lo, col) not in cells.scores:
        why = (cells.missing.get((hi, col)) or cells.missing.get((lo, col))) if cells else None
        return f"{v.loc[hi, col] - v.loc[lo, col]:+.{d}f}", f"unresolved ({why or 'no interval'})"
    diff = difference(cells.scores[(hi, col)], cells.scores[(lo, col)])
    known = cells.seeds_known(hi) and cells.seeds_known(lo)
    verdict = stats_verdict(diff, higher, known)
    if not known:
        verdict += " (one seed of a trained model)"
    return diff.text(d, signed=True), verdict


def long_form(built: Built) -> pd.DataFrame:
    """One line per cell: reproduced and paper value, and why a reproduced cell is missing."""
    theirs = as_frame(built.name).reindex(built.values.index)  # rows beyond it: no value
    paper_rows = set(PAPER_TABLES[built.name].rows)
    return pd.DataFrame(
        [
            {
                "row": r,
                "column": c,
                "reproduced": built.values.loc[r, c],
                "std": built.std(r, c),
                "paper": theirs.loc[r, c],
                "reason": built.reasons.get((r, c), ""),
                "paper_reason": "" if r in paper_rows else NOT_IN_PAPER,
            }
            for r in built.values.index
            for c in built.values.columns
        ]
    )


ITEMS = {"real": "real benchmark items", "tiny": "tiny-world items"}


def items_line(built: Built) -> str:
    """Whether the rows scored real benchmark items or the tiny world's (per row when mixed)."""
    kinds = set(built.items.values())
    if not kinds:
        return "unknown (no eval run is tagged with its items)"
    if len(kinds) == 1:
        kind = kinds.pop()
        return f"{ITEMS.get(kind, kind)} in every row"
    rows = (f"{label(r)}: {ITEMS.get(k, k)}" for r, k in built.items.items())
    return "mixed; " + "; ".join(rows)


def markdown(built: Built, config: str) -> str:
    """The table's page: reproduced, paper, claims and the reasons for missing cells."""
    paper = PAPER_TABLES[built.name]
    ours = formatted(built)
    beyond = [r for r in built.values.index if r not in paper.rows]
    theirs = as_frame(built.name).reindex(built.values.index).rename(index=label)
    if built.name in BENCHMARK_TABLES:
        ours, theirs = ours.T, theirs.T
    lines = [
        f"# {built.name}: {paper.paper_label} — {paper.metric}",
        "",
        f"Items: {items_line(built)}",
        "",
        f"Reproduced ({config}; {'higher' if paper.higher_is_better else 'lower'} is "
        "better; best in bold; gains relative to the target before fusion):",
        "",
        ours.to_markdown(disable_numparse=True),
        "",
        f"Paper ({paper.source}):",
        "",
        theirs.map(lambda x: _fmt(x, paper.decimals)).to_markdown(disable_numparse=True),
        "",
    ]
    if beyond:
        names = ", ".join(label(r) for r in beyond)
        lines += [f"Paper cells of {names}: — ({NOT_IN_PAPER}).", ""]
    lines += [
        "Ordering claims:",
        "",
        claims(built).to_markdown(index=False),
        "",
    ]
    extra = findings(built)
    if not extra.empty:
        note = group_note(built.name, built.values.index)
        lines += [note, "", "Findings beyond the paper (no claim judged):", ""]
        lines += [extra.to_markdown(index=False, disable_numparse=True), ""]
    if built.departures:
        lines += ["† Evaluated with settings unlike the paper's (not comparable):", ""]
        lines += [f"- {label(r)}: {text}" for r, text in built.departures.items()]
        lines += [""]
    if built.unisolated:
        lines += ["‡ Code run without the sandbox's full isolation (`make toolchains`):", ""]
        marked = built.unisolated.items()
        lines += [f"- {label(r)} / {c}: {why}" for (r, c), why in marked]
        lines += [""]
    if built.reasons:
        lines += ["Missing cells:", ""]
        lines += [f"- {label(r)} / {c}: {why}" for (r, c), why in built.reasons.items()]
    if built.unplaced:
        lines += ["", "Evaluated (eval runs in MLflow) but without a row in this table:", ""]
        lines += [f"- {model}: {why}" for model, why in built.unplaced.items()]
    if paper.note:
        lines += ["", f"Note: {paper.note}"]
    return "\n".join(lines) + "\n"


def write_table(built: Built, layout: Layout) -> list[Path]:
    """``<table>.csv``, ``.md``, ``.tex`` and ``.claims.csv`` (read by report.md's Findings)
    under the config's tables directory; a benchmark table's ``.floor.csv`` too."""
    out = layout.tables
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{built.name}.{ext}" for ext in ("csv", "md", "tex", "claims.csv")]
    texts = [
        long_form(built).to_csv(index=False),
        markdown(built, layout.cfg.name),
        formatted(built, (r"\textbf{", "}")).to_latex(escape=False),
        claims(built).assign(table=built.name).to_csv(index=False),
    ]
    if built.name in BENCHMARK_TABLES:
        paths.append(out / f"{built.name}.{FLOOR_SUFFIX}")
        texts.append(floors(built).to_csv(index=False))
    for path, text in zip(paths, texts, strict=True):
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text)
        tmp.rename(path)
    return paths
