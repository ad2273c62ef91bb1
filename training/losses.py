"""Training losses for FuseLLM continual training: ``λ·CLM + (1−λ)·distill``.

The distillation target is the *sparse* fused teacher distribution: per position the top-K
token ids and their probabilities (K≈10, padding entries have probability 0 and any valid
id, e.g. 0). The reference implementation scatters them into a dense B×T×V target; here the
loss gathers K entries of a chunk-wise log-softmax and a hand-written backward writes
``softmax·Σp − scatter(p)`` once, so no B×T×V tensor exists besides the logits and their
gradient.

Alignment convention:
    Everything is indexed by *prediction position*. ``logits[:, t]`` is the model's
    next-token distribution after reading ``input_ids[:, :t+1]`` (it predicts token t+1),
    and ``target_ids[:, t]`` / ``target_probs[:, t]`` are the fused teacher's top-K
    next-token prediction made at the same position t. Logits and targets are therefore
    already aligned and the distillation losses shift *neither* side: pass the full
    ``(B, T, V)`` logits and ``(B, T, K)`` targets unsliced. As in the reference trainer the
    distillation mask is the attention mask, so the last real position (whose teacher
    prediction concerns a token beyond the text) is included. Only :func:`clm_loss` shifts,
    and it shifts the *labels* (one step left, like Hugging Face), so it also takes
    unsliced logits and ``labels`` aligned with ``input_ids``.

Averaging: every loss is a mean over positions with ``mask`` true, including masked-in
positions whose probabilities are all 0 (they contribute 0 but count in the denominator,
like the reference's ``(loss * attention_mask).sum() / attention_mask.sum()``). An all-false
mask gives 0 rather than the reference's 0/0 = NaN, so an empty micro-batch cannot poison
training.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F

from training.collator import IGNORE_INDEX

# Rows of the logits are processed in chunks of about this many elements, so the fp32
# temporaries stay small whatever B×T×V is. Measured fwd+bwd: on 2 CPU cores (B2 T512
# V32000) 2**20..2**21 (4-8 MB fp32, cache-resident) beat larger chunks; on an H100 (B4
# T2048 V32000) 2**24 was 9-23% faster than the dense form, with the gradient plus a 64 MB
# workspace as its only large allocations, while smaller chunks paid for kernel launches.
_CHUNK_ELEMS_CPU = 1 << 20
_CHUNK_ELEMS_ACCEL = 1 << 24


def _compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """fp32 for half/bf16/fp32 logits, fp64 for fp64 (so gradcheck stays exact)."""
    return torch.promote_types(dtype, torch.float32)


def _chunk_rows(logits: torch.Tensor) -> int:
    elems = _CHUNK_ELEMS_CPU if logits.device.type == "cpu" else _CHUNK_ELEMS_ACCEL
    return max(1, min(logits.shape[1], elems // logits.shape[-1]))


def _row_chunks(logits: torch.Tensor) -> Iterator[tuple[int, slice]]:
    """Yield ``(b, t_slice)`` so that ``logits[b, t_slice]`` is a view of about one chunk."""
    step = _chunk_rows(logits)
    for b in range(logits.shape[0]):
        for t0 in range(0, logits.shape[1], step):
            yield b, slice(t0, t0 + step)


def _workspace(logits: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """One ``(rows, V)`` buffer that every chunk reuses.

    Fresh per-chunk temporaries (e.g. the upcast that ``dtype=`` arguments make) cost a new
    allocation, page-faulted on CPU, each time; that made bf16 up to 1.7× slower.
    """
    return torch.empty(_chunk_rows(logits), logits.shape[-1], dtype=dtype, device=logits.device)


def _in_compute_dtype(chunk: torch.Tensor, workspace: torch.Tensor) -> torch.Tensor:
    """``chunk`` itself if already in the workspace dtype, else upcast into the workspace."""
    if chunk.dtype == workspace.dtype:
        return chunk
    return workspace[: chunk.shape[0]].copy_(chunk)


def _sparse_ce_value(
    logits: torch.Tensor, target_ids: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """``−Σ w · log_softmax(logits)[ids]``, one log-softmax chunk at a time.

    Log-softmax is one fused kernel per chunk (logsumexp would be four: amax, sub, exp,
    sum) and gives the same log-probabilities as the dense form; only the K gathered
    entries of each chunk are kept.

    Args:
        logits: ``(B, T, V)`` any float dtype, any strides.
        target_ids: ``(B, T, K)`` int64.
        weights: ``(B, T, K)`` compute dtype, mask and 1/denominator folded in.

    Returns:
        Scalar of the dtype of ``weights``.
    """
    workspace = _workspace(logits, weights.dtype)  # (rows, V)
    parts = []
    for b, ts in _row_chunks(logits):
        chunk = _in_compute_dtype(logits[b, ts], workspace)  # (t, V)
        # Possibly in place (upcast chunk): safe, the row-wise kernel reads before writing.
        log_q = torch.log_softmax(chunk, dim=-1, out=workspace[: chunk.shape[0]])  # (t, V)
        parts.append((weights[b, ts] * log_q.gather(-1, target_ids[b, ts])).sum())
    return -torch.stack(parts).sum()


def _sparse_ce_grad(
    logits: torch.Tensor, target_ids: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """Gradient ``softmax·Σw − scatter(w)`` written once, chunk by chunk, into one buffer.

    fp32/fp64 logits: computed directly in the gradient; bf16/fp16: in the fp32 workspace,
    then rounded into the gradient.

    Args:
        logits: ``(B, T, V)`` any float dtype.
        target_ids: ``(B, T, K)`` int64.
        weights: ``(B, T, K)`` compute dtype; holds mask, 1/denominator and the incoming
            gradient.

    Returns:
        ``(B, T, V)`` contiguous gradient with the dtype of ``logits``.
    """
    grad = torch.empty(logits.shape, dtype=logits.dtype, device=logits.device)  # (B, T, V)
    row_weight = weights.sum(-1, keepdim=True)  # (B, T, 1)
    neg_weights = weights.neg()  # (B, T, K)
    upcast = logits.dtype != weights.dtype
    workspace = _workspace(logits, weights.dtype) if upcast else None  # (rows, V)
    for b, ts in _row_chunks(logits):
        if workspace is None:
            buf = torch.softmax(logits[b, ts], dim=-1, out=grad[b, ts])  # (t, V)
        else:
            chunk = _in_compute_dtype(logits[b, ts], workspace)  # (t, V)
            # In place is safe: the row-wise kernel reads a row fully before writing it.
            buf = torch.softmax(chunk, dim=-1, out=chunk)
        buf.mul_(row_weight[b, ts]).scatter_add_(-1, target_ids[b, ts], neg_weights[b, ts])
        if upcast:
            grad[b, ts].copy_(buf)
    return grad


class _SparseWeightedCE(torch.autograd.Function):
    """``−Σ_{b,t,k} w[b,t,k] · log_softmax(logits)[b,t,ids[b,t,k]]`` with a fused backward.

    ``w`` already folds in the mask and the 1/denominator, so the value is a plain sum.
    Nothing is saved but the inputs. No gradient flows to ``w`` (teacher targets are
    constants).
    """

    @staticmethod
    def forward(
        ctx: torch.autograd.function.FunctionCtx,
        logits: torch.Tensor,
        target_ids: torch.Tensor,
        weights: torch.Tensor,
    ) -> torch.Tensor:
        ctx.save_for_backward(logits, target_ids, weights)
        return _sparse_ce_value(logits, target_ids, weights)

    @staticmethod
    def backward(
        ctx: torch.autograd.function.FunctionCtx, grad_out: torch.Tensor
    ) -> tuple[torch.Tensor, None, None]:
        logits, target_ids, weights = ctx.saved_tensors
        return _sparse_ce_grad(logits, target_ids, weights * grad_out), None, None


def _masked_weights(
    target_probs: torch.Tensor, mask: torch.Tensor, dtype: torch.dtype
) -> torch.Tensor:
    """``p · mask / max(Σmask, 1)`` as ``(B, T, K)`` ``dtype``: mean over masked-in positions."""
    mask = mask.bool()
    denom = mask.sum().clamp(min=1).to(dtype)
    probs = target_probs.to(dtype)
    return torch.where(mask.unsqueeze(-1), probs, 0.0) / denom


def _check_shapes(
    logits: torch.Tensor, target_ids: torch.Tensor, target_probs: torch.Tensor, mask: torch.Tensor
) -> None:
    if logits.dim() != 3:
        raise ValueError(f"logits must be (B, T, V), got {tuple(logits.shape)}")
    if target_ids.shape != target_probs.shape or target_ids.shape[:2] != logits.shape[:2]:
        raise ValueError(
            f"target_ids {tuple(target_ids.shape)} / target_probs {tuple(target_probs.shape)} "
            f"must both be (B, T, K) with (B, T) = {tuple(logits.shape[:2])}"
        )
    if mask.shape != logits.shape[:2]:
        raise ValueError(f"mask must be {tuple(logits.shape[:2])}, got {tuple(mask.shape)}")


def sparse_distill_ce(
    logits: torch.Tensor,
    target_ids: torch.Tensor,
    target_probs: torch.Tensor,
    mask: torch.Tensor,
) -> torch.Tensor:
    """Masked-mean cross-entropy ``−Σ_k p_k · log_softmax(logits)[id_k]`` to a sparse target.

    Equal in value and gradient to :func:`dense_distill_ce` (to fp32 rounding) while
    allocating nothing of size B×T×V but the gradient of the logits.

    Args:
        logits: ``(B, T, V)`` student logits, any float dtype (computed in fp32, fp64 kept).
        target_ids: ``(B, T, K)`` int64/int32 teacher top-K ids, aligned with ``logits``.
            Ids with nonzero probability must be distinct within a position.
        target_probs: ``(B, T, K)`` float probabilities; padding entries are 0. Receives no
            gradient.
        mask: ``(B, T)`` bool/int, positions to average over (the attention mask).

    Returns:
        Scalar fp32 (fp64 for fp64 logits) loss.
    """
    _check_shapes(logits, target_ids, target_probs, mask)
    weights = _masked_weights(target_probs, mask, _compute_dtype(logits.dtype))  # (B, T, K)
    return _SparseWeightedCE.apply(logits, target_ids.long(), weights)


def sparse_distill_kl(
    logits: torch.Tensor,
    target_ids: torch.Tensor,
    target_probs: torch.Tensor,
    mask: torch.Tensor,
) -> torch.Tensor:
    """Masked-mean ``KL(p‖q) = Σ p log p − Σ p log q`` over the sparse support (0·log 0 = 0).

    Computed as CE − entropy(p); the entropy is constant wrt the logits, so the gradient is
    the CE gradient. Matches the reference ``kl_div(log_softmax(logits), dense_p).sum(-1)``.
    Arguments and return value as in :func:`sparse_distill_ce`.
    """
    ce = sparse_distill_ce(logits, target_ids, target_probs, mask)
    weights = _masked_weights(target_probs, mask, ce.dtype)  # (B, T, K)
    # Σ w·log p = mean over masked-in positions of Σ_k p log p; xlogy makes 0·log 0 = 0.
    neg_entropy = torch.xlogy(weights, target_probs.to(ce.dtype)).sum()
    return ce + neg_entropy


def _tail_log_mass(log_q: torch.Tensor, ids: torch.Tensor, listed: torch.Tensor) -> torch.Tensor:
    """``log Σ_{j not listed} q_j`` per row, stably: a logsumexp of ``log_q`` with the listed
    ids set to −inf (in place), never ``log(1 − Σ q_listed)``, which cancels to log 0 when
    the student puts nearly all its mass on the listed ids.

    Args:
        log_q: ``(t, V)`` log-probabilities, overwritten.
        ids: ``(t, K)`` int64; ``listed``: ``(t, K)`` bool, false for padding entries (whose
            ids stay in the tail, even when a listed entry shares the id).

    Returns:
        ``(t,)`` log tail mass (−inf where every id is listed).
    """
    inf = torch.tensor(float("inf"), dtype=log_q.dtype, device=log_q.device)
    log_q.scatter_reduce_(-1, ids, torch.where(listed, -inf, inf), reduce="amin")
    return torch.logsumexp(log_q, dim=-1)


def _tail_ce_value(
    logits: torch.Tensor,
    ids: torch.Tensor,
    weights: torch.Tensor,
    tail_weights: torch.Tensor,
    listed: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``−Σ w·log q[ids] − Σ w_tail·log q_tail`` chunk by chunk, and the ``(B, T)`` log tail
    masses (saved for the backward). Shapes as in :class:`_SparseTailCE`."""
    workspace = _workspace(logits, weights.dtype)  # (rows, V)
    log_tail = torch.empty(logits.shape[:2], dtype=weights.dtype, device=logits.device)
    parts = []
    for b, ts in _row_chunks(logits):
        chunk = _in_compute_dtype(logits[b, ts], workspace)  # (t, V)
        log_q = torch.log_softmax(chunk, dim=-1, out=workspace[: chunk.shape[0]])  # (t, V)
        listed_part = (weights[b, ts] * log_q.gather(-1, ids[b, ts])).sum()
        log_tail[b, ts] = _tail_log_mass(log_q, ids[b, ts], listed[b, ts])  # (t,)
        tail = torch.where(tail_weights[b, ts] != 0, tail_weights[b, ts] * log_tail[b, ts], 0.0)
        parts.append(listed_part + tail.sum())
    return -torch.stack(parts).sum(), log_tail


def _tail_ce_grad(
    logits: torch.Tensor,
    ids: torch.Tensor,
    weights: torch.Tensor,
    tail_weights: torch.Tensor,
    listed: torch.Tensor,
    log_tail: torch.Tensor,
) -> torch.Tensor:
    """``q·(Σw + w_tail) − scatter(w) − w_tail·q/q_tail`` on the unlisted ids, per chunk.

    The tail term's gradient is ``w_tail·(q − [j unlisted]·q_j/q_tail)``; ``q_j/q_tail`` is
    computed as ``exp(log q_j − log q_tail)`` (≤ 1 on the unlisted ids, clamped elsewhere
    before the listed ids are zeroed), so no row overflows however small its tail.
    """
    grad = torch.empty(logits.shape, dtype=logits.dtype, device=logits.device)  # (B, T, V)
    workspace, spare = _workspace(logits, weights.dtype), _workspace(logits, weights.dtype)
    row_weight = weights.sum(-1, keepdim=True) + tail_weights.unsqueeze(-1)  # (B, T, 1)
    shift = torch.where(tail_weights != 0, log_tail, 0.0).unsqueeze(-1)  # (B, T, 1)
    unlisted = (~listed).to(weights.dtype)  # (B, T, K): 0 zeroes a listed id's tail term
    for b, ts in _row_chunks(logits):
        chunk = _in_compute_dtype(logits[b, ts], workspace)  # (t, V)
        log_q = torch.log_softmax(chunk, dim=-1, out=workspace[: chunk.shape[0]])  # (t, V)
        tail = torch.sub(log_q, shift[b, ts], out=spare[: chunk.shape[0]]).clamp_(max=0.0)
        tail.exp_().mul_(tail_weights[b, ts].unsqueeze(-1))
        tail.scatter_reduce_(-1, ids[b, ts], unlisted[b, ts], reduce="prod")
        buf = log_q.exp_().mul_(row_weight[b, ts]).sub_(tail)
        buf.scatter_add_(-1, ids[b, ts], weights[b, ts].neg())
        grad[b, ts].copy_(buf)
    return grad


class _SparseTailCE(torch.autograd.Function):
    """``−Σ w[b,t,k]·log q[b,t,ids] − Σ w_tail[b,t]·log Σ_{j unlisted} q[b,t,j]``.

    ``weights`` ``(B, T, K)`` and ``tail_weights`` ``(B, T)`` fold in the mask and the
    1/denominator; ``listed`` ``(B, T, K)`` marks the entries that are part of the listed set
    (not padding). Saves the inputs and the ``(B, T)`` log tail masses.
    """

    @staticmethod
    def forward(
        ctx: torch.autograd.function.FunctionCtx,
        logits: torch.Tensor,
        ids: torch.Tensor,
        weights: torch.Tensor,
        tail_weights: torch.Tensor,
        listed: torch.Tensor,
    ) -> torch.Tensor:
        value, log_tail = _tail_ce_value(logits, ids, weights, tail_weights, listed)
        ctx.save_for_backward(logits, ids, weights, tail_weights, listed, log_tail)
        return value

    @staticmethod
    def backward(
        ctx: torch.autograd.function.FunctionCtx, grad_out: torch.Tensor
    ) -> tuple[torch.Tensor, None, None, None, None]:
        logits, ids, weights, tail_weights, listed, log_tail = ctx.saved_tensors
        grad = _tail_ce_grad(
            logits, ids, weights * grad_out, tail_weights * grad_out, listed, log_tail
        )
        return grad, None, None, None, None


def _check_tail(logits: torch.Tensor, target_tail: torch.Tensor) -> None:
    if target_tail.shape != logits.shape[:2]:
        raise ValueError(
            f"target_tail must be {tuple(logits.shape[:2])}, got {tuple(target_tail.shape)}"
        )


def sparse_tail_ce(
    logits: torch.Tensor,
    target_ids: torch.Tensor,
    target_probs: torch.Tensor,
    target_tail: torch.Tensor,
    mask: torch.Tensor,
) -> torch.Tensor:
    """Masked-mean CE to a sparse target with a tail bucket (``fusion.target: tail``):
    ``−Σ_k p_k·log q[id_k] − r·log(1 − Σ_k q[id_k])``.

    The top-k carry their true probabilities and ``r = 1 − Σ_k p_k`` is the teacher's mass on
    every other token, one bucket whose student probability is the student's mass outside the
    listed ids (computed stably, :func:`_tail_log_mass`). Exact for the bucketed distribution,
    where the renormalized target (:func:`sparse_distill_ce`) scales the top-k up to 1 and
    teaches the student to give every other token 0. Value and gradient equal the dense form
    to fp32 rounding; nothing of size B×T×V is allocated but the gradient.

    Args:
        logits: ``(B, T, V)`` student logits, any float dtype.
        target_ids: ``(B, T, K)`` int ids, distinct among entries with ``p > 0``.
        target_probs: ``(B, T, K)`` true probabilities; entries with ``p = 0`` (padding) are
            not listed: their ids belong to the tail.
        target_tail: ``(B, T)`` tail mass ``r``.
        mask: ``(B, T)`` positions to average over.

    Returns:
        Scalar fp32 (fp64 for fp64 logits) loss.
    """
    _check_shapes(logits, target_ids, target_probs, mask)
    _check_tail(logits, target_tail)
    dtype = _compute_dtype(logits.dtype)
    weights = _masked_weights(target_probs, mask, dtype)  # (B, T, K)
    tail_weights = _masked_weights(target_tail.unsqueeze(-1), mask, dtype).squeeze(-1)  # (B, T)
    listed = target_probs > 0  # (B, T, K)
    return _SparseTailCE.apply(logits, target_ids.long(), weights, tail_weights, listed)


def sparse_tail_kl(
    logits: torch.Tensor,
    target_ids: torch.Tensor,
    target_probs: torch.Tensor,
    target_tail: torch.Tensor,
    mask: torch.Tensor,
) -> torch.Tensor:
    """Masked-mean KL of the bucketed distributions: :func:`sparse_tail_ce` minus the entropy
    of ``(p_1..p_K, r)`` (a constant, so the gradient is the CE's). Arguments as there."""
    ce = sparse_tail_ce(logits, target_ids, target_probs, target_tail, mask)
    weights = _masked_weights(target_probs, mask, ce.dtype)  # (B, T, K)
    tail_weights = _masked_weights(target_tail.unsqueeze(-1), mask, ce.dtype)  # (B, T, 1)
    neg_entropy = torch.xlogy(weights, target_probs.to(ce.dtype)).sum()
    neg_entropy = neg_entropy + torch.xlogy(tail_weights, target_tail.to(ce.dtype)[..., None]).sum()
    return ce + neg_entropy


def dense_distill_ce(
    logits: torch.Tensor,
    target_ids: torch.Tensor,
    target_probs: torch.Tensor,
    mask: torch.Tensor,
) -> torch.Tensor:
    """Reference dense form, as in the original FuseLLM trainer: tests and the bench only.

    Scatters the sparse target into a dense ``(B, T, V)`` distribution and takes
    ``−Σ target · log_softmax(logits)`` with a masked mean; allocates several B×T×V tensors.
    Arguments and return value as in :func:`sparse_distill_ce`.
    """
    _check_shapes(logits, target_ids, target_probs, mask)
    dtype = _compute_dtype(logits.dtype)
    log_q = torch.log_softmax(logits.to(dtype), dim=-1)  # (B, T, V)
    # scatter_add, not scatter: padding ids (p = 0) may collide with a real id.
    target = torch.zeros_like(log_q).scatter_add_(
        -1, target_ids.long(), target_probs.to(dtype)
    )  # (B, T, V)
    per_position = -(target * log_q).sum(-1)  # (B, T)
    mask = mask.to(dtype)
    return (per_position * mask).sum() / mask.sum().clamp(min=1)


def clm_loss(logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """Next-token cross-entropy, mean over labels that are not ``ignore_index``.

    Same value as Hugging Face's causal-LM loss (labels shifted left, logits unshifted,
    without ``num_items_in_batch``), but computed as :func:`sparse_distill_ce` with a K=1
    one-hot target: no fp32 copy of the logits and the same fused backward.

    Args:
        logits: ``(B, T, V)`` any float dtype.
        labels: ``(B, T)`` int, aligned with ``input_ids`` (not pre-shifted).
        ignore_index: label value excluded from the loss and its denominator.

    Returns:
        Scalar fp32 loss (0 if every label is ignored).
    """
    next_labels = F.pad(labels[:, 1:], (0, 1), value=ignore_index)  # (B, T)
    mask = next_labels != ignore_index  # (B, T)
    target_ids = torch.where(mask, next_labels, 0).unsqueeze(-1)  # (B, T, 1)
    target_probs = torch.ones(target_ids.shape, device=logits.device)  # (B, T, 1)
    return sparse_distill_ce(logits, target_ids, target_probs, mask)


def combined_loss(clm: torch.Tensor, distill: torch.Tensor, lam: float) -> torch.Tensor:
    """FuseLLM objective ``λ·CLM + (1−λ)·distill`` (``lam`` is ``lm_loss_weight``)."""
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam must be in [0, 1], got {lam}")
    return lam * clm + (1.0 - lam) * distill


DistillLoss = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]

DISTILL_LOSSES: dict[str, DistillLoss] = {"ce": sparse_distill_ce, "kl": sparse_distill_kl}
# training.distill_loss for targets with a tail bucket (fusion.target: tail).
TAIL_LOSSES: dict[str, Callable[..., torch.Tensor]] = {"ce": sparse_tail_ce, "kl": sparse_tail_kl}


def joint_targets(
    labels: torch.Tensor,
    target_ids: torch.Tensor,
    target_probs: torch.Tensor,
    mask: torch.Tensor,
    clm_weight: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One sparse target whose cross-entropy is ``λ·CLM + (1−λ)·CE(targets)``.

    The next label is appended to the teacher's top-K. Each part keeps its own mean (CLM over
    positions with a next label, distill over ``mask``): weights are rescaled from the part's
    position count to that of the joint mask. A label that already is a top-K id adds its
    weight to that entry, as the sparse loss wants distinct ids.

    Args:
        labels: ``(B, T)`` aligned with ``input_ids``, ``IGNORE_INDEX`` where not scored.
        target_ids / target_probs: ``(B, T, K)`` teacher top-K, aligned with the logits.
        mask: ``(B, T)`` the attention mask (positions the distill loss averages over).
        clm_weight: λ.

    Returns:
        ``(B, T, K+1)`` ids and weights, and the ``(B, T)`` bool joint mask, for
        :func:`training.losses.sparse_distill_ce`.
    """
    next_labels = F.pad(labels[:, 1:], (0, 1), value=IGNORE_INDEX)  # (B, T)
    clm_mask, distill_mask = next_labels != IGNORE_INDEX, mask.bool()  # (B, T)
    joint = clm_mask | distill_mask  # (B, T)
    count = joint.sum()
    clm_w = clm_mask * (clm_weight * count / clm_mask.sum().clamp(min=1))  # (B, T)
    distill_w = distill_mask * ((1 - clm_weight) * count / distill_mask.sum().clamp(min=1))
    label = torch.where(clm_mask, next_labels, 0).unsqueeze(-1)  # (B, T, 1)
    same = (target_ids == label) & (target_probs > 0)  # (B, T, K), at most one per position
    probs = target_probs * distill_w.unsqueeze(-1) + same * clm_w.unsqueeze(-1)  # (B, T, K)
    extra = torch.where(same.any(-1), 0.0, clm_w).unsqueeze(-1)  # (B, T, 1)
    return torch.cat([target_ids, label], -1), torch.cat([probs, extra], -1), joint
