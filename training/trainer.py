"""The one continual-training Trainer: ``λ·CLM + (1−λ)·distill`` to sparse fused targets.

Fusion (λ = 0.9, fused targets), KD (λ = 0.9, the teacher's top-k) and the CLM baseline
(λ = 1, no targets) all run through :class:`FusionTrainer`; the loss math lives in
:mod:`training.losses`, accelerate/DeepSpeed/checkpointing stay the Trainer's own.
"""

from __future__ import annotations

import time
from typing import Any

import torch
from transformers import Trainer

from training.losses import DISTILL_LOSSES, clm_loss, combined_loss

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
        labels, mask = inputs.pop("labels"), inputs["attention_mask"]
        outputs = model(**inputs)  # no labels: the model's own loss would be wasted work
        clm = clm_loss(outputs.logits, labels)
        loss, distill = clm, None
        if target_ids is not None:
            distill = self.distill(outputs.logits, target_ids, target_probs, mask)
            loss = combined_loss(clm, distill, self.clm_weight)
        if model.training:
            self._accumulate(clm, distill, mask)
        return (loss, outputs) if return_outputs else loss

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
