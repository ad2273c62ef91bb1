"""Per-layer gradients, per-tensor conditions and per-model values, through the driver."""

from __future__ import annotations

import pytest
import torch

from configs.errors import SuiteError
from fusion.merge import get_method
from fusion.merge.driver import check_params, merge_state_dicts
from fusion.merge.schedule import positions

KEYS = [
    "model.embed_tokens.weight",
    "model.layers.0.self_attn.q_proj.weight",
    "model.layers.1.mlp.up_proj.weight",
    "model.layers.2.self_attn.q_proj.weight",
    "model.norm.weight",
]


def _models() -> tuple[dict, dict]:
    zeros = {k: torch.zeros(3) for k in KEYS}
    ones = {k: torch.ones(3) for k in KEYS}
    return zeros, ones


def _linear(params: dict) -> dict[str, float]:
    zeros, ones = _models()
    merged = merge_state_dicts(get_method("linear"), [zeros, ones], None, params)
    return {k: round(float(v[0]), 6) for k, v in merged}


def test_positions_spread_layers_and_put_the_rest_first() -> None:
    assert list(positions(KEYS).values()) == [0.0, 0.0, 0.5, 1.0, 0.0]


def test_gradient_interpolates_over_layers() -> None:
    # weight of the second model 0 -> 1 over three layers; non-layer tensors take the start
    merged = _linear({"weights": [1.0, [0.0, 1.0]], "normalize": False})
    assert merged == dict(zip(KEYS, [0.0, 0.0, 0.5, 1.0, 0.0], strict=True))
    # a three-anchor gradient: layer 1 sits on the middle anchor
    zeros, ones = _models()
    slerped = dict(merge_state_dicts(get_method("slerp"), [zeros, ones], None, {"t": [0, 0.8, 0]}))
    assert float(slerped["model.layers.1.mlp.up_proj.weight"][0]) == pytest.approx(0.8)


def test_conditions_pick_by_tensor_name() -> None:
    t = [{"filter": "self_attn", "value": 0.25}, {"filter": "mlp", "value": [0, 1]}, {"value": 1}]
    zeros, ones = _models()
    merged = dict(merge_state_dicts(get_method("slerp"), [zeros, ones], None, {"t": t}))
    values = [round(float(merged[k][0]), 6) for k in KEYS]
    assert values == [1.0, 0.25, 0.5, 0.25, 1.0]


def test_bad_schedules_refused_in_one_line() -> None:
    zeros, ones = _models()
    fn = get_method("ties")
    cases = [
        ({"density": [0.5, 0.5, 0.5]}, "3 values for 2 models"),
        ({"density": 0.5, "lambda": ["a"]}, "gradient is a non-empty list of numbers"),
        ({"density": [{"filter": "mlp", "valu": 1}]}, "a condition is"),
    ]
    for params, expected in cases:
        with pytest.raises(SuiteError, match=expected) as err:
            merge_state_dicts(fn, [zeros, ones], zeros, params)
        assert "\n" not in str(err.value)
    with pytest.raises(SuiteError, match="end the list with one without a filter"):
        dict(
            merge_state_dicts(fn, [zeros, ones], zeros, {"density": [{"filter": "x", "value": 1}]})
        )


def test_lambda_is_the_user_name_of_lambda_() -> None:
    fn = get_method("task_arithmetic")
    check_params(fn, {"lambda": 0.5})
    with pytest.raises(SuiteError, match="did you mean 'lambda'"):
        check_params(fn, {"lambd": 0.5})
    zeros, ones = _models()
    merged = dict(merge_state_dicts(fn, [ones], zeros, {"lambda": 0.5}))
    assert float(merged[KEYS[0]][0]) == 0.5
