"""SparseTargetCollator pads ids, masks, labels and ragged top-k targets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from training.collator import IGNORE_INDEX, SparseTargetCollator
from training.losses import dense_distill_ce, sparse_distill_ce

PAD = 7


def naive_collate(features: list[dict], pad: int, k: int, seq_len: int) -> dict[str, np.ndarray]:
    """Per-position loop version of the collator, the executable specification."""
    b = len(features)
    out = {
        "input_ids": np.full((b, seq_len), pad),
        "attention_mask": np.zeros((b, seq_len), dtype=np.int64),
        "labels": np.full((b, seq_len), IGNORE_INDEX),
        "target_ids": np.zeros((b, seq_len, k), dtype=np.int64),
        "target_probs": np.zeros((b, seq_len, k), dtype=np.float32),
    }
    for i, feature in enumerate(features):
        for t, token in enumerate(feature["input_ids"]):
            out["input_ids"][i, t] = token
            out["attention_mask"][i, t] = 1
            out["labels"][i, t] = token
            ids, probs = feature["target_ids"][t][:k], feature["target_probs"][t][:k]
            for j, (tok, prob) in enumerate(zip(ids, probs, strict=True)):
                out["target_ids"][i, t, j] = tok
                out["target_probs"][i, t, j] = prob
    return out


def random_features(seed: int, b: int = 5, max_len: int = 12, max_k: int = 5) -> list[dict]:
    rng = np.random.default_rng(seed)
    features = []
    for _ in range(b):
        n = int(rng.integers(1, max_len + 1))
        lengths = rng.integers(0, max_k + 1, size=n)
        features.append(
            {
                "input_ids": rng.integers(0, 100, size=n).tolist(),
                "target_ids": [rng.integers(1, 100, size=m).tolist() for m in lengths],
                "target_probs": [rng.random(m).tolist() for m in lengths],
            }
        )
    return features


def test_small_batch_values() -> None:
    features = [
        {
            "input_ids": [1, 2, 3],
            "target_ids": [[5, 6], [], [9]],
            "target_probs": [[0.6, 0.4], [], [1.0]],
        },
        {"input_ids": [4], "attention_mask": [1], "target_ids": [[8]], "target_probs": [[1.0]]},
    ]
    batch = SparseTargetCollator(pad_token_id=PAD)(features)
    assert batch["input_ids"].tolist() == [[1, 2, 3], [4, PAD, PAD]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[1, 2, 3], [4, IGNORE_INDEX, IGNORE_INDEX]]
    assert batch["target_ids"].shape == (2, 3, 2) and batch["target_ids"].dtype == torch.int64
    assert batch["target_probs"].dtype == torch.float32
    assert batch["target_ids"].tolist() == [[[5, 6], [0, 0], [9, 0]], [[8, 0], [0, 0], [0, 0]]]
    torch.testing.assert_close(
        batch["target_probs"],
        torch.tensor([[[0.6, 0.4], [0, 0], [1, 0]], [[1, 0], [0, 0], [0, 0]]]),
    )


@pytest.mark.parametrize("seed", range(5))
def test_matches_naive_loop_on_random_ragged_data(seed: int) -> None:
    features = random_features(seed)
    batch = SparseTargetCollator(pad_token_id=PAD)(features)
    seq_len = max(len(f["input_ids"]) for f in features)
    k = max(max((len(row) for row in f["target_ids"]), default=0) for f in features)
    expected = naive_collate(features, PAD, max(k, 1), seq_len)
    assert set(batch) == set(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(batch[key].numpy(), value, err_msg=key)


def test_max_k_truncates_and_pads_and_multiple_of() -> None:
    features = random_features(11, max_k=6)
    batch = SparseTargetCollator(pad_token_id=PAD, max_k=3, pad_to_multiple_of=8)(features)
    seq_len = max(len(f["input_ids"]) for f in features)
    padded_len = -(-seq_len // 8) * 8
    assert batch["input_ids"].shape == (len(features), padded_len)
    assert batch["target_ids"].shape == (len(features), padded_len, 3)
    expected = naive_collate(features, PAD, 3, padded_len)
    for key, value in expected.items():
        np.testing.assert_array_equal(batch[key].numpy(), value, err_msg=key)
    wide = SparseTargetCollator(pad_token_id=PAD, max_k=10)(features)
    assert wide["target_probs"].shape[-1] == 10 and torch.all(wide["target_probs"][..., 6:] == 0)


def test_attention_mask_zero_inside_sequence_is_ignored_in_labels() -> None:
    features = [{"input_ids": [1, 2, 3], "attention_mask": [1, 0, 1]}]
    batch = SparseTargetCollator(pad_token_id=PAD)(features)
    assert batch["labels"].tolist() == [[1, IGNORE_INDEX, 3]]
    assert "target_ids" not in batch and "target_probs" not in batch


def test_feature_without_targets_and_all_empty_lists() -> None:
    features = [
        {"input_ids": [1, 2], "target_ids": [[], []], "target_probs": [[], []]},
        {"input_ids": [3]},
    ]
    batch = SparseTargetCollator(pad_token_id=PAD)(features)
    assert batch["target_ids"].shape == (2, 2, 1)
    assert torch.all(batch["target_ids"] == 0) and torch.all(batch["target_probs"] == 0)


def test_fixed_k_numpy_arrays() -> None:
    ids = np.array([[3, 4], [5, 0]])
    probs = np.array([[0.5, 0.5], [1.0, 0.0]])
    features = [{"input_ids": [1, 2], "target_ids": ids, "target_probs": probs}]
    batch = SparseTargetCollator(pad_token_id=PAD, pad_to_multiple_of=4)(features)
    assert batch["target_ids"][0, :2].tolist() == ids.tolist()
    torch.testing.assert_close(batch["target_probs"][0, :2], torch.tensor(probs).float())
    assert torch.all(batch["target_probs"][0, 2:] == 0)


def test_mismatched_targets_raise() -> None:
    collate = SparseTargetCollator(pad_token_id=PAD)
    with pytest.raises(ValueError):
        collate([{"input_ids": [1, 2], "target_ids": [[1]], "target_probs": [[1.0]]}])
    with pytest.raises(ValueError):
        collate([{"input_ids": [1], "target_ids": [[1, 2]], "target_probs": [[1.0]]}])


def test_collated_batch_feeds_sparse_loss() -> None:
    features = random_features(3)
    for feature in features:  # normalise to distributions
        feature["target_probs"] = [
            (np.asarray(p) / max(sum(p), 1e-9)).tolist() for p in feature["target_probs"]
        ]
    batch = SparseTargetCollator(pad_token_id=PAD)(features)
    logits = torch.randn(*batch["input_ids"].shape, 100)
    args = (batch["target_ids"], batch["target_probs"], batch["attention_mask"])
    torch.testing.assert_close(sparse_distill_ce(logits, *args), dense_distill_ce(logits, *args))


def as_flat(feature: dict) -> dict:
    """The fused datasets' storage format: flat targets plus one length per position."""
    ids, probs = feature["target_ids"], feature["target_probs"]
    return {
        "input_ids": feature["input_ids"],
        "target_ids": [tok for row in ids for tok in row],
        "target_probs": [p for row in probs for p in row],
        "target_len": [len(row) for row in ids],
    }


@pytest.mark.parametrize("max_k", [None, 2])
def test_flat_with_lengths_equals_per_position_lists(max_k: int | None) -> None:
    features = random_features(21)
    collate = SparseTargetCollator(pad_token_id=PAD, max_k=max_k)
    expected = collate(features)
    flat = [as_flat(f) for f in features]
    mixed = [flat[0], *features[1:]]
    for batch in (collate(flat), collate([{k: np.asarray(v) for k, v in f.items()} for f in flat])):
        assert set(batch) == set(expected)
        for key, value in expected.items():
            torch.testing.assert_close(batch[key], value, msg=key)
    torch.testing.assert_close(collate(mixed)["target_probs"], expected["target_probs"])


def test_flat_with_bad_lengths_raises() -> None:
    collate = SparseTargetCollator(pad_token_id=PAD)
    feature = {"input_ids": [1, 2], "target_ids": [3, 4], "target_probs": [0.5, 0.5]}
    with pytest.raises(ValueError, match="target_len"):
        collate([{**feature, "target_len": [1, 2]}])  # sums to 3, two entries stored
    with pytest.raises(ValueError, match="target_len"):
        collate([{**feature, "target_len": [2]}])  # one length for two tokens


def test_per_position_tail_and_distill_mask_are_padded() -> None:
    features = [
        {"input_ids": [1, 2, 3], "target_tail": [0.5, 0.25, 0.0], "distill_mask": [1, 0, 1]},
        {"input_ids": [4]},  # no such features: no tail mass, distilled everywhere
    ]
    batch = SparseTargetCollator(pad_token_id=PAD)(features)
    assert batch["target_tail"].dtype == torch.float32
    assert batch["target_tail"].tolist() == [[0.5, 0.25, 0.0], [0.0, 0.0, 0.0]]
    assert batch["distill_mask"].tolist() == [[True, False, True], [True, False, False]]
    assert "target_tail" not in SparseTargetCollator(pad_token_id=PAD)([{"input_ids": [1]}])


def test_per_position_feature_of_another_length_raises() -> None:
    with pytest.raises(ValueError, match="target_tail"):
        SparseTargetCollator(pad_token_id=PAD)([{"input_ids": [1, 2], "target_tail": [0.5]}])
