"""Rows beyond the FuseLLM paper, beside the paper's rows: FuseLLM with its approximations
corrected, FuseChat's fuse-then-merge, and sources beyond the paper's two
(:mod:`reports.sources`).

FuseLLM (corrected) is the paper's method with the two approximations of the reference
implementation replaced (`fusion.target: tail`, `fusion.fallback: next_token`; README, "The
approximations"): the paper's claims are judged on the reference row, this row gets its own
findings, and the ablation table shows each choice alone.

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
from reports.sources import NOTE as SOURCES_NOTE
from reports.sources import extra_label, is_extra, with_extra_sources

FUSECHAT_ROWS = ("fusechat_varm", "fusechat_sce")  # the variants' names (configs.variants)
CORRECTED_ROW = "fusellm_corrected"
CHOICE_ROWS = ("fusellm_tail", "fusellm_nextfb")  # each corrected choice alone
LABELS = {
    "fusechat_varm": "FuseChat (VaRM)",
    "fusechat_sce": "FuseChat (SCE)",
    CORRECTED_ROW: "FuseLLM (corrected)",
    "fusellm_tail": "FuseLLM (tail-aware target)",
    "fusellm_nextfb": "FuseLLM (next-token fallback)",
}
MARK = "§"
CORRECTED = (
    "FuseLLM (corrected), beyond the paper: the reference's renormalized top-k replaced by "
    "the true top-k probabilities plus a tail bucket, and its one-hot on the current token at "
    "unaligned positions by the next token's; the ablation rows change one choice each; the "
    "paper has no value for these rows"
)
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
    name: (CORRECTED_ROW, *FUSECHAT_ROWS)
    for name in ("table1", "table2", "table3", "table8", "sources")
} | {
    "kd": (CORRECTED_ROW,),
    "ablation": (*CHOICE_ROWS, CORRECTED_ROW),
    "ensemble_merging": FUSECHAT_ROWS,
}
# What each beyond-the-paper row is compared with: FuseLLM (one fused model of every source)
# and the model the sources were fused into.
BASELINES: dict[str, tuple[str, ...]] = {
    name: ("fusellm", "pythia" if name == "ensemble_merging" else "llama2") for name in EXTRA_ROWS
}


def table_rows(name: str, present: Collection[str] | None = None) -> tuple[str, ...]:
    """The paper's rows (with the config's sources beyond the paper's two among them,
    :mod:`reports.sources`), then the rows beyond it; only those in ``present`` when given."""
    extra = EXTRA_ROWS.get(name, ())
    rows = PAPER_TABLES[name].rows
    if present is not None:
        rows = tuple(with_extra_sources(rows, present))
    return rows + tuple(r for r in extra if present is None or r in present)


def label(row: str) -> str:
    """A row's display name, marked when it is beyond the paper."""
    if (source := extra_label(row)) is not None:
        return f"{source} {MARK}"
    return f"{LABELS[row]} {MARK}" if row in LABELS else ROW_LABELS.get(row, row)


def group_note(name: str, rows: Collection[str]) -> str:
    """The legend of the mark for the groups of rows beyond the paper that ``rows`` holds."""
    notes = [SOURCES_NOTE] if any(is_extra(r) for r in rows) else []
    if any(r == CORRECTED_ROW or r in CHOICE_ROWS for r in rows):
        notes.append(CORRECTED)
    if any(r in FUSECHAT_ROWS for r in rows):
        notes.append(PYTHIA_GROUP if name == "ensemble_merging" else GROUP)
    return f"{MARK} " + f". {MARK} ".join(notes) + "."
