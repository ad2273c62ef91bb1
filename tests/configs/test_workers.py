"""`configs.workers`: items handed to long-lived worker processes, each once, failures named."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from configs.errors import SuiteError
from configs.workers import DONE, run_in_workers, serve

# A worker: appends "<pid> <item> <threads>" to a log per item, fails on the item "bad".
WORKER = """
import os, sys
from configs.workers import serve
def handle(item):
    if item == "bad":
        print("cannot handle bad", flush=True)
        sys.exit(3)
    with open(sys.argv[1], "a") as log:
        log.write(f"{os.getpid()} {item} {os.environ['OMP_NUM_THREADS']}\\n")
serve(handle)
"""


def _cmd(log: Path) -> list[str]:
    return [sys.executable, "-c", WORKER, str(log)]


def test_every_item_is_handled_once_over_the_workers(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[2])  # `configs` importable
    monkeypatch.setattr("configs.workers.os.cpu_count", lambda: 4)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    log, done = tmp_path / "log", []
    items = [f"item{i}" for i in range(7)]
    run_in_workers(_cmd(log), items, 2, done.append)
    rows = [line.split() for line in log.read_text().splitlines()]
    assert sorted(r[1] for r in rows) == items and sorted(done) == items
    assert len({r[0] for r in rows}) == 2  # two processes, each handed several items
    assert {r[2] for r in rows} == {"2"}  # each with its share of the cores as threads
    # a stage given fewer threads (make reproduce: stages side by side) splits those instead
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    log.unlink()
    run_in_workers(_cmd(log), items, 2)
    assert {line.split()[2] for line in log.read_text().splitlines()} == {"1"}


def test_a_failure_names_its_item_and_starts_nothing_more(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    log, done = tmp_path / "log", []
    with pytest.raises(SuiteError, match=r"running 'bad' failed \(exit 3\): cannot handle bad"):
        run_in_workers(_cmd(log), ["bad", "good1", "good2"], 1, done.append)
    assert done == [] and not log.exists()


def test_serve_says_done_after_each_item(capsys) -> None:
    handled: list[str] = []
    serve(handled.append, io.StringIO("a\n\n b \n"))
    assert handled == ["a", "b"]
    assert capsys.readouterr().out.splitlines() == [f"{DONE}a", f"{DONE}b"]
