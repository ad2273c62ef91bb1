"""`make fuse` with two worker processes: the same fused datasets as one process."""

from __future__ import annotations

import sys
from pathlib import Path

from datasets import load_from_disk

from configs.layout import Layout
from configs.loader import load_config
from configs.variants import fuse_variants
from fusion.fuse import __main__ as fuse_cli

ROOT = Path(__file__).resolve().parents[2]


def test_two_workers_fuse_every_variant_like_one_process(
    fused_world: Layout, tmp_path, monkeypatch, worker_starts: list[list[str]]
) -> None:
    cfg = load_config(ROOT / "configs/micro.yaml", ["workers=2"])
    layout = Layout.of(cfg, tmp_path)
    layout.root.mkdir(parents=True)
    for shared in ("world", "blocks", "represent", "align"):  # upstream of fuse, read only
        (layout.root / shared).symlink_to(fused_world.root / shared)
    argv = ["fusion.fuse", "--config", str(ROOT / "configs/micro.yaml"), "--runs", str(tmp_path)]
    monkeypatch.setattr(sys, "argv", [*argv, "--set", "workers=2"])
    fuse_cli.main()
    names = list(fuse_variants(cfg))
    assert len(names) > 2 and len(worker_starts) == 2  # two processes, not one per variant
    for name in names:
        ours = load_from_disk(str(layout.fused(name)))
        theirs = load_from_disk(str(fused_world.fused(name)))
        assert ours.column_names == theirs.column_names
        for column in ours.column_names:
            assert ours[column] == theirs[column], (name, column)
