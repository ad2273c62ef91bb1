"""GGUF conversion: special tokens from the file's metadata, the generation gate, the cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from configs.errors import SuiteError
from fusion import gguf
from tests.fusion.gguf_files import SPECIALS, TEMPLATE, write_tiny_gguf


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory) -> Path:
    return write_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf")


def test_read_tokens_takes_what_the_file_states(tiny_gguf: Path) -> None:
    spec = gguf.read_tokens(tiny_gguf)
    bos, eos = SPECIALS[1], SPECIALS[2]
    assert (spec.bos, spec.eos, spec.pad, spec.unk) == (bos, eos, eos, SPECIALS[0])
    assert (spec.add_bos, spec.add_eos) == (False, False)
    assert spec.chat_template == TEMPLATE
    assert spec.context_length == 64


def test_fix_tokenizer_replaces_the_loader_defaults(tiny_gguf: Path, tmp_path: Path) -> None:
    tok = AutoTokenizer.from_pretrained(str(tiny_gguf.parent), gguf_file=tiny_gguf.name)
    gguf.fix_tokenizer(tok, gguf.read_tokens(tiny_gguf))
    assert (tok.eos_token, tok.pad_token) == ("<|im_end|>", "<|im_end|>")
    ids = tok("the cat")["input_ids"]
    assert ids[0] != tok.convert_tokens_to_ids("<|im_start|>")  # no BOS prepended
    assert tok.decode(ids) == "the cat"
    tok.save_pretrained(str(tmp_path))
    again = AutoTokenizer.from_pretrained(str(tmp_path))
    assert again("the cat")["input_ids"] == ids
    assert (again.eos_token_id, again.pad_token_id) == (2, 2)
    assert again.chat_template == TEMPLATE


def test_check_specials_refuses_a_tokenizer_that_adds_bos(tiny_gguf: Path) -> None:
    tok = AutoTokenizer.from_pretrained(str(tiny_gguf.parent), gguf_file=tiny_gguf.name)
    with pytest.raises(SuiteError, match="special tokens"):  # the loader's own choice
        gguf.check_specials(tok, gguf.read_tokens(tiny_gguf))
    spec = gguf.read_tokens(tiny_gguf)
    gguf.fix_tokenizer(tok, spec)
    tok.add_bos_token = True
    with pytest.raises(SuiteError, match="adds BOS=True"):
        gguf.check_specials(tok, spec)


def test_a_bos_file_keeps_its_bos(tmp_path: Path) -> None:
    path = write_tiny_gguf(tmp_path / "bos.gguf", add_bos=True)
    tok = AutoTokenizer.from_pretrained(str(tmp_path), gguf_file=path.name)
    gguf.fix_tokenizer(tok, gguf.read_tokens(path))
    assert tok("the")["input_ids"][0] == tok.convert_tokens_to_ids("<|im_start|>")


def test_a_conversion_that_cannot_model_english_is_not_published(
    tiny_gguf: Path, tmp_path: Path
) -> None:
    out = tmp_path / "converted"
    with pytest.raises(SuiteError, match="does not model English"):
        gguf.convert(tiny_gguf, out)  # random weights: probe loss near ln(vocab)
    assert not out.exists() and not any(tmp_path.iterdir())


def test_not_a_gguf_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf file at all")
    with pytest.raises(SuiteError, match="not a readable GGUF"):
        gguf.read_tokens(bad)


@pytest.fixture
def passing_check(monkeypatch) -> list[Path]:
    """The generation gate stubbed to pass (the tiny model is random), counting conversions."""
    made: list[Path] = []

    def check(path: Path) -> dict:
        made.append(path)
        return {"probe_nll": 0.0, "prompt": "", "generated": "stub"}

    monkeypatch.setattr(gguf, "check_generates", check)
    return made


def test_ensure_converted_converts_once_and_verifies_on_reuse(
    tmp_path: Path, passing_check: list[Path]
) -> None:
    (tmp_path / "src").mkdir()
    source = write_tiny_gguf(tmp_path / "src" / "tiny.gguf")
    out = tmp_path / "cache" / "tiny"
    record = gguf.ensure_converted(source, out)
    assert (out / "model.safetensors").is_file() and (out / "config.json").is_file()
    assert json.loads((out / gguf.RECORD).read_text())["source_sha256"] == record["source_sha256"]
    config = json.loads((out / "config.json").read_text())
    assert (config["eos_token_id"], config["pad_token_id"]) == (2, 2)
    gguf.ensure_converted(source, out)
    assert len(passing_check) == 1  # reused, not converted again
    write_tiny_gguf(source, seed=1)  # the file changed: converted again
    gguf.ensure_converted(source, out)
    assert len(passing_check) == 2
    (out / "config.json").write_text("{}")
    with pytest.raises(SuiteError, match="config.json does not match its sha256"):
        gguf.ensure_converted(source, out)
