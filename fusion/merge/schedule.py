"""Per-layer and per-tensor parameter values, in mergekit's recipe forms.

A merge parameter is a scalar, a **gradient** (a list of numbers: anchors spread evenly over
the layers, linearly interpolated; slerp's ``t: [0, 0.5, 1]``), or a list of **conditions**
(``{"filter": "self_attn", "value": ...}``: the first entry whose filter is a substring of the
tensor name, or has none, gives the value). A parameter typed as a list in the method's
signature (``weights``, ``density``, ...) takes one such value per model instead.

Layer ``i`` of ``L`` sits at ``i / (L - 1)``; tensors outside the layers (embeddings, final
norm, head) sit at 0, as in mergekit 0.1.4. The layer index is the first ``.<int>.`` in the
parameter name (``model.layers.3.mlp.up_proj.weight``).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Mapping
from typing import Any

from configs.errors import SuiteError

_LAYER = re.compile(r"\.(\d+)\.")


def per_model_names(fn: Any) -> set[str]:
    """The keywords of ``fn`` that take one value per model (annotated with a list)."""
    return {
        name
        for name, p in inspect.signature(fn).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and "list[" in str(p.annotation)
    }


def layer_index(key: str) -> int | None:
    """The layer a parameter belongs to, or ``None`` outside the layers."""
    match = _LAYER.search(key)
    return int(match.group(1)) if match else None


def positions(keys: Iterable[str]) -> dict[str, float]:
    """Each key's place in the layer stack, 0 (first layer, and non-layer tensors) to 1."""
    keys = list(keys)
    indices = {k: layer_index(k) for k in keys}
    layers = max((i for i in indices.values() if i is not None), default=-1) + 1
    return {
        k: 0.0 if i is None else (i / (layers - 1) if layers > 1 else 1.0)
        for k, i in indices.items()
    }


def check(name: str, value: Any, per_model: bool, n_models: int) -> None:
    """Refuse, in one line, a value that is neither a scalar, a gradient nor conditions."""
    if per_model and _is_list_of_values(value):
        if len(value) != n_models:
            raise SuiteError(
                f"merge parameter '{name}': {len(value)} values for {n_models} models: "
                "give one per model (or one for all)"
            )
        for item in value:
            _check_setting(name, item)
    else:
        _check_setting(name, value)


def resolve(
    params: Mapping[str, Any], per_model: set[str], key: str, position: float
) -> dict[str, Any]:
    """The plain keyword arguments for the tensor ``key`` at layer ``position``."""
    out = {}
    for name, value in params.items():
        if name in per_model and _is_list_of_values(value):
            out[name] = [_evaluate(item, key, position) for item in value]
        else:
            out[name] = _evaluate(value, key, position)
    return out


def _is_list_of_values(value: Any) -> bool:
    return isinstance(value, list) and not any(isinstance(v, dict) for v in value)


def _check_setting(name: str, value: Any) -> None:
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for cond in value:
            if "value" not in cond or cond.keys() - {"filter", "value"}:
                raise SuiteError(
                    f"merge parameter '{name}': a condition is {{filter: NAME, value: V}}, "
                    f"got {cond}"
                )
            _check_setting(name, cond["value"])
    elif isinstance(value, list) and not (value and all(_is_number(v) for v in value)):
        raise SuiteError(
            f"merge parameter '{name}': a gradient is a non-empty list of numbers, got {value}"
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _evaluate(value: Any, key: str, position: float) -> Any:
    if not isinstance(value, list):
        return value
    if all(isinstance(v, dict) for v in value):
        for cond in value:
            if cond.get("filter") in (None, "*") or cond["filter"] in key:
                return _evaluate(cond["value"], key, position)
        raise SuiteError(f"no condition matches {key}: end the list with one without a filter")
    scaled = position * (len(value) - 1)
    low = int(scaled)
    high = min(len(value) - 1, low + 1)
    frac = scaled - low
    return (1 - frac) * value[low] + frac * value[high]
