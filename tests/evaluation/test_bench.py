"""The eval benchmark at a few items: both settings score alike, a difference is caught, and
the environment record is taken once per process without changing what results.json holds."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from evaluation import lm_eval_runner
from evaluation.bench.card import bench_card, card_items
from evaluation.bench.inputs import BBH, build_checkpoint, write_tasks
from evaluation.bench.throughput import Samples, ScoreMismatch, bench_eval, compare, ours

KEYS = {
    "name",
    "items",
    "ours_items_per_s",
    "default_items_per_s",
    "ratio",
    "identical_scores",
    "max_loglik_diff",
}


def test_bench_rows_compare_identical_scores() -> None:
    rows = bench_eval(loglik_items=2, gen_items=2, repeats=1)
    assert [row["name"] for row in rows] == ["eval loglikelihood", "eval generation"]
    assert [row["items"] for row in rows] == [10, 2]  # five CommonSense tasks, one BBH task
    for row in rows:
        assert set(row) == KEYS
        assert row["identical_scores"] is True
        assert row["ours_items_per_s"] > 0 and row["default_items_per_s"] > 0
    assert float(rows[1]["max_loglik_diff"]) == 0.0  # generation: texts compared, not numbers


@pytest.fixture(scope="module")
def scored(tmp_path_factory) -> tuple[Samples, Path]:
    """Our samples of one multiple-choice and one generation task, and their output dir."""
    root = tmp_path_factory.mktemp("bench")
    model = str(build_checkpoint(root / "model"))
    write_tasks(root / "tasks", 2)
    out = root / "out"
    return ours(model, ["tiny_arc_easy", BBH], root / "tasks", out, 2), out


def test_compare_accepts_the_same_samples(scored) -> None:
    samples, _ = scored
    assert compare(samples, copy.deepcopy(samples)) == 0.0


@pytest.mark.parametrize(
    ("key", "field", "value", "message"),
    [
        (("tiny_arc_easy", 0), "acc", "flip", "acc"),
        ((BBH, 1), "resps", [["So the answer is (A)."]], "resps"),
        ((BBH, 0), "filtered_resps", ["(A)"], "filtered_resps"),
    ],
)
def test_compare_rejects_a_changed_sample(scored, key, field, value, message) -> None:
    samples, _ = scored
    changed = copy.deepcopy(samples)
    row = changed[key]
    row[field] = 1.0 - row[field] if value == "flip" else value
    with pytest.raises(ScoreMismatch, match=message):
        compare(samples, changed)


def test_compare_rejects_a_missing_item(scored) -> None:
    samples, _ = scored
    fewer = {k: v for k, v in samples.items() if k != (BBH, 1)}
    with pytest.raises(ScoreMismatch, match="different items"):
        compare(samples, fewer)


def test_the_environment_record_is_kept_once_per_process(scored) -> None:
    _, out = scored
    written = json.loads((out / "results.json").read_text())
    record = lm_eval_runner.environment()
    assert record["pretty_env_info"] and record["lm_eval_version"]
    assert {k: written[k] for k in record} == record  # results.json holds it unchanged
    assert lm_eval_runner.environment.cache_info().misses == 1


def test_card_bench_row_times_both_ways_on_the_same_sequences() -> None:
    row = bench_card(passages=2, clozes=3, repeats=1)
    assert row["name"] == "card scoring" and row["sequences"] == 4 * (2 + 3)
    assert row["shared_context_seq_per_s"] > 0 and row["whole_choices_seq_per_s"] > 0
    assert float(row["max_logprob_diff"]) <= 1e-4


def test_card_items_have_the_cards_shapes() -> None:
    items = card_items(passages=1, clozes=2, seed=3)
    assert items == card_items(passages=1, clozes=2, seed=3)
    seqs = [seq for item in items for seq in item]
    assert [len(item) for item in items] == [4, 4, 4]
    passage = [ids[: len(ids) - n] for ids, n in seqs[:4]]
    assert all(p == passage[0] for p in passage) and len(passage[0]) == 301  # BOS + 300
    assert all(1 <= n <= 8 for _, n in seqs[:4]) and all(1 <= n <= 4 for _, n in seqs[4:])
