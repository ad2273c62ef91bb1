"""Config loading: every shipped YAML validates; bad configs fail with one clean line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from configs.layout import Layout
from configs.loader import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p for p in (ROOT / "configs").rglob("*.yaml") if "accelerate" not in p.parts)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_configs_validate(path: Path, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    cfg = load_config(path)
    assert cfg.name == path.stem


def test_paper_config_is_the_paper(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    cfg = load_config(ROOT / "configs/paper/fusellm_7b.yaml")
    assert cfg.models.target.hub_id == "meta-llama/Llama-2-7b-hf"
    assert [s.hub_id for s in cfg.models.sources] == [
        "openlm-research/open_llama_7b_v2",
        "mosaicml/mpt-7b",
    ]
    assert cfg.models.teacher.hub_id == "meta-llama/Llama-2-13b-hf"
    assert (cfg.fusion.block_size, cfg.fusion.topk, cfg.fusion.vocab, cfg.fusion.method) == (
        2048,
        10,
        "mined",
        "min_ce",
    )
    t = cfg.training
    assert (t.clm_weight, t.lr, t.global_batch_size, t.epochs) == (0.9, 1e-5, 128, 1)
    assert (t.adam_beta1, t.adam_beta2, t.weight_decay, t.warmup_ratio) == (0.9, 0.95, 0.1, 0.008)
    assert (t.scheduler, t.max_grad_norm, t.seed, t.bf16, t.gradient_checkpointing) == (
        "cosine",
        1.0,
        42,
        True,
        True,
    )
    assert t.deepspeed == "configs/deepspeed/zero2.json"


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    return p


def _tiny() -> dict:
    return yaml.safe_load((ROOT / "configs/micro.yaml").read_text())


def _mutated(tmp_path: Path, edit) -> Path:
    raw = _tiny()
    edit(raw)
    return _write(tmp_path, yaml.safe_dump(raw, allow_unicode=True))


BAD = {
    "unknown top-level key": (lambda r: r.update(fusoin={}), "did you mean 'fusion'"),
    "unknown nested key": (lambda r: r["fusion"].update(topkk=3), "did you mean 'topk'"),
    "unknown key in a list item": (
        lambda r: r["models"]["sources"][0].update(nmae="x"),
        "did you mean 'name'",
    ),
    "wrong type": (lambda r: r["fusion"].update(topk="ten"), "fusion.topk"),
    "out of range": (lambda r: r["training"].update(clm_weight=1.5), "training.clm_weight"),
    "bad choice": (lambda r: r["fusion"].update(method="max_ce"), "fusion.method"),
    "missing key": (lambda r: r.pop("fusion"), "missing key 'fusion'"),
    "missing deepspeed file": (
        lambda r: r["training"].update(deepspeed="nope/zero9.json"),
        "does not exist",
    ),
    "missing local model path": (
        lambda r: r["models"].update(teacher={"name": "t", "hub_id": "./no/such/dir"}),
        "does not exist",
    ),
    "unknown tokenizer reference": (
        lambda r: r["models"]["target"]["build"].update(tokenizer="nope"),
        "world.tokenizers",
    ),
    "block larger than context": (lambda r: r["fusion"].update(block_size=100000), "exceeds model"),
    "unknown domain in a mix": (
        lambda r: r["corpus"].update(mix={"generl": 1.0}),
        "unknown domains ['generl']",
    ),
    "tail target with a temperature": (
        lambda r: r["fusion"].update(target="tail", temperature=2.0),
        "fusion.target=tail needs fusion.temperature=1.0",
    ),
    "unknown fallback": (lambda r: r["fusion"].update(fallback="current"), "fallback"),
    "duplicate model names": (
        lambda r: r["models"]["sources"][0].update(name=r["models"]["target"]["name"]),
        "unique",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_values_rejected_with_one_line(case: str, tmp_path: Path) -> None:
    edit, expected = BAD[case]
    with pytest.raises(ConfigError) as err:
        load_config(_mutated(tmp_path, edit))
    message = str(err.value)
    assert expected in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "text,expected",
    [
        ("", "empty"),
        ("name: [unclosed\n", "invalid YAML"),
        ("- a\n- b\n", "expected a mapping"),
    ],
)
def test_bad_files_rejected(text: str, expected: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_config(_write(tmp_path, text))


def test_missing_file_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "none.yaml")


def test_overrides_are_typed_by_the_schema() -> None:
    cfg = load_config(ROOT / "configs/micro.yaml", ["fusion.topk=3", "fusion.vocab=exact"])
    assert cfg.fusion.topk == 3 and cfg.fusion.vocab == "exact"
    with pytest.raises(ConfigError, match="fusion.topk"):
        load_config(ROOT / "configs/micro.yaml", ["fusion.topk=many"])
    with pytest.raises(ConfigError, match="form section.key=value"):
        load_config(ROOT / "configs/micro.yaml", ["fusion.topk"])


def test_layout_derives_every_path_from_name_and_runs(tmp_path: Path) -> None:
    cfg = load_config(ROOT / "configs/micro.yaml")
    layout = Layout.of(cfg, tmp_path)
    assert layout.root == tmp_path / cfg.name
    assert layout.representation("x").is_relative_to(layout.root)
    assert layout.model(cfg.models.target) == str(
        layout.root / "world/models" / cfg.models.target.name
    )
    assert layout.tracking_uri.startswith("sqlite:///") and layout.tracking_uri.endswith(
        "mlflow.db"
    )


def _plan(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "configs.plan", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_plan_cli_bad_config_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = _mutated(tmp_path, lambda r: r["fusion"].update(topkk=3))
    proc = _plan("--config", str(bad))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "Traceback" not in proc.stderr and "topk" in proc.stderr


@pytest.mark.parametrize("name", ["fusellm_7b", "pythia_1b"])
def test_plan_prints_paper_models_and_hyperparameters(name: str) -> None:
    proc = _plan("--config", f"configs/paper/{name}.yaml")
    assert proc.returncode == 0, proc.stderr
    cfg = load_config(ROOT / f"configs/paper/{name}.yaml")
    for spec in cfg.models.all():
        assert spec.hub_id in proc.stdout
    for text in [
        "block 2048",
        "top-k 10",
        "lr 1e-05",
        "global batch 128",
        "GPU-h",
        "zero2.json",
        "warmup 0.008",
        "b=(0.9, 0.95)",
    ]:
        assert text in proc.stdout
    if name == "fusellm_7b":
        assert "items per task: bbh all, commonsense all" in proc.stdout  # full test sets


def test_plan_prints_each_suites_item_cap() -> None:
    proc = _plan("--config", "configs/tiny.yaml")
    assert proc.returncode == 0, proc.stderr
    assert "items per task: bbh 4, commonsense all, generation all, multiple 4" in proc.stdout
    assert "; generation only on openllama, mpt, llama2, clm, fusellm," in proc.stdout


def test_override_reaches_into_lists() -> None:
    cfg = load_config(ROOT / "configs/micro.yaml", ["models.sources.0.name=other"])
    assert cfg.models.sources[0].name == "other"
    with pytest.raises(ConfigError, match="did you mean 'name'"):
        load_config(ROOT / "configs/micro.yaml", ["models.sources.0.nmae=x"])
