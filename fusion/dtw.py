"""Dynamic time warping over token strings: the fast exact DP and its reference-style oracle.

Orientation follows the reference: rows are the *blending* (source) tokens, columns the
*base* (target) tokens, and the traceback from the last cell prefers diagonal, then "up"
(previous blending token), then "left" (previous base token) on equal cumulative cost.
The pair cost is the Levenshtein distance of the marker-stripped strings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numba
import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein


def unique_pair_costs(
    row_ids: np.ndarray, col_ids: np.ndarray, row_strings: list[str], col_strings: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Levenshtein costs over *unique* token ids only, plus the inverse indices into them.

    A 2048-token block has a few hundred distinct tokens, so this is ~20x fewer distance
    evaluations than the full n x m matrix, and rapidfuzz runs them in C.
    """
    row_uniq, row_inv = np.unique(row_ids, return_inverse=True)
    col_uniq, col_inv = np.unique(col_ids, return_inverse=True)
    costs = process.cdist(
        [row_strings[i] for i in row_uniq.tolist()],
        [col_strings[i] for i in col_uniq.tolist()],
        scorer=Levenshtein.distance,
        dtype=np.int32,
        workers=1,  # a block's few hundred distinct tokens: threads cost more than they save
    )
    return costs, row_inv.astype(np.int64), col_inv.astype(np.int64)


@numba.njit(cache=True)
def _moves(costs: np.ndarray, row_inv: np.ndarray, col_inv: np.ndarray) -> np.ndarray:
    """Traceback move per cell (0 diagonal, 1 up, 2 left) of the cumulative-cost DP.

    The reference's traceback at (i, j) takes the argmin of M[i-1, j-1], M[i-1, j],
    M[i, j-1] (first on ties), which are exactly the three values the forward step
    compares, so one byte per cell plus two rolling rows replaces the full int matrix.
    """
    n, m = row_inv.shape[0], col_inv.shape[0]
    moves = np.empty((n, m), dtype=np.uint8)
    prev = np.empty(m, dtype=np.int64)
    cur = np.empty(m, dtype=np.int64)
    row_costs = costs[row_inv[0]]
    prev[0] = row_costs[col_inv[0]]
    for j in range(1, m):  # first row: only "left" exists
        prev[j] = prev[j - 1] + row_costs[col_inv[j]]
        moves[0, j] = 2
    for i in range(1, n):
        row_costs = costs[row_inv[i]]
        cur[0] = prev[0] + row_costs[col_inv[0]]  # first column: only "up" exists
        moves[i, 0] = 1
        for j in range(1, m):
            diag, up, left = prev[j - 1], prev[j], cur[j - 1]
            up_wins = up <= left  # selects instead of branches: the winner is unpredictable
            side = up if up_wins else left
            diag_wins = diag <= side
            cur[j] = (diag if diag_wins else side) + row_costs[col_inv[j]]
            moves[i, j] = 0 if diag_wins else (1 if up_wins else 2)
        prev, cur = cur, prev
    return moves


@numba.njit(cache=True)
def _traceback(moves: np.ndarray) -> np.ndarray:
    """Path from the last cell back to (0, 0), returned ascending."""
    i, j = moves.shape[0] - 1, moves.shape[1] - 1
    path = np.empty((i + j + 1, 2), dtype=np.int64)
    k = 0
    while i > 0 or j > 0:
        path[k, 0], path[k, 1] = i, j
        k += 1
        move = moves[i, j]
        if move == 0:
            i, j = i - 1, j - 1
        elif move == 1:
            i -= 1
        else:
            j -= 1
    path[k, 0], path[k, 1] = 0, 0
    return path[: k + 1][::-1].copy()


def dtw_path(costs: np.ndarray, row_inv: np.ndarray, col_inv: np.ndarray) -> np.ndarray:
    """Warping path as an ``(L, 2)`` array of (row, column) pairs, ascending.

    ``costs[row_inv[i], col_inv[j]]`` is the cost of pairing row i with column j; both
    sequences must be non-empty.
    """
    return _traceback(_moves(costs, row_inv, col_inv))


def dtw_reference(
    series_1: Sequence[str], series_2: Sequence[str], dist_fn: Callable[[str, str], float]
) -> list[tuple[int, int]]:
    """Reference-style DTW: a full Python double loop calling ``dist_fn`` for every pair.

    Kept only as the benchmark baseline and the test oracle for :func:`dtw_path`; it mirrors
    the reference's float matrix and ``np.argmin`` traceback, so it is slow by design.
    """
    matrix = np.zeros((len(series_1) + 1, len(series_2) + 1))
    matrix[0, :] = np.inf
    matrix[:, 0] = np.inf
    matrix[0, 0] = 0
    for i, a in enumerate(series_1):
        for j, b in enumerate(series_2):
            step = min(matrix[i, j + 1], matrix[i + 1, j], matrix[i, j])
            matrix[i + 1, j + 1] = dist_fn(a, b) + step
    matrix = matrix[1:, 1:]
    i, j = matrix.shape[0] - 1, matrix.shape[1] - 1
    path = []
    while i > 0 or j > 0:
        path.append((i, j))
        options = [
            matrix[i - 1, j - 1] if i > 0 and j > 0 else np.inf,
            matrix[i - 1, j] if i > 0 else np.inf,
            matrix[i, j - 1] if j > 0 else np.inf,
        ]
        move = int(np.argmin(options))
        i, j = (i - 1, j - 1) if move == 0 else (i - 1, j) if move == 1 else (i, j - 1)
    path.append((0, 0))
    return path[::-1]


def single_partners(path: np.ndarray, n_cols: int) -> np.ndarray:
    """For each column, its only paired row, or -1 when the path pairs it with several rows."""
    cols = path[:, 1]
    counts = np.bincount(cols, minlength=n_cols)
    partner = np.full(n_cols, -1, dtype=np.int64)
    partner[cols] = path[:, 0]  # any pair will do where the count is one
    partner[counts != 1] = -1
    return partner
