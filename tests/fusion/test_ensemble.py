"""Output ensembling: the mixture itself, its loss, and lm-eval requests served from it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from lm_eval.api.instance import Instance
from lm_eval.api.registry import get_model
from lm_eval.models.huggingface import HFLM
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from configs.errors import SuiteError
from evaluation.ensemble_lm import EnsembleHFLM, register
from fusion.ensemble import EnsembleLM


def _tokenizer(first: str = "t0") -> PreTrainedTokenizerFast:
    vocab = {"<unk>": 0, "<eos>": 1, first: 2, **{f"t{i}": i + 2 for i in range(1, 62)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<eos>")


def _pico(seed: int) -> LlamaForCausalLM:
    """A random 2-layer Llama, vocab 64; a wide init so next-token argmaxes are not near-ties."""
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=64,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        max_position_embeddings=128,
        initializer_range=0.5,
    )
    return LlamaForCausalLM(config).eval()


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("ensemble")
    for i in range(2):
        _pico(i).save_pretrained(root / f"m{i}")
        _tokenizer().save_pretrained(root / f"m{i}")
    return [root / "m0", root / "m1"]


def _mixture(logits: list[torch.Tensor], weights: list[float]) -> torch.Tensor:
    """log(sum_m w_m softmax(z_m)), computed directly in float64."""
    probs = sum(w * F.softmax(z.double(), -1) for w, z in zip(weights, logits, strict=True))
    return probs.log()


IDS = torch.tensor([[3, 9, 4, 20, 7, 11], [5, 5, 30, 2, 1, 40]])


def test_one_model_ensemble_is_that_model() -> None:
    model = _pico(0)
    with torch.no_grad():
        ours, theirs = EnsembleLM([model])(IDS, labels=IDS), model(IDS, labels=IDS)
    assert torch.allclose(ours.logits.log_softmax(-1), theirs.logits.log_softmax(-1), atol=1e-5)
    assert torch.allclose(ours.loss, theirs.loss, atol=1e-6)


def test_two_model_ensemble_is_the_weighted_mixture() -> None:
    a, b = _pico(0), _pico(1)
    with torch.no_grad():
        out = EnsembleLM([a, b], weights=[3, 7])(IDS, labels=IDS)
        expected = _mixture([a(IDS).logits, b(IDS).logits], [0.3, 0.7])
    assert torch.allclose(out.logits.double(), expected, atol=1e-5)
    assert torch.allclose(out.logits.logsumexp(-1), torch.zeros(2, 6), atol=1e-5)
    nll = -expected[:, :-1].gather(-1, IDS[:, 1:, None]).mean()
    assert torch.allclose(out.loss.double(), nll, atol=1e-5)


def test_different_vocabularies_refused(saved: list[Path], tmp_path: Path) -> None:
    _pico(2).save_pretrained(tmp_path)
    _tokenizer(first="other").save_pretrained(tmp_path)
    with pytest.raises(SuiteError) as err:
        EnsembleLM.from_pretrained([str(saved[0]), str(tmp_path)])
    assert "different tokenizer vocabularies" in str(err.value)
    assert "\n" not in str(err.value)


def _ll(lm: HFLM, pairs: list[tuple[str, str]]) -> list[float]:
    requests = [Instance("loglikelihood", {}, pair, i) for i, pair in enumerate(pairs)]
    return [logprob for logprob, _ in lm.loglikelihood(requests, disable_tqdm=True)]


def test_lm_eval_loglikelihood_is_mixture_log_prob(saved: list[Path]) -> None:
    register()  # then the lm-eval CLI form works: --model_args "pretrained=A|B,weights=1|3"
    args = f"pretrained={saved[0]}|{saved[1]},weights=1|3,device=cpu"
    lm = get_model("fusion_ensemble").create_from_arg_string(args)
    ids = lm.tokenizer("t1 t2 t3 t4 t5", return_tensors="pt").input_ids
    members = lm.model.members
    with torch.no_grad():
        mix = _mixture([m(ids[:, :-1]).logits for m in members], [0.25, 0.75])[0]
    # the continuation " t4 t5" is tokens 3 and 4, predicted at positions 2 and 3
    expected = mix[2, ids[0, 3]] + mix[3, ids[0, 4]]
    assert _ll(lm, [("t1 t2 t3", " t4 t5")]) == pytest.approx([expected.item()], abs=1e-4)


def test_one_member_ensemble_serves_lm_eval_like_plain_hflm(saved: list[Path]) -> None:
    ours = EnsembleHFLM(str(saved[0]), device="cpu", batch_size=2)
    plain = HFLM(pretrained=ours.model.members[0], tokenizer=str(saved[0]), batch_size=2)
    pairs = [("t1 t2", " t3"), ("t7 t8 t9 t10", " t11 t12")]
    assert _ll(ours, pairs) == pytest.approx(_ll(plain, pairs), abs=1e-4)
    rolling = [Instance("loglikelihood_rolling", {}, ("t1 t5 t9 t2",), 0)]
    assert ours.loglikelihood_rolling(rolling, disable_tqdm=True) == pytest.approx(
        plain.loglikelihood_rolling(rolling, disable_tqdm=True), abs=1e-4
    )
    gen = {"until": ["t61"], "max_gen_toks": 6, "do_sample": False}
    prompts = [
        Instance("generate_until", {}, (p, gen), i) for i, p in enumerate(["t3", "t4 t5 t6"])
    ]
    assert ours.generate_until(prompts, disable_tqdm=True) == plain.generate_until(
        prompts, disable_tqdm=True
    )
