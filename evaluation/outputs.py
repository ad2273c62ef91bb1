"""What every harness run leaves in its suite dir: ``results.json``, ``results.md`` and one
``samples_<task>.jsonl`` per task, each written via a temp file and renamed so readers never
see half a file, and a previous run's samples replaced rather than mixed in."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.rename(path)


def write_outputs(
    out_dir: Path,
    results: dict,
    table: str,
    samples: dict[str, list],
    default: Callable[[Any], Any] | None = None,
) -> None:
    """The harness's results (JSON, with ``default`` for objects JSON lacks), its summary
    table and the per-sample records of each task."""
    dump = {"default": default, "ensure_ascii": False}
    write_text(out_dir / "results.json", json.dumps(results, indent=2, **dump))
    write_text(out_dir / "results.md", table)
    for old in out_dir.glob("samples_*.jsonl"):
        old.unlink()
    for task, rows in samples.items():
        lines = "".join(json.dumps(r, **dump) + "\n" for r in rows)
        write_text(out_dir / f"samples_{task}.jsonl", lines)
