"""Token alignment: golden vectors bit for bit, other pairs against the reference-style oracle."""

from __future__ import annotations

import numpy as np
import pytest

from fusion.align.topk import align_topk, get_aligner
from fusion.bench.align import bench_alignment, reference_align_topk, synthetic_topk
from fusion.vocab import mined_vocab_map

MODES = [("exact", "hard"), ("mined", "soft")]


@pytest.mark.parametrize(("vocab", "key"), MODES)
def test_golden_cases_bit_identical(
    base_tokenizer, blend_tokenizer, alignment_cases, vocab: str, key: str
) -> None:
    for case in alignment_cases:
        ids, logits = align_topk(
            base_tokenizer,
            blend_tokenizer,
            case["base_ids"],
            case["blend_ids"],
            case["blend_topk_ids"],
            case["blend_topk_logits"],
            vocab=vocab,
        )
        assert ids == case[f"expected_{key}_ids"], case["id"]
        assert logits == case[f"expected_{key}_logits"], case["id"]


def test_golden_mined_with_given_map_and_numpy_inputs(
    base_tokenizer, blend_tokenizer, alignment_cases, golden_mapping
) -> None:
    for case in alignment_cases:
        ids, logits = align_topk(
            base_tokenizer,
            blend_tokenizer,
            np.array(case["base_ids"]),
            np.array(case["blend_ids"]),
            np.array(case["blend_topk_ids"]),
            np.array(case["blend_topk_logits"]),
            vocab="mined",
            vocab_map=golden_mapping,
        )
        assert ids == case["expected_soft_ids"]
        assert logits == case["expected_soft_logits"]


def test_golden_set_contains_an_empty_list(alignment_cases) -> None:
    """EM can leave a matched position with no top-k token in the base vocabulary."""
    assert any(row == [] for case in alignment_cases for row in case["expected_hard_ids"])


def _encode(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def _check_against_oracle(base, blend, texts: list[str], vocab: str) -> None:
    vocab_map = mined_vocab_map(blend, base) if vocab == "mined" else None
    for k, text in enumerate(texts):
        base_ids, blend_ids = _encode(base, text), _encode(blend, text)
        topk = synthetic_topk(blend_ids, len(blend.get_vocab()), seed=k)
        args = (base, blend, base_ids, blend_ids, *topk)
        expected = reference_align_topk(*args, vocab_map=vocab_map)
        assert align_topk(*args, vocab=vocab, vocab_map=vocab_map) == expected, k


@pytest.mark.parametrize("vocab", ["exact", "mined"])
def test_swapped_direction_byte_level_base(
    base_tokenizer, blend_tokenizer, golden_texts, vocab: str
) -> None:
    _check_against_oracle(blend_tokenizer, base_tokenizer, golden_texts[:15], vocab)


@pytest.mark.parametrize("vocab", ["exact", "mined"])
def test_other_pairs_against_oracle(
    base_tokenizer, blend_tokenizer, plain_tokenizer, metaspace_tokenizer, golden_texts, vocab
) -> None:
    texts = golden_texts[15:25]
    _check_against_oracle(metaspace_tokenizer, blend_tokenizer, texts, vocab)
    _check_against_oracle(base_tokenizer, metaspace_tokenizer, texts, vocab)
    _check_against_oracle(plain_tokenizer, base_tokenizer, texts, vocab)
    _check_against_oracle(blend_tokenizer, plain_tokenizer, texts, vocab)


@pytest.mark.parametrize("vocab", ["exact", "mined"])
@pytest.mark.parametrize("which", ["base", "blend"])
def test_same_tokenizer_keeps_each_position_top_k(
    base_tokenizer, blend_tokenizer, golden_texts, vocab: str, which: str
) -> None:
    tokenizer = base_tokenizer if which == "base" else blend_tokenizer
    for k, text in enumerate(golden_texts[:10]):
        ids = _encode(tokenizer, text)
        topk_ids, topk_logits = synthetic_topk(ids, len(tokenizer.get_vocab()), seed=k)
        got = align_topk(tokenizer, tokenizer, ids, ids, topk_ids, topk_logits, vocab=vocab)
        assert got == (topk_ids, topk_logits)


def test_empty_sequences(base_tokenizer, blend_tokenizer) -> None:
    assert align_topk(base_tokenizer, blend_tokenizer, [], [5], [[1]], [[0.5]]) == ([], [])
    ids, logits = align_topk(base_tokenizer, blend_tokenizer, [7, 9], [], [], [])
    assert (ids, logits) == ([[7], [9]], [[1.0], [1.0]])


def test_out_of_vocab_top_k_ids_are_dropped(base_tokenizer) -> None:
    ids = _encode(base_tokenizer, "The cat")
    topk = [[ids[1], 10**7, -1]] + [[ids[0]]] * (len(ids) - 1)
    logits = [[2.0, 1.0, 0.5]] + [[1.0]] * (len(ids) - 1)
    got_ids, got_logits = align_topk(base_tokenizer, base_tokenizer, ids, ids, topk, logits)
    assert got_ids[0] == [ids[1]] and got_logits[0] == [2.0]


def test_aligner_is_cached_per_pair_and_mode(base_tokenizer, blend_tokenizer) -> None:
    first = get_aligner(base_tokenizer, blend_tokenizer, "mined")
    assert get_aligner(base_tokenizer, blend_tokenizer, "mined") is first
    assert get_aligner(base_tokenizer, blend_tokenizer, "exact") is not first


def test_bench_smoke() -> None:
    rows = bench_alignment(block_tokens=96, repeats=1)
    assert all(row["identical"] for row in rows)
    assert {"name", "reference_s", "ours_s", "ratio", "identical"} <= set(rows[0])


def test_ragged_top_k_rows(base_tokenizer) -> None:
    ids = _encode(base_tokenizer, "The cat sat on the mat")
    topk = [[ids[0], ids[-1]][: 1 + k % 2] for k in range(len(ids))]
    logits = [[3.0, 1.5][: 1 + k % 2] for k in range(len(ids))]
    assert align_topk(base_tokenizer, base_tokenizer, ids, ids, topk, logits) == (topk, logits)


def test_a_map_edited_between_calls_is_not_served_from_the_cache(
    base_tokenizer, blend_tokenizer, alignment_cases, golden_mapping
) -> None:
    """The aligner cache keys a MinED map by content: a caller who fills the same dict between
    two calls gets the golden alignment of the filled map, not the empty map's."""
    vocab_map: dict[str, str] = {}
    changed = 0
    for case in alignment_cases:
        args = [case[k] for k in ("base_ids", "blend_ids", "blend_topk_ids", "blend_topk_logits")]
        vocab_map.clear()
        empty = align_topk(base_tokenizer, blend_tokenizer, *args, "mined", vocab_map)
        vocab_map.update(golden_mapping)
        filled = align_topk(base_tokenizer, blend_tokenizer, *args, "mined", vocab_map)
        assert filled == (case["expected_soft_ids"], case["expected_soft_logits"]), case["id"]
        changed += filled != empty
    assert changed > 0  # the empty map aligns differently, so a stale aligner would be caught


@pytest.mark.parametrize(("vocab", "key"), MODES)
def test_match_marks_exactly_the_golden_one_hot_fallbacks(
    base_tokenizer, blend_tokenizer, alignment_cases, vocab: str, key: str
) -> None:
    aligner = get_aligner(base_tokenizer, blend_tokenizer, vocab)
    fallbacks = 0
    for case in alignment_cases:
        matched = aligner.match(case["base_ids"], case["blend_ids"])
        expected = (case[f"expected_{key}_ids"], case[f"expected_{key}_logits"])
        rows = zip(case["base_ids"], *expected, strict=True)
        one_hot = [ids == [b] and logits == [1.0] for b, ids, logits in rows]
        assert (matched < 0).tolist() == one_hot, case["id"]
        fallbacks += sum(one_hot)
    assert fallbacks > 0
