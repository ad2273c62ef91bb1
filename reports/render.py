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
from reports.beyond import BASELINES, EXTRA_ROWS, group_note, label
from reports.paper import PAPER_TABLES, as_frame
from reports.tables import Built

TRANSPOSED = {"table1", "table2", "table3", "table8"}
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


def formatted(built: Built, bold: tuple[str, str] = ("**", "**")) -> pd.DataFrame:
    """Display strings: value, gain over the target, best per column in ``bold``."""
    paper = PAPER_TABLES[built.name]
    v = built.values
    best = v.min() if not paper.higher_is_better else v.max()
    out = pd.DataFrame("", index=v.index, columns=v.columns)
    for row in v.index:
        for col in v.columns:
            x, sd = v.loc[row, col], built.std(row, col)
            text = _fmt(x, paper.decimals)
            if not math.isnan(sd):
                text += f" ± {sd:.{paper.decimals}f}"
            base = v.loc["llama2", col] if "llama2" in v.index else math.nan
            if row in GAIN_ROWS and not math.isnan(x) and not math.isnan(base) and base:
                text += f" ({(x - base) / abs(base) * 100:+.2f}%)"
            if not math.isnan(x) and x == best[col]:
                text = f"{bold[0]}{text}{bold[1]}"
            out.loc[row, col] = text + (" ‡" if (row, col) in built.unisolated else "")
    return out.rename(index=lambda r: label(r) + (" †" if r in built.departures else ""))


def claims(built: Built) -> pd.DataFrame:
    """Each ordering claim of the paper: does it hold in the paper and in this run?

    With several seeds a reproduced claim "holds" only when the means differ by more than the
    two standard deviations together; a smaller difference in the claimed direction is
    "within spread"."""
    paper = PAPER_TABLES[built.name]
    ours, theirs = built.values, as_frame(built.name)
    better = (lambda a, b: a > b) if paper.higher_is_better else (lambda a, b: a < b)
    rows = []
    for hi, lo in CLAIMS[built.name]:
        cols = [paper.average_column] if paper.average_column else list(paper.columns)
        for col in cols:
            rows.append(
                {
                    "claim": f"{label(hi)} {'>' if paper.higher_is_better else '<'} {label(lo)}",
                    "column": col,
                    "paper": _verdict(theirs, hi, lo, col, better),
                    "reproduced": _verdict(ours, hi, lo, col, better, built),
                }
            )
    return pd.DataFrame(rows)


def findings(built: Built) -> pd.DataFrame:
    """Each row beyond the paper against FuseLLM and the fused-into model, with intervals.

    No claim is judged (the paper makes none about these rows): the outcome says which is
    better, or "within spread" when the means differ by no more than the two standard
    deviations together, the rule ``claims`` uses."""
    paper, v = PAPER_TABLES[built.name], built.values
    cols = [paper.average_column] if paper.average_column else list(paper.columns)
    rows = [
        {
            "row": label(row),
            "compared with": label(other),
            "column": col,
            "row value": _interval(built, row, col, paper.decimals),
            "other value": _interval(built, other, col, paper.decimals),
            "outcome": _outcome(built, row, other, col, paper.higher_is_better),
        }
        for row in EXTRA_ROWS.get(built.name, ())
        if row in v.index
        for other in BASELINES[built.name]
        if other in v.index
        for col in cols
    ]
    return pd.DataFrame(rows)


def _interval(built: Built, row: str, col: str, decimals: int) -> str:
    """``mean ± std`` (just the mean with one seed), "—" when missing."""
    x, sd = built.values.loc[row, col], built.std(row, col)
    return _fmt(x, decimals) + ("" if math.isnan(sd) else f" ± {sd:.{decimals}f}")


def _outcome(built: Built, row: str, other: str, col: str, higher_is_better: bool) -> str:
    a, b = built.values.loc[row, col], built.values.loc[other, col]
    if math.isnan(a) or math.isnan(b):
        return "missing"
    noise = sum(s for s in (built.std(row, col), built.std(other, col)) if not math.isnan(s))
    if abs(a - b) <= noise:
        return "within spread"
    return "better" if (a > b) == higher_is_better else "worse"


def _verdict(
    frame: pd.DataFrame, hi: str, lo: str, col: str, better, built: Built | None = None
) -> str:
    if hi not in frame.index or lo not in frame.index:
        return "missing"
    a, b = frame.loc[hi, col], frame.loc[lo, col]
    if math.isnan(a) or math.isnan(b):
        return "missing"
    if not better(a, b):
        return "fails"
    noise = (
        sum(s for s in (built.std(hi, col), built.std(lo, col)) if not math.isnan(s))
        if built
        else 0
    )
    return "holds" if abs(a - b) > noise else "within spread"


def long_form(built: Built) -> pd.DataFrame:
    """One line per cell: reproduced and paper value, and why a reproduced cell is missing."""
    theirs = as_frame(built.name).reindex(built.values.index)  # rows beyond it: no value
    return pd.DataFrame(
        [
            {
                "row": r,
                "column": c,
                "reproduced": built.values.loc[r, c],
                "std": built.std(r, c),
                "paper": theirs.loc[r, c],
                "reason": built.reasons.get((r, c), ""),
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
    theirs = as_frame(built.name).rename(index=label)
    if built.name in TRANSPOSED:
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
        "Ordering claims:",
        "",
        claims(built).to_markdown(index=False),
        "",
    ]
    beyond = findings(built)
    if not beyond.empty:
        lines += [group_note(built.name), "", "Findings beyond the paper (no claim judged):", ""]
        lines += [beyond.to_markdown(index=False, disable_numparse=True), ""]
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
    if paper.note:
        lines += ["", f"Note: {paper.note}"]
    return "\n".join(lines) + "\n"


def write_table(built: Built, layout: Layout) -> list[Path]:
    """``<table>.csv``, ``.md`` and ``.tex`` under the config's tables directory."""
    out = layout.tables
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{built.name}.{ext}" for ext in ("csv", "md", "tex")]
    texts = [
        long_form(built).to_csv(index=False),
        markdown(built, layout.cfg.name),
        formatted(built, (r"\textbf{", "}")).to_latex(escape=False),
    ]
    for path, text in zip(paths, texts, strict=True):
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text)
        tmp.rename(path)
    return paths
