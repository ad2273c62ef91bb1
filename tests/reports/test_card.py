"""The world card page: every card model's row with n and intervals, paired differences that
agree with the values, and report.md opening with it."""

from __future__ import annotations

import pandas as pd
import pytest

from evaluation.card import run_card
from reports.card import card_runs, write_card
from reports.intervals import ItemReader
from reports.summary import report


@pytest.fixture(scope="module")
def carded(micro_cfg, micro_world):
    run_card(micro_cfg, micro_world)
    return micro_world


def test_card_page_has_every_model_with_n_and_intervals(micro_cfg, carded) -> None:
    md, csv = write_card(micro_cfg, carded, ItemReader(carded.tracking_uri))
    text = md.read_text()
    values, diffs = text.split("Each model minus the target")
    for model in card_runs(carded).index:
        assert f"| {model} " in values
    assert f"| {micro_cfg.models.target.name} " not in diffs  # no row against itself
    assert "(n=" in values and "chance" in values and "[" in values
    long = pd.read_csv(csv, keep_default_na=False)
    assert set(long["model"]) == set(card_runs(carded).index)
    assert (long["n"] > 0).all() and (long["low"] <= long["value"]).all()
    assert (long["value"] <= long["high"]).all()


def test_differences_are_the_difference_of_the_values(micro_cfg, carded) -> None:
    _, csv = write_card(micro_cfg, carded, ItemReader(carded.tracking_uri))
    long = pd.read_csv(csv, keep_default_na=False)
    target = micro_cfg.models.target.name
    own = long[long["versus"] == ""].set_index(["model", "column"])["value"]
    for _, row in long[long["versus"] == target].iterrows():
        want = own[(row["model"], row["column"])] - own[(target, row["column"])]
        assert row["value"] == pytest.approx(want, abs=1e-9)


def test_report_opens_with_the_world_card_then_findings(micro_cfg, carded) -> None:
    write_card(micro_cfg, carded, ItemReader(carded.tracking_uri))
    page = report(micro_cfg, carded, pd.DataFrame())
    assert page.index("## World card") < page.index("## Findings")
    assert "_no world card" not in page
