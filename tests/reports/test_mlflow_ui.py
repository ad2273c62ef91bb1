"""`make mlflow-ui` serves the suite's sqlite store: its REST API lists the experiment and runs.

The target itself runs (``make -o setup``: its recipe, without re-checking the venv), so the
test breaks when the recipe does.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from configs import tracking
from configs.layout import Layout

ROOT = Path(__file__).resolve().parents[2]
STARTUP_S = 40.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(base: str, path: str, body: dict | None = None) -> dict:
    """GET (or POST ``body`` as JSON) one REST endpoint of the server."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        base + path, data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def wait_until_up(base: str, server: subprocess.Popen, log: Path) -> None:
    """Poll ``/health`` until it answers; fail with the server's log if it dies or is slow."""
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        assert server.poll() is None, f"mlflow ui exited early:\n{log.read_text()[-2000:]}"
        try:
            with urllib.request.urlopen(base + "/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"mlflow ui not up after {STARTUP_S:.0f}s:\n{log.read_text()[-2000:]}")


def stop(server: subprocess.Popen) -> None:
    """SIGTERM the server's process group; SIGKILL what is still there after 15 s."""
    os.killpg(server.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        server.poll()
        try:
            os.killpg(server.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.killpg(server.pid, signal.SIGKILL)
    server.wait()


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_mlflow_ui_lists_the_experiment_and_runs(micro_cfg, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "")  # the store under RUNS, as the target serves
    layout = Layout.of(micro_cfg, tmp_path / "runs")
    for stage in ("train", "eval"):
        with tracking.stage_run(layout, stage, "clm"):
            pass
    port, log = free_port(), tmp_path / "ui.log"
    target = ["make", "-s", "-C", str(ROOT), "-o", "setup", "mlflow-ui"]
    with log.open("w") as out:
        # make, mlflow and uvicorn in a session of their own: one process group to stop
        server = subprocess.Popen(
            [*target, f"PORT={port}", f"RUNS={layout.runs}"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, server, log)
        found = api(base, "/api/2.0/mlflow/experiments/get-by-name?experiment_name=micro")
        experiment = found["experiment"]["experiment_id"]
        runs = api(base, "/api/2.0/mlflow/runs/search", {"experiment_ids": [experiment]})["runs"]
        assert sorted(r["info"]["run_name"] for r in runs) == ["eval:clm", "train:clm"]
        tags = [{t["key"]: t["value"] for t in r["data"]["tags"]} for r in runs]
        assert sorted(t["stage"] for t in tags) == ["eval", "train"]
    finally:
        stop(server)
