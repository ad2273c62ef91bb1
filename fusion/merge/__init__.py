"""Weight merging of same-architecture models: one pure function per method, one registry.

Each method maps the M models' copies of one parameter tensor to the merged tensor; the
driver (:mod:`fusion.merge.driver`) applies it key by key. Variants are data: a
``functools.partial`` of a method with some keywords fixed, as mergekit's
``GeneralizedTaskArithmeticMerge`` entries are.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from functools import partial

from torch import Tensor

from configs.errors import SuiteError
from fusion.merge.dare import dare
from fusion.merge.linear import linear
from fusion.merge.slerp import slerp
from fusion.merge.ties import ties

MergeFn = Callable[..., Tensor]

MERGE_METHODS: dict[str, MergeFn] = {
    "linear": linear,
    "ties": ties,
    "dare_ties": partial(dare, consensus="ties"),
    "dare_linear": partial(dare, consensus=None),
    "slerp": slerp,
}


def get_method(name: str) -> MergeFn:
    """The merge function registered as ``name``; a miss names the close match and all keys."""
    if name in MERGE_METHODS:
        return MERGE_METHODS[name]
    near = difflib.get_close_matches(name, MERGE_METHODS, n=1)
    hint = f"did you mean '{near[0]}'? " if near else ""
    raise SuiteError(f"unknown merge method '{name}': {hint}(valid: {', '.join(MERGE_METHODS)})")
