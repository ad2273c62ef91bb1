"""The pipeline's stages in one list: ``make reproduce``'s order, each stage's CLI, and the
config slice its outputs depend on (what `configs.stamps` compares to decide a rebuild).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from configs.layout import Layout
from configs.schema import SuiteConfig

# Bumped when the world's corpora change, so that `make` rebuilds worlds made by older code
# (2: benchmark-shaped practice on training instances, `world.documents`; 3: every
# CommonSense / generation item the KB yields, `world.benchmarks.write`).
WORLD_FORMAT = 3


def _world(cfg: SuiteConfig) -> dict[str, Any]:
    models = [m.model_dump() for m in cfg.models.all()]
    pythia = cfg.pythia.base.model_dump() if cfg.pythia else None
    return {"world": cfg.world.model_dump(), "corpus": cfg.corpus.model_dump()} | {
        "models": models,
        "pythia_base": pythia,
        "world_format": WORLD_FORMAT,
    }


def _fusion(*fields: str) -> Callable[[SuiteConfig], dict[str, Any]]:
    return lambda cfg: {f"fusion.{f}": getattr(cfg.fusion, f) for f in fields}


# Bumped when the representation's columns change, so that `make` rebuilds representations
# made by older code (2: the per-token log-normalizer ``lse`` the tail target needs).
REPRESENT_FORMAT = 2


def _represent(cfg: SuiteConfig) -> dict[str, Any]:
    return _fusion("block_size", "topk")(cfg) | {"represent_format": REPRESENT_FORMAT}


def _section(name: str) -> Callable[[SuiteConfig], dict[str, Any]]:
    return lambda cfg: {name: (s.model_dump() if (s := getattr(cfg, name)) else None)}


@dataclass(frozen=True)
class Stage:
    """One stage of ``make reproduce``: its CLI, what it follows, the config slice its outputs
    depend on, and its output dirs (relative to the config's root)."""

    module: str  # run as ``python -m <module>``
    upstream: str | None
    slice: Callable[[SuiteConfig], dict[str, Any]]
    outputs: tuple[str, ...]


def _eval(cfg: SuiteConfig) -> dict[str, Any]:
    return {"evaluation": cfg.evaluation.model_dump()}


def _pythia(cfg: SuiteConfig) -> dict[str, Any]:
    return _section("pythia")(cfg) | _section("training")(cfg) | _section("fusion")(cfg)


# Bumped when the world card's probes or scoring change, so `make` measures the card again.
CARD_FORMAT = 1


def _card(cfg: SuiteConfig) -> dict[str, Any]:
    return _section("pythia")(cfg) | {"card_format": CARD_FORMAT}


# In pipeline order; the Makefile has one stamped rule per stage (a test checks it).
STAGES: dict[str, Stage] = {
    "world": Stage("world", None, _world, ("world",)),
    "represent": Stage("fusion.represent", "world", _represent, ("blocks", "represent")),
    "align": Stage(
        "fusion.align", "represent", _fusion("vocab", "method", "temperature"), ("align",)
    ),
    "fuse": Stage(
        "fusion.fuse", "align", _fusion("reference_rounding", "target", "fallback"), ("fuse",)
    ),
    "train": Stage("training.train", "fuse", _section("training"), ("train",)),
    "eval": Stage("evaluation.run_eval", "train", _eval, ("eval",)),
    "pythia": Stage("evaluation.pythia", "world", _pythia, ("pythia",)),
    "card": Stage("evaluation.card", "train", _card, ("card",)),
}


def fingerprint(cfg: SuiteConfig, stage: str) -> dict[str, Any]:
    """The config slice ``stage``'s outputs depend on: its own and every upstream stage's
    (JSON values, so a slice read back from a stamp compares equal)."""
    s = STAGES[stage]
    before = fingerprint(cfg, s.upstream) if s.upstream else {}
    return before | {stage: json.loads(json.dumps(s.slice(cfg), default=str))}


def changed_keys(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two slices (for the message)."""
    keys = []
    for key in sorted(set(old) | set(new), key=str):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            keys += changed_keys(a, b, f"{prefix}{key}.")
        elif a != b:
            keys.append(f"{prefix}{key}")
    return keys


def stamp_path(layout: Layout, stage: str) -> Path:
    """Where ``stage``'s stamp lives (written by ``configs.stamps``)."""
    return layout.root / "stamps" / f"{stage}.json"


def _stamps(layout: Layout) -> list[tuple[str, dict[str, Any]]]:
    """(stage, stamp) of every stamped stage, in pipeline order."""
    paths = [(stage, stamp_path(layout, stage)) for stage in STAGES]
    return [(stage, json.loads(path.read_text())) for stage, path in paths if path.is_file()]


def times(layout: Layout) -> list[tuple[str, float]]:
    """(stage, seconds) of every stamped stage, in pipeline order: the wall time ``make``
    measured, which the report prints."""
    return [(stage, float(stamp.get("seconds", 0.0))) for stage, stamp in _stamps(layout)]


def total(layout: Layout) -> float:
    """Wall seconds the pipeline's stages took together: the union of their [start, finish]
    intervals, since stages may run side by side (``make reproduce JOBS=2``) and a stage
    re-run later leaves a gap; the plain sum when a stamp predates the recorded start."""
    stamps = sorted((stamp for _, stamp in _stamps(layout)), key=lambda s: s.get("started", 0))
    if any("started" not in stamp for stamp in stamps):
        return sum(float(stamp.get("seconds", 0.0)) for stamp in stamps)
    covered, reached = 0.0, float("-inf")
    for stamp in stamps:
        start, end = max(stamp["started"], reached), stamp["finished"]
        covered += max(0.0, end - start)
        reached = max(reached, end)
    return covered
