"""`make prefetch` names what it could not fetch in one line; tiny configs fetch nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _prefetch(config: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    # A closed loopback port stands in for an unreachable hub: the refusal is immediate.
    env |= {"HF_ENDPOINT": "http://127.0.0.1:9", "HF_HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "configs.prefetch", "--config", config],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_unreachable_hub_fails_fast_with_one_line(tmp_path: Path) -> None:
    proc = _prefetch("configs/paper/fusellm_7b.yaml", tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "meta-llama/Llama-2-7b-hf" in lines[0] and "make prefetch" in lines[0]


def test_tiny_config_has_nothing_to_fetch(tmp_path: Path) -> None:
    proc = _prefetch("configs/micro.yaml", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "nothing to fetch" in proc.stdout
