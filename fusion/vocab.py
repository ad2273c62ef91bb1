"""Word-start markers and vocabulary mapping between tokenizers (EM / MinED).

FuseLLM compares token *strings* across tokenizers, so each tokenizer's word-start marker
(``▁`` for sentencepiece/Metaspace, ``Ġ`` for byte-level BPE, none for plain word-level
vocabularies) must be known. It is detected from the tokenizer's own pipeline, never from a
model name, so a renamed or locally trained tokenizer behaves like the original.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from transformers import PreTrainedTokenizerFast

METASPACE = "▁"
BYTE_LEVEL = "Ġ"
# Below this share of marker-initial tokens the vocabulary statistics are not trusted.
_MIN_MARKER_SHARE = 0.05
# cdist output chunk budget (int32 cells): ~64 MiB whatever the vocabulary sizes.
_CDIST_CELLS = 16 * 1024 * 1024


def _components(node: Any) -> list[dict]:
    """Flatten a serialized tokenizers component (Sequence types nest) into its parts."""
    if isinstance(node, dict):
        found = [node] if "type" in node else []
        for value in node.values():
            found.extend(_components(value))
        return found
    if isinstance(node, list):
        return [part for item in node for part in _components(item)]
    return []


def _marker_of(part: dict) -> str | None:
    """Marker announced by one pipeline component, if it announces one."""
    kind = part.get("type")
    if kind == "Metaspace":
        return part.get("replacement", METASPACE)
    if kind == "ByteLevel":
        return BYTE_LEVEL
    if kind == "Prepend":
        return part.get("prepend") or None
    if kind == "Replace":
        pattern = (part.get("pattern") or {}).get("String")
        if pattern == " ":  # normalizer: " " -> marker (Llama-style fast tokenizers)
            return part.get("content") or None
        if part.get("content") == " ":  # decoder: marker -> " "
            return pattern or None
    return None


def _marker_from_pipeline(backend: Any) -> str | None:
    """Inspect pre-tokenizer, normalizer and decoder, in that order of authority."""
    for stage in (backend.pre_tokenizer, backend.normalizer, backend.decoder):
        if stage is None:
            continue
        for part in _components(json.loads(stage.__getstate__())):
            marker = _marker_of(part)
            if marker:
                return marker
    return None


def _marker_from_vocab(vocab: dict[str, int]) -> str:
    """Fallback when the pipeline is silent: the marker most tokens start with, if any."""
    if not vocab:
        return ""
    counts = {m: sum(tok.startswith(m) for tok in vocab) for m in (METASPACE, BYTE_LEVEL)}
    marker, count = max(counts.items(), key=lambda kv: kv[1])
    return marker if count / len(vocab) >= _MIN_MARKER_SHARE else ""


def detect_marker(tokenizer: PreTrainedTokenizerFast) -> str:
    """Return the tokenizer's word-start marker: ``"▁"``, ``"Ġ"`` or ``""`` (none).

    Reads the backend pipeline first (what the tokenizer *does*), then falls back to vocabulary
    statistics (what its tokens *look like*), so no model-name table is needed.
    """
    backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
    marker = _marker_from_pipeline(backend)
    return marker if marker is not None else _marker_from_vocab(tokenizer.get_vocab())


def rewrite_marker(token: str, source_marker: str, target_marker: str) -> str:
    """Replace every source marker in ``token`` by the target's (the reference's rule).

    A tokenizer without marker has nothing to rewrite (``str.replace("", x)`` would insert
    ``x`` between every character).
    """
    return token.replace(source_marker, target_marker) if source_marker else token


@dataclass(frozen=True)
class TokenTable:
    """Per-tokenizer strings, built once: aligning many blocks must not redo this work."""

    tokens: list[str | None]  # id -> token string (None for unused ids)
    vocab: dict[str, int]  # token string -> id, as ``get_vocab()``
    marker: str
    stripped: list[str] = field(repr=False)  # id -> token with markers removed (DTW cost)


_TABLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def token_table(tokenizer: PreTrainedTokenizerFast) -> TokenTable:
    """Cached :class:`TokenTable` of a tokenizer (kept as long as the tokenizer lives)."""
    table = _TABLES.get(tokenizer)
    if table is None:
        vocab = tokenizer.get_vocab()
        # The reference reads sequence tokens with convert_ids_to_tokens; so do we.
        tokens = tokenizer.convert_ids_to_tokens(list(range(max(vocab.values(), default=-1) + 1)))
        marker = detect_marker(tokenizer)
        stripped = ["" if t is None else rewrite_marker(t, marker, "") for t in tokens]
        table = TokenTable(tokens=tokens, vocab=vocab, marker=marker, stripped=stripped)
        _TABLES[tokenizer] = table
    return table


def _nearest_tokens(queries: list[str], targets: list[str]) -> list[str]:
    """For each query, the target at minimum Levenshtein distance; ties -> earliest target.

    Row chunks keep the distance matrix bounded (~64 MiB) for 50k-token vocabularies.
    """
    chunk = max(1, _CDIST_CELLS // max(1, len(targets)))
    nearest: list[str] = []
    for start in range(0, len(queries), chunk):
        dist = process.cdist(
            queries[start : start + chunk],
            targets,
            scorer=Levenshtein.distance,
            dtype=np.int32,
            workers=-1,
        )
        nearest.extend(targets[k] for k in np.argmin(dist, axis=1).tolist())
    return nearest


def _source_keys(source: TokenTable, target: TokenTable) -> list[str]:
    """Source tokens with the source's word-start marker rewritten to the target's."""
    return sorted(
        {rewrite_marker(t, source.marker, target.marker) for t in source.tokens if t is not None}
    )


def exact_vocab_map(
    source_tokenizer: PreTrainedTokenizerFast, target_tokenizer: PreTrainedTokenizerFast
) -> dict[str, str]:
    """EM vocabulary mapping: a source token maps to the identical target token, if any.

    Keys as in :func:`mined_vocab_map`; a source token the target lacks is left unmapped, so
    its probability is dropped where the alignment meets it.
    """
    source, target = token_table(source_tokenizer), token_table(target_tokenizer)
    return {key: key for key in _source_keys(source, target) if key in target.vocab}


def mined_vocab_map(
    source_tokenizer: PreTrainedTokenizerFast, target_tokenizer: PreTrainedTokenizerFast
) -> dict[str, str]:
    """MinED vocabulary mapping from source tokens to target tokens.

    Keys are source tokens with the source marker rewritten to the target's. A key present in
    the target vocabulary maps to itself (the EM map); any other maps to the target token at
    minimum Levenshtein distance, ties broken by the lowest target id (the reference leaves
    ties to dict order, which is not reproducible).
    """
    source, target = token_table(source_tokenizer), token_table(target_tokenizer)
    mapping = exact_vocab_map(source_tokenizer, target_tokenizer)
    missing = [key for key in _source_keys(source, target) if key not in mapping]
    if missing:
        targets = [t for t in target.tokens if t is not None]  # ascending id
        mapping.update(zip(missing, _nearest_tokens(missing, targets), strict=True))
    return mapping


# The paper's two vocabulary alignments, by the name configs use (``fusion.vocab``).
VOCAB_MAPS: dict[str, Callable[..., dict[str, str]]] = {
    "exact": exact_vocab_map,
    "mined": mined_vocab_map,
}


def vocab_map_stats(mapping: dict[str, str]) -> dict[str, float]:
    """Summary of a vocabulary mapping, logged so a poor MinED mapping is noticed early."""
    mined = [(key, value) for key, value in mapping.items() if key != value]
    size = len(mapping)
    distances = [Levenshtein.distance(key, value) for key, value in mined]
    return {
        "size": float(size),
        "exact_share": (size - len(mined)) / size if size else 0.0,
        "mined_share": len(mined) / size if size else 0.0,
        "mean_mined_distance": float(np.mean(distances)) if distances else 0.0,
    }
