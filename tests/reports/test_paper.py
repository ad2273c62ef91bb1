"""The paper's numbers are transcribed faithfully: shapes, printed averages, printed gains."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from reports.paper import (
    BBH_TASKS,
    COLUMN_LABELS,
    CS_TASKS,
    GAIN_ERRATA,
    ME_LANGUAGES,
    PAPER_GAINS,
    PAPER_TABLES,
    ROW_LABELS,
    PaperTable,
    as_frame,
    recompute_average,
    relative_gain,
)

KEYS = {"table1", "table2", "table3", "table8", "kd", "ensemble_merging", "sources", "ablation"}
SHAPES = {  # rows x columns, average column included
    "table1": (5, 28),
    "table2": (5, 6),
    "table3": (5, 11),
    "table8": (5, 5),
    "kd": (7, 3),
    "ensemble_merging": (7, 4),
    "sources": (7, 3),
    "ablation": (4, 3),
}


def _tolerance(table: PaperTable) -> float:
    """One unit in the paper's last printed decimal: its rounding plus our mean of rounded cells."""
    return 10.0 ** (-table.decimals)


def test_keys() -> None:
    assert set(PAPER_TABLES) == KEYS
    for key, table in PAPER_TABLES.items():
        assert table.name == key


@pytest.mark.parametrize("name", sorted(KEYS))
def test_shape_and_layout(name: str) -> None:
    table = PAPER_TABLES[name]
    assert (len(table.rows), len(table.columns)) == SHAPES[name]
    assert set(table.values) == set(table.rows)
    for row in table.rows:
        assert tuple(table.values[row]) == table.columns
        assert row in ROW_LABELS
    assert all(c in COLUMN_LABELS for c in table.columns)
    assert table.average_column is None or table.average_column in table.columns
    frame = as_frame(name)
    assert frame.shape == SHAPES[name]
    assert list(frame.index) == list(table.rows)
    assert list(frame.columns) == list(table.columns)


@pytest.mark.parametrize("name", sorted(KEYS))
def test_every_table_has_its_source_and_every_number(name: str) -> None:
    table = PAPER_TABLES[name]
    cells = [v for row in table.values.values() for v in row.values()]
    assert table.source.startswith("https://")
    assert all(isinstance(v, float) for v in cells)
    assert not as_frame(name).isna().any().any()


def test_task_columns() -> None:
    assert len(BBH_TASKS) == 27 and len(set(BBH_TASKS)) == 27
    assert PAPER_TABLES["table1"].columns[:27] == BBH_TASKS
    assert PAPER_TABLES["table2"].columns[:5] == CS_TASKS
    assert PAPER_TABLES["table3"].columns[:10] == ME_LANGUAGES


AVERAGED = [
    (name, row)
    for name, table in sorted(PAPER_TABLES.items())
    if table.average_column is not None
    for row in table.rows
]


@pytest.mark.parametrize(("name", "row"), AVERAGED)
def test_printed_average_is_the_plain_mean(name: str, row: str) -> None:
    table = PAPER_TABLES[name]
    printed = table.values[row][table.average_column]
    recomputed = recompute_average(name, row)
    assert recomputed == pytest.approx(printed, abs=_tolerance(table))


ROWS_PYTHIA = [
    "pythia",
    "pythia_phil",
    "pythia_nih",
    "pythia_uspto",
    "ensemble",
    "weight_merging",
    "fusellm",
]


def test_pythia_table_values() -> None:
    expected = pd.DataFrame(
        [
            [0.9008, 0.6740, 0.6077, 0.7275],
            [0.8397, 0.6861, 0.6228, 0.7162],
            [0.9248, 0.6215, 0.6278, 0.7247],
            [0.9296, 0.6872, 0.6017, 0.7395],
            [0.8960, 0.6647, 0.6180, 0.7262],
            [0.8786, 0.6496, 0.6054, 0.7112],
            [0.8463, 0.6569, 0.6068, 0.7034],
        ],
        index=pd.Index(ROWS_PYTHIA, name="model"),
        columns=pd.Index(["phil", "nih", "uspto", "average"], name="column"),
    )
    pd.testing.assert_frame_equal(as_frame("ensemble_merging"), expected)
    table = PAPER_TABLES["ensemble_merging"]
    assert not table.higher_is_better
    # FuseLLM has the best (lowest) average of all methods.
    frame = as_frame("ensemble_merging")
    assert frame["average"].idxmin() == "fusellm"


SUMMARY = [  # (table, column) holding each benchmark's average
    ("table1", "average"),
    ("table2", "average"),
    ("table3", "average"),
    ("kd", "bbh"),
    ("kd", "cs"),
    ("kd", "me"),
    ("sources", "bbh"),
    ("sources", "cs"),
    ("sources", "me"),
]


@pytest.mark.parametrize(("name", "column"), SUMMARY)
def test_fusellm_beats_llama2(name: str, column: str) -> None:
    values = PAPER_TABLES[name].values
    assert values["fusellm"][column] > values["llama2"][column]


@pytest.mark.parametrize("name", ["kd", "sources"])
def test_summary_rows_repeat_main_averages(name: str) -> None:
    summary = PAPER_TABLES[name].values
    for column, table in (("bbh", "table1"), ("cs", "table2"), ("me", "table3")):
        main = PAPER_TABLES[table].values
        for row in ("openllama", "mpt", "llama2", "llama2_clm", "fusellm"):
            assert summary[row][column] == main[row]["average"]


def test_ablation_defaults_repeat_fusellm() -> None:
    """MinED and MinCE are FuseLLM's own choices: their rows are FuseLLM's averages."""
    ablation, kd = PAPER_TABLES["ablation"], PAPER_TABLES["kd"].values
    assert ablation.columns == ("bbh", "me", "cs")  # the paper's order
    for row in ("fusellm_mined", "fusellm_mince"):
        assert ablation.values[row] == kd["fusellm"]
    for worse, default in (("fusellm_em", "fusellm_mined"), ("fusellm_avgce", "fusellm_mince")):
        assert all(ablation.values[worse][c] < ablation.values[default][c] for c in kd["fusellm"])


def test_one_fused_source_lies_between_none_and_both() -> None:
    values = PAPER_TABLES["sources"].values
    for one in ("llama2_openllama", "llama2_mpt"):
        for column in ("bbh", "cs", "me"):
            assert values["llama2_clm"][column] < values[one][column]
            assert values[one][column] < values["fusellm"][column]


GAINS = [
    (name, row, column)
    for name, rows in sorted(PAPER_GAINS.items())
    for row, cols in sorted(rows.items())
    for column in cols
]


@pytest.mark.parametrize(("name", "row", "column"), GAINS)
def test_printed_gain_matches_printed_values(name: str, row: str, column: str) -> None:
    """Catches transcription slips: each printed gain must follow from the printed values."""
    table = PAPER_TABLES[name]
    value, base = table.values[row][column], table.values["llama2"][column]
    half = 0.5 * 10.0 ** (-table.decimals)
    # Range of gains the unrounded values could give, plus the gain's own rounding.
    values = (value - half, value + half)
    bounds = [(v - b) / b * 100 for v in values for b in (base - half, base + half)]
    printed = PAPER_GAINS[name][row][column]
    recomputed = relative_gain(name, row, column)
    assert recomputed is not None
    consistent = min(bounds) - 0.005 <= printed <= max(bounds) + 0.005
    if (name, row, column) in GAIN_ERRATA:
        assert not consistent, "listed as an erratum but consistent"
    else:
        assert consistent, f"printed {printed}%, values give {recomputed:.2f}%"


def test_relative_gain_handles_a_zero_baseline() -> None:
    assert relative_gain("table1", "llama2", "geometric_shapes", baseline="openllama") is None
    assert math.isclose(relative_gain("table1", "fusellm", "average"), (41.75 / 39.70 - 1) * 100)
