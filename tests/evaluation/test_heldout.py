"""Held-out text for the perplexity suite on configs whose data is a (local or cached) dataset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from configs.errors import SuiteError
from configs.layout import Layout
from configs.loader import load_config
from evaluation.heldout import heldout_texts

ROOT = Path(__file__).resolve().parents[2]


def _dataset(path: Path, splits: dict[str, list[str]]) -> str:
    path.mkdir(parents=True)
    for split, texts in splits.items():
        rows = "".join(json.dumps({"text": t}) + "\n" for t in texts)
        (path / f"{split}.jsonl").write_text(rows)
    return str(path)


def test_the_corpus_test_split_is_the_held_out_text(tmp_path) -> None:
    corpus = _dataset(tmp_path / "minipile", {"train": ["seen"], "test": ["unseen a", "unseen b"]})
    cfg = load_config(ROOT / "configs/paper/fusellm_7b.yaml", [f"corpus.dataset={corpus}"])
    assert heldout_texts(cfg, Layout.of(cfg, tmp_path)) == {"corpus": ["unseen a", "unseen b"]}


def test_a_corpus_without_test_split_is_one_line(tmp_path) -> None:
    corpus = _dataset(tmp_path / "only_train", {"train": ["seen"]})
    cfg = load_config(ROOT / "configs/paper/fusellm_7b.yaml", [f"corpus.dataset={corpus}"])
    with pytest.raises(SuiteError, match="has no 'test' split"):
        heldout_texts(cfg, Layout.of(cfg, tmp_path))


def test_pythia_domains_hold_out_their_first_twentieth(tmp_path) -> None:
    docs = [f"doc {i}" for i in range(40)]
    sets = [
        f"pythia.domain_datasets.{d}={_dataset(tmp_path / d, {'train': docs})}"
        for d in ("phil", "nih", "uspto")
    ]
    cfg = load_config(ROOT / "configs/paper/pythia_1b.yaml", sets)
    found = heldout_texts(cfg, Layout.of(cfg, tmp_path))
    assert found == dict.fromkeys(cfg.pythia.domains, ["doc 0", "doc 1"])
