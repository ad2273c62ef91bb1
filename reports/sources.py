"""The config's sources as table rows: the paper's two, then every further one.

The paper fuses two sources, OpenLLaMA and MPT: its tables have a row for each and, in the
#sources table, a row for Llama-2 fused with each alone. A config may name any number of
sources. A source stands in a paper row when it is that model or its analogue — its name is
the row's (``openllama``, ``mpt``: the tiny world's analogues) or starts with it and ``_``
(``openllama_7b``, ``mpt_7b``: the paper config's) — so the paper's values sit beside it; any
other source (a real SmolLM2, a third source) gets rows of its own, placed after
the paper's source rows: ``source_<name>`` beside OpenLLaMA and MPT, and
``llama2_plus_<name>`` (the target fused with that source alone) beside "Llama-2 + MPT". The
paper has no value for those rows: their paper cells stay missing, "not in the paper".
A "+ source" row is the variant ``configs.variants`` trains on that source alone
(``fusellm_<source>`` with 2+ sources; with one source, FuseLLM itself).
"""

from __future__ import annotations

from collections.abc import Iterable

from configs.schema import SuiteConfig
from configs.variants import fuse_variants

PAPER_SOURCES = ("openllama", "mpt")  # the paper's source rows, taken by name
TARGET_ROW = "llama2"
EXTRA, PLUS = "source_", "llama2_plus_"  # row id prefixes of sources beyond the paper's two
NOT_IN_PAPER = "not in the paper"
NOTE = (
    "Sources beyond the paper's two (OpenLLaMA, MPT): the config's further sources and the "
    "target fused with each alone; the paper has no value for these rows"
)


def single_source_variants(cfg: SuiteConfig) -> dict[str, str]:
    """Source -> the first fused variant trained on it alone (the main variant's settings)."""
    out: dict[str, str] = {}
    for v in fuse_variants(cfg).values():
        if len(v.sources) == 1 and v.teacher is None:
            out.setdefault(v.sources[0], v.name)
    return out


def paper_row(name: str, taken: Iterable[str] = ()) -> str | None:
    """The paper's source row a source named ``name`` stands in, if it is that model (or its
    analogue) and the row is not ``taken`` by an earlier source."""
    for row in PAPER_SOURCES:
        if row not in taken and (name == row or name.startswith(f"{row}_")):
            return row
    return None


def source_rows(cfg: SuiteConfig) -> dict[str, str]:
    """Row id -> model name for every source and every "+ source" row, in config order."""
    single = single_source_variants(cfg)
    rows: dict[str, str] = {}
    for spec in cfg.models.sources:
        paper = paper_row(spec.name, taken=rows)
        if paper:
            row, plus = paper, f"{TARGET_ROW}_{paper}"
        else:
            row, plus = f"{EXTRA}{spec.name}", f"{PLUS}{spec.name}"
        rows[row] = spec.name
        if spec.name in single:
            rows[plus] = single[spec.name]
    return rows


def is_extra(row: str) -> bool:
    """Whether ``row`` is a source row beyond the paper's two (or its "+ source" row)."""
    return row.startswith((EXTRA, PLUS))


def extra_label(row: str) -> str | None:
    """The display name of a source row beyond the paper, None for any other row."""
    if row.startswith(PLUS):
        return f"Llama-2 + {row.removeprefix(PLUS)}"
    if row.startswith(EXTRA):
        return row.removeprefix(EXTRA)
    return None


def with_extra_sources(rows: Iterable[str], present: Iterable[str]) -> list[str]:
    """The table's rows with the further sources of ``present`` (in its order) inserted after
    the paper's last source row, and their "+ source" rows after "Llama-2 + MPT"; a table
    without such rows gets none."""
    out = list(rows)
    present = list(present)
    for anchor, prefix in ((PAPER_SOURCES[-1], EXTRA), (f"{TARGET_ROW}_{PAPER_SOURCES[-1]}", PLUS)):
        extra = [r for r in present if r.startswith(prefix) and r not in out]
        if anchor in out and extra:
            at = out.index(anchor) + 1
            out[at:at] = extra
    return out
