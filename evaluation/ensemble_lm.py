"""lm-eval backend for :class:`fusion.ensemble.EnsembleLM`: ``--model fusion_ensemble``.

HFLM accepts an instantiated model as ``pretrained`` and only needs it to look like a HF
causal LM: ``.config``, ``.device``, ``.tie_weights()``, and ``model(ids).logits``, which it
log-softmaxes. The ensemble returns mixture log-probabilities there, already normalised, so
``loglikelihood`` and ``loglikelihood_rolling`` run HFLM's own code unchanged. Only
generation is replaced: HF ``generate`` cannot drive several models' caches, so
``generate_until`` decodes greedily from the mixture (sampling is refused).

Usage: call :func:`register` once, then ``lm_eval --model fusion_ensemble --model_args
"pretrained=A|B|C,weights=0.5|0.25|0.25"`` (or pass lists through the Python API).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from lm_eval.api.registry import register_model
from lm_eval.models.huggingface import HFLM
from lm_eval.models.utils_hf import stop_sequences_criteria

from configs.errors import SuiteError
from fusion.ensemble import EnsembleLM


def _split(value: str | float | Sequence[Any]) -> list[Any]:
    """A list from ``"a|b"`` (``model_args`` strings cannot hold commas), a scalar or a list."""
    if isinstance(value, str):
        return value.split("|")
    return [value] if isinstance(value, int | float) else list(value)


class EnsembleHFLM(HFLM):
    """HFLM over a weighted ensemble of same-tokenizer checkpoints."""

    def __init__(
        self,
        pretrained: str | Sequence[str],
        weights: str | Sequence[float] | None = None,
        dtype: str | torch.dtype = "float32",
        device: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Load every member once and hand the ensemble to HFLM as its model.

        Args:
            pretrained: member model directories, a list or ``"A|B|C"``.
            weights: mixture weights, a list or ``"0.5|0.25|0.25"``; ``None`` is uniform.
            dtype: members' dtype (``"float32"``, ``"bfloat16"``, ...).
            device: where the members run; ``None`` picks CUDA when available.
            **kwargs: HFLM options (``batch_size``, ``max_length``, ``tokenizer``, ...).
        """
        paths = _split(pretrained)
        mix = [float(w) for w in _split(weights)] if weights is not None else None
        dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        ensemble = EnsembleLM.from_pretrained(paths, mix, dtype=dtype).to(device)
        tokenizer = kwargs.pop("tokenizer", None) or paths[0]
        super().__init__(pretrained=ensemble, tokenizer=tokenizer, backend="causal", **kwargs)
        self.member_paths = paths

    def _model_generate(
        self, context: torch.Tensor, max_length: int, stop: list[str], **generation_kwargs: Any
    ) -> torch.Tensor:
        """Greedy decoding from the mixture, stopping like HFLM's ``generate`` would."""
        if generation_kwargs.get("do_sample"):
            raise SuiteError("the ensemble decodes greedily: set do_sample=false for this task")
        criteria = stop_sequences_criteria(self.tokenizer, stop, context.shape[1], len(context))
        return self.model.greedy(
            context,
            generation_kwargs.get("attention_mask"),
            max_length,
            eos_token_id=self.eot_token_id,
            pad_token_id=self.tokenizer.pad_token_id,
            stop=lambda ids: bool(criteria(ids, None).all()),
        )

    def get_model_info(self) -> dict:
        """Members and weights instead of HFLM's hub lookup (which needs a model id)."""
        return {
            "ensemble_members": self.member_paths,
            "ensemble_weights": self.model.weights,
            "model_num_parameters": sum(p.numel() for p in self.model.parameters()),
            "model_dtype": str(self.model.dtype),
        }


def register() -> None:
    """Make ``fusion_ensemble`` known to lm-eval (idempotent: same class, same name)."""
    register_model("fusion_ensemble")(EnsembleHFLM)
