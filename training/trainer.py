"""The one continual-training Trainer: ``λ·CLM + (1−λ)·distill`` to sparse fused targets.

Fusion (λ = 0.9, fused targets), KD (λ = 0.9, the teacher's top-k) and the CLM baseline
(λ = 1, no targets) all run through :class:`FusionTrainer`; the loss math lives in
:mod:`training.losses`, accelerate/DeepSpeed/checkpointing stay the Trainer's own. Both parts
of the objective are cross-entropies of the same logits to sparse targets, so the gradient
comes from one joint target (:func:`training.losses.joint_targets`): one softmax pass and one
B×T×V gradient instead of two of each, which is most of what separates a fusion step from a
CLM step. Targets with a tail bucket (``target_tail``, ``fusion.target: tail``) take the two
parts' own gradients instead: the CLM label must not join the listed ids whose complement is
the tail. ``distill_mask`` (``fusion.fallback: none``) removes positions from distillation.
"""

from __future__ import annotations

import time
from typing import Any

import torch
from transformers import Trainer

from training.losses import (
    DISTILL_LOSSES,
    TAIL_LOSSES,
    clm_loss,
    combined_loss,
    joint_targets,
    sparse_distill_ce,
)

# Slots of the running sums that ``log`` turns into interval means.
_CLM, _DISTILL, _MICRO_BATCHES, _DISTILL_BATCHES, _TOKENS = range(5)


class FusionTrainer(Trainer):
    """A ``Trainer`` whose loss is the FuseLLM objective, logged by part.

    Args:
        clm_weight: λ of ``λ·CLM + (1−λ)·distill`` (1.0 for the CLM baseline).
        distill_loss: a key of :data:`training.losses.DISTILL_LOSSES` (``ce`` or ``kl``).
        *args, **kwargs: as for ``transformers.Trainer``.
    """

    def __init__(self, *args: Any, clm_weight: float, distill_loss: str = "ce", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.clm_weight = clm_weight
        self.distill = DISTILL_LOSSES[distill_loss]
        self.tail_distill = TAIL_LOSSES[distill_loss]
        # Our loss is a per-micro-batch mean (as in the reference trainer), not a sum over
        # num_items_in_batch: let the Trainer divide it by the accumulation steps.
        self.model_accepts_loss_kwargs = False
        self._running = torch.zeros(5, dtype=torch.float64, device=self.args.device)
        self._interval_start: float | None = None  # first micro-batch since the last log

    def compute_loss(
        self,
        model: torch.nn.Module,
        inputs: dict[str, torch.Tensor],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        """``λ·clm + (1−λ)·distill`` when the batch has targets, else the CLM loss.

        ``num_items_in_batch`` is accepted for the Trainer's signature and unused: every
        part is a mean over its own micro-batch (see ``model_accepts_loss_kwargs``).
        """
        self._interval_start = self._interval_start or time.perf_counter()
        target_ids = inputs.pop("target_ids", None)
        target_probs = inputs.pop("target_probs", None)
        target_tail = inputs.pop("target_tail", None)
        distill_mask = inputs.pop("distill_mask", None)
        labels, mask = inputs.pop("labels"), inputs["attention_mask"]
        outputs = model(**inputs)  # no labels: the model's own loss would be wasted work
        if target_ids is None:
            loss = clm = clm_loss(outputs.logits, labels)
            distill = None
        else:
            distilled = mask.bool() if distill_mask is None else mask.bool() & distill_mask
            parts = (outputs.logits, labels, target_ids, target_probs, distilled)
            if target_tail is None:
                loss, clm, distill = self._combined(*parts)
            else:
                loss, clm, distill = self._combined_tail(*parts, target_tail)
        if model.training:
            self._accumulate(clm, distill, mask)
        return (loss, outputs) if return_outputs else loss

    def _combined(
        self,
        logits: torch.Tensor,
        labels: torch.Tensor,
        target_ids: torch.Tensor,
        target_probs: torch.Tensor,
        mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The objective with the joint target's gradient, and its two parts' values.

        The parts are recomputed without gradient (a forward pass each, far cheaper than a
        backward) for logging and for the exact value: KL differs from CE by the targets'
        entropy, a constant, so its gradient is the joint CE's too.
        """
        ids, weights, joint = joint_targets(labels, target_ids, target_probs, mask, self.clm_weight)
        loss = sparse_distill_ce(logits, ids, weights, joint)
        with torch.no_grad():
            clm = clm_loss(logits, labels)
            distill = self.distill(logits, target_ids, target_probs, mask)
        exact = combined_loss(clm, distill, self.clm_weight)
        return loss + (exact - loss).detach(), clm, distill

    def _combined_tail(
        self,
        logits: torch.Tensor,
        labels: torch.Tensor,
        target_ids: torch.Tensor,
        target_probs: torch.Tensor,
        mask: torch.Tensor,
        target_tail: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The objective to a target with a tail bucket, and its two parts."""
        clm = clm_loss(logits, labels)
        distill = self.tail_distill(logits, target_ids, target_probs, target_tail, mask)
        return combined_loss(clm, distill, self.clm_weight), clm.detach(), distill.detach()

    def _accumulate(
        self, clm: torch.Tensor, distill: torch.Tensor | None, mask: torch.Tensor
    ) -> None:
        """Add one micro-batch to the running sums (on device: no sync per micro-batch)."""
        has_distill = distill is not None
        part = [clm, distill if has_distill else torch.zeros_like(clm)]
        part += [torch.ones_like(clm), torch.full_like(clm, has_distill), mask.sum()]
        self._running += torch.stack([p.detach().double() for p in part])

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        """Add interval means ``clm_loss`` / ``distill_loss`` and ``tokens_per_s`` to step logs.

        Step logs (those with ``loss``) reach this method on every rank, so the running sums
        are gathered here; ``tokens_per_s`` counts non-padding tokens of all ranks.
        """
        if "loss" in logs and self._running[_MICRO_BATCHES] > 0:
            sums = self._nested_gather(self._running).view(-1, 5).sum(0).tolist()
            logs["clm_loss"] = round(sums[_CLM] / sums[_MICRO_BATCHES], 4)
            if sums[_DISTILL_BATCHES] > 0:
                logs["distill_loss"] = round(sums[_DISTILL] / sums[_DISTILL_BATCHES], 4)
            elapsed = time.perf_counter() - self._interval_start
            logs["tokens_per_s"] = round(sums[_TOKENS] / max(elapsed, 1e-9), 1)
            self._running.zero_()
            self._interval_start = None
        super().log(logs, start_time)
