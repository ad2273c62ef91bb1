"""GGUF checkpoints → Hugging Face safetensors, with the special tokens the GGUF file states.

transformers' GGUF loader dequantises the weights and rebuilds the tokenizer, but it takes
the special tokens from its own defaults: for SmolLM2 it makes ``<|im_start|>`` both BOS and
EOS, adds that BOS to every encoding and sets no PAD, while the file says ``add_bos_token``
false and ``<|im_end|>`` as EOS and PAD. Every prompt would then start with a token the model
never saw there. So the special tokens, BOS/EOS flags, chat template and context length are
read from the file's own metadata with the ``gguf`` reader and written into the converted
tokenizer and model config, and the conversion must generate English before it is published.

Weights come out as float32, dequantised from the file's quantisation (e.g. Q4_1): they are
not the original bf16 weights, and results carry that quantisation error.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from gguf import GGUFReader
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerBase

from configs.errors import SuiteError
from configs.layout import atomic_dir
from fusion.manifest import file_hashes, sha256, verify

RECORD = "conversion.json"
CONVERSION_VERSION = 1
# A plain English paragraph (written for this check) the converted model must find likely:
# a working small LM scores ~3 nats per token, uniform guessing ln(vocab) ~ 10.8 for 49,152
# tokens; a broken dequantisation or tokenizer lands near the latter.
PROBE_TEXT = (
    "The library opens at nine in the morning and closes at six in the evening. Visitors "
    "may borrow up to five books at a time, and most books can be kept for two weeks."
)
MAX_PROBE_NLL = 6.0
PROMPT = "What is the capital of France?"


@dataclass(frozen=True)
class GgufTokens:
    """The tokenizer facts a GGUF file states (None: the file does not say)."""

    bos: str | None
    eos: str | None
    pad: str | None
    unk: str | None
    add_bos: bool
    add_eos: bool
    chat_template: str | None
    context_length: int | None


def read_tokens(path: Path) -> GgufTokens:
    """Special tokens, BOS/EOS flags, chat template and context length from a GGUF's metadata."""
    try:
        fields = GGUFReader(str(path)).fields
    except (ValueError, OSError) as err:
        raise SuiteError(f"{path} is not a readable GGUF file ({err})") from None

    def value(key: str) -> object | None:
        field = fields.get(key)
        return None if field is None else field.contents()

    tokens = fields.get("tokenizer.ggml.tokens")
    if tokens is None:
        raise SuiteError(f"{path} has no tokenizer (tokenizer.ggml.tokens): not a full model")

    def token(key: str) -> str | None:
        index = value(f"tokenizer.ggml.{key}_token_id")
        return None if index is None else tokens.contents(int(index))

    arch = value("general.architecture")
    context = value(f"{arch}.context_length") if arch else None
    return GgufTokens(
        bos=token("bos"),
        eos=token("eos"),
        pad=token("padding"),
        unk=token("unknown"),
        add_bos=bool(value("tokenizer.ggml.add_bos_token")),
        add_eos=bool(value("tokenizer.ggml.add_eos_token")),
        chat_template=value("tokenizer.chat_template"),
        context_length=None if context is None else int(context),
    )


def fix_tokenizer(tok: PreTrainedTokenizerBase, spec: GgufTokens) -> PreTrainedTokenizerBase:
    """Set ``tok``'s special tokens and flags to what the GGUF states; fail if it still adds a
    token the file does not ask for."""
    tok.bos_token, tok.eos_token, tok.pad_token, tok.unk_token = (
        spec.bos,
        spec.eos,
        spec.pad,
        spec.unk,
    )
    for flag, wanted in (("add_bos_token", spec.add_bos), ("add_eos_token", spec.add_eos)):
        if hasattr(tok, flag):
            setattr(tok, flag, wanted)  # the Llama fast tokenizer rebuilds its post-processor
    if spec.chat_template is not None:
        tok.chat_template = spec.chat_template
    if spec.context_length:
        tok.model_max_length = spec.context_length
    tok.clean_up_tokenization_spaces = False  # byte-level BPE: decode must give the text back
    check_specials(tok, spec)
    return tok


def check_specials(tok: PreTrainedTokenizerBase, spec: GgufTokens) -> None:
    """``tok`` has the GGUF's special tokens and adds BOS / EOS exactly when the file says."""
    got = (tok.bos_token, tok.eos_token, tok.pad_token, tok.unk_token)
    if got != (spec.bos, spec.eos, spec.pad, spec.unk):
        raise SuiteError(f"converted tokenizer has special tokens {got}, the GGUF states {spec}")
    ids = tok("a")["input_ids"]
    starts = bool(ids) and spec.bos is not None and ids[0] == tok.bos_token_id
    ends = bool(ids) and spec.eos is not None and ids[-1] == tok.eos_token_id
    if starts != spec.add_bos or ends != spec.add_eos:
        raise SuiteError(
            f"converted tokenizer adds BOS={starts} EOS={ends}; the GGUF says "
            f"add_bos_token={spec.add_bos} add_eos_token={spec.add_eos}"
        )


def check_generates(path: Path) -> dict:
    """Load the converted checkpoint as every stage will; it must score plain English far
    better than chance and generate words greedily. Returns what it saw, for the record."""
    tok = AutoTokenizer.from_pretrained(str(path))
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32).eval()
    with torch.no_grad():
        ids = tok(PROBE_TEXT, return_tensors="pt")["input_ids"]
        nll = float(model(input_ids=ids, labels=ids).loss)
        if tok.chat_template:
            messages = [{"role": "user", "content": PROMPT}]
            prompt = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        else:
            prompt = PROMPT
        enc = tok(prompt, return_tensors="pt")
        out = model.generate(
            **enc, max_new_tokens=24, do_sample=False, pad_token_id=tok.pad_token_id
        )
    text = tok.decode(out[0, enc["input_ids"].shape[1] :], skip_special_tokens=True).strip()
    words = re.findall(r"[A-Za-z]{2,}", text)
    record = {"probe_nll": round(nll, 4), "prompt": PROMPT, "generated": text}
    if nll > MAX_PROBE_NLL or len(set(words)) < 3:
        raise SuiteError(
            f"the conversion at {path} does not model English (probe loss {nll:.2f} nats/token, "
            f"greedy output {text[:80]!r}): the GGUF file or its dequantisation is broken"
        )
    return record


def convert(gguf: Path, out: Path) -> dict:
    """Convert ``gguf`` into the checkpoint directory ``out`` (safetensors, tokenizer, chat
    template, ``conversion.json``), atomically; return the record."""
    gguf = Path(gguf)
    spec = read_tokens(gguf)
    with atomic_dir(out) as tmp:
        kw = {"gguf_file": gguf.name}
        try:
            tok = AutoTokenizer.from_pretrained(str(gguf.parent), **kw)
            model = AutoModelForCausalLM.from_pretrained(
                str(gguf.parent), dtype=torch.float32, **kw
            )
        except (ValueError, KeyError, NotImplementedError, OSError) as err:
            reason = (str(err).strip() or type(err).__name__).splitlines()[0][:160]
            raise SuiteError(f"transformers cannot convert {gguf}: {reason}") from None
        fix_tokenizer(tok, spec)
        for key in ("bos", "eos", "pad"):
            token = getattr(spec, key)
            token_id = None if token is None else tok.convert_tokens_to_ids(token)
            setattr(model.config, f"{key}_token_id", token_id)
            setattr(model.generation_config, f"{key}_token_id", token_id)
        model.save_pretrained(str(tmp), safe_serialization=True)
        tok.save_pretrained(str(tmp))
        check_specials(AutoTokenizer.from_pretrained(str(tmp)), spec)  # survives the reload
        record = {
            "version": CONVERSION_VERSION,
            "source": str(gguf.resolve()),
            "source_sha256": sha256(gguf),
            "tokens": asdict(spec),
            "check": check_generates(tmp),
            "files": file_hashes(tmp),
        }
        (tmp / RECORD).write_text(json.dumps(record, indent=1, sort_keys=True))
    return record


def load_record(out: Path) -> dict | None:
    """The conversion record at ``out`` after checking every file's sha256; None if absent."""
    marker = Path(out) / RECORD
    if not marker.is_file():
        return None
    fix = f"delete {out} to convert again"
    try:
        record = json.loads(marker.read_text())
        files = record["files"]
    except (ValueError, KeyError, TypeError):
        raise SuiteError(f"{marker} is unreadable: {fix}") from None
    verify(out, files, fix)
    return record


def ensure_converted(gguf: Path, out: Path) -> dict:
    """The conversion of ``gguf`` at ``out``: reused when made from this very file (sha256) by
    this converter version, else (re)made."""
    gguf = Path(gguf)
    if not gguf.is_file():
        raise SuiteError(f"no GGUF file at {gguf}: fix the model's hub_id")
    record = load_record(out)
    if (
        record is not None
        and record.get("version") == CONVERSION_VERSION
        and record.get("source_sha256") == sha256(gguf)
    ):
        return record
    return convert(gguf, out)
