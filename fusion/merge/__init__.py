"""Weight merging of same-architecture models: one pure function per method, one registry.

Each method maps the M models' copies of one parameter tensor to the merged tensor; the
driver (:mod:`fusion.merge.driver`) applies it key by key. Variants are data: a
``functools.partial`` of a method with some keywords fixed, as mergekit's
``GeneralizedTaskArithmeticMerge`` entries are. Names and defaults follow mergekit's, so a
mergekit recipe ports key for key (``lambda`` is spelt ``lambda_`` in Python).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from functools import partial

from torch import Tensor

from configs.errors import SuiteError
from fusion.merge.breadcrumbs import breadcrumbs
from fusion.merge.dare import dare
from fusion.merge.della import della
from fusion.merge.linear import linear
from fusion.merge.model_stock import model_stock
from fusion.merge.sce import sce
from fusion.merge.slerp import slerp
from fusion.merge.task_arithmetic import task_arithmetic
from fusion.merge.ties import ties
from fusion.merge.varm import varm

MergeFn = Callable[..., Tensor]

MERGE_METHODS: dict[str, MergeFn] = {
    "linear": linear,
    "task_arithmetic": task_arithmetic,
    "ties": ties,
    "dare_ties": partial(dare, consensus="ties"),
    "dare_linear": partial(dare, consensus=None),
    "breadcrumbs": partial(breadcrumbs, consensus=None),
    "breadcrumbs_ties": partial(breadcrumbs, consensus="ties"),
    "della": partial(della, consensus="ties", normalize=True),
    "della_linear": partial(della, consensus=None, normalize=False),
    "model_stock": model_stock,
    "slerp": slerp,
    "sce": sce,
    "varm": varm,
}


def get_method(name: str) -> MergeFn:
    """The merge function registered as ``name``; a miss names the close match and all keys."""
    if name in MERGE_METHODS:
        return MERGE_METHODS[name]
    near = difflib.get_close_matches(name, MERGE_METHODS, n=1)
    hint = f"did you mean '{near[0]}'? " if near else ""
    raise SuiteError(f"unknown merge method '{name}': {hint}(valid: {', '.join(MERGE_METHODS)})")
