"""Shared fixtures: the micro world, built once per test session under a temp RUNS."""

from __future__ import annotations

from pathlib import Path

import pytest

from configs.layout import Layout
from configs.loader import load_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def micro_cfg():
    return load_config(ROOT / "configs/micro.yaml")


@pytest.fixture(scope="session")
def micro_world(micro_cfg, tmp_path_factory) -> Layout:
    """The micro world (corpora, tokenizers, models), built once for the whole session."""
    from training.world.build import build_world

    layout = Layout.of(micro_cfg, tmp_path_factory.mktemp("runs"))
    build_world(micro_cfg, layout)
    return layout
