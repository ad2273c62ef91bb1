"""The world card's scoring: batched loglikelihood equals a one-at-a-time computation, the
split between context and continuation is lm-eval's, and the stage logs what the report reads."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest
import torch

from configs import tracking
from evaluation.card import card_models, items_artifact, run_card, score
from evaluation.card.score import continuation_logprobs, encode_pair, score_probes
from evaluation.card.stated import stated_in, stated_probes
from fusion.models import load_causal_lm


@pytest.fixture(scope="module")
def target(micro_cfg, micro_world):
    return load_causal_lm(micro_world.model(micro_cfg.models.target))


@pytest.mark.parametrize("architecture", ["llama", "mpt", "gpt_neox"])
def test_batched_logprobs_equal_unbatched(architecture: str, micro_cfg, micro_world) -> None:
    """Batched, with logits kept only where a continuation is predicted (or all of them for
    a model without ``logits_to_keep``: MPT), equals each sequence's own full forward."""
    specs = [*micro_cfg.models.all(), micro_cfg.pythia.base]
    spec = next(s for s in specs if s.build.architecture == architecture)
    tok, model = load_causal_lm(micro_world.model(spec))
    assert score._accepts(model, "logits_to_keep") == (architecture != "mpt")
    pairs = [("The cat sat on the", " mat."), ("A", " much longer continuation here"), ("x", " y")]
    seqs = [encode_pair(tok, c, x, 64) for c, x in pairs]
    batched = continuation_logprobs(model, seqs, tok.pad_token_id or 0, batch_size=3)
    for (ids, n), got in zip(seqs, batched, strict=True):
        with torch.inference_mode():
            lp = torch.log_softmax(model(torch.tensor([ids])).logits[0].float(), -1)
        want = sum(lp[t - 1, ids[t]].item() for t in range(len(ids) - n, len(ids)))
        assert got == pytest.approx(want, abs=1e-4)


@pytest.mark.parametrize("architecture", ["llama", "mpt", "gpt_neox"])
def test_choices_from_a_shared_context_equal_each_choice_whole(
    architecture: str, micro_cfg, micro_world
) -> None:
    """Context run once and choices continued from its cache (left-padded contexts of
    different lengths, a different count of choices per item, a choice whose context tokens
    end differently, an item cut to the window so its choices share nothing) equal each
    choice's own forward; batches of 5 choices split items across forwards."""
    specs = [*micro_cfg.models.all(), micro_cfg.pythia.base]
    spec = next(s for s in specs if s.build.architecture == architecture)
    tok, model = load_causal_lm(micro_world.model(spec))
    items = [
        [encode_pair(tok, "The cat sat on the", c, 64) for c in (" mat.", " sofa", " floor now")],
        [encode_pair(tok, "A", c, 64) for c in (" b", " much longer continuation here")],
        [encode_pair(tok, "Over the hills and far away, there", c, 64) for c in (" is", "'s")],
        [encode_pair(tok, " ".join(f"w{i}" for i in range(40)), c, 12) for c in (" x", " a b c")],
    ]
    assert score.shared_prefix(items[0]) > 1 and score.shared_prefix(items[3]) == 0
    shared = score.choice_logprobs(model, items, tok.pad_token_id or 0, batch_size=5)
    assert [len(s) for s in shared] == [len(item) for item in items]
    for item, sums in zip(items, shared, strict=True):
        for (ids, n), got in zip(item, sums, strict=True):
            with torch.inference_mode():
                lp = torch.log_softmax(model(torch.tensor([ids])).logits[0].float(), -1)
            want = sum(lp[t - 1, ids[t]].item() for t in range(len(ids) - n, len(ids)))
            assert got == pytest.approx(want, abs=1e-4), (ids, n)


def test_continuation_is_what_follows_the_context_tokens(target) -> None:
    tok, _ = target
    ids, n = encode_pair(tok, "The cat sat on the", " mat.", 64)
    assert tok.decode(ids[-n:]).strip() == "mat."
    assert ids[0] in (tok.bos_token_id, tok.eos_token_id)
    cut, n_cut = encode_pair(tok, "word " * 100, " mat.", 16)
    assert len(cut) == 16 and n_cut == n
    with pytest.raises(ValueError, match="continuation"):
        encode_pair(tok, "The cat", "", 64)


def test_the_chosen_choice_is_the_best_per_byte(target) -> None:
    tok, model = target
    probe = {"id": "p", "partition": "x", "context": "The", "choices": [" a", " bb bb"], "label": 1}
    [result] = score_probes(model, tok, [probe], batch_size=2, max_len=64)
    seqs = [encode_pair(tok, "The", c, 64) for c in probe["choices"]]
    sums = continuation_logprobs(model, seqs, 0, 1)
    per_byte = [s / len(c.encode()) for s, c in zip(sums, probe["choices"], strict=True)]
    assert result["chosen"] == per_byte.index(max(per_byte))
    assert result["correct"] == int(result["chosen"] == 1)


def test_card_stage_scores_every_world_model_and_logs_per_item(micro_cfg, micro_world) -> None:
    outs = run_card(micro_cfg, micro_world)
    assert set(outs) == set(card_models(micro_cfg, micro_world))
    assert {m.name for m in micro_cfg.models.all()} | {micro_cfg.pythia.base.name} <= set(outs)
    probes = micro_world.probes.read_text().splitlines()
    summary = json.loads((outs["mpt"] / "summary.json").read_text())
    assert sum(s["n"] for k, s in summary.items() if k != "fusion_corpus") == len(probes)
    assert summary["fusion_corpus"]["bits_per_byte"] > 0
    stamp = (outs["mpt"] / "summary.json").stat().st_mtime_ns
    run_card(micro_cfg, micro_world)  # a finished model is not scored again
    assert (outs["mpt"] / "summary.json").stat().st_mtime_ns == stamp
    tracking.use_store(micro_world)
    runs = mlflow.search_runs(
        experiment_names=[micro_cfg.name],
        filter_string="tags.stage = 'card' and tags.model = 'mpt'",
    )
    [acc] = runs["metrics.card/facts_b/acc"]
    assert acc == pytest.approx(summary["facts_b"]["acc"])
    local = mlflow.artifacts.download_artifacts(
        run_id=runs["run_id"].iloc[0], artifact_path=items_artifact("facts_b")
    )
    assert len(Path(local).read_text().splitlines()) == summary["facts_b"]["n"]


def test_stated_probes_are_those_a_document_says_word_for_word() -> None:
    said = {"id": "said", "context": "Tom was born in", "choices": [" Oslo.", " Rome."], "label": 1}
    other = {**said, "id": "other", "label": 0}  # " Oslo": no document says it
    split = {**said, "id": "split"}
    texts = ["Tom was born in Rome, a city of seven hills.", "Tom was born in", " Oslo"]
    assert stated_in([said, other], texts) == {"said"}
    assert stated_in([split], ["Tom was born in", " Rome."]) == set()  # not across documents


def test_world_probes_split_by_what_the_fusion_corpus_states(micro_cfg, micro_world) -> None:
    probes = {p["id"]: p for p in map(json.loads, micro_world.probes.read_text().splitlines())}
    stated = stated_probes(micro_cfg, micro_world)
    assert stated and stated < set(probes)
    skills = {"arithmetic", "code", "logic", "translation", "reading"}  # held out of corpora
    assert not {i for i in stated if probes[i]["partition"] in skills}
