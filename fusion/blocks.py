"""Cut the fusion corpus into text blocks of at most ``block_size`` *target* tokens.

Blocks are text, not token ids: every model (target, sources, teacher) tokenizes the same
block text with its own tokenizer, which is what makes their distributions alignable.
Cutting by target tokens means adding a source later never changes the blocks.
"""

from __future__ import annotations

from datasets import Dataset, load_from_disk
from transformers import PreTrainedTokenizerBase

from configs.errors import SuiteError
from configs.layout import Layout, atomic_dir
from configs.schema import SuiteConfig
from fusion.corpus import corpus_texts, document_domains
from fusion.models import load_tokenizer, model_path


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


def make_blocks(cfg: SuiteConfig, layout: Layout, texts: list[str] | None = None) -> Dataset:
    """Build (or load) the block dataset: columns ``block_id`` and ``text``. The documents are
    the fusion corpus unless ``texts`` names others (the Pythia experiment's domain text)."""
    if layout.blocks.exists():
        return load_from_disk(str(layout.blocks))
    tok = load_tokenizer(model_path(cfg.models.target, layout), cfg.models.target.name)
    texts = [
        chunk
        for doc in (corpus_texts(cfg, layout) if texts is None else texts)
        for chunk in split_document(doc, tok, cfg.fusion.block_size)
    ]
    if not texts:
        raise SuiteError("the fusion corpus produced no blocks: check corpus settings")
    ds = Dataset.from_dict({"block_id": list(range(len(texts))), "text": texts})
    with atomic_dir(layout.blocks) as tmp:
        ds.save_to_disk(str(tmp))
    return load_from_disk(str(layout.blocks))


def block_documents(blocks: list[str], documents: list[str]) -> list[int]:
    """The index of the document each block was cut from.

    :func:`make_blocks` cuts the documents in order into consecutive chunks and drops the
    whitespace-only ones, so block ``i + 1`` starts in the same document right after block
    ``i`` (only whitespace between) or in a later one; blocks are never whitespace, so a block
    found after a non-whitespace gap belongs to a later document.
    """
    out, doc, pos = [], 0, 0
    for i, block in enumerate(blocks):
        while doc < len(documents):
            at = documents[doc].find(block, pos)
            if at >= 0 and not documents[doc][pos:at].strip():
                out.append(doc)
                pos = at + len(block)
                break
            doc, pos = doc + 1, 0
        else:
            raise SuiteError(
                f"block {i} is in no document of the fusion corpus (cut from another corpus?): "
                "delete the blocks and re-run `make represent`"
            )
    return out


def block_domains(cfg: SuiteConfig, layout: Layout) -> list[str]:
    """The corpus domain of every block, by ``block_id`` (see
    :func:`fusion.corpus.document_domains`; a hub corpus is one partition)."""
    blocks = make_blocks(cfg, layout)["text"]
    if cfg.corpus.mix is None:
        return document_domains(cfg, layout, [""] * len(blocks))
    documents = corpus_texts(cfg, layout)
    domains = document_domains(cfg, layout, documents)
    return [domains[d] for d in block_documents(blocks, documents)]
