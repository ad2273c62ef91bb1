"""Benchmark: reference-style token alignment vs :mod:`fusion.align`, on a 2048-token block.

The baseline is written the way the FuseLLM reference does it (Python double-loop DTW, a
tokenizer call per top-k token) and doubles as the test oracle for tokenizer pairs outside
the golden set. Run ``python -m fusion.bench.align`` from the repository root: it needs the
golden tokenizers under ``tests/data/golden/alignment``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from rapidfuzz.distance import Levenshtein
from transformers import PreTrainedTokenizerFast

from fusion.align.topk import Aligned, Aligner
from fusion.dtw import dtw_reference
from fusion.vocab import BYTE_LEVEL, detect_marker, mined_vocab_map

GOLDEN_DIR = Path(__file__).resolve().parents[2] / "tests" / "data" / "golden" / "alignment"


def _reference_row(
    blend_tokenizer: PreTrainedTokenizerFast,
    markers: tuple[str, str],
    base_vocab: dict[str, int],
    topk: tuple[Sequence[int], Sequence[float]],
    vocab_map: dict[str, str] | None,
) -> Aligned:
    """One matched position, reference-style: a tokenizer call per top-k token."""
    blend_marker, base_marker = markers
    ids: list[int] = []
    logits: list[float] = []
    for logit, index in zip(topk[1], topk[0], strict=False):  # truncating, as the reference
        token = blend_tokenizer.convert_ids_to_tokens([index])[0]
        token = token.replace(blend_marker, base_marker) if blend_marker else token
        token = vocab_map[token] if vocab_map is not None else token
        if token in base_vocab and base_vocab[token] not in ids:
            ids.append(base_vocab[token])
            logits.append(logit)
    return ids, logits


def reference_align_topk(
    base_tokenizer: PreTrainedTokenizerFast,
    blend_tokenizer: PreTrainedTokenizerFast,
    base_ids: Sequence[int],
    blend_ids: Sequence[int],
    blend_topk_ids: Sequence[Sequence[int]],
    blend_topk_logits: Sequence[Sequence[float]],
    vocab_map: dict[str, str] | None = None,
) -> Aligned:
    """Reference-style ``transform_step_logits`` (EM, or MinED when ``vocab_map`` is given).

    Slow by design: the benchmark baseline and an independent oracle for :func:`align_topk`.
    """
    base_marker, blend_marker = detect_marker(base_tokenizer), detect_marker(blend_tokenizer)
    base_vocab = base_tokenizer.get_vocab()
    base_tokens = base_tokenizer.convert_ids_to_tokens(list(base_ids))
    blend_tokens = blend_tokenizer.convert_ids_to_tokens(list(blend_ids))

    def dist_fn(a: str, b: str) -> int:
        return Levenshtein.distance(a.replace(blend_marker, ""), b.replace(base_marker, ""))

    path = dtw_reference(blend_tokens, base_tokens, dist_fn)
    base_to_blend: list[list[int]] = [[] for _ in base_tokens]
    for j, i in path:
        base_to_blend[i].append(j)
    out_ids, out_logits = [], []
    for i, (base_token, partners) in enumerate(zip(base_tokens, base_to_blend, strict=True)):
        ids, logits = [base_vocab[base_token]], [1.0]
        if len(partners) == 1:
            j = partners[0]
            blend_token = blend_tokens[j]
            if blend_marker:
                blend_token = blend_token.replace(blend_marker, base_marker)
            if (
                blend_marker == BYTE_LEVEL
                and i == 0
                and base_token.startswith(base_marker)
                and not blend_token.startswith(base_marker)
            ):
                blend_token = base_marker + blend_token
            mapped = vocab_map.get(blend_token) if vocab_map is not None else None
            if base_token in (blend_token, mapped):
                topk = (blend_topk_ids[j], blend_topk_logits[j])
                markers = (blend_marker, base_marker)
                ids, logits = _reference_row(blend_tokenizer, markers, base_vocab, topk, vocab_map)
        out_ids.append(ids)
        out_logits.append(logits)
    return out_ids, out_logits


def load_golden() -> tuple[PreTrainedTokenizerFast, PreTrainedTokenizerFast, list[str]]:
    """Golden base (Metaspace) and blend (byte-level) tokenizers, and the golden texts."""
    base = PreTrainedTokenizerFast(tokenizer_file=str(GOLDEN_DIR / "base_tokenizer.json"))
    blend = PreTrainedTokenizerFast(tokenizer_file=str(GOLDEN_DIR / "blend_tokenizer.json"))
    with open(GOLDEN_DIR / "cases.jsonl", encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle]
    return base, blend, texts


def make_block(base: PreTrainedTokenizerFast, texts: list[str], block_tokens: int) -> str:
    """Concatenate texts until the base side has ``block_tokens`` tokens, cut at that token."""
    text = ""
    k = 0
    while len(base(text, add_special_tokens=False)["input_ids"]) < block_tokens:
        text += ("\n\n" if text else "") + texts[k % len(texts)]
        k += 1
    offsets = base(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    return text[: offsets[block_tokens - 1][1]]


def synthetic_topk(
    next_ids: Sequence[int], vocab_size: int, k: int = 10, seed: int = 0
) -> tuple[list[list[int]], list[list[float]]]:
    """Plausible top-k per position: the true next token usually first, logits descending."""
    rng = np.random.default_rng(seed)
    ids, logits = [], []
    for nxt in list(next_ids[1:]) + [int(rng.integers(vocab_size))]:
        row = rng.choice(vocab_size, size=k, replace=False).tolist()
        if rng.random() < 0.7 and nxt not in row:
            row[0] = int(nxt)
        ids.append(row)
        logits.append(np.round(np.sort(rng.normal(2.0, 3.0, size=k))[::-1], 3).tolist())
    return ids, logits


def _best_time(fn: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _align_row(name: str, base, blend, text: str, vocab_map, repeats: int) -> dict:
    """Time reference vs ours on one block (ours warmed up: numba JIT and caches)."""
    base_ids = base(text, add_special_tokens=False)["input_ids"]
    blend_ids = blend(text, add_special_tokens=False)["input_ids"]
    topk = synthetic_topk(blend_ids, len(blend.get_vocab()))
    args = (base, blend, base_ids, blend_ids, *topk)
    start = time.perf_counter()
    expected = reference_align_topk(*args, vocab_map=vocab_map)
    reference_s = time.perf_counter() - start
    aligner = Aligner(base, blend, "mined" if vocab_map else "exact", vocab_map)
    got = aligner.align(*args[2:])
    ours_s = _best_time(lambda: aligner.align(*args[2:]), repeats)
    return {
        "name": f"{name} ({len(base_ids)} base x {len(blend_ids)} blend tokens)",
        "reference_s": reference_s,
        "ours_s": ours_s,
        "ratio": reference_s / ours_s,
        "identical": got == expected,
    }


def bench_alignment(block_tokens: int = 2048, repeats: int = 5) -> list[dict]:
    """Rows of {name, reference_s, ours_s, ratio, identical}; ratio = reference / ours."""
    base, blend, texts = load_golden()
    text = make_block(base, texts, block_tokens)
    start = time.perf_counter()
    mapping = mined_vocab_map(blend, base)
    map_s = time.perf_counter() - start
    with open(GOLDEN_DIR / "vocab_mapping_mined.json", encoding="utf-8") as handle:
        golden_map = json.load(handle)["mapping"]
    return [
        _align_row("align EM, Metaspace base <- byte-level", base, blend, text, None, repeats),
        _align_row("align MinED, same pair", base, blend, text, mapping, repeats),
        _align_row("align EM, byte-level base <- Metaspace", blend, base, text, None, repeats),
        {
            "name": f"mined_vocab_map ({len(blend.get_vocab())} -> {len(base.get_vocab())})",
            "reference_s": None,
            "ours_s": map_s,
            "ratio": None,
            "identical": mapping == golden_map,
        },
    ]


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    rows = bench_alignment()
    header = ["name", "reference_s", "ours_s", "ratio", "identical"]
    print(" | ".join(header))
    for row in rows:
        print(" | ".join(_fmt(row[key]) for key in header))
