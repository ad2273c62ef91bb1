"""Does each suite measure anything? Its models against what a uniform guess scores.

A benchmark whose every model sits at its guessing floor cannot order methods, whatever the
claims' intervals say: at the tiny scale BBH, MultiPL-E and the generation suite may sit
there. Each column that averages a suite (and each benchmark of Table 8) gets the floor of
its own items (100 / choices for a multiple-choice item, 0 for a generated answer or
program, `reports.intervals.guessing`) and the rows whose 95% interval clears it; the report
states the outcome per suite instead of leaving it to the reader.
"""

from __future__ import annotations

import pandas as pd

from configs.layout import Layout
from reports.beyond import label
from reports.paper import BENCHMARK_TABLES, PAPER_TABLES
from reports.tables import Built

SUFFIX = "floor.csv"
COLUMNS = ["table", "column", "guessing", "best [95% CI]", "n (items)", "rows above guessing"]
COLUMNS += ["outcome"]


def floors(built: Built) -> pd.DataFrame:
    """Per judged column: the guessing floor, the best row with its interval, and how many
    rows' intervals clear the floor (*measures* when one does, else *at its floor*)."""
    paper, stats = PAPER_TABLES[built.name], built.stats
    columns = [paper.average_column] if paper.average_column else list(paper.columns)
    rows = []
    for col in columns if stats else []:
        guess = stats.guesses.get(col)
        cells = {row: est for (row, c), est in stats.estimates.items() if c == col}
        if guess is None or not cells:
            continue
        best = max(cells, key=lambda r: cells[r].value)
        clear = [r for r, est in cells.items() if est.low > guess]
        rows.append(
            {
                "table": built.name,
                "column": col,
                "guessing": f"{guess:.{paper.decimals}f}",
                "best [95% CI]": f"{label(best)} {cells[best].text(paper.decimals)}",
                "n (items)": str(cells[best].items),
                "rows above guessing": f"{len(clear)} of {len(cells)}",
                "outcome": "measures" if clear else "at its floor",
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def floor_section(layout: Layout) -> list[str]:
    """report.md's section: every rendered benchmark table's floors, one table."""
    frames = [
        pd.read_csv(p, dtype=str, keep_default_na=False)
        for name in BENCHMARK_TABLES
        if (p := layout.tables / f"{name}.{SUFFIX}").is_file()
    ]
    frames = [f for f in frames if not f.empty]
    lines = ["## Does each suite measure anything?", ""]
    if not frames:
        return [*lines, "_no benchmark table with per-item scores rendered yet_", ""]
    return [
        *lines,
        "What a uniform guess scores on each suite's items (100 / choices for a "
        "multiple-choice item, 0 for a generated answer or program), the best row with its 95% "
        "interval, and how many rows' intervals clear the guess: a suite *at its floor* cannot "
        "order the methods, whatever its claims read.",
        "",
        pd.concat(frames).to_markdown(index=False, disable_numparse=True),
        "",
    ]
