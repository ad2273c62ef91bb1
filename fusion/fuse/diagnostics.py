"""Why fusion helps (or not): what each candidate contributed to a fused variant, by domain.

Read from the fuse stage's candidate table (the base representation with every source's
aligned columns, :func:`fusion.fuse.stage.candidates_table`), logged to the variant's MLflow
``fuse`` run and rendered by ``reports.diagnostics``; never recomputed there.

- Alignment, per source: the share of target positions with a 1:1 aligned source token
  (``aligned``), split into the same token string (``exact``) and a match through the MinED
  map (``mined``; 0 with EM), and the share that fell back (``fallback = 1 - aligned``).
  Shares of all target positions, so ``exact + mined = aligned``.
- Choice, per corpus domain (and ``all``): the fusion function weighs candidates per *block*
  (the CE is the block's), so MinCE's picks are counted in blocks: the share of a domain's
  blocks where it picked each candidate (the target itself first). AvgCE picks nothing; its
  mean softmax weight per candidate is logged instead. Either way the shares sum to 1.
- Mean block CE per model per domain: what the choice was made from.
- Teacher quality, per domain (and ``all``): the mean probability the fused training targets
  give the true next token (``fused``), against the base candidate's (the target's, or the
  KD teacher's) own top-k renormalized as the reference's target would be (``own``): fusion
  teaches more than the target's own outputs only where ``fused`` exceeds ``own``. Positions
  without a next token are not counted.
Metric keys (``configs.tracking`` naming): ``fuse/align/<source>/<share>``,
``fuse/pick/<domain>/<model>`` or ``fuse/weight/<domain>/<model>``, ``fuse/ce/<domain>/<model>``,
``fuse/domain_blocks/<domain>`` and ``fuse/true_next/<domain>/{fused,own}``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow.compute as pc
import torch
from datasets import Dataset

from configs.tracking import metric_key
from fusion.fuse.methods import compute_dtype, min_ce_choice, rewards

ALL = "all"  # the partition of every block
ALIGN_SHARES = ("aligned", "exact", "mined", "fallback")


def alignment_shares(matched: np.ndarray, exact: np.ndarray | None) -> dict[str, float]:
    """Shares of target positions aligned 1:1 (exact / MinED) and fallen back.

    ``exact`` is None for an alignment made before the stage recorded it: no split then."""
    n = max(len(matched), 1)
    aligned = float(np.count_nonzero(matched)) / n
    out = {"aligned": aligned, "fallback": 1.0 - aligned}
    if exact is not None:
        if np.any(exact & ~matched):
            raise ValueError("a position marked exact is not matched")
        out["exact"] = float(np.count_nonzero(exact)) / n
        out["mined"] = aligned - out["exact"]
    return out


def block_weights(ces: np.ndarray, method: str, reference_rounding: bool) -> np.ndarray:
    """(blocks, candidates) weight of each candidate in each block's fused distribution:
    MinCE one-hot on its pick (ties to the earlier candidate, as :func:`min_ce_choice`), AvgCE
    the softmax of the (bf16-rounded, as fused) rewards, taken in fp64 so that rows sum to 1
    (the reference's bf16 softmax sums to 1 only within ~0.2%)."""
    weights = np.zeros(ces.shape, dtype=np.float64)
    for b, row in enumerate(ces.tolist()):
        if method == "min_ce":
            weights[b, min_ce_choice(row, reference_rounding)] = 1.0
        else:
            reward = rewards(row, compute_dtype(reference_rounding)).double()
            weights[b] = torch.softmax(reward, dim=0).numpy()  # in fp64: shares sum to 1
    return weights


def choice_by_domain(
    ces: np.ndarray,
    domains: Sequence[str],
    names: Sequence[str],
    method: str,
    reference_rounding: bool,
) -> dict[str, float]:
    """Per domain (and :data:`ALL`): each candidate's pick share (MinCE) or mean weight
    (AvgCE), its mean block CE, and the domain's block count, as ``fuse/...`` metrics."""
    weights = block_weights(ces, method, reference_rounding)
    kind = "pick" if method == "min_ce" else "weight"
    labels = np.asarray(domains, dtype=object)
    out: dict[str, float] = {}
    for domain in [ALL, *sorted(set(domains))]:
        rows = np.ones(len(labels), bool) if domain == ALL else labels == domain
        if not rows.any():
            continue
        out[metric_key("fuse", "domain_blocks", domain)] = float(rows.sum())
        for c, name in enumerate(names):
            out[metric_key("fuse", kind, domain, name)] = float(weights[rows, c].mean())
            out[metric_key("fuse", "ce", domain, name)] = float(ces[rows, c].mean())
    return out


def _flat_bool(table, column: str) -> np.ndarray:
    return pc.list_flatten(table[column]).to_numpy(zero_copy_only=False).astype(bool)


def fuse_diagnostics(
    candidates: Dataset,
    names: Sequence[str],
    block_domain: Sequence[str],
    method: str,
    reference_rounding: bool,
) -> dict[str, float]:
    """Every diagnostic of one variant as MLflow metrics.

    ``candidates``: the stage's candidate table (``ce``, and ``s<i>_ce``,
    ``s<i>_aligned_matched`` and, when recorded, ``s<i>_aligned_exact`` per source i);
    ``names``: the candidates' model names, the base (target or KD teacher) first;
    ``block_domain``: the domain of every block id."""
    table = candidates.data.table
    columns = ["ce", *(f"s{i}_ce" for i in range(len(names) - 1))]
    ces = np.stack([table[c].to_numpy().astype(np.float64) for c in columns], axis=1)
    ids = table["block_id"].to_numpy()
    domains = [block_domain[i] for i in ids.tolist()]
    out = choice_by_domain(ces, domains, names, method, reference_rounding)
    for i, source in enumerate(names[1:]):
        matched = _flat_bool(table, f"s{i}_aligned_matched")
        exact_col = f"s{i}_aligned_exact"
        exact = _flat_bool(table, exact_col) if exact_col in table.column_names else None
        for share, value in alignment_shares(matched, exact).items():
            out[metric_key("fuse", "align", source, share)] = value
    return out


def _next_token_probability(
    ids: np.ndarray, probs: np.ndarray, lengths: np.ndarray, tokens: np.ndarray
) -> np.ndarray:
    """Per position of one block, the probability its row (``lengths[t]`` entries of the flat
    ``ids``/``probs``) gives ``tokens[t + 1]``; NaN at the last position."""
    pos = np.repeat(np.arange(len(lengths)), lengths)
    nxt = np.append(tokens[1:], -1)
    hit = ids == nxt[pos]
    out = np.bincount(pos[hit], weights=probs[hit], minlength=len(lengths))
    out = out.astype(np.float64)
    if len(out):
        out[-1] = np.nan
    return out


def true_next_probability(
    fused: Dataset, candidates: Dataset, k: int, block_domain: Sequence[str]
) -> dict[str, float]:
    """Mean probability of the true next token under the fused targets and under the target's
    own renormalized top-k, per domain (and :data:`ALL`), as ``fuse/true_next`` metrics.

    ``fused`` and ``candidates`` hold the same blocks in the same order (the stage maps one
    onto the other)."""
    per_domain: dict[str, list[np.ndarray]] = {}
    own_topk = candidates.select_columns(["topk_ids", "topk_logits"])  # not the sources' columns
    for f, c in zip(fused, own_topk, strict=True):
        tokens = np.asarray(f["input_ids"])
        lengths = np.asarray(f["target_len"])
        ours = _next_token_probability(
            np.asarray(f["target_ids"]), np.asarray(f["target_probs"]), lengths, tokens
        )
        logits = np.asarray(c["topk_logits"], dtype=np.float64).reshape(-1, k)
        own = np.exp(logits - logits.max(axis=1, keepdims=True))
        own /= own.sum(axis=1, keepdims=True)
        theirs = _next_token_probability(
            np.asarray(c["topk_ids"]), own.reshape(-1), np.full(len(tokens), k), tokens
        )
        pair = np.stack([ours, theirs], axis=1)[:-1]  # the last position has no next token
        for domain in (ALL, block_domain[f["block_id"]]):
            per_domain.setdefault(domain, []).append(pair)
    out = {}
    for domain, parts in per_domain.items():
        both = np.concatenate(parts) if parts else np.zeros((0, 2))
        if len(both):
            out[metric_key("fuse", "true_next", domain, "fused")] = float(both[:, 0].mean())
            out[metric_key("fuse", "true_next", domain, "own")] = float(both[:, 1].mean())
    return out
