"""Does the KD teacher beat the target? The KD baseline only means something if it does.

The paper's KD row distils Llama-2 7B from Llama-2 13B, a stronger model; a tiny world's
"13B" can come out weaker than the target (issue #14 found one), and then "FuseLLM > KD"
says little. Judged per suite average of the KD table (BBH, CommonSense, MultiPL-E) from the
eval runs already in MLflow, with the same paired 95% interval as the paper's claims
(``reports.render.judged``): anything but *holds* is flagged in ``report.md``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from configs.layout import Layout
from evaluation.outputs import write_text
from reports.beyond import label
from reports.paper import COLUMN_LABELS, PAPER_TABLES
from reports.render import judged
from reports.tables import Built

TEACHER, TARGET = "llama2_13b", "llama2"  # the KD table's rows
FILE = "kd.teacher.csv"


def teacher_check(kd: Built) -> pd.DataFrame:
    """Per suite: teacher and target values, their paired difference and the verdict of
    "teacher > target"; ``flagged`` where it does not hold."""
    rows = []
    for column in PAPER_TABLES["kd"].columns:
        difference, verdict = judged(kd, TEACHER, TARGET, column, True)
        rows.append(
            {
                "suite": COLUMN_LABELS.get(column, column),
                label(TEACHER): _value(kd, TEACHER, column),
                label(TARGET): _value(kd, TARGET, column),
                "difference [95% CI]": difference,
                "verdict": verdict,
                "flagged": verdict != "holds",
            }
        )
    return pd.DataFrame(rows)


def _value(kd: Built, row: str, column: str) -> str:
    value = kd.values.loc[row, column] if row in kd.values.index else float("nan")
    return "—" if pd.isna(value) else f"{value:.2f}"


def write_teacher_check(kd: Built, layout: Layout) -> Path:
    """``tables/kd.teacher.csv``, read by ``report.md``."""
    path = layout.tables / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, teacher_check(kd).to_csv(index=False))
    return path


def teacher_section(layout: Layout) -> list[str]:
    """The report's lines: the check's table, and a flag naming every suite where the teacher
    does not beat the target."""
    path = layout.tables / FILE
    lines = ["## KD teacher vs target", ""]
    if not path.is_file():
        return [*lines, "_not checked yet: run `make tables`_", ""]
    check = pd.read_csv(path, dtype=str, keep_default_na=False)
    flagged = check[check["flagged"] == "True"]
    if flagged.empty:
        lines += ["The KD teacher beats the target on every suite (paired 95% interval).", ""]
    else:
        suites = ", ".join(
            f"{s} ({v})" for s, v in zip(flagged["suite"], flagged["verdict"], strict=True)
        )
        lines += [
            f"**Flag: the KD teacher does not beat the target on {suites}**: the KD baseline "
            "is distilled from a teacher that is not (shown to be) stronger, so claims "
            "against it say little.",
            "",
        ]
    return [*lines, check.drop(columns="flagged").to_markdown(index=False), ""]
