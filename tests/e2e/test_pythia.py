"""`make pythia` on the micro world: nine rows x three domains, experts best at home, MLflow."""

from __future__ import annotations

import json
import math

import mlflow
import pytest
import torch
from safetensors.torch import load_file

from configs import tracking
from configs.layout import Layout
from configs.variants import FUSECHAT_MERGES
from evaluation.perplexity import docs_artifact
from evaluation.pythia import run_pythia
from fusion.corpus import domain_texts
from fusion.merge.driver import merge_checkpoints
from reports.render import claims
from reports.tables import build_all
from training.pythia import SUB, seed_layout


def test_pythia_experiment_end_to_end(micro_cfg, micro_world, tmp_path) -> None:
    results = json.loads(run_pythia(micro_cfg, micro_world).read_text())
    domains = micro_cfg.pythia.domains
    rows = ["pythia", *(f"pythia_{d}" for d in domains), "ensemble", "weight_merging", "fusellm"]
    rows += ["fusechat_varm", "fusechat_sce"]  # beyond the paper: FuseChat's merges
    assert list(results) == rows
    text_bytes = {
        d: sum(len(t.encode()) for t in domain_texts(micro_cfg, micro_world, d, "test"))
        for d in domains
    }
    for row in rows:
        assert set(results[row]) == set(domains)
        for d, f in results[row].items():  # every row scored all of each domain's test text
            assert f["bytes"] == text_bytes[d], (row, d)
            assert f["bits_per_byte"] == pytest.approx(f["nll_sum"] / (math.log(2) * f["bytes"]))
            assert f["perplexity"] == pytest.approx(math.exp(f["nll_sum"] / f["tokens"]))
    for d in domains:  # each expert is the best of the three experts on its own domain
        own = results[f"pythia_{d}"][d]["bits_per_byte"]
        assert all(own < results[f"pythia_{o}"][d]["bits_per_byte"] for o in domains if o != d)
    root = micro_world.child(SUB, micro_cfg).root
    merged = load_file(str(root / "weight_merging" / "model.safetensors"))
    experts = [load_file(str(root / "experts" / d / "model.safetensors")) for d in domains]
    key = next(iter(merged))
    assert torch.allclose(merged[key], sum(e[key] for e in experts) / len(experts), atol=1e-6)
    base = micro_world.model(micro_cfg.pythia.base)
    paths = [str(root / "experts" / d) for d in domains]
    for name, (method, params) in FUSECHAT_MERGES.items():
        out = tmp_path / name
        merge_checkpoints(paths, str(out), method, dict(params), base=base)
        ours = load_file(str(root / f"fusechat_{name}" / "model.safetensors"))
        direct = load_file(str(out / "model.safetensors"))
        assert ours.keys() == direct.keys() and all(torch.equal(ours[k], direct[k]) for k in ours)
    tracking.use_store(micro_world)
    runs = mlflow.search_runs(
        experiment_names=[micro_cfg.name],
        filter_string="tags.sub = 'pythia' and tags.stage = 'eval'",
    )
    assert set(runs["tags.model"]) == set(rows)
    fused = runs[runs["tags.model"] == "fusellm"].iloc[0]
    assert (
        fused[f"metrics.eval/perplexity/{domains[0]}/bits_per_byte"]
        == results["fusellm"][domains[0]]["bits_per_byte"]
    )
    assert fused["tags.seed"] == str(micro_cfg.training.seed)  # trained: its seed counts
    assert runs[runs["tags.model"] == "pythia"].iloc[0]["tags.seed"] == ""  # the base is not
    for d in domains:  # every document's figures, logged for the table's intervals
        lines = mlflow.artifacts.load_text(f"{fused['artifact_uri']}/{docs_artifact(d)}")
        docs = [json.loads(line) for line in lines.splitlines()]
        assert sum(r["nll_sum"] for r in docs) == pytest.approx(results["fusellm"][d]["nll_sum"])
        assert sum(r["bytes"] for r in docs) == text_bytes[d]


def test_merged_checkpoint_runs_lm_eval(micro_cfg, micro_world) -> None:
    """The weight-merged model is a normal checkpoint: lm-eval scores it like any other."""
    from evaluation.evaluate import evaluate

    run_pythia(micro_cfg, micro_world)
    merged = micro_world.child(SUB, micro_cfg).root / "weight_merging"
    out = evaluate(micro_cfg, micro_world, str(merged), ["commonsense"], ["tiny_boolq"])
    acc = out["commonsense"]["results"]["tiny_boolq"]["acc,none"]
    samples_file = micro_world.evaluation("weight_merging") / "commonsense/samples_tiny_boolq.jsonl"
    samples = [json.loads(line) for line in samples_file.read_text().splitlines()]
    assert len(samples) == micro_cfg.evaluation.limit  # every item scored, from this model
    assert acc == pytest.approx(sum(s["acc"] for s in samples) / len(samples))


@pytest.mark.slow
def test_every_seed_repeats_the_trained_rows_and_the_table_pools_them(
    micro_cfg, micro_world, tmp_path
) -> None:
    """Two seeds: the second seed's experts differ, the base is scored once, and every
    trained row of the table rests on both seeds."""
    seed = micro_cfg.training.seed
    cfg = micro_cfg.model_copy(
        update={"reporting": micro_cfg.reporting.model_copy(update={"seeds": [seed, seed + 1]})}
    )
    layout = Layout.of(cfg, tmp_path)
    layout.world.parent.mkdir(parents=True)
    layout.world.symlink_to(micro_world.world)
    first = json.loads(run_pythia(cfg, layout).read_text())
    other = seed_layout(cfg, layout, seed + 1)[1].root
    second = json.loads((other / "results.json").read_text())
    assert "pythia" in first and "pythia" not in second and set(first) - set(second) == {"pythia"}
    a = load_file(str(layout.child(SUB, cfg).root / "experts" / "nih" / "model.safetensors"))
    b = load_file(str(other / "experts" / "nih" / "model.safetensors"))
    assert any(not torch.equal(a[k], b[k]) for k in a)
    (table,) = build_all(cfg, layout, ["ensemble_merging"])
    assert table.stats.estimates[("fusellm", "average")].seeds == 2
    assert table.stats.estimates[("pythia", "average")].seeds == 1
    assert not any("one seed" in v for v in claims(table)["reproduced"])
