"""Tables come from MLflow: each cell equals the metric it came from; missing stays missing."""

from __future__ import annotations

import json
import math

import mlflow
import numpy as np
import pytest

from configs import tracking
from configs.layout import Layout
from evaluation.perplexity import docs_artifact
from reports.paper import PAPER_TABLES, as_frame
from reports.render import claims, findings, long_form, write_table
from reports.tables import build_all, column_metrics, row_models
from tests.eval_runs import log_commonsense_items


@pytest.fixture()
def store(micro_cfg, tmp_path) -> Layout:
    """A fresh MLflow store holding eval runs for target, CLM and FuseLLM (BBH + CS)."""
    layout = Layout.of(micro_cfg, tmp_path)
    rows = row_models(micro_cfg)
    keys = {**column_metrics(micro_cfg, "table1"), **column_metrics(micro_cfg, "table2")}
    for i, paper_row in enumerate(["llama2", "llama2_clm", "fusellm"]):
        with tracking.stage_run(layout, "eval", rows[paper_row]):
            mlflow.log_metrics({k: 0.1 * (i + 1) + 0.001 * j for j, k in enumerate(keys.values())})
    with tracking.stage_run(layout.child("pythia", micro_cfg), "eval", "fusellm"):
        mlflow.log_metric(tracking.metric_key("eval", "perplexity", "phil", "bits_per_byte"), 0.8)
    return layout


def test_cells_equal_their_mlflow_metrics(micro_cfg, store) -> None:
    tables = {t.name: t for t in build_all(micro_cfg, store)}
    t1 = tables["table1"]
    keys = column_metrics(micro_cfg, "table1")
    for j, (column, _) in enumerate(keys.items()):
        assert t1.values.loc["fusellm", column] == pytest.approx((0.3 + 0.001 * j) * 100)
        assert t1.values.loc["llama2", column] == pytest.approx((0.1 + 0.001 * j) * 100)
    expected_avg = sum((0.3 + 0.001 * j) * 100 for j in range(27)) / 27
    assert t1.values.loc["fusellm", "average"] == pytest.approx(expected_avg)
    # A model without eval run stays missing, with its reason — never 0.
    assert math.isnan(t1.values.loc["openllama", "average"])
    assert "no eval run of 'openllama'" in t1.reasons[("openllama", "boolean_expressions")]
    assert math.isnan(tables["table3"].values.loc["fusellm", "cpp"])
    em = tables["ensemble_merging"]
    assert em.values.loc["fusellm", "phil"] == pytest.approx(0.8)
    assert math.isnan(em.values.loc["fusellm", "nih"])


def test_claims_and_files(micro_cfg, store) -> None:
    t2 = next(t for t in build_all(micro_cfg, store, ["table2"]))
    table = claims(t2).set_index("claim")
    # metrics without per-item samples: a gap in the paper's direction, but no verdict
    assert table.loc["FuseLLM > Llama-2 CLM", "reproduced"].startswith("unresolved (no per-item")
    assert table.loc["Llama-2 CLM > Llama-2", "difference [95% CI]"].startswith("+")
    assert table.loc["FuseLLM > Llama-2 CLM", "paper"] == "holds"
    paths = write_table(t2, store)
    exts = ("csv", "md", "tex", "claims.csv", "floor.csv")
    assert [p.name for p in paths] == [f"table2.{e}" for e in exts]
    assert paths[-1].read_text().startswith("table,column,guessing,")  # no per-item samples
    md = paths[1].read_text()
    assert "(+" in md and "**" in md and "Missing cells" in md
    assert "Paper (" in md


@pytest.mark.parametrize("name", ["sources", "ablation"])
def test_sources_and_ablation_show_the_paper_beside_ours(micro_cfg, store, name) -> None:
    (built,) = build_all(micro_cfg, store, [name])
    paper = as_frame(name)
    cells = long_form(built).set_index(["row", "column"])["paper"]
    assert cells.dropna().to_dict() == paper.stack().to_dict()  # rows beyond it have none
    assert built.values["bbh"].notna().any()  # ours, from the BBH averages in the store
    md = write_table(built, store)[1].read_text()
    assert all(f"{v:.2f}" in md for v in paper.to_numpy().ravel())
    assert f"Paper ({PAPER_TABLES[name].source}):" in md


def test_columns_map_to_their_own_benchmark_by_name(micro_cfg) -> None:
    for column, key in column_metrics(micro_cfg, "table1").items():
        assert f"/tiny_bbh_{column}/" in key  # the paper's BBH order is not the harness's
    assert column_metrics(micro_cfg, "table2")["boolq"].endswith("tiny_boolq/acc_none")
    assert "tiny_iwslt2017/bleu" in column_metrics(micro_cfg, "table8")["iwslt2017"]


def test_seeds_give_mean_and_std_and_claims_weigh_the_spread(micro_cfg, tmp_path) -> None:
    """Seeded replicas of a variant (tags variant/seed, as train and eval write them) pool
    into one cell: mean ± sample std; a claim inside the spread is not called a hold."""
    layout = Layout.of(micro_cfg, tmp_path)
    rows = row_models(micro_cfg)
    keys = column_metrics(micro_cfg, "table2")
    per_seed = {  # table2 value of every column, per model and seed
        rows["llama2"]: {"": 0.20},
        rows["llama2_clm"]: {"42": 0.30, "43": 0.34},
        rows["fusellm"]: {"42": 0.31, "43": 0.37, "44": 0.40},
    }
    for variant, seeds in per_seed.items():
        for seed, value in seeds.items():
            name = variant if seed in ("", "42") else f"{variant}-seed{seed}"
            with tracking.stage_run(layout, "eval", name):
                mlflow.set_tags({"variant": variant, "seed": seed})
                mlflow.log_metrics(dict.fromkeys(keys.values(), value))
    (t2,) = build_all(micro_cfg, layout, ["table2"])
    fused = [31.0, 37.0, 40.0]
    mean = sum(fused) / 3
    std = math.sqrt(sum((x - mean) ** 2 for x in fused) / 2)
    assert t2.values.loc["fusellm", "average"] == pytest.approx(mean)
    assert t2.std("fusellm", "arc_easy") == pytest.approx(std)
    assert t2.values.loc["llama2_clm", "boolq"] == pytest.approx(32.0)
    assert math.isnan(t2.std("llama2", "boolq"))  # one measurement: no spread
    verdicts = claims(t2).set_index("claim")["reproduced"]
    # no per-item samples were logged: no interval, so no verdict from the raw gaps
    assert verdicts["FuseLLM > Llama-2 CLM"].startswith("unresolved (no per-item samples")
    assert verdicts["Llama-2 CLM > Llama-2"].startswith("unresolved (no per-item samples")
    md = write_table(t2, layout)[1].read_text()
    assert f"{mean:.2f} ± {std:.2f}" in md  # without items, the seeds' spread is shown


def test_cells_carry_item_intervals_and_claims_are_judged_on_paired_differences(
    micro_cfg, tmp_path
) -> None:
    layout = Layout.of(micro_cfg, tmp_path)
    rows, rng = row_models(micro_cfg), np.random.default_rng(0)
    columns = [c for c in PAPER_TABLES["table2"].columns if c != "average"]
    hard = {c: rng.random(60) for c in columns}  # item difficulty, shared by every model

    def answers(skill: float) -> dict:
        return {c: (hard[c] < skill).astype(float) for c in columns}

    log_commonsense_items(layout, rows["llama2"], rows["llama2"], "", answers(0.3))
    for seed, skill in (("42", 0.5), ("43", 0.52)):  # CLM clearly above the base
        log_commonsense_items(layout, f"clm-seed{seed}", "clm", seed, answers(skill))
    log_commonsense_items(layout, "fusellm", "fusellm", "42", answers(0.9))  # one seed only
    for seed in ("42", "43"):
        log_commonsense_items(
            layout, f"fusechat_varm-seed{seed}", "fusechat_varm", seed, answers(0.95)
        )
    (t2,) = build_all(micro_cfg, layout, ["table2"])
    est = t2.stats.estimates[("llama2_clm", "average")]
    assert est.value == pytest.approx(t2.values.loc["llama2_clm", "average"])
    assert est.low < est.value < est.high and (est.items, est.seeds) == (300, 2)
    verdicts = claims(t2).set_index("claim")["reproduced"]
    assert verdicts["Llama-2 CLM > Llama-2"] == "holds"
    assert verdicts["FuseLLM > Llama-2 CLM"] == "unresolved (one seed of a trained model)"
    md = write_table(t2, layout)[1].read_text()
    assert f"{est.value:.2f} [{est.low:.2f}, {est.high:.2f}]" in md
    assert "n (items)" in md and "seeds" in md
    beyond = findings(t2).set_index(["row", "compared with"])["outcome"]
    assert beyond[("FuseChat (VaRM) §", "Llama-2")] == "better"
    assert beyond[("FuseChat (VaRM) §", "FuseLLM")] == "unresolved (one seed of a trained model)"


def test_runs_that_depart_from_the_paper_settings_are_flagged(micro_cfg, tmp_path) -> None:
    layout = Layout.of(micro_cfg, tmp_path)
    rows = row_models(micro_cfg)
    keys = column_metrics(micro_cfg, "table2")
    for row, departs in (("llama2", "evaluation.limit 4 (paper: full test sets)"), ("fusellm", "")):
        with tracking.stage_run(layout, "eval", rows[row]):
            mlflow.set_tags({"parity": "departs" if departs else "paper"})
            mlflow.set_tags({"parity.departures": departs})
            mlflow.log_metrics(dict.fromkeys(keys.values(), 0.5))
    (t2,) = build_all(micro_cfg, layout, ["table2"])
    assert t2.departures == {"llama2": "evaluation.limit 4 (paper: full test sets)"}
    md = write_table(t2, layout)[1].read_text()
    assert "Llama-2 †" in md and "- Llama-2: evaluation.limit 4 (paper: full test sets)" in md
    assert "FuseLLM †" not in md


def test_table8_reads_opencompass_scores_unscaled(micro_cfg, tmp_path) -> None:
    """With backend opencompass the generation numbers are OpenCompass's (0-100, its metric
    names); lm-eval's fractions are scaled to %. Both land in the same Table 8 cells."""
    from reports.tables import opencompass_metric

    layout = Layout.of(micro_cfg, tmp_path)
    rows = row_models(micro_cfg)
    lm_keys = column_metrics(micro_cfg, "table8")
    with tracking.stage_run(layout, "eval", rows["llama2"]):
        mlflow.log_metrics(dict.fromkeys(lm_keys.values(), 0.25))
    with tracking.stage_run(layout, "eval", rows["fusellm"]):
        mlflow.set_tag("harness.generation", "opencompass")
        mlflow.log_metrics({opencompass_metric(micro_cfg, c): 40.0 for c in lm_keys})
    (t8,) = build_all(micro_cfg, layout, ["table8"])
    assert opencompass_metric(micro_cfg, "lambada") == "eval/generation/tiny_lambada/accuracy"
    fractions = [c for c in lm_keys if c != "iwslt2017"]  # lm-eval's BLEU is already 0-100
    assert (t8.values.loc["llama2", fractions] == 25.0).all()
    assert t8.values.loc["llama2", "iwslt2017"] == 0.25
    assert (t8.values.loc["fusellm", list(lm_keys)] == 40.0).all()


def test_fusechat_rows_sit_beyond_the_paper_with_intervals(micro_cfg, tmp_path) -> None:
    """FuseChat's rows follow the paper's, pool their seeds like any variant, have no paper
    value and no claim, and are compared with FuseLLM and the target in the findings."""
    layout = Layout.of(micro_cfg, tmp_path)
    keys = column_metrics(micro_cfg, "table2")
    per_seed = {
        "llama2": {"": 0.20},
        "fusellm": {"42": 0.30},
        "fusechat_varm": {"42": 0.40, "7": 0.44},
        "fusechat_sce": {"42": 0.31},
    }
    for variant, seeds in per_seed.items():
        for seed, value in seeds.items():
            with tracking.stage_run(
                layout, "eval", variant + (f"-seed{seed}" if seed == "7" else "")
            ):
                mlflow.set_tags({"variant": variant, "seed": seed})
                mlflow.log_metrics(dict.fromkeys(keys.values(), value))
    bpb = tracking.metric_key("eval", "perplexity", "phil", "bits_per_byte")
    with tracking.stage_run(layout.child("pythia", micro_cfg), "eval", "fusechat_sce"):
        mlflow.log_metric(bpb, 0.7)
    tables = {t.name: t for t in build_all(micro_cfg, layout)}
    beyond = ["fusellm_corrected", "fusechat_varm", "fusechat_sce"]
    for name in ("table1", "table2", "table3", "table8", "sources"):
        assert list(tables[name].values.index) == [*PAPER_TABLES[name].rows, *beyond], name
    merged = [*PAPER_TABLES["ensemble_merging"].rows, "fusechat_varm", "fusechat_sce"]
    assert list(tables["ensemble_merging"].values.index) == merged
    assert list(tables["kd"].values.index) == [*PAPER_TABLES["kd"].rows, "fusellm_corrected"]
    choices = ["fusellm_tail", "fusellm_nextfb", "fusellm_corrected"]
    assert list(tables["ablation"].values.index) == [*PAPER_TABLES["ablation"].rows, *choices]
    t2 = tables["table2"]
    assert t2.values.loc["fusechat_varm", "average"] == pytest.approx(42.0)
    assert t2.std("fusechat_varm", "boolq") == pytest.approx(math.sqrt(8))
    assert tables["sources"].values.loc["fusechat_varm", "cs"] == pytest.approx(42.0)
    assert tables["ensemble_merging"].values.loc["fusechat_sce", "phil"] == pytest.approx(0.7)
    cells = long_form(t2).set_index(["row", "column"])["paper"]
    assert cells.loc["fusechat_varm"].isna().all()  # never a paper value
    assert (
        cells.drop(index=["fusellm_corrected", "fusechat_varm", "fusechat_sce"]).to_dict()
        == as_frame("table2").stack().to_dict()
    )
    assert not claims(t2)["claim"].str.contains("FuseChat").any()
    found = findings(t2).set_index(["row", "compared with"])
    varm = found.loc[("FuseChat (VaRM) §", "FuseLLM")]
    assert varm["row value"] == f"42.00 ± {math.sqrt(8):.2f}"  # no items logged: the spread
    # no per-item samples, so no outcome is read from the raw gaps (31 vs 30 with one seed)
    assert varm["outcome"].startswith("unresolved (no per-item samples")
    assert found.loc[("FuseChat (SCE) §", "FuseLLM"), "outcome"].startswith("unresolved")
    assert found.loc[("FuseChat (SCE) §", "Llama-2"), "difference [95% CI]"] == "+11.00"
    md = write_table(t2, layout)[1].read_text()
    assert "FuseChat (VaRM) §" in md and "§ FuseChat (fuse-then-merge), beyond" in md
    assert "Findings beyond the paper" in md


def test_fusechat_rows_need_two_sources(micro_cfg, tmp_path) -> None:
    models = micro_cfg.models.model_copy(update={"sources": micro_cfg.models.sources[:1]})
    cfg = micro_cfg.model_copy(update={"models": models})
    layout = Layout.of(cfg, tmp_path)
    with tracking.stage_run(layout, "eval", "fusechat_varm"):  # a stray run makes no row
        mlflow.log_metrics(dict.fromkeys(column_metrics(cfg, "table1").values(), 0.5))
    assert "fusechat_varm" not in row_models(cfg)
    t1, em = build_all(cfg, layout, ["table1", "ensemble_merging"])
    assert list(t1.values.index) == [*PAPER_TABLES["table1"].rows, "fusellm_corrected"]
    assert "fusechat_varm" in em.values.index  # the Pythia experts are merged regardless
    page = write_table(t1, layout)[1].read_text()
    assert "FuseChat (VaRM)" not in page and "FuseLLM (corrected) §" in page


def _log_documents(
    layout: Layout, row: str, seed: str, docs: dict[str, np.ndarray], sub: str = "pythia"
) -> None:
    """A Pythia eval run as evaluation.pythia writes it: pooled bits per byte per domain and
    every document's (nll_sum, bytes)."""
    with tracking.stage_run(layout.child(sub, layout.cfg), "eval", row):
        mlflow.set_tags({"variant": row, "seed": seed})
        for domain, (nll, size) in docs.items():
            bpb = nll.sum() / (math.log(2) * size.sum())
            mlflow.log_metric(
                tracking.metric_key("eval", "perplexity", domain, "bits_per_byte"), bpb
            )
            lines = [
                {"doc": i, "nll_sum": float(a), "tokens": 1, "bytes": int(b)}
                for i, (a, b) in enumerate(zip(nll, size, strict=True))
            ]
            mlflow.log_text("".join(json.dumps(r) + "\n" for r in lines), docs_artifact(domain))


def test_pythia_cells_resample_documents_and_one_seed_is_no_verdict(micro_cfg, tmp_path) -> None:
    layout, rng = Layout.of(micro_cfg, tmp_path), np.random.default_rng(6)
    domains = [c for c in PAPER_TABLES["ensemble_merging"].columns if c != "average"]
    size = {d: rng.integers(100, 2000, 40).astype(float) for d in domains}
    hard = {d: rng.lognormal(0, 0.3, 40) for d in domains}  # per-document difficulty, shared

    def docs(rate: float) -> dict:
        return {d: (size[d] * hard[d] * rate * math.log(2), size[d]) for d in domains}

    _log_documents(layout, "pythia", "", docs(1.2))
    _log_documents(layout, "ensemble", "42", docs(0.9))
    _log_documents(layout, "fusellm", "42", docs(1.0))
    _log_documents(layout, "weight_merging", "42", docs(1.1))
    (em,) = build_all(micro_cfg, layout, ["ensemble_merging"])
    est = em.stats.estimates[("fusellm", "average")]
    assert est.value == pytest.approx(em.values.loc["fusellm", "average"])
    assert est.low < est.value < est.high and est.items == 40 * len(domains)
    phil = em.stats.estimates[("ensemble", "phil")]
    expected = (size["phil"] * hard["phil"] * 0.9).sum() / size["phil"].sum()
    assert phil.value == pytest.approx(expected)
    judged = claims(em).set_index("claim")
    assert set(judged["reproduced"]) == {"unresolved (one seed of a trained model)"}
    gap = judged.loc["FuseLLM < Ensemble", "difference [95% CI]"]  # +0.1 x the pooled rate
    assert gap.startswith(
        f"{em.values.loc['fusellm', 'average'] - em.values.loc['ensemble', 'average']:+.4f} [+"
    )


def test_pythia_seeds_logged_in_their_own_sub_experiment_pool_into_one_row(
    micro_cfg, tmp_path
) -> None:
    layout, rng = Layout.of(micro_cfg, tmp_path), np.random.default_rng(7)
    domains = [c for c in PAPER_TABLES["ensemble_merging"].columns if c != "average"]
    size = {d: rng.integers(100, 2000, 30).astype(float) for d in domains}

    def docs(rate: float) -> dict:
        return {d: (size[d] * rate * math.log(2), size[d]) for d in domains}

    for seed, shift in (("42", 0.0), ("43", 0.02)):
        sub = "pythia" if seed == "42" else f"pythia/seed{seed}"
        _log_documents(layout, "ensemble", seed, docs(0.9 + shift), sub)
        _log_documents(layout, "fusellm", seed, docs(0.7 + shift), sub)
        _log_documents(layout, "weight_merging", seed, docs(0.8 + shift), sub)
    (em,) = build_all(micro_cfg, layout, ["ensemble_merging"])
    assert em.stats.estimates[("fusellm", "phil")].seeds == 2
    assert em.values.loc["fusellm", "phil"] == pytest.approx(0.71)  # mean over the two seeds
    assert claims(em).set_index("claim").loc["FuseLLM < Ensemble", "reproduced"] == "holds"
