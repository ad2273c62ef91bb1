"""Tables for N sources: a source beyond the paper's two gets its own rows (columns of the
benchmark tables), and an evaluated model without a row is listed, never dropped."""

from __future__ import annotations

import math

import mlflow
import pytest

from configs import tracking
from configs.layout import Layout
from reports.figures import read_built, table_figure
from reports.paper import PAPER_TABLES
from reports.render import findings, long_form, write_table
from reports.sources import paper_row
from reports.tables import build_all, column_metrics, row_models

THIRD = "smollm2"


@pytest.fixture()
def three_sources(micro_cfg):
    """The micro config with a third source, as a user adds a real model."""
    spec = micro_cfg.models.sources[1].model_copy(update={"name": THIRD})
    models = micro_cfg.models.model_copy(update={"sources": [*micro_cfg.models.sources, spec]})
    return micro_cfg.model_copy(update={"models": models})


def _eval(layout: Layout, model: str, value: float) -> None:
    keys = {**column_metrics(layout.cfg, "table1"), **column_metrics(layout.cfg, "table2")}
    with tracking.stage_run(layout, "eval", model):
        mlflow.set_tags({"variant": model, "seed": ""})
        mlflow.log_metrics(dict.fromkeys(keys.values(), value))


def test_a_third_source_gets_its_rows(three_sources, tmp_path) -> None:
    cfg = three_sources
    rows = row_models(cfg)
    assert rows["openllama"] == "openllama" and rows["mpt"] == "mpt"  # the paper's two
    assert rows[f"source_{THIRD}"] == THIRD
    assert rows[f"llama2_plus_{THIRD}"] == f"fusellm_{THIRD}"
    layout = Layout.of(cfg, tmp_path)
    values = {"llama2": 0.2, THIRD: 0.35, f"fusellm_{THIRD}": 0.25, "fusellm": 0.3}
    for model, value in values.items():
        _eval(layout, model, value)
    tables = {t.name: t for t in build_all(cfg, layout)}
    for name in ("table1", "table2", "table3", "table8", "kd", "sources"):
        index = list(tables[name].values.index)
        assert index[index.index("mpt") + 1] == f"source_{THIRD}", name
    t2 = tables["table2"]
    assert t2.values.loc[f"source_{THIRD}", "average"] == pytest.approx(35.0)
    assert math.isnan(t2.values.loc["openllama", "average"])  # no run: missing, not 0
    sources = tables["sources"]
    index = list(sources.values.index)
    assert index[index.index("llama2_mpt") + 1] == f"llama2_plus_{THIRD}"
    assert sources.values.loc[f"llama2_plus_{THIRD}", "cs"] == pytest.approx(25.0)
    assert sources.values.loc[f"llama2_plus_{THIRD}", "bbh"] == pytest.approx(25.0)
    cells = long_form(sources).set_index(["row", "column"])
    assert cells.loc[f"llama2_plus_{THIRD}", "paper"].isna().all()
    assert (cells.loc[f"llama2_plus_{THIRD}", "paper_reason"] == "not in the paper").all()
    assert (cells.loc["llama2_mpt", "paper_reason"] == "").all()
    assert (
        cells.loc[("llama2_mpt", "cs"), "paper"]
        == PAPER_TABLES["sources"].values["llama2_mpt"]["cs"]
    )
    compared = findings(sources).set_index(["row", "compared with", "column"])
    gap = compared.loc[(f"Llama-2 + {THIRD} §", "FuseLLM", "cs"), "difference [95% CI]"]
    assert gap == "-5.00"
    md = write_table(t2, layout)[1].read_text()
    header = next(line for line in md.splitlines() if line.startswith("|") and "Llama-2" in line)
    assert f"{THIRD} §" in header  # a column of the benchmark table (models as columns)
    assert "not in the paper" in md
    page = write_table(sources, layout)[1].read_text()
    assert f"Llama-2 + {THIRD} §" in page and "Sources beyond the paper's two" in page
    png = table_figure(read_built(layout.tables / "sources.csv"), tmp_path / "sources.png")
    assert png.stat().st_size > 0
    assert list(read_built(layout.tables / "sources.csv").values.index) == index


def test_an_evaluated_model_without_a_row_is_listed_with_its_reason(
    three_sources, tmp_path
) -> None:
    layout = Layout.of(three_sources, tmp_path)
    for model in ("llama2", "mystery", "llama2_13b", f"fusellm_{THIRD}", "fusellm_em"):
        _eval(layout, model, 0.3)
    tables = {t.name: t for t in build_all(three_sources, layout)}
    t1 = tables["table1"]
    assert set(t1.unplaced) == {"mystery", "llama2_13b", f"fusellm_{THIRD}", "fusellm_em"}
    assert t1.unplaced["mystery"].startswith("not a model or trained variant")
    assert t1.unplaced["llama2_13b"].endswith("shown in kd")
    assert t1.unplaced[f"fusellm_{THIRD}"].endswith("shown in sources")
    assert t1.unplaced["fusellm_em"].endswith("shown in ablation")
    assert "llama2" not in t1.unplaced
    assert set(tables["sources"].unplaced) == {"mystery", "llama2_13b", "fusellm_em"}
    assert tables["ensemble_merging"].unplaced == {}  # the pythia sub-experiment has no runs
    md = write_table(t1, layout)[1].read_text()
    listed = md.split("without a row in this table:", 1)[1]
    assert "- mystery: not a model or trained variant of this config" in listed
    assert f"- fusellm_{THIRD}: the paper's table has no row for it; shown in sources" in listed


def test_one_source_is_its_own_single_source_row(micro_cfg, tmp_path) -> None:
    models = micro_cfg.models.model_copy(update={"sources": micro_cfg.models.sources[:1]})
    cfg = micro_cfg.model_copy(update={"models": models})
    rows = row_models(cfg)
    assert rows["llama2_openllama"] == "fusellm"  # the only subset trained: every source
    assert "llama2_mpt" not in rows and "mpt" not in rows


def test_a_source_stands_in_a_paper_row_only_as_that_model() -> None:
    """The paper's values sit beside a source only if it is the paper's model (or its tiny
    analogue): a real SmolLM2 as the only source gets rows of its own, not OpenLLaMA's."""
    assert paper_row("openllama") == "openllama"
    assert paper_row("openllama_7b") == "openllama" and paper_row("mpt_7b") == "mpt"
    assert paper_row("smollm2") is None and paper_row("mpt2") is None
    assert paper_row("mpt", taken=["mpt"]) is None


def test_a_real_source_is_not_shown_as_openllama(micro_cfg) -> None:
    spec = micro_cfg.models.sources[0].model_copy(update={"name": "smollm2"})
    models = micro_cfg.models.model_copy(update={"sources": [spec]})
    rows = row_models(micro_cfg.model_copy(update={"models": models}))
    assert "openllama" not in rows and rows["source_smollm2"] == "smollm2"
    assert rows["llama2_plus_smollm2"] == "fusellm"
