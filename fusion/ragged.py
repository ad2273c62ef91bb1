"""Ragged per-position lists <-> flat arrays plus lengths, the way they are stored in Arrow.

Aligned and fused distributions have a different number of entries at each position (a
one-hot, an empty list, up to K ids); storing one flat column and one length per position
avoids an Arrow offset per position and converts with NumPy, no per-position Python loop.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def flatten(rows: Sequence[Sequence[float]], dtype: type) -> tuple[np.ndarray, np.ndarray]:
    """``[[a, b], [], [c]]`` -> ``(array([a, b, c]), array([2, 0, 1]))``."""
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int32, count=len(rows))
    flat = np.fromiter((x for r in rows for x in r), dtype=dtype, count=int(lengths.sum()))
    return flat, lengths


def unflatten(flat: Sequence, lengths: Sequence[int]) -> list[list]:
    """Inverse of :func:`flatten`, as Python lists."""
    values = np.asarray(flat).tolist()
    bounds = np.concatenate([[0], np.cumsum(lengths)]).tolist()
    return [values[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def rows_of(flat: Sequence, k: int) -> np.ndarray:
    """A fixed-width flattened ``[n * k]`` column (top-k) as an ``[n, k]`` array."""
    return np.asarray(flat).reshape(-1, k)
