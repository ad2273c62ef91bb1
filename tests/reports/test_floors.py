"""The guessing floor of a suite: what a uniform guess scores per item, and whether any row's
interval clears it (report.md's "Does each suite measure anything?")."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from configs.layout import Layout
from reports.floors import floor_section, floors
from reports.intervals import CellStats, Stratum, _guess
from reports.stats import Estimate
from reports.tables import Built

CTX = "Question: How many legs?\nAnswer:"


def _line(doc_id: int, arguments: list, **extra) -> str:
    return json.dumps({"doc_id": doc_id, "arguments": arguments, "acc": 1.0, **extra})


def test_a_guess_scores_one_over_the_choices_and_nothing_on_generated_text() -> None:
    choice = Stratum("commonsense", "tiny_arc_easy", "acc", "")
    lines = [
        _line(0, [[CTX, " 2"], [CTX, " 4"], [CTX, " 6"], [CTX, " 8"]]),
        _line(1, [[CTX, " yes"], [CTX, " no"]]),
    ]
    assert _guess(lines, choice) == {"0": 25.0, "1": 50.0}
    # a generation request carries its settings, a lone continuation has nothing to pick from
    generated = [_line(0, [[CTX, {"until": ["\n"]}]]), _line(1, [[CTX, " lake"]])]
    assert _guess(generated, Stratum("generation", "tiny_lambada", "acc", "")) == {
        "0": 0.0,
        "1": 0.0,
    }
    assert _guess([json.dumps({"doc_id": 0, "acc": 1.0})], choice) == {}  # not what was asked
    programs = [json.dumps({"problem": "p1", "status": "passed"})]
    assert _guess(programs, Stratum("multiple", "py", "pass", "")) == {"p1": 0.0}


def _built(guess: float | None) -> Built:
    estimates = {
        ("fusellm", "average"): Estimate(40.0, 35.0, 45.0, 200, 3),
        ("llama2", "average"): Estimate(28.0, 20.0, 36.0, 200, 1),
    }
    values = pd.DataFrame({"average": [40.0, 28.0]}, index=["fusellm", "llama2"])
    guesses = {} if guess is None else {"average": guess}
    stats = CellStats(estimates, {}, {}, {}, guesses)
    return Built("table2", values, {}, stats=stats)


@pytest.mark.parametrize(
    ("guess", "clear", "outcome"), [(30.0, "1 of 2", "measures"), (35.0, "0 of 2", "at its floor")]
)
def test_a_suite_measures_when_a_rows_interval_clears_the_guess(guess, clear, outcome) -> None:
    (row,) = floors(_built(guess)).to_dict("records")
    assert row["rows above guessing"] == clear and row["outcome"] == outcome
    assert row["best [95% CI]"] == "FuseLLM 40.00 [35.00, 45.00]" and row["n (items)"] == "200"
    assert floors(_built(None)).empty  # no samples to guess from: no claim either way


def test_the_report_section_reads_the_written_floors(micro_cfg, tmp_path) -> None:
    layout = Layout.of(micro_cfg, tmp_path)
    assert "_no benchmark table" in "\n".join(floor_section(layout))
    layout.tables.mkdir(parents=True)
    floors(_built(30.0)).to_csv(layout.tables / "table2.floor.csv", index=False)
    text = "\n".join(floor_section(layout))
    assert "| table2  | average  | 30.00" in text and "| measures  |" in text
