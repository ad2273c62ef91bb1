"""Cut the fusion corpus into text blocks of at most ``block_size`` *target* tokens.

Blocks are text, not token ids: every model (target, sources, teacher) tokenizes the same
block text with its own tokenizer, which is what makes their distributions alignable.
Cutting by target tokens means adding a source later never changes the blocks.
"""

from __future__ import annotations

from datasets import Dataset, load_dataset, load_from_disk
from transformers import AutoTokenizer, PreTrainedTokenizerBase

from configs.errors import SuiteError
from configs.layout import Layout, atomic_dir
from configs.schema import SuiteConfig


def corpus_texts(cfg: SuiteConfig, layout: Layout) -> list[str]:
    """The fusion corpus documents: the tiny world's mix or a hub / local dataset."""
    c = cfg.corpus
    if c.mix is not None:
        from training.world.build import load_corpora
        from training.world.corpus import mix_corpus

        corpora = load_corpora(layout)
        n_docs = c.documents or cfg.world.docs_per_domain * len(c.mix)
        return mix_corpus(corpora, c.mix, n_docs, cfg.world.seed)
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


def split_document(text: str, tokenizer: PreTrainedTokenizerBase, block_size: int) -> list[str]:
    """Cut ``text`` at token starts into chunks that re-tokenize to ≤ ``block_size`` tokens.

    A chunk ends where a later token begins, so no token is split; a chunk that
    re-tokenizes longer (merges differ at the cut) is shortened until it fits.
    """
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    starts = [s for s, _ in enc["offset_mapping"]]
    chunks, first = [], 0
    while first < len(starts):
        last = min(first + block_size, len(starts))
        while True:
            end = starts[last] if last < len(starts) else len(text)
            chunk = text[starts[first] : end]
            n = len(tokenizer(chunk, add_special_tokens=False)["input_ids"])
            if n <= block_size or last - first <= 1:
                break
            last -= max(1, n - block_size)
        if chunk.strip():
            chunks.append(chunk)
        first = last
    return chunks


def make_blocks(cfg: SuiteConfig, layout: Layout) -> Dataset:
    """Build (or load) the block dataset: columns ``block_id`` and ``text``."""
    if layout.blocks.exists():
        return load_from_disk(str(layout.blocks))
    tok = AutoTokenizer.from_pretrained(layout.model(cfg.models.target))
    texts = [
        chunk
        for doc in corpus_texts(cfg, layout)
        for chunk in split_document(doc, tok, cfg.fusion.block_size)
    ]
    if not texts:
        raise SuiteError("the fusion corpus produced no blocks: check corpus settings")
    ds = Dataset.from_dict({"block_id": list(range(len(texts))), "text": texts})
    with atomic_dir(layout.blocks) as tmp:
        ds.save_to_disk(str(tmp))
    return load_from_disk(str(layout.blocks))
