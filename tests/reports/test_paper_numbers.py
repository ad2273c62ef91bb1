"""reports/paper.py holds exactly the paper's numbers as tests/data/paper_numbers/ has them.

tests/data/paper_numbers/ is a byte copy of the shared reference ``../shared/paper_numbers/``
(the paper's eight tables as CSVs, see its README), kept in the project so that a clone
without the shared folder still checks every transcribed number.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from reports.paper import (
    BBH_TASKS,
    COLUMN_LABELS,
    ME_LANGUAGES,
    PAPER_TABLES,
    ROW_LABELS,
    PaperTable,
)

ROOT = Path(__file__).resolve().parents[2]
NUMBERS = ROOT / "tests/data/paper_numbers"
SHARED = ROOT.parent / "shared/paper_numbers"


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"no shared reference at {SHARED}")
def test_copy_is_byte_identical_to_the_shared_reference() -> None:
    ours, shared = _files(NUMBERS), _files(SHARED)
    assert sorted(ours) == sorted(shared)
    changed = [name for name in shared if ours[name] != shared[name]]
    assert not changed, f"differs from {SHARED}: {changed}"


CSV_TABLES = {  # file -> PAPER_TABLES key
    "table1_bbh.csv": "table1",
    "table2_commonsense.csv": "table2",
    "table3_multiple.csv": "table3",
    "table8_generation.csv": "table8",
    "kd.csv": "kd",
    "pythia_ensemble_merging.csv": "ensemble_merging",
    "sources.csv": "sources",
    "ablation.csv": "ablation",
}
ROWS = {label.casefold(): row for row, label in ROW_LABELS.items()}  # FUSELLM is FuseLLM
COLUMNS = {label.casefold(): column for column, label in COLUMN_LABELS.items()}
AVERAGE = re.compile(r"Avg\. \d+ Tasks")  # the paper's average row: "Avg. 27 Tasks"
SPELLING = {"TrivialQA": "TriviaQA"}  # the paper's typo


def row_id(table: str, label: str) -> str:
    """paper.py's row of a CSV model label (ablation.csv names only the choice: "EM")."""
    if table == "ablation":
        label = f"FuseLLM ({label})"
    assert label.casefold() in ROWS, f"{table}: no paper.py row for {label!r}"
    return ROWS[label.casefold()]


def column_id(table: str, label: str) -> str:
    """paper.py's column of a CSV column label ("Avg. 27 Tasks", "C++", "TrivialQA")."""
    if AVERAGE.fullmatch(label):
        return "average"
    label = SPELLING.get(label, label)
    assert label.casefold() in COLUMNS, f"{table}: no paper.py column for {label!r}"
    return COLUMNS[label.casefold()]


def read_csv(name: str) -> tuple[list[str], list[str], dict[tuple[str, str], str]]:
    """Rows, columns (paper.py ids, in the CSV's order) and every cell's text.

    Benchmark CSVs list tasks down and models across ("Task" header): transposed."""
    table = CSV_TABLES[name]
    with open(NUMBERS / name, newline="") as f:
        header, *lines = list(csv.reader(f))
    assert all(len(line) == len(header) for line in lines), f"{name}: ragged rows"
    transposed = header[0] == "Task"
    down_id, across_id = (column_id, row_id) if transposed else (row_id, column_id)
    down = [down_id(table, line[0]) for line in lines]
    across = [across_id(table, label) for label in header[1:]]
    grid = {
        (d, a): text
        for d, line in zip(down, lines, strict=True)
        for a, text in zip(across, line[1:], strict=True)
    }
    if transposed:
        return across, down, {(r, c): text for (c, r), text in grid.items()}
    return down, across, grid


def _printed(table: PaperTable, row: str, column: str) -> str:
    return f"{table.values[row][column]:.{table.decimals}f}"


def test_every_table_has_its_csv() -> None:
    assert sorted(p.name for p in NUMBERS.glob("*.csv")) == sorted(CSV_TABLES)
    assert sorted(CSV_TABLES.values()) == sorted(PAPER_TABLES)


@pytest.mark.parametrize("name", sorted(CSV_TABLES))
def test_every_number_equals_the_reference(name: str) -> None:
    """Same rows and columns in the same order, and each value printed as the CSV prints it:
    a cell on either side without its match, or any digit off, fails."""
    table = PAPER_TABLES[CSV_TABLES[name]]
    rows, columns, cells = read_csv(name)
    assert tuple(rows) == table.rows
    assert tuple(columns) == table.columns
    assert len(cells) == len(rows) * len(columns)
    wrong = {cell: (_printed(table, *cell), text) for cell, text in cells.items()}
    wrong = {cell: pair for cell, pair in wrong.items() if pair[0] != pair[1]}
    assert not wrong, f"paper.py vs {name} (row, column): (ours, reference) {wrong}"


@pytest.mark.parametrize(
    ("name", "tasks"), [("table1_bbh.csv", BBH_TASKS), ("table3_multiple.csv", ME_LANGUAGES)]
)
def test_derived_task_order_and_names_are_the_papers(name: str, tasks: tuple[str, ...]) -> None:
    """BBH_TASKS and ME_LANGUAGES reorder the suites' own keys; the paper's rows prove it."""
    with open(NUMBERS / name, newline="") as f:
        printed = [line[0] for line in csv.reader(f)][1:-1]  # no header, no average
    assert [COLUMN_LABELS[task] for task in tasks] == printed
