"""Paper parity: an eval run's settings against the paper config's pinned ones."""

from __future__ import annotations

from pathlib import Path

from configs.loader import load_config
from evaluation.parity import (
    departures,
    parity_tags,
    planned_departures,
    shots_of,
    used_settings,
)

ROOT = Path(__file__).resolve().parents[2]
PAPER = ROOT / "configs/paper/fusellm_7b.yaml"


def _used(cfg, **changes):
    used = used_settings(cfg, "bfloat16", {"lm_eval": "0.4.13"}, {"bbh": {3}, "commonsense": {0}})
    return used | changes


def test_the_paper_config_pins_settings_and_a_faithful_run_matches() -> None:
    cfg = load_config(PAPER)
    pinned = cfg.evaluation.paper_settings
    assert pinned is not None and pinned.lm_eval and pinned.full_test_sets
    tags = parity_tags(cfg, _used(cfg, dtype=pinned.dtype, batch_size=pinned.batch_size))
    assert tags["parity"] == "paper" and tags["parity.departures"] == ""
    assert tags["settings.shots"] == str({"bbh": [3], "commonsense": [0]})


def test_each_departure_is_named() -> None:
    cfg = load_config(PAPER, ["evaluation.limit=4"])
    pinned = cfg.evaluation.paper_settings
    used = _used(cfg, lm_eval="0.4.2", dtype="float32", shots={"bbh": [0], "commonsense": [0]})
    found = departures(pinned, used)
    assert "lm_eval 0.4.2 (pinned: 0.4.13)" in found
    assert f"dtype float32 (pinned: {pinned.dtype})" in found
    assert "evaluation.limit 4 (paper: full test sets)" in found
    assert "bbh shots 0 (paper: 3)" in found
    assert not any(d.startswith("commonsense") for d in found)
    assert parity_tags(cfg, used)["parity"] == "departs"


def test_tiny_configs_are_unpinned_and_shots_come_from_the_harness() -> None:
    cfg = load_config(ROOT / "configs/tiny.yaml")
    assert parity_tags(cfg, _used(cfg))["parity"] == "unpinned"
    results = {"configs": {"a": {"num_fewshot": 3}, "b": {"num_fewshot": 3}, "c": {}}}
    assert shots_of(results) == {3}


def test_a_suite_run_through_another_harness_than_the_papers_departs() -> None:
    cfg = load_config(PAPER)
    paper = {"bbh": "lm_eval", "commonsense": "lm_eval", "generation": "opencompass"}
    assert departures(cfg.evaluation.paper_settings, _used(cfg, harness=paper)) == []
    swapped = paper | {"generation": "lm_eval", "bbh": "opencompass"}
    found = departures(cfg.evaluation.paper_settings, _used(cfg, harness=swapped))
    assert sorted(found) == [
        "bbh harness opencompass (paper: lm_eval)",
        "generation harness lm_eval (paper: opencompass)",
    ]
    assert parity_tags(cfg, _used(cfg, harness=swapped))["parity"] == "departs"


def test_the_paper_config_plans_the_papers_harnesses_and_lm_eval_generation_is_flagged() -> None:
    assert planned_departures(load_config(PAPER)) == []
    lm_eval = load_config(PAPER, ["evaluation.backend=lm_eval"])
    assert planned_departures(lm_eval) == ["generation harness lm_eval (paper: opencompass)"]


def test_a_suite_cap_overrides_the_limit_and_counts_as_a_departure() -> None:
    cfg = load_config(PAPER, ["evaluation.limits={commonsense: null, bbh: 5}"])
    ev = cfg.evaluation
    assert (ev.limit_for("commonsense"), ev.limit_for("bbh"), ev.limit_for("multiple")) == (
        None,
        5,
        None,
    )
    found = departures(ev.paper_settings, _used(cfg))
    assert "evaluation.limits.bbh 5 (paper: full test sets)" in found
    assert not any("commonsense" in d for d in found)  # uncapped: its full set
