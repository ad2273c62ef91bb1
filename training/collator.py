"""Batch collation for continual training on sparse fused-teacher targets.

Each feature holds ``input_ids`` and, per position, a ragged list of the teacher's top-k
next-token ids / probabilities (the prediction made at that position, aligned with the
logits, see :mod:`training.losses`), either as one list per position or in the fused
datasets' storage format: flat ``target_ids`` / ``target_probs`` plus ``target_len`` (entries
per position, :mod:`fusion.ragged`). Batches are right-padded; the ragged targets become
dense ``(B, T, K)`` arrays whose padding entries have id 0 and probability 0, which the
sparse losses treat as absent. Flattening is vectorised with numpy (lengths + repeat/cumsum
indexing): per-position Python loops would dominate data loading at T=2048. Two optional
per-position features of fused data (:data:`POSITION_FEATURES`) become ``(B, T)`` arrays:
``target_tail`` (the tail bucket's mass, ``fusion.target: tail``) and ``distill_mask``
(false where no distillation takes place, ``fusion.fallback: none``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

IGNORE_INDEX = -100
# Optional per-position features: dtype and the value of a feature that lacks the key (no
# tail mass; distilled everywhere). Padding positions get 0 / False.
POSITION_FEATURES: dict[str, tuple[type, float | bool]] = {
    "target_tail": (np.float32, 0.0),
    "distill_mask": (np.bool_, True),
}


def _flatten_ragged(rows: Any, dtype: type) -> tuple[np.ndarray, np.ndarray]:
    """Lengths and concatenated values of a per-position sequence of lists.

    Args:
        rows: length-T sequence of lists (lengths may differ, may be 0), or an already
            padded ``(T, K)`` array (its padding must carry probability 0 and a valid id).
        dtype: numpy dtype of the values.

    Returns:
        ``(T,)`` int64 lengths and ``(Σ lengths,)`` values of ``dtype``.
    """
    if isinstance(rows, np.ndarray) and rows.ndim == 2:
        return np.full(rows.shape[0], rows.shape[1], dtype=np.int64), rows.astype(dtype).ravel()
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=dtype, count=int(lengths.sum()))
    return lengths, flat


def _flat_feature(feature: Mapping[str, Any], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lengths, ids and probs of a feature stored flat (``target_len`` per position), checked.

    Args:
        feature: ``target_ids`` / ``target_probs`` (Σ lengths,) and ``target_len`` (n,).
        n: number of input positions.

    Returns:
        ``(n,)`` int64 lengths, flat int64 ids and float32 probs.
    """
    lengths = np.asarray(feature["target_len"], dtype=np.int64)
    ids = np.asarray(feature["target_ids"], dtype=np.int64)
    probs = np.asarray(feature["target_probs"], dtype=np.float32)
    if len(lengths) != n or not len(ids) == len(probs) == int(lengths.sum()):
        raise ValueError(
            f"target_len needs one length per input position ({len(lengths)} for {n} tokens) "
            f"summing to the flat target_ids / target_probs sizes ({len(ids)}, {len(probs)})"
        )
    return lengths, ids, probs


def _ragged_coordinates(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position and slot of every flattened entry: entry j sits at ``[pos[j], slot[j]]``.

    Args:
        lengths: ``(T,)`` int64 list lengths.

    Returns:
        ``(Σ lengths,)`` int64 positions and slots.
    """
    starts = np.cumsum(lengths) - lengths  # (T,)
    pos = np.repeat(np.arange(len(lengths)), lengths)
    slot = np.arange(int(lengths.sum())) - np.repeat(starts, lengths)
    return pos, slot


def _pad_positions(features: Sequence[Mapping[str, Any]], key: str, seq_len: int) -> np.ndarray:
    """``(B, T)`` array of the per-position feature ``key`` (see :data:`POSITION_FEATURES`)."""
    dtype, missing = POSITION_FEATURES[key]
    out = np.zeros((len(features), seq_len), dtype=dtype)
    for i, feature in enumerate(features):
        n = len(feature["input_ids"])
        values = np.asarray(feature.get(key, np.full(n, missing)), dtype=dtype)
        if values.shape != (n,):
            raise ValueError(f"{key} needs one value per input position ({values.shape} for {n})")
        out[i, :n] = values
    return out


@dataclass
class SparseTargetCollator:
    """Pad ``input_ids`` and ragged top-k targets of a list of features into tensors.

    Attributes:
        pad_token_id: id used to pad ``input_ids`` (its labels are ``IGNORE_INDEX``).
        max_k: fixed K; longer lists keep their first ``max_k`` entries (lists are top-k,
            highest probability first). ``None``: K = longest list in the batch (at least 1).
        pad_to_multiple_of: round the padded length T up to a multiple of this.
    """

    pad_token_id: int
    max_k: int | None = None
    pad_to_multiple_of: int | None = None

    def __call__(self, features: Sequence[Mapping[str, Any]]) -> dict[str, torch.Tensor]:
        """Collate features into a batch.

        Args:
            features: dicts with ``input_ids`` (list of T_i ints), optional
                ``attention_mask`` (T_i ints) and optional ``target_ids`` / ``target_probs``
                (T_i lists each, or flat with ``target_len`` giving T_i list lengths;
                features without them get all-zero targets).

        Returns:
            ``input_ids``, ``attention_mask``, ``labels`` (``IGNORE_INDEX`` where the mask is
            0): ``(B, T)`` int64; if any feature has targets, also ``target_ids`` ``(B, T, K)``
            int64 and ``target_probs`` ``(B, T, K)`` float32; ``target_tail`` ``(B, T)``
            float32 / ``distill_mask`` ``(B, T)`` bool if any feature has them.
        """
        seq_len = self._padded_length(features)
        input_ids = np.full((len(features), seq_len), self.pad_token_id, dtype=np.int64)
        attention_mask = np.zeros((len(features), seq_len), dtype=np.int64)
        for i, feature in enumerate(features):
            n = len(feature["input_ids"])
            input_ids[i, :n] = feature["input_ids"]
            attention_mask[i, :n] = feature.get("attention_mask", 1)
        labels = np.where(attention_mask.astype(bool), input_ids, IGNORE_INDEX)
        batch = {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}
        if any("target_ids" in feature for feature in features):
            batch["target_ids"], batch["target_probs"] = self._pad_targets(features, seq_len)
        for key in POSITION_FEATURES:
            if any(key in feature for feature in features):
                batch[key] = _pad_positions(features, key, seq_len)
        return {key: torch.from_numpy(value) for key, value in batch.items()}

    def _padded_length(self, features: Sequence[Mapping[str, Any]]) -> int:
        seq_len = max(len(feature["input_ids"]) for feature in features)
        if self.pad_to_multiple_of:
            seq_len = -(-seq_len // self.pad_to_multiple_of) * self.pad_to_multiple_of
        return seq_len

    def _pad_targets(
        self, features: Sequence[Mapping[str, Any]], seq_len: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Dense ``(B, T, K)`` int64 ids and float32 probs, padded with 0."""
        flat = [self._flatten_feature(feature) for feature in features]
        longest = max((int(lengths.max(initial=0)) for lengths, _, _ in flat), default=0)
        k = self.max_k if self.max_k is not None else max(longest, 1)
        target_ids = np.zeros((len(features), seq_len, k), dtype=np.int64)
        target_probs = np.zeros((len(features), seq_len, k), dtype=np.float32)
        for i, (lengths, ids, probs) in enumerate(flat):
            pos, slot = _ragged_coordinates(lengths)
            keep = slot < k
            target_ids[i, pos[keep], slot[keep]] = ids[keep]
            target_probs[i, pos[keep], slot[keep]] = probs[keep]
        return target_ids, target_probs

    @staticmethod
    def _flatten_feature(feature: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(T_i,)`` lengths and flat ids / probs of one feature, validated."""
        n = len(feature["input_ids"])
        if "target_ids" not in feature:
            return np.zeros(n, dtype=np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
        if "target_len" in feature:
            return _flat_feature(feature, n)
        lengths, ids = _flatten_ragged(feature["target_ids"], np.int64)
        prob_lengths, probs = _flatten_ragged(feature["target_probs"], np.float32)
        if len(lengths) != n or not np.array_equal(lengths, prob_lengths):
            raise ValueError(
                "target_ids / target_probs need one list per input position with matching "
                f"lengths (got {len(lengths)} and {len(prob_lengths)} lists for {n} tokens)"
            )
        return lengths, ids, probs
