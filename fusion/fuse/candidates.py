"""Each candidate's per-position rows under the two approximation choices of ``fusion``.

``target`` (what the values are): ``reference`` keeps the logits, which the fusion function
renormalizes over the top-k (the reference); ``tail`` turns them into log-probabilities over
the full vocabulary with the stored log-normalizer, ``logit - lse``, so the top-k keep their
true probabilities and the rest of the mass becomes one tail bucket.

``fallback`` (target positions where no source token matched, see
:meth:`fusion.align.topk.Aligner.match`): ``reference`` keeps the reference's one-hot on the
*current* target token, although every row is the *next*-token distribution (FuseAI issue
#27); ``next_token`` puts the one-hot on the next target token (none after the block's last
token: the candidate is dropped there); ``target`` drops the candidate there, so the fusion
function uses the target's own distribution; ``none`` keeps the rows and leaves those
positions out of distillation (:func:`undistilled`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fusion.ragged import rows_of, unflatten

FALLBACKS = ("reference", "next_token", "target", "none")
Rows = tuple[list[list[int]], list[list[float]]]


def own_candidate(
    topk_ids: Sequence, topk_logits: Sequence, lse: Sequence, k: int, target: str
) -> Rows:
    """A model's own top-k (the target's, or the KD teacher's) as rows of ids and values."""
    values = rows_of(topk_logits, k).astype(np.float64)  # (T, K), fp16 values exactly
    if target == "tail":
        values = values - np.asarray(lse, dtype=np.float64)[:, None]
    return rows_of(topk_ids, k).tolist(), values.tolist()


def source_candidate(
    aligned: dict[str, Sequence], base_ids: Sequence[int], target: str, fallback: str
) -> Rows:
    """One source's aligned rows (the ``aligned_*`` columns of a block) under the choices.

    The alignment stores the reference's rows: a matched position's mapped top-k, and the
    one-hot ``[current id]`` / ``[1.0]`` (one entry) at every other position.
    """
    ids = np.asarray(aligned["aligned_ids"], dtype=np.int64)
    values = np.asarray(aligned["aligned_logits"], dtype=np.float64)
    lengths = np.asarray(aligned["aligned_len"], dtype=np.int64)
    matched = np.asarray(aligned["aligned_matched"], dtype=bool)
    pos = np.repeat(np.arange(len(lengths)), lengths)  # each entry's position
    one_hot = ~matched[pos]  # the reference's fallback entries
    if target == "tail":  # a one-hot's log-probability is 0
        values = np.where(one_hot, 0.0, values - np.asarray(aligned["aligned_lse"])[pos])
    keep = np.ones(len(ids), dtype=bool)
    if fallback == "next_token":
        following = np.append(np.asarray(base_ids, dtype=np.int64)[1:], -1)  # -1: none
        ids = np.where(one_hot, following[pos], ids)
        keep = ids >= 0
    elif fallback == "target":
        keep = ~one_hot
    lengths = np.bincount(pos[keep], minlength=len(lengths))
    return unflatten(ids[keep], lengths), unflatten(values[keep], lengths)


def undistilled(matched: Sequence[Sequence[bool]], chosen: Sequence[int]) -> np.ndarray:
    """Positions where the fused distribution draws on a fallback row: where any candidate in
    ``chosen`` (:func:`fusion.fuse.methods.contributors`) is unmatched. ``matched[c]`` is
    candidate c's per-position flags (candidate 0, the target's own top-k, is always matched).
    """
    rows = np.asarray([matched[c] for c in chosen], dtype=bool).reshape(len(chosen), -1)
    return ~rows.all(axis=0)
