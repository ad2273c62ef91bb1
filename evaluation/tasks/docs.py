"""The shape of a benchmark item as the task files store it, and BBH's option labels.

Shared by every source of items (the tiny world's generators, real BIG-bench conversions).
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

Doc = dict[str, Any]


def letter(index: int) -> str:
    """BBH's option label: 0 -> "(A)"."""
    return f"({string.ascii_uppercase[index]})"


def options(choices: Sequence[str]) -> str:
    """BBH's lettered option block."""
    return "Options:\n" + "\n".join(f"{letter(i)} {c}" for i, c in enumerate(choices))
