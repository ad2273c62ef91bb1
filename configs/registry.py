"""One lookup for every named choice (variants, models, suites, tables, tasks, methods).

A misspelt name is the most common bad input: every registry answers it with the same one
line, the nearest valid names first, so the fix is in the message.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import TypeVar

from configs.errors import SuiteError

T = TypeVar("T")


def hint(name: str, valid: Iterable[str], otherwise: str | None = None) -> str:
    """``did you mean 'x'?`` for the closest valid names, else ``otherwise`` (default: the
    list of valid names)."""
    valid = [str(v) for v in valid]
    near = difflib.get_close_matches(str(name), valid, n=3, cutoff=0.6)
    if near:
        return "did you mean " + ", ".join(f"'{n}'" for n in near) + "?"
    return otherwise or f"choose from {', '.join(valid)}"


def check(name: str, valid: Iterable[str], kind: str) -> str:
    """``name`` when it is one of ``valid``, else a one-line :class:`SuiteError` with a hint."""
    valid = list(valid)
    if name not in valid:
        raise SuiteError(f"unknown {kind} '{name}': {hint(name, valid)}")
    return name


def get(registry: Mapping[str, T], name: str, kind: str) -> T:
    """``registry[name]``, or a one-line :class:`SuiteError` naming the nearest valid names."""
    return registry[check(name, registry, kind)]
