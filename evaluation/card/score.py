"""Loglikelihood multiple choice for the world card: the cheapest measurement that separates
a model that knows a fact from one that guesses.

Each choice is scored as lm-eval scores ``acc_norm``: the summed log-probability of the
continuation's tokens after the context, divided by the continuation's length in bytes (so a
longer answer is not penalised for its length), and the item is right when the true choice
scores highest. The context and continuation are tokenized together and split where the
context's own tokens end (lm-eval's rule), after the model's BOS token (or EOS where it has
none), as `evaluation.perplexity` does. An item's choices share their context: it goes
through the model once per item and each choice continues from its cached keys and values
(a reading passage is most of the card's tokens and has four choices), in batches of items
of similar length, so a card of ~1,100 items costs seconds on a tiny model.
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


def _accepts(model: PreTrainedModel, argument: str) -> bool:
    """Whether the model's forward takes ``argument`` (``logits_to_keep``, ``position_ids``:
    Llama and GPT-NeoX do, MPT does neither; its ALiBi needs no positions)."""
    return argument in inspect.signature(model.forward).parameters


@torch.inference_mode()
def continuation_logprobs(
    model: PreTrainedModel, sequences: list[tuple[list[int], int]], pad_id: int, batch_size: int
) -> list[float]:
    """Summed log-probability of each sequence's last ``n`` tokens, in input order, each
    sequence run whole (what :func:`choice_logprobs` does for an item whose choices share no
    prefix, and what ``make bench`` times it against).

    Only the positions that predict a continuation token get logits where the model allows it
    (``logits_to_keep``, the union over the batch): the vocabulary projection and softmax at
    every context position cost more than the rest of a tiny model's forward.
    """
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i][0]))
    out = [0.0] * len(sequences)
    select = _accepts(model, "logits_to_keep")
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


def shared_prefix(choices: list[tuple[list[int], int]]) -> int:
    """How many leading tokens all of an item's choices share before the first token any of
    them scores (0 when a context cut to the window differs between choices)."""
    first = min(len(ids) - n for ids, n in choices)
    head = choices[0][0]
    size = 0
    while size < first and all(ids[size] == head[size] for ids, _ in choices):
        size += 1
    return size


def _prefix_pass(
    model: PreTrainedModel, prefixes: list[list[int]], pad_id: int
) -> tuple[torch.Tensor, torch.Tensor, object]:
    """Run the items' shared prefixes, left-padded so each ends in the last column: the
    next-token log-probabilities after each, the padding mask, and the key/value cache."""
    width = max(len(p) for p in prefixes)
    ids = torch.full((len(prefixes), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prefixes), width), dtype=torch.long)
    for row, prefix in enumerate(prefixes):
        ids[row, width - len(prefix) :] = torch.tensor(prefix)
        mask[row, width - len(prefix) :] = 1
    extra: dict = {"logits_to_keep": 1} if _accepts(model, "logits_to_keep") else {}
    if _accepts(model, "position_ids"):  # positions count real tokens only, as unpadded
        extra["position_ids"] = (mask.cumsum(-1) - 1).clamp(min=0)
    out = model(input_ids=ids, attention_mask=mask, use_cache=True, **extra)
    return torch.log_softmax(out.logits[:, -1].float(), -1), mask, out.past_key_values


@torch.inference_mode()
def choice_logprobs(
    model: PreTrainedModel,
    items: list[list[tuple[list[int], int]]],
    pad_id: int,
    batch_size: int,
) -> list[list[float]]:
    """Per item, the summed log-probability of each choice's last ``n`` tokens, equal (to
    float rounding) to :func:`continuation_logprobs` on each choice.

    An item's shared prefix (:func:`shared_prefix`) goes through the model once; its choices
    then run only their own tokens on a copy of its cached keys and values, with the padding
    mask and positions they would have whole. Items are batched by prefix length, at most
    ``batch_size`` choices per batch; an item without a shared prefix runs its choices whole.
    """
    out: list[list[float]] = [[] for _ in items]
    sizes = [shared_prefix(choices) for choices in items]
    whole = [i for i, size in enumerate(sizes) if size == 0]
    flat = [seq for i in whole for seq in items[i]]
    sums = iter(continuation_logprobs(model, flat, pad_id, batch_size) if flat else [])
    for i in whole:
        out[i] = [next(sums) for _ in items[i]]
    order = sorted((i for i, size in enumerate(sizes) if size), key=sizes.__getitem__)
    batches: list[list[int]] = []
    for i in order:
        if batches and sum(len(items[j]) for j in batches[-1]) + len(items[i]) <= batch_size:
            batches[-1].append(i)
        else:
            batches.append([i])
    for batch in batches:
        for i, got in zip(batch, _choice_batch(model, items, sizes, batch, pad_id), strict=True):
            out[i] = got
    return out


def _choice_batch(
    model: PreTrainedModel,
    items: list[list[tuple[list[int], int]]],
    sizes: list[int],
    batch: list[int],
    pad_id: int,
) -> list[list[float]]:
    """:func:`choice_logprobs` for one batch of items that all share a prefix."""
    first, prefix_mask, cache = _prefix_pass(
        model, [items[i][0][0][: sizes[i]] for i in batch], pad_id
    )
    rows = [(b, ids, n) for b, i in enumerate(batch) for ids, n in items[i]]
    owner = torch.tensor([b for b, _, _ in rows])
    cache.reorder_cache(owner)  # one copy of the item's keys and values per choice
    tails = [ids[sizes[batch[b]] :] for b, ids, _ in rows]
    width = max(len(t) for t in tails)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for row, tail in enumerate(tails):
        ids[row, : len(tail)] = torch.tensor(tail)
        mask[row, : len(tail)] = 1
    extra = {}
    if _accepts(model, "position_ids"):
        start = prefix_mask.sum(-1)[owner]
        extra["position_ids"] = start[:, None] + torch.arange(width)[None, :]
    full_mask = torch.cat([prefix_mask[owner], mask], dim=1)
    logits = model(input_ids=ids, attention_mask=full_mask, past_key_values=cache, **extra).logits
    logprobs = torch.log_softmax(logits.float(), -1)
    out: list[list[float]] = [[] for _ in batch]
    for row, (b, _, n) in enumerate(rows):
        tail, skip = tails[row], len(tails[row]) - n  # the tail's tokens before the continuation
        total = 0.0
        for u in range(skip, len(tail)):
            source = first[b] if u == 0 else logprobs[row, u - 1]
            total += float(source[tail[u]])
        out[b].append(total)
    return out


def score_probes(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    probes: list[dict],
    batch_size: int,
    max_len: int,
) -> list[dict]:
    """Per probe: ``id``, ``partition``, the chosen index and ``correct`` (0 or 1)."""
    items = [
        [encode_pair(tokenizer, p["context"], c, max_len) for c in p["choices"]] for p in probes
    ]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    sums = choice_logprobs(model, items, pad, batch_size)
    results = []
    for p, item_sums in zip(probes, sums, strict=True):
        scores = [s / len(c.encode("utf-8")) for s, c in zip(item_sums, p["choices"], strict=True)]
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
