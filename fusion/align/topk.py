"""Token alignment: carry a source model's per-step top-k onto the target's token positions.

Semantics are the FuseLLM reference's ``transform_step_logits`` (see
``tests/data/golden/README.md``): DTW pairs source ("blending") tokens with target ("base")
tokens; a base position paired with exactly one blending position whose token matches
(EM: same string; MinED: same string or mapped to it) takes that position's top-k, each
token rewritten/mapped into the base vocabulary and kept once, in order (which may leave
the list empty); every other base position gets the one-hot ``[base_id]`` / ``[1.0]``.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from itertools import pairwise

import numpy as np
from transformers import PreTrainedTokenizerFast

from fusion.dtw import dtw_path, single_partners, unique_pair_costs
from fusion.vocab import BYTE_LEVEL, VOCAB_MAPS, mined_vocab_map, rewrite_marker, token_table

_MAX_ALIGNERS_PER_PAIR = 4

Aligned = tuple[list[list[int]], list[list[float]]]


class Aligner:
    """Everything about one (base, blend, vocab mode) triple that does not depend on the text.

    Build it once per tokenizer pair and call :meth:`align` per block; the vocab map and the
    blend-id -> base-id lookup are computed here, not per block. Treat ``vocab_map`` as
    immutable once passed.
    """

    def __init__(
        self,
        base_tokenizer: PreTrainedTokenizerFast,
        blend_tokenizer: PreTrainedTokenizerFast,
        vocab: str = "exact",
        vocab_map: dict[str, str] | None = None,
    ) -> None:
        if vocab not in VOCAB_MAPS:
            raise ValueError(f"vocab must be one of {tuple(VOCAB_MAPS)}, got {vocab!r}")
        self.base = token_table(base_tokenizer)
        self.blend = token_table(blend_tokenizer)
        if vocab == "mined" and vocab_map is None:
            vocab_map = mined_vocab_map(blend_tokenizer, base_tokenizer)
        # A private copy: a caller who edits their dict afterwards cannot change this aligner.
        self.vocab_map = dict(vocab_map) if vocab == "mined" else None
        # The reference adds the base marker to the first token only for byte-level blends
        # (GPT-NeoX/GPT-2 classes there): they encode the first word without a leading space.
        self.first_token_fix = self.blend.marker == BYTE_LEVEL
        self.rewritten = [
            None if t is None else rewrite_marker(t, self.blend.marker, self.base.marker)
            for t in self.blend.tokens
        ]
        self.topk_lut = self._topk_lookup()

    def _topk_lookup(self) -> np.ndarray:
        """Blend id -> base id for top-k tokens, -1 where the token has no base counterpart."""
        lut = np.full(len(self.rewritten), -1, dtype=np.int64)
        for blend_id, token in enumerate(self.rewritten):
            if token is not None and self.vocab_map is not None:
                token = self.vocab_map.get(token)
            lut[blend_id] = self.base.vocab.get(token, -1) if token is not None else -1
        return lut

    def partners(self, base_ids: np.ndarray, blend_ids: np.ndarray) -> np.ndarray:
        """Per base position, its single DTW-paired blend position, or -1 (several or none)."""
        n_base, n_blend = len(base_ids), len(blend_ids)
        if n_blend == 0 or n_base == 0:
            return np.full(n_base, -1, dtype=np.int64)
        base_str, blend_str = self.base.stripped, self.blend.stripped
        if n_base == n_blend and _reads_same(base_ids, base_str, blend_ids, blend_str):
            # Zero cost on the diagonal: M[i-1, j-1] = 0 is minimal and the traceback prefers
            # the diagonal on ties, so the reference's path is exactly the diagonal.
            return np.arange(n_base, dtype=np.int64)
        costs, blend_inv, base_inv = unique_pair_costs(blend_ids, base_ids, blend_str, base_str)
        return single_partners(dtw_path(costs, blend_inv, base_inv), n_base)

    def _blend_token(self, position: int, base_token: str | None, blend_id: int) -> str | None:
        """The blend token as the base would spell it (marker rewritten, first-token fix)."""
        blend_token = self.rewritten[blend_id]
        if blend_token is None:
            return None
        marker = self.base.marker
        if (
            self.first_token_fix
            and position == 0
            and base_token is not None
            and base_token.startswith(marker)
            and not blend_token.startswith(marker)
        ):
            blend_token = marker + blend_token
        return blend_token

    def _matches(self, position: int, base_token: str | None, blend_id: int) -> bool:
        """Whether a one-to-one pair agrees on the token (EM, or MinED through the map)."""
        blend_token = self._blend_token(position, base_token, blend_id)
        if blend_token is None:
            return False
        if base_token == blend_token:
            return True
        return self.vocab_map is not None and self.vocab_map.get(blend_token) == base_token

    def exact(
        self, base_ids: Sequence[int], blend_ids: Sequence[int], matched: np.ndarray
    ) -> np.ndarray:
        """Per base position, whether its match (``matched`` from :meth:`match`) is the same
        token string (an exact match); a matched position that is not exact matched through
        the MinED map. The diagnostics' exact / MinED split of the aligned positions."""
        tokens, blend_list = self.base.tokens, np.asarray(blend_ids).reshape(-1).tolist()
        base_list = np.asarray(base_ids, dtype=np.int64).reshape(-1).tolist()
        out = np.zeros(len(base_list), dtype=bool)
        for i, (base_id, j) in enumerate(zip(base_list, matched.tolist(), strict=True)):
            if j >= 0:
                token = tokens[base_id] if base_id < len(tokens) else None
                out[i] = token is not None and self._blend_token(i, token, blend_list[j]) == token
        return out

    def transfer(self, topk_ids: np.ndarray, topk_logits: np.ndarray) -> Aligned:
        """Every blend row's top-k in base ids: order kept, unmapped and repeats dropped.

        Vectorized over rows; ``topk_logits`` values are passed through unchanged.
        """
        valid = (topk_ids >= 0) & (topk_ids < len(self.topk_lut))
        mapped = np.where(valid, self.topk_lut[np.where(valid, topk_ids, 0)], -1)
        order = np.argsort(mapped, axis=1, kind="stable")  # first occurrence sorts first
        ranked = np.take_along_axis(mapped, order, axis=1)
        repeat_ranked = np.zeros(mapped.shape, dtype=bool)
        repeat_ranked[:, 1:] = ranked[:, 1:] == ranked[:, :-1]
        repeat = np.empty_like(repeat_ranked)
        np.put_along_axis(repeat, order, repeat_ranked, axis=1)
        keep = (mapped >= 0) & ~repeat
        bounds = np.concatenate([[0], np.cumsum(keep.sum(axis=1))]).tolist()
        flat_ids, flat_logits = mapped[keep].tolist(), topk_logits[keep].tolist()
        spans = list(pairwise(bounds))
        return [flat_ids[a:b] for a, b in spans], [flat_logits[a:b] for a, b in spans]

    def match(self, base_ids: Sequence[int], blend_ids: Sequence[int]) -> np.ndarray:
        """Per base position, the blend position whose top-k it takes, or -1: the positions
        where the reference falls back to a one-hot (no single DTW partner, or one whose token
        disagrees), which ``fusion.fallback`` may treat otherwise."""
        base_arr = np.asarray(base_ids, dtype=np.int64).reshape(-1)
        blend_arr = np.asarray(blend_ids, dtype=np.int64).reshape(-1)
        partner = self.partners(base_arr, blend_arr)
        blend_list, tokens = blend_arr.tolist(), self.base.tokens
        for i, (base_id, j) in enumerate(zip(base_arr.tolist(), partner.tolist(), strict=True)):
            token = tokens[base_id] if base_id < len(tokens) else None
            if j >= 0 and not self._matches(i, token, blend_list[j]):
                partner[i] = -1
        return partner

    def take(
        self,
        base_ids: Sequence[int],
        matched: np.ndarray,
        blend_topk_ids: Sequence[Sequence[int]],
        blend_topk_logits: Sequence[Sequence[float]],
    ) -> Aligned:
        """The matched blend rows' top-k in base ids, the one-hot ``[base_id]`` / ``[1.0]``
        elsewhere (``matched`` from :meth:`match`)."""
        rows_ids, rows_logits = self.transfer(
            _matrix(blend_topk_ids, np.int64, -1), _matrix(blend_topk_logits, np.float64, 0.0)
        )
        out_ids: list[list[int]] = []
        out_logits: list[list[float]] = []
        base_list = np.asarray(base_ids, dtype=np.int64).reshape(-1).tolist()
        for base_id, j in zip(base_list, matched.tolist(), strict=True):
            if j >= 0:
                out_ids.append(list(rows_ids[j]))  # a blend row may serve several positions
                out_logits.append(list(rows_logits[j]))
            else:
                out_ids.append([base_id])
                out_logits.append([1.0])
        return out_ids, out_logits

    def align(
        self,
        base_ids: Sequence[int],
        blend_ids: Sequence[int],
        blend_topk_ids: Sequence[Sequence[int]],
        blend_topk_logits: Sequence[Sequence[float]],
    ) -> Aligned:
        """Aligned top-k ids and logits, one list per base position (logits passed through)."""
        matched = self.match(base_ids, blend_ids)
        return self.take(base_ids, matched, blend_topk_ids, blend_topk_logits)


def _reads_same(
    ids_a: np.ndarray, strings_a: list[str], ids_b: np.ndarray, strings_b: list[str]
) -> bool:
    """Whether two equally long id sequences have the same strings position by position."""
    return [strings_a[i] for i in ids_a.tolist()] == [strings_b[i] for i in ids_b.tolist()]


def _matrix(rows: Sequence[Sequence], dtype: type, fill: float) -> np.ndarray:
    """Top-k rows as a 2-D array; ragged rows are padded with ``fill`` (an unmapped id)."""
    try:
        matrix = np.asarray(rows, dtype=dtype)
    except ValueError:
        matrix = None
    if matrix is None or matrix.ndim != 2:
        width = max((len(row) for row in rows), default=0)
        matrix = np.full((len(rows), width), fill, dtype=dtype)
        for r, row in enumerate(rows):
            matrix[r, : len(row)] = row
    return matrix


_ALIGNERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def get_aligner(
    base_tokenizer: PreTrainedTokenizerFast,
    blend_tokenizer: PreTrainedTokenizerFast,
    vocab: str = "exact",
    vocab_map: dict[str, str] | None = None,
) -> Aligner:
    """Cached :class:`Aligner`, so repeated :func:`align_topk` calls reuse the pair's work.

    Entries live as long as both tokenizers; a given ``vocab_map`` is keyed by its content,
    so a caller who adds entries to the same dict between calls gets a new aligner, never one
    built from the old map (hashing the map costs O(its size) per call: a stage aligning many
    blocks builds its :class:`Aligner` once instead).
    """
    per_blend = _ALIGNERS.setdefault(base_tokenizer, weakref.WeakKeyDictionary())
    per_pair = per_blend.setdefault(blend_tokenizer, {})
    content = frozenset(vocab_map.items()) if vocab == "mined" and vocab_map is not None else None
    key = (vocab, content)
    aligner = per_pair.get(key)
    if aligner is None:
        if len(per_pair) >= _MAX_ALIGNERS_PER_PAIR:
            per_pair.pop(next(iter(per_pair)))
        aligner = per_pair[key] = Aligner(base_tokenizer, blend_tokenizer, vocab, vocab_map)
    return aligner


def align_topk(
    base_tokenizer: PreTrainedTokenizerFast,
    blend_tokenizer: PreTrainedTokenizerFast,
    base_ids: Sequence[int],
    blend_ids: Sequence[int],
    blend_topk_ids: Sequence[Sequence[int]],
    blend_topk_logits: Sequence[Sequence[float]],
    vocab: str = "exact",
    vocab_map: dict[str, str] | None = None,
) -> Aligned:
    """Align a blending model's top-k onto the base tokens (reference semantics, bit-exact).

    ``vocab="exact"`` is EM, ``"mined"`` is MinED (computed from the tokenizers when
    ``vocab_map`` is None). Returns ``(ids, logits)``, one list per base position; logits
    are the given values, passed through untouched, or ``1.0`` for a one-hot.
    """
    aligner = get_aligner(base_tokenizer, blend_tokenizer, vocab, vocab_map)
    return aligner.align(base_ids, blend_ids, blend_topk_ids, blend_topk_logits)
