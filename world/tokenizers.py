"""Tiny-world tokenizers trained locally: a Llama-like Metaspace BPE and a GPT-NeoX-like byte BPE.

FuseLLM's difficulty is fusing models whose tokenizers disagree (`▁` vs `Ġ` word markers,
different merges). These two kinds reproduce both conventions at toy scale, wrapped as
`PreTrainedTokenizerFast` so `save_pretrained` / `AutoTokenizer.from_pretrained(dir)` work
without `trust_remote_code`.

Determinism: the `tokenizers` BPE trainer breaks count ties by pair ids, and pair ids come from
the sorted alphabet, so the same texts and vocabulary size give the same vocab and merges with
any number of Rayon threads (checked with RAYON_NUM_THREADS=1 and 8; nothing needs setting).
"""

from __future__ import annotations

import string
from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

TOKENIZER_KINDS = ("metaspace_bpe", "byte_bpe")

METASPACE = "▁"
LLAMA_SPECIALS = ("<unk>", "<s>", "</s>")  # ids 0, 1, 2 as in Llama
ENDOFTEXT = "<|endoftext|>"  # id 0, as in GPT-NeoX


def _metaspace_bpe(vocab_size: int) -> tuple[Tokenizer, trainers.BpeTrainer]:
    """Llama convention: words start with `▁`, the first word too ("first" prepend scheme), and
    a newline is a token of its own that never merges into a word (Llama's `<0x0A>`), so that
    a prompt ending in a newline ends on a token boundary the model has seen in training."""
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split("\n", behavior="isolated"),
            pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="first"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="first")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", 1)]
    )
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(LLAMA_SPECIALS),
        initial_alphabet=list(string.printable),  # no byte fallback: keep all ASCII encodable
        show_progress=False,
    )
    return tok, trainer


def _byte_bpe(vocab_size: int) -> tuple[Tokenizer, trainers.BpeTrainer]:
    """GPT-NeoX / MPT convention: byte-level pieces, spaces become `Ġ`, no BOS."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[ENDOFTEXT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    return tok, trainer


def _wrap(tok: Tokenizer, kind: str) -> PreTrainedTokenizerFast:
    """Name the special tokens the way `transformers` expects for each convention.

    The Metaspace kind pads with `<unk>` (Llama-2 ships without a pad token; `<unk>` keeps `</s>`
    meaningful as end of text). The byte kind uses `<|endoftext|>` for every role, like GPT-NeoX.
    """
    if kind == "metaspace_bpe":
        specials = {
            "bos_token": "<s>",
            "eos_token": "</s>",
            "unk_token": "<unk>",
            "pad_token": "<unk>",
        }
    else:
        specials = dict.fromkeys(("bos_token", "eos_token", "unk_token", "pad_token"), ENDOFTEXT)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, clean_up_tokenization_spaces=False, **specials
    )


def train_tokenizer(kind: str, texts: Iterable[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """Train a BPE tokenizer of `kind` on `texts`, deterministically.

    Args:
        kind: one of `TOKENIZER_KINDS`.
        texts: training documents. The byte kind round-trips any text; the Metaspace kind has
            no byte fallback, so it round-trips printable ASCII and every character seen in
            `texts`, and maps any other character to `<unk>`.
        vocab_size: target size including specials and the base alphabet (the alphabet is kept
            whole, so a tiny size may be exceeded).

    Returns:
        A fast tokenizer ready for `save_pretrained`.
    """
    builders = {"metaspace_bpe": _metaspace_bpe, "byte_bpe": _byte_bpe}
    if kind not in builders:
        raise ValueError(f"unknown tokenizer kind {kind!r}; choose one of {TOKENIZER_KINDS}")
    tok, trainer = builders[kind](vocab_size)
    tok.train_from_iterator(texts, trainer=trainer)
    return _wrap(tok, kind)
