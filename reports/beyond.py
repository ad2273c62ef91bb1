"""Rows beyond the FuseLLM paper: FuseChat's fuse-then-merge, beside the paper's rows.

FuseChat (Wan et al. 2024, arXiv:2402.16107, VaRM; FuseChat 2.0, arXiv:2408.07990, SCE)
fuses each source into its own copy of the target and merges those targets in parameter
space. The FuseLLM paper has no such rows, so they carry no paper value (never an invented
one), a mark naming the group, and no ordering claim: FuseChat states its orderings on chat
benchmarks (MT-Bench, AlpacaEval 2.0), not on the benchmarks of these tables. They are
compared with FuseLLM and the target instead (``reports.render.findings``), with the spread.
"""

from __future__ import annotations

from collections.abc import Collection

from reports.paper import PAPER_TABLES, ROW_LABELS

FUSECHAT_ROWS = ("fusechat_varm", "fusechat_sce")  # the variants' names (configs.variants)
LABELS = {"fusechat_varm": "FuseChat (VaRM)", "fusechat_sce": "FuseChat (SCE)"}
MARK = "§"
GROUP = (
    "FuseChat (fuse-then-merge), beyond the FuseLLM paper: the pairwise targets (the target "
    "fused with one source each) merged around the target with VaRM (arXiv:2402.16107) or "
    "SCE (FuseChat 2.0, arXiv:2408.07990); the paper has no value for these rows"
)
PYTHIA_GROUP = (
    "FuseChat's merges, beyond the FuseLLM paper: the three experts (the base continually "
    "trained per domain, so already same-architecture targets of one pivot) merged around the "
    "base with VaRM or SCE; no pairwise fusion step; the paper has no value for these rows"
)
EXTRA_ROWS: dict[str, tuple[str, ...]] = {
    name: FUSECHAT_ROWS
    for name in ("table1", "table2", "table3", "table8", "sources", "ensemble_merging")
}
# What each beyond-the-paper row is compared with: FuseLLM (one fused model of every source)
# and the model the sources were fused into.
BASELINES: dict[str, tuple[str, ...]] = {
    name: ("fusellm", "pythia" if name == "ensemble_merging" else "llama2") for name in EXTRA_ROWS
}


def table_rows(name: str, present: Collection[str] | None = None) -> tuple[str, ...]:
    """The paper's rows, then the rows beyond it (only those in ``present`` when given)."""
    extra = EXTRA_ROWS.get(name, ())
    return PAPER_TABLES[name].rows + tuple(r for r in extra if present is None or r in present)


def label(row: str) -> str:
    """A row's display name, marked when it is beyond the paper."""
    return f"{LABELS[row]} {MARK}" if row in LABELS else ROW_LABELS.get(row, row)


def group_note(name: str) -> str:
    """The legend line of the mark, under a table that has rows beyond the paper."""
    return f"{MARK} {PYTHIA_GROUP if name == 'ensemble_merging' else GROUP}."
