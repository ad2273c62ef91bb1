"""The texts fusion and evaluation read, from wherever the config's data lives.

A paper config names hub datasets (MiniPile, the Pythia domains), read through ``datasets``
from the local cache (``make prefetch``). A tiny config reads what ``make world`` saved under
the world directory: its fusion corpus and its domain corpora are Arrow datasets on disk, read
the same way as a local dataset would be. Nothing here generates data.
"""

from __future__ import annotations

from pathlib import Path

from datasets import load_dataset, load_from_disk

from configs.errors import SuiteError
from configs.layout import Layout
from configs.schema import SuiteConfig


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise SuiteError(f"no tiny-world {what} at {path}: run `make world` first")
    return path


def load_corpora(layout: Layout) -> dict[str, dict[str, list[str]]]:
    """The tiny world's domain corpora as ``{domain: {split: [text, ...]}}``."""
    _require(layout.corpora, "corpora")
    return {
        d.name: {split: ds["text"] for split, ds in load_from_disk(str(d)).items()}
        for d in sorted(layout.corpora.iterdir())
    }


def corpus_texts(cfg: SuiteConfig, layout: Layout) -> list[str]:
    """The fusion corpus documents: the tiny world's saved mix, or a hub / local dataset."""
    c = cfg.corpus
    if c.mix is not None:
        return load_from_disk(str(_require(layout.fusion_corpus, "fusion corpus")))["text"]
    try:
        ds = load_dataset(c.dataset, split=c.split)
    except Exception as err:  # offline cache miss, bad id, bad split: one line with the fix
        raise SuiteError(
            f"cannot load corpus '{c.dataset}' [{c.split}]: {err}; run `make "
            "prefetch` where the hub is reachable"
        ) from None
    if c.text_field not in ds.column_names:
        raise SuiteError(
            f"corpus '{c.dataset}' has no field '{c.text_field}' "
            f"(fields: {ds.column_names}): set corpus.text_field"
        )
    if c.documents:
        ds = ds.select(range(min(c.documents, len(ds))))
    return ds[c.text_field]


HUB_PARTITION = "corpus"  # a hub corpus carries no domain labels: one partition


def document_domains(cfg: SuiteConfig, layout: Layout, documents: list[str]) -> list[str]:
    """The domain each fusion-corpus document was drawn from, for per-domain diagnostics.

    The tiny world's fusion corpus is a mix of its domain corpora's train documents, saved as
    text only; a document's domain is found by looking its text up in those corpora (a text
    shared by two domains goes to the first in name order). A hub corpus has no domains:
    every document is in :data:`HUB_PARTITION`.
    """
    if cfg.corpus.mix is None:
        return [HUB_PARTITION] * len(documents)
    owner: dict[str, str] = {}
    for domain, splits in sorted(load_corpora(layout).items(), reverse=True):
        owner.update(dict.fromkeys(splits.get("train", []), domain))
    unknown = sum(doc not in owner for doc in documents)
    if unknown:
        raise SuiteError(
            f"{unknown} fusion-corpus documents are in no domain corpus under {layout.corpora}: "
            "the world was rebuilt after the blocks were cut; delete "
            f"{layout.blocks} and re-run `make represent`"
        )
    return [owner[doc] for doc in documents]


def domain_texts(cfg: SuiteConfig, layout: Layout, domain: str, split: str) -> list[str]:
    """A Pythia domain's documents: the tiny world's corpus, or the paper config's dataset
    (its ``test`` split is the held-out first twentieth, as the paper's)."""
    p = cfg.pythia
    if p.domain_datasets is None:
        return load_corpora(layout)[domain][split]
    ds = load_dataset(p.domain_datasets[domain], split="train")
    cut = max(1, len(ds) // 20)
    part = ds.select(range(cut)) if split == "test" else ds.select(range(cut, len(ds)))
    return part[cfg.corpus.text_field]
