"""Loglikelihood multiple choice for the world card: the cheapest measurement that separates
a model that knows a fact from one that guesses.

Each choice is scored as lm-eval scores ``acc_norm``: the summed log-probability of the
continuation's tokens after the context, divided by the continuation's length in bytes (so a
longer answer is not penalised for its length), and the item is right when the true choice
scores highest. The context and continuation are tokenized together and split where the
context's own tokens end (lm-eval's rule), after the model's BOS token (or EOS where it has
none), as `evaluation.perplexity` does. All choices of all items go through the model in
batches of similar length, so a card of ~1,500 items costs seconds on a tiny model.
"""

from __future__ import annotations

import inspect

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase


def encode_pair(
    tokenizer: PreTrainedTokenizerBase, context: str, continuation: str, max_len: int
) -> tuple[list[int], int]:
    """Token ids of BOS + context + continuation, cut from the left to ``max_len``, and how
    many of the last ids are the continuation's."""
    start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    whole = tokenizer(context + continuation, add_special_tokens=False).input_ids
    n_context = len(tokenizer(context, add_special_tokens=False).input_ids)
    n_cont = len(whole) - n_context
    if n_cont < 1 or n_cont >= max_len:
        raise ValueError(
            f"continuation {continuation!r} has {n_cont} tokens; needs 1..{max_len - 1}"
        )
    return ([start, *whole])[-max_len:], n_cont


def _keeps_logits(model: PreTrainedModel) -> bool:
    """Whether the model's forward takes ``logits_to_keep`` (Llama, GPT-NeoX; not MPT)."""
    return "logits_to_keep" in inspect.signature(model.forward).parameters


@torch.inference_mode()
def continuation_logprobs(
    model: PreTrainedModel,
    sequences: list[tuple[list[int], int]],
    pad_id: int,
    batch_size: int,
    all_logits: bool = False,
) -> list[float]:
    """Summed log-probability of each sequence's last ``n`` tokens, in input order.

    Only the positions that predict a continuation token get logits where the model allows it
    (``logits_to_keep``, the union over the batch): the vocabulary projection and softmax at
    every context position were most of the card's cost. ``all_logits`` computes them all
    (the way before, which ``make bench`` times against this one).
    """
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i][0]))
    out = [0.0] * len(sequences)
    select = not all_logits and _keeps_logits(model)
    for begin in range(0, len(order), batch_size):
        chunk = order[begin : begin + batch_size]
        width = max(len(sequences[i][0]) for i in chunk)
        ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for row, i in enumerate(chunk):
            seq = sequences[i][0]
            ids[row, : len(seq)] = torch.tensor(seq)
            mask[row, : len(seq)] = 1
        spans = {
            i: range(len(sequences[i][0]) - sequences[i][1] - 1, len(sequences[i][0]) - 1)
            for i in chunk
        }
        keep = torch.tensor(sorted({p for span in spans.values() for p in span}))
        extra = {"logits_to_keep": keep} if select else {}
        logits = model(input_ids=ids, attention_mask=mask, **extra).logits.float()
        logprobs = torch.log_softmax(logits, -1)
        for row, i in enumerate(chunk):
            at = torch.tensor(spans[i])
            rows = logprobs[row, torch.searchsorted(keep, at) if select else at]
            out[i] = float(rows.gather(1, ids[row, at + 1, None]).sum())
    return out


def score_probes(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    probes: list[dict],
    batch_size: int,
    max_len: int,
) -> list[dict]:
    """Per probe: ``id``, ``partition``, the chosen index and ``correct`` (0 or 1)."""
    pairs = [(p["context"], c) for p in probes for c in p["choices"]]
    encoded = [encode_pair(tokenizer, ctx, cont, max_len) for ctx, cont in pairs]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    sums = iter(continuation_logprobs(model, encoded, pad, batch_size))
    results = []
    for p in probes:
        scores = [next(sums) / len(c.encode("utf-8")) for c in p["choices"]]
        chosen = max(range(len(scores)), key=scores.__getitem__)
        results.append(
            {
                "id": p["id"],
                "partition": p["partition"],
                "chosen": chosen,
                "correct": int(chosen == p["label"]),
            }
        )
    return results
