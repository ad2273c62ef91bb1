"""The world card page: every card model's row with n and intervals, paired differences that
agree with the values, and report.md opening with it."""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pandas as pd
import pytest

from configs import tracking
from configs.layout import Layout
from evaluation.card import items_artifact, run_card
from reports.card import (
    STATED,
    UNSTATED,
    card_runs,
    fusion_frame,
    fusion_markdown,
    roles,
    write_card,
)
from reports.intervals import ItemReader
from reports.summary import report


@pytest.fixture(scope="module")
def carded(micro_cfg, micro_world):
    run_card(micro_cfg, micro_world)
    return micro_world


def test_card_page_has_every_model_with_n_and_intervals(micro_cfg, carded) -> None:
    md, csv, _ = write_card(micro_cfg, carded, ItemReader(carded.tracking_uri))
    text = md.read_text()
    values, rest = text.split("Each model minus the target")
    diffs = rest.split("Trained variants")[0].split("Top-k regime")[0]  # later tables list it
    world = [m for m in card_runs(carded).index if m in roles(micro_cfg)]  # trained: own table
    assert world
    for model in world:
        assert f"| {model} " in values
    assert f"| {micro_cfg.models.target.name} " not in diffs  # no row against itself
    assert "(n=" in values and "chance" in values and "[" in values
    long = pd.read_csv(csv, keep_default_na=False)
    assert set(long["model"]) == set(world)
    assert (long["n"] > 0).all() and (long["low"] <= long["value"]).all()
    assert (long["value"] <= long["high"]).all()


def test_differences_are_the_difference_of_the_values(micro_cfg, carded) -> None:
    _, csv, _ = write_card(micro_cfg, carded, ItemReader(carded.tracking_uri))
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


def _log_card_run(layout, model: str, variant: str, seed: str, correct: list[int]) -> None:
    """A card run as ``evaluation.card`` logs one: tags, the acc metric, per-item artifact."""
    with tracking.stage_run(layout, "card", model):
        mlflow.set_tags({"variant": variant, "seed": seed})
        mlflow.log_metric("card/facts_a/acc", sum(correct) / len(correct))
        rows = [
            {"id": f"q{i}", "partition": "facts_a", "correct": c} for i, c in enumerate(correct)
        ]
        mlflow.log_text("".join(json.dumps(r) + "\n" for r in rows), items_artifact("facts_a"))


def test_fusion_verdicts_need_seeds_and_follow_the_paired_interval(micro_cfg, tmp_path) -> None:
    layout = Layout.of(micro_cfg, tmp_path / "runs")
    tracking.use_store(layout)
    rng = np.random.default_rng(0)
    truth = rng.random(300) < 0.5
    for seed in ("42", "43", "44"):
        flip = rng.random(300) < 0.05  # seeds differ a little
        clm = (truth ^ flip).astype(int).tolist()
        better = [1 if i % 3 == 0 else c for i, c in enumerate(clm)]  # right on a third more
        _log_card_run(layout, "clm" if seed == "42" else f"clm-seed{seed}", "clm", seed, clm)
        name = "fusellm" if seed == "42" else f"fusellm-seed{seed}"
        _log_card_run(layout, name, "fusellm", seed, better)
    frame = fusion_frame(micro_cfg, card_runs(layout), ItemReader(layout.tracking_uri))
    row = frame[(frame["variant"] == "fusellm") & (frame["column"] == "facts_a")].iloc[0]
    assert row["verdict"] == "holds" and row["seeds"] == 3 and row["n"] == 300
    assert float(row["difference [95% CI]"].split()[0]) > 5
    page = "\n".join(fusion_markdown(frame))
    assert "facts_a (n=300)" in page and "holds" in page
    one = card_runs(layout).query("`tags.seed` == '42' or `tags.seed` == ''")
    single = fusion_frame(micro_cfg, one, ItemReader(layout.tracking_uri))
    assert set(single.loc[single["variant"] == "fusellm", "verdict"]) == {"unresolved"}
    only_clm = card_runs(layout).query("`tags.variant` == 'clm'")
    alone = fusion_frame(micro_cfg, only_clm, ItemReader(layout.tracking_uri))
    assert "| clm " in "\n".join(fusion_markdown(alone))  # CLM alone: its accuracy, no diffs


def test_fusion_frame_splits_facts_by_what_the_corpus_states(micro_cfg, tmp_path) -> None:
    layout = Layout.of(micro_cfg, tmp_path / "runs")
    tracking.use_store(layout)
    rng = np.random.default_rng(1)
    truth = [int(t) for t in rng.random(400) < 0.5]
    stated = {f"q{i}" for i in range(200)}  # the first half is stated in the corpus
    _log_card_run(layout, micro_cfg.models.target.name, "", "", [0] * 400)
    for seed in ("42", "43", "44"):
        clm = [c ^ int(rng.random() < 0.05) for c in truth]
        better = [1 if i >= 200 and i % 2 == 0 else c for i, c in enumerate(clm)]
        suffix = "" if seed == "42" else f"-seed{seed}"
        _log_card_run(layout, f"clm{suffix}", "clm", seed, clm)
        _log_card_run(layout, f"fusellm{suffix}", "fusellm", seed, better)
    frame = fusion_frame(micro_cfg, card_runs(layout), ItemReader(layout.tracking_uri), stated)
    cell = frame.set_index(["variant", "column"])
    assert cell.loc[("fusellm", STATED), "verdict"] == "unresolved"
    assert cell.loc[("fusellm", UNSTATED), "verdict"] == "holds"
    assert cell.loc[("fusellm", STATED), "n"] == cell.loc[("fusellm", UNSTATED), "n"] == 200
    before = f"{micro_cfg.models.target.name} (before training)"
    assert cell.loc[(before, UNSTATED), "value"].startswith("0.0")  # its own scores, not CLM's
    page = "\n".join(fusion_markdown(frame))
    assert page.index(before) < page.index("| clm ") < page.index("| fusellm ")
