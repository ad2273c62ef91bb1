"""Shared fixtures: the micro world, built once per test session under a temp RUNS."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from configs.layout import Layout
from configs.loader import load_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def store_under_runs(monkeypatch) -> None:
    """Blank a user's ``MLFLOW_TRACKING_URI`` in every test (restored afterwards), so each
    layout logs to the sqlite store under its own RUNS, never to an outside server."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "")


@pytest.fixture
def worker_starts(monkeypatch) -> list[list[str]]:
    """The command of every worker process `configs.workers` starts, recorded as it starts
    them: a stage must start one process per worker, not one per item."""
    started: list[list[str]] = []
    real = subprocess.Popen

    def popen(cmd: list[str], **kwargs) -> subprocess.Popen:
        started.append(cmd)
        return real(cmd, **kwargs)

    monkeypatch.setattr("configs.workers.subprocess.Popen", popen)
    return started


@pytest.fixture(scope="session")
def micro_cfg():
    return load_config(ROOT / "configs/micro.yaml")


@pytest.fixture(scope="session")
def micro_world(micro_cfg, tmp_path_factory) -> Layout:
    """The micro world (corpora, tokenizers, models), built once for the whole session."""
    from world.build import build_world

    layout = Layout.of(micro_cfg, tmp_path_factory.mktemp("runs"))
    build_world(micro_cfg, layout)
    return layout


@pytest.fixture(scope="session")
def fused_world(micro_cfg, micro_world: Layout) -> Layout:
    """Representations of every model, every needed alignment and every fused variant."""
    from configs.variants import fuse_variants
    from fusion.align.stage import align_source, needed_alignments
    from fusion.fuse.stage import fuse_variant
    from fusion.represent import represent_model

    for spec in micro_cfg.models.all():
        represent_model(micro_cfg, micro_world, spec)
    sources = {s.name: s for s in micro_cfg.models.sources}
    for source, vocab in needed_alignments(micro_cfg):
        align_source(micro_cfg, micro_world, sources[source], vocab)
    for variant in fuse_variants(micro_cfg).values():
        fuse_variant(micro_cfg, micro_world, variant)
    return micro_world
