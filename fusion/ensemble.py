"""Output ensembling: a weighted mixture of same-tokenizer models' next-token distributions.

The paper's ensemble baseline averages the models' *probabilities*; averaging logits would be
a different (product-of-experts) model. The mixture is kept in log space,
``log p(x) = logsumexp_m(log w_m + log_softmax(z_m)(x))``, accumulated member by member so
only two (B, T, V) float32 buffers are alive at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor
from transformers import AutoModelForCausalLM, AutoTokenizer, PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import CausalLMOutput

from configs.errors import SuiteError
from fusion.merge.driver import check_vocabularies


class EnsembleLM(torch.nn.Module):
    """M causal LMs sharing one tokenizer, scored as the weighted mixture of their outputs.

    ``forward`` returns log-probabilities as ``logits``: ``log_softmax(logits)`` is the
    mixture itself, so code written for HF models (HFLM, losses) works unchanged.
    """

    def __init__(self, models: Sequence[PreTrainedModel], weights: Sequence[float] | None = None):
        """Hold ``models`` (already loaded) and their normalised mixture weights.

        Args:
            models: causal LMs with the same output vocabulary (same tokenizer).
            weights: one non-negative weight per model; ``None`` is uniform.
        """
        super().__init__()
        weights = [1.0] * len(models) if weights is None else [float(w) for w in weights]
        if len(weights) != len(models) or min(weights) < 0 or sum(weights) <= 0:
            raise SuiteError(
                f"ensemble weights {weights}: need one non-negative weight per model "
                f"({len(models)}), not all 0"
            )
        sizes = {m.get_output_embeddings().weight.shape[0] for m in models}
        if len(sizes) > 1:
            raise SuiteError(f"ensemble members have different output sizes {sorted(sizes)}")
        self.members = torch.nn.ModuleList(models)
        self.weights = [w / sum(weights) for w in weights]
        # log(0) = -inf drops a member from the mixture exactly (logaddexp(-inf, x) = x).
        self.log_weights = [math.log(w) if w > 0 else -math.inf for w in self.weights]

    @classmethod
    def from_pretrained(
        cls,
        paths: Sequence[str],
        weights: Sequence[float] | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> EnsembleLM:
        """Load each model once, refusing members whose tokenizer vocabularies differ."""
        vocabs = [AutoTokenizer.from_pretrained(p).get_vocab() for p in paths]
        check_vocabularies(list(paths), vocabs)
        models = [AutoModelForCausalLM.from_pretrained(p, dtype=dtype) for p in paths]
        return cls([m.eval() for m in models], weights)

    @property
    def config(self) -> PretrainedConfig:
        """Member 0's config: HFLM reads model type, max length and special ids from it."""
        return self.members[0].config

    @property
    def device(self) -> torch.device:
        return self.members[0].device

    @property
    def dtype(self) -> torch.dtype:
        return self.members[0].dtype

    def tie_weights(self) -> None:
        """Re-tie each member's embeddings (HFLM calls this on the model it is given)."""
        for member in self.members:
            member.tie_weights()

    def _mixture(self, member_logits: Iterable[Tensor]) -> Tensor:
        """Log of the weighted mixture of the members' softmaxes: (..., V) -> (..., V) fp32."""
        mixed = None
        for log_w, logits in zip(self.log_weights, member_logits, strict=True):
            scored = F.log_softmax(logits.float(), dim=-1) + log_w
            mixed = scored if mixed is None else torch.logaddexp(mixed, scored)
        return mixed

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        labels: Tensor | None = None,
    ) -> CausalLMOutput:
        """Mixture log-probabilities for every position, and the shifted CE when ``labels``.

        Args:
            input_ids: (B, T) token ids.
            attention_mask: (B, T) 1 for real tokens, 0 for padding; ``None`` is all ones.
            labels: (B, T) targets, ``-100`` ignored; position t predicts ``labels[t + 1]``.

        Returns:
            ``CausalLMOutput`` with ``logits`` (B, T, V) float32 log-probabilities and
            ``loss`` (mean token NLL of the mixture) when ``labels`` is given.
        """
        outputs = (m(input_ids=input_ids, attention_mask=attention_mask) for m in self.members)
        logits = self._mixture(o.logits for o in outputs)
        loss = None
        if labels is not None:
            shifted = logits[:, :-1].reshape(-1, logits.shape[-1])
            loss = F.cross_entropy(shifted, labels[:, 1:].reshape(-1), ignore_index=-100)
        return CausalLMOutput(loss=loss, logits=logits)

    @torch.no_grad()
    def greedy(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None,
        max_length: int,
        eos_token_id: int,
        pad_token_id: int,
        stop: Callable[[Tensor], bool] | None = None,
    ) -> Tensor:
        """Greedy decoding from the mixture, one KV cache per member.

        Args:
            input_ids: (B, T) left-padded prompts.
            attention_mask: (B, T) prompt mask; ``None`` is all ones.
            max_length: total length (prompt + new tokens) at which to stop.
            eos_token_id: a row that emits it is finished; later positions get ``pad_token_id``.
            pad_token_id: filler for finished rows.
            stop: called with the (B, t) sequences so far; ``True`` ends decoding.

        Returns:
            (B, <= max_length) prompts followed by the generated tokens.
        """
        mask = torch.ones_like(input_ids) if attention_mask is None else attention_mask
        positions = (mask.cumsum(-1) - 1).clamp(min=0)  # left padding shifts positions
        caches, step, out = [None] * len(self.members), input_ids, input_ids
        done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        while out.shape[1] < max_length:
            logits = []
            for i, member in enumerate(self.members):
                o = member(
                    input_ids=step,
                    attention_mask=mask,
                    position_ids=positions[:, -step.shape[1] :],
                    past_key_values=caches[i],
                    use_cache=True,
                )
                caches[i] = o.past_key_values
                logits.append(o.logits[:, -1])
            token = self._mixture(logits).argmax(-1).masked_fill(done, pad_token_id)
            out = torch.cat([out, token[:, None]], dim=1)
            done |= token == eos_token_id
            if done.all() or (stop is not None and stop(out)):
                break
            step, mask = token[:, None], torch.cat([mask, torch.ones_like(token[:, None])], 1)
            positions = torch.cat([positions, positions[:, -1:] + 1], dim=1)
        return out
