"""Fusion functions: turn the candidates' aligned top-k into one target distribution.

Candidate 0 is the target model's own top-k, the others are sources aligned with
:mod:`fusion.align`. Semantics follow the FuseLLM reference collator and trainer (see
``tests/data/golden/README.md``): per-position softmax of the (bf16) logits over each
candidate's ids; an empty source list falls back to the target's own distribution; the
per-sequence reward is ``1 / exp(CE)`` in bf16; MinCE keeps the candidate with the largest
reward (first on ties), AvgCE averages the distributions with ``softmax(rewards)`` weights.

With ``reference_rounding=False`` everything runs in fp32 instead, which removes the
reference's bf16 artefacts (probabilities move by ~1% at logits of 8-16, and close CEs tie).

``target="tail"`` (``fusion.target``) takes the candidates' values as log-probabilities over
the full vocabulary (``logit - lse``, see :mod:`fusion.represent`) and exponentiates them
without renormalizing: the fused top-k are then true probabilities and ``1 - sum`` is the
mass of every other token (the tail bucket of :func:`training.losses.sparse_tail_ce`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise

import numpy as np
import torch

Fused = tuple[list[list[int]], list[list[float]]]
_PAD_ID = np.iinfo(np.int64).max  # sorts after every real id


def _pad(cand_ids: Sequence, cand_logits: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """Ragged ``[candidate][position][k]`` lists -> padded (C, T, K) id and logit arrays."""
    n_cand, n_pos = len(cand_ids), len(cand_ids[0])
    width = max((len(row) for rows in cand_ids for row in rows), default=0)
    ids = np.full((n_cand, n_pos, max(width, 1)), _PAD_ID, dtype=np.int64)
    logits = np.full(ids.shape, -np.inf, dtype=np.float64)
    for c in range(n_cand):
        if len(cand_ids[c]) != n_pos:
            raise ValueError(f"candidate {c} has {len(cand_ids[c])} positions, expected {n_pos}")
        for t, (row_ids, row_logits) in enumerate(zip(cand_ids[c], cand_logits[c], strict=True)):
            ids[c, t, : len(row_ids)] = row_ids
            logits[c, t, : len(row_logits)] = row_logits
    return ids, logits


def candidate_distributions(
    cand_ids: Sequence,
    cand_logits: Sequence,
    temperature: float,
    dtype: torch.dtype,
    target: str = "reference",
) -> tuple[np.ndarray, torch.Tensor]:
    """Per-candidate sparse distributions (ids (C, T, K), probs (C, T, K) in ``dtype``).

    Logits are cast to ``dtype`` *before* the softmax, as the reference does with bf16
    (``target="tail"``: log-probabilities, cast to ``dtype`` before ``exp``).
    Empty source lists take the target's (candidate 0) ids and probabilities.
    """
    ids, logits = _pad(cand_ids, cand_logits)
    scaled = torch.from_numpy(logits).to(dtype) / temperature
    probs = torch.exp(scaled) if target == "tail" else torch.softmax(scaled, dim=-1)
    real = torch.from_numpy(ids != _PAD_ID)
    probs = torch.where(real, probs, torch.zeros((), dtype=dtype))
    empty = ~real.any(dim=-1)  # (C, T)
    empty[0] = False
    probs = torch.where(empty[..., None], probs[0].expand_as(probs), probs)
    ids = np.where(empty.numpy()[..., None], ids[0][None], ids)
    return ids, probs


def rewards(cand_ce: Sequence[float], dtype: torch.dtype) -> torch.Tensor:
    """Reward ``1 / exp(CE)`` per candidate, computed in ``dtype`` from CE cast to ``dtype``."""
    return 1 / torch.exp(torch.tensor(list(cand_ce), dtype=dtype))


def _rows(ids: np.ndarray, probs: torch.Tensor) -> Fused:
    """(T, K) padded ids/probs -> per-position lists sorted by id, padding removed."""
    order = np.argsort(ids, axis=-1, kind="stable")
    ids_sorted = np.take_along_axis(ids, order, axis=-1)
    probs_sorted = np.take_along_axis(probs.float().numpy(), order, axis=-1)
    counts = (ids_sorted != _PAD_ID).sum(axis=-1).tolist()
    out_ids = [row[:n] for row, n in zip(ids_sorted.tolist(), counts, strict=True)]
    out_probs = [row[:n] for row, n in zip(probs_sorted.tolist(), counts, strict=True)]
    return out_ids, out_probs


def compute_dtype(reference_rounding: bool) -> torch.dtype:
    """bf16 where the reference rounds (its logits, CEs and rewards), else fp32."""
    return torch.bfloat16 if reference_rounding else torch.float32


def min_ce_choice(cand_ce: Sequence[float], reference_rounding: bool = True) -> int:
    """The candidate MinCE keeps: lowest CE (largest reward); ties after rounding go to the
    earlier candidate (``torch.argmax`` returns the first)."""
    return int(torch.argmax(rewards(cand_ce, compute_dtype(reference_rounding))))


def fuse_min_ce(
    cand_ids: Sequence,
    cand_logits: Sequence,
    cand_ce: Sequence[float],
    temperature: float = 1.0,
    reference_rounding: bool = True,
    target: str = "reference",
) -> Fused:
    """MinCE: the distribution of the candidate :func:`min_ce_choice` picks."""
    chosen = min_ce_choice(cand_ce, reference_rounding)
    dtype = compute_dtype(reference_rounding)
    ids, probs = candidate_distributions(cand_ids, cand_logits, temperature, dtype, target)
    return _rows(ids[chosen], probs[chosen])


def fuse_avg_ce(
    cand_ids: Sequence,
    cand_logits: Sequence,
    cand_ce: Sequence[float],
    temperature: float = 1.0,
    reference_rounding: bool = True,
    target: str = "reference",
) -> Fused:
    """AvgCE: ``sum_c softmax(rewards)_c * dist_c`` over the union of the candidates' ids.

    Accumulates candidate by candidate in ``dtype`` like the reference's dense
    ``w0 * d0 + w1 * d1 + ...`` (ids missing from a candidate add an exact zero there).
    """
    dtype = compute_dtype(reference_rounding)
    weights = torch.softmax(rewards(cand_ce, dtype), dim=0)
    ids, probs = candidate_distributions(cand_ids, cand_logits, temperature, dtype, target)
    n_cand, n_pos, _ = ids.shape
    real = ids != _PAD_ID
    stride = int(ids[real].max(initial=-1)) + 1
    positions = np.broadcast_to(np.arange(n_pos, dtype=np.int64)[None, :, None], ids.shape)
    keys, slot = np.unique(positions[real] * stride + ids[real], return_inverse=True)
    flat_probs = probs[torch.from_numpy(real)]  # candidate-major, like ``keys``' sources
    bounds = np.cumsum([0, *real.reshape(n_cand, -1).sum(axis=1).tolist()])
    acc = torch.zeros(len(keys), dtype=dtype)
    for c in range(n_cand):
        idx = torch.from_numpy(slot[bounds[c] : bounds[c + 1]])
        acc[idx] = acc[idx] + weights[c] * flat_probs[bounds[c] : bounds[c + 1]]
    return _split(keys // max(stride, 1), keys % max(stride, 1), acc, n_pos)


def _split(positions: np.ndarray, ids: np.ndarray, values: torch.Tensor, n_pos: int) -> Fused:
    """Values at sorted (position, id) keys -> per-position id and probability lists."""
    bounds = np.searchsorted(positions, np.arange(n_pos + 1)).tolist()
    id_list, val_list = ids.tolist(), values.float().tolist()
    out_ids = [id_list[a:b] for a, b in pairwise(bounds)]
    out_probs = [val_list[a:b] for a, b in pairwise(bounds)]
    return out_ids, out_probs


FusionFunction = Callable[..., Fused]
FUSION_FUNCTIONS: dict[str, FusionFunction] = {"min_ce": fuse_min_ce, "avg_ce": fuse_avg_ce}
TARGETS = ("reference", "tail")  # fusion.target


def contributors(
    cand_ce: Sequence[float], method: str, reference_rounding: bool = True
) -> list[int]:
    """Candidates whose distributions enter the fused one: MinCE's choice, or every candidate
    (AvgCE's softmax weights are all positive)."""
    if method == "min_ce":
        return [min_ce_choice(cand_ce, reference_rounding)]
    return list(range(len(cand_ce)))


def fuse_topk(
    cand_ids: Sequence,
    cand_logits: Sequence,
    cand_ce: Sequence[float],
    method: str = "min_ce",
    temperature: float = 1.0,
    reference_rounding: bool = True,
    target: str = "reference",
) -> Fused:
    """Fused target distribution per position: ids ascending with their probabilities.

    ``cand_ids[c][t]`` / ``cand_logits[c][t]``: candidate c's aligned top-k at target
    position t (c = 0: the target's own); ``cand_ce[c]``: its sequence CE. ``method`` is a
    key of :data:`FUSION_FUNCTIONS`; ``reference_rounding=False`` computes in fp32.
    ``target="tail"``: the values are log-probabilities and the result is not renormalized
    (its per-position sums are the top-k masses; needs ``temperature=1``).
    """
    if method not in FUSION_FUNCTIONS:
        raise ValueError(f"method must be one of {sorted(FUSION_FUNCTIONS)}, got {method!r}")
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    if target == "tail" and temperature != 1.0:
        raise ValueError("target='tail' needs temperature=1: log-probabilities are untempered")
    if len(cand_ids) != len(cand_ce) or len(cand_logits) != len(cand_ce):
        raise ValueError("cand_ids, cand_logits and cand_ce need one entry per candidate")
    fuse = FUSION_FUNCTIONS[method]
    return fuse(cand_ids, cand_logits, cand_ce, temperature, reference_rounding, target)
