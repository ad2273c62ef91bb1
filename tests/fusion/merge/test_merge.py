"""Weight merging: method math on hand-computed tensors, the driver, and pico checkpoints."""

from __future__ import annotations

import inspect
import math
from functools import partial
from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import (
    AutoModelForCausalLM,
    GPTNeoXConfig,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedTokenizerFast,
)

from configs.cli import run
from configs.errors import SuiteError
from fusion.merge import MERGE_METHODS, get_method
from fusion.merge.__main__ import main
from fusion.merge.dare import dare
from fusion.merge.driver import (
    check_compatible,
    check_params,
    merge_checkpoints,
    merge_state_dicts,
)
from fusion.merge.linear import linear
from fusion.merge.slerp import slerp
from fusion.merge.ties import ties

BASE = torch.ones(4)
# Task vectors shared by the TIES and DARE cases below.
DELTA_A = torch.tensor([1.0, -2.0, 0.5, 3.0])
DELTA_B = torch.tensor([-1.5, 1.0, 0.25, 2.0])
DELTA_C = torch.tensor([0.5, 3.0, -1.0, -0.5])


def _one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert "\n" not in message
    return message


# ---------------------------------------------------------------- methods


def test_linear_weights_one_zero_is_first_model_exactly() -> None:
    a, b = torch.randn(5, 3).bfloat16(), torch.randn(5, 3).bfloat16()
    assert torch.equal(linear([a, b], weights=[1.0, 0.0]), a)
    assert torch.equal(linear([a.float(), b.float()], weights=[1.0, 0.0]), a.float())


def test_linear_normalizes_weights() -> None:
    a, b = torch.tensor([0.0, 4.0]), torch.tensor([4.0, 0.0])
    assert torch.allclose(linear([a, b], weights=[1.0, 3.0]), torch.tensor([3.0, 1.0]))
    assert torch.allclose(
        linear([a, b], weights=[1.0, 3.0], normalize=False), torch.tensor([12.0, 4.0])
    )


# Summing methods (normalize off by default, as in mergekit) average once normalized.
IDENTITY_CASES = {
    "linear": {},
    "task_arithmetic": {"normalize": True},
    "ties": {"density": 1.0},
    "dare_ties": {"density": 1.0, "normalize": True},
    "dare_linear": {"density": 1.0, "normalize": True},
    "breadcrumbs": {"density": 1.0, "normalize": True},
    "breadcrumbs_ties": {"density": 1.0, "normalize": True},
    "della": {"density": 1.0},
    "della_linear": {"density": 1.0, "normalize": True},
    "model_stock": {},
    "slerp": {"t": 0.3},
    "sce": {},
    "varm": {},
}


@pytest.mark.parametrize("name", list(MERGE_METHODS))
def test_identical_models_merge_to_themselves(name: str) -> None:
    torch.manual_seed(0)
    weights = {"w": torch.randn(6, 4), "b": torch.randn(4)}
    base = {k: v + torch.randn_like(v) for k, v in weights.items()}
    fn = get_method(name)
    takes_base = "base" in inspect.signature(fn).parameters
    merged = dict(
        merge_state_dicts(
            fn, [weights, dict(weights)], base if takes_base else None, IDENTITY_CASES[name]
        )
    )
    for key, value in weights.items():
        assert torch.allclose(merged[key], value, atol=1e-6), (name, key)


def test_ties_hand_computed() -> None:
    # density 0.5 keeps the 2 largest |delta| per model:
    #   A [0, -2, 0, 3], B [-1.5, 0, 0, 2], C [0, 3, -1, 0]
    # summed [-1.5, 1, -1, 5] -> elected signs [-, +, -, +]; A's -2 at index 1 loses.
    # disjoint means: [-1.5/1, 3/1, -1/1, (3+2)/2] = [-1.5, 3, -1, 2.5]; plus base 1.
    tensors = [BASE + DELTA_A, BASE + DELTA_B, BASE + DELTA_C]
    merged = ties(tensors, BASE, density=0.5)
    assert torch.allclose(merged, torch.tensor([-0.5, 4.0, 0.0, 3.5]))


def test_ties_majority_sum_versus_count() -> None:
    # deltas -3, 1, 1: mass sum -1 elects "-" (mean -3); the vote count +1 elects "+" (mean 1).
    tensors = [torch.tensor([-3.0]), torch.tensor([1.0]), torch.tensor([1.0])]
    base = torch.zeros(1)
    assert ties(tensors, base, density=1.0, majority="sum").item() == -3.0
    assert ties(tensors, base, density=1.0, majority="count").item() == 1.0


def test_dare_seeded_hand_computed() -> None:
    # torch.Generator().manual_seed(0): torch.rand(4) twice gives
    #   A: [0.496, 0.768, 0.088, 0.132] -> keep (< 0.5) [1, 0, 1, 1]
    #   B: [0.307, 0.634, 0.490, 0.896] -> keep        [1, 0, 1, 0]
    # rescaled by 1/0.5: A' [2, 0, 1, 6], B' [-3, 0, 0.5, 0]
    tensors = [BASE + DELTA_A, BASE + DELTA_B]
    # linear, weights 1/2 each: [-0.5, 0, 0.75, 3] + 1
    halves = [0.5, 0.5]
    linear_mix = dare(tensors, BASE, density=0.5, seed=0, weights=halves)
    assert torch.allclose(linear_mix, torch.tensor([0.5, 1.0, 1.75, 4.0]))
    # default weights 1, no normalize (mergekit's default): the sum [-1, 0, 1.5, 6] + 1
    summed = dare(tensors, BASE, density=0.5, seed=0)
    assert torch.allclose(summed, torch.tensor([0.0, 1.0, 2.5, 7.0]))
    # ties: sum [-1, 0, 1.5, 6] -> signs [-, +, +, +]; agreeing [-3, 0, 1 + 0.5, 6]
    ties_sum = dare(tensors, BASE, density=0.5, seed=0, consensus="ties")
    assert torch.allclose(ties_sum, torch.tensor([-2.0, 1.0, 2.5, 7.0]))
    # normalized by the agreeing weights: [-3/1, 0, 1.5/2, 6/1] + 1
    ties_mean = dare(tensors, BASE, density=0.5, seed=0, consensus="ties", normalize=True)
    assert torch.allclose(ties_mean, torch.tensor([-2.0, 1.0, 1.75, 7.0]))
    # no rescale: A'' [1, 0, 0.5, 3], B'' [-1.5, 0, 0.25, 0]; halves summed + 1
    plain = dare(tensors, BASE, density=0.5, seed=0, rescale="none", weights=halves)
    assert torch.allclose(plain, torch.tensor([0.75, 1.0, 1.375, 2.5]))
    # l1: A'' keeps |.|=4.5 of 6.5, B'' 1.75 of 4.75 -> scaled by 6.5/4.5 and 4.75/1.75
    l1 = dare(tensors, BASE, density=0.5, seed=0, rescale="l1", weights=halves)
    a, b = torch.tensor([1, 0, 0.5, 3]) * 6.5 / 4.5, torch.tensor([-1.5, 0, 0.25, 0]) * 4.75 / 1.75
    assert torch.allclose(l1, 1 + (a + b) / 2)
    assert torch.equal(dare(tensors, BASE, density=0.5, seed=0, weights=halves), linear_mix)


def test_slerp_hand_computed() -> None:
    # v0 = [2, 0], v1 = [0, 1]: Omega = pi/2, t = 1/3 -> sin(pi/3) v0 + sin(pi/6) v1
    merged = slerp([torch.tensor([2.0, 0.0]), torch.tensor([0.0, 1.0])], t=1 / 3)
    assert torch.allclose(merged, torch.tensor([2 * math.sqrt(3) / 2, 0.5]))
    # colinear [1, 2] and [2, 4]: falls back to the linear midpoint [1.5, 3]
    merged = slerp([torch.tensor([1.0, 2.0]), torch.tensor([2.0, 4.0])], t=0.5)
    assert torch.allclose(merged, torch.tensor([1.5, 3.0]))
    with pytest.raises(SuiteError, match="exactly 2"):
        slerp([BASE, BASE, BASE], t=0.5)


# ---------------------------------------------------------------- driver


def test_get_method_suggests_close_match() -> None:
    with pytest.raises(SuiteError) as err:
        get_method("tie")
    assert "did you mean 'ties'" in _one_line(err)


def test_params_checked_against_signature() -> None:
    with pytest.raises(SuiteError) as err:
        check_params(ties, {"densty": 0.5})
    assert "did you mean 'density'" in _one_line(err)
    with pytest.raises(SuiteError, match="missing merge parameter 'density'"):
        check_params(ties, {})
    with pytest.raises(SuiteError, match="unknown merge parameter 'weights'"):
        check_params(slerp, {"t": 0.5, "weights": [1, 1]})
    check_params(partial(dare, consensus="ties"), {"density": 0.5, "seed": 3})
    with pytest.raises(SuiteError, match="base model"):
        merge_state_dicts(ties, [{}, {}], None, {"density": 0.5})


def test_driver_copies_non_float_and_seeds_each_key() -> None:
    zeros = {"a": torch.zeros(64), "b": torch.zeros(64), "step": torch.tensor([7])}
    ones = {"a": torch.ones(64), "b": torch.ones(64), "step": torch.tensor([9])}
    merged = dict(
        merge_state_dicts(get_method("dare_linear"), [ones, ones], zeros, {"density": 0.5})
    )
    assert merged["step"].item() == 9  # copied from the first model, not the base
    assert not torch.equal(merged["a"], merged["b"])  # same shape, different drop masks


def test_incompatible_models_refused_in_one_line() -> None:
    llama, neox = LlamaConfig(), GPTNeoXConfig()
    shapes = {"w": (2, 3)}
    vocab = {"a": 0, "b": 1}
    cases = [
        ([llama, neox], [shapes, shapes], [vocab, vocab], "one architecture"),
        ([llama, llama], [shapes, {"w": (3, 3)}], [vocab, vocab], "w is"),
        ([llama, llama], [shapes, {"v": (2, 3)}], [vocab, vocab], "parameter names differ"),
        ([llama, llama], [shapes, shapes], [vocab, {"a": 1, "b": 0}], "vocabularies"),
    ]
    for configs, shape_list, vocabs, expected in cases:
        with pytest.raises(SuiteError) as err:
            check_compatible(["m0", "m1"], configs, shape_list, vocabs)
        assert expected in _one_line(err)


# ---------------------------------------------------------------- checkpoints


def _tokenizer() -> PreTrainedTokenizerFast:
    vocab = {"<unk>": 0, "<eos>": 1, **{f"t{i}": i + 2 for i in range(62)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<eos>")


def _pico(path: Path, seed: int, hidden: int = 16) -> Path:
    """A random 2-layer Llama (vocab 64, tied embeddings) saved with its tokenizer."""
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=64,
        hidden_size=hidden,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        max_position_embeddings=64,
        tie_word_embeddings=True,
    )
    LlamaForCausalLM(config).save_pretrained(path)
    _tokenizer().save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def picos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("picos")
    return [_pico(root / f"m{i}", seed=i) for i in range(3)]


def _params(path: Path) -> dict[str, torch.Tensor]:
    return AutoModelForCausalLM.from_pretrained(path).state_dict()


def test_merge_checkpoints_reloads_as_hand_average(picos: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "merged"
    merge_checkpoints([str(picos[0]), str(picos[1])], str(out), "linear", {}, weights=[1, 3])
    merged, a, b = _params(out), _params(picos[0]), _params(picos[1])
    assert merged.keys() == a.keys()
    for key in a:
        assert torch.allclose(merged[key], 0.25 * a[key] + 0.75 * b[key], atol=1e-6), key
    assert sorted(p.name for p in tmp_path.iterdir()) == ["merged"]  # no temp dir left
    with pytest.raises(SuiteError, match="already exists"):
        merge_checkpoints([str(picos[0]), str(picos[1])], str(out), "linear", {})


def test_merge_checkpoints_refuses_other_shapes(picos: list[Path], tmp_path: Path) -> None:
    wide = _pico(tmp_path / "wide", seed=5, hidden=32)
    with pytest.raises(SuiteError) as err:
        merge_checkpoints([str(picos[0]), str(wide)], str(tmp_path / "out"), "linear", {})
    assert "cannot merge" in _one_line(err)
    assert not (tmp_path / "out").exists()


def test_cli_merges_and_reports_errors_in_one_line(
    picos: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "ties"
    models = ["--models", str(picos[1]), str(picos[2])]
    main(
        [*models, "--out", str(out), "--method", "ties", "--base", str(picos[0])]
        + ["--param", "density=0.5"]
    )
    assert AutoModelForCausalLM.from_pretrained(out).lm_head.weight.isfinite().all()
    with pytest.raises(SystemExit) as exit_info:
        run(lambda: main([*models, "--out", str(tmp_path / "x"), "--method", "tie"]))
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip().count("\n") == 0


def test_cli_help_lists_every_method_with_its_parameters(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    lines = {
        line.split(":")[0].split()[0]: line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("  ") and ":" in line
    }
    for name in MERGE_METHODS:
        assert name in lines, name
    assert "select_topk=1.0" in lines["sce"] and "[--base]" in lines["sce"]
    assert "lambda=1.0" in lines["ties"] and "density (required)" in lines["ties"]
