"""The sandbox verdict cache: one program runs once, and only settled verdicts are kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.code import sandbox, verdicts
from evaluation.code.verdicts import run_once

PASSES = "import sys\nsys.exit(0)\n"


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The programs the sandbox really ran, in order."""
    ran: list[str] = []
    real = verdicts.run_program

    def counting(lang: str, source: str, **kwargs):
        ran.append(source)
        return real(lang, source, **kwargs)

    monkeypatch.setattr(verdicts, "run_program", counting)
    return ran


def test_a_program_runs_once_and_its_verdict_is_reused(tmp_path: Path, counted) -> None:
    first = run_once("py", PASSES, 10.0, tmp_path)
    again = run_once("py", PASSES, 10.0, tmp_path)
    other = run_once("py", "raise SystemExit(3)\n", 10.0, tmp_path)
    assert counted == [PASSES, "raise SystemExit(3)\n"]
    assert (first["status"], first["cached"]) == ("passed", False)
    assert (again["status"], again["cached"]) == ("passed", True)
    assert {k: v for k, v in again.items() if k != "cached"} == {
        k: v for k, v in first.items() if k != "cached"
    }
    assert other["status"] == "failed" and other["exit_code"] == 3
    run_once("py", PASSES, 5.0, tmp_path)  # another timeout is another key
    assert len(counted) == 3


def test_without_a_cache_every_run_is_real(counted) -> None:
    run_once("py", PASSES, 10.0, None)
    run_once("py", PASSES, 10.0, None)
    assert len(counted) == 2


def test_unsettled_verdicts_run_again(tmp_path: Path, monkeypatch) -> None:
    calls: list[str] = []

    def timing_out(lang: str, source: str, **kwargs):
        calls.append(source)
        return sandbox.ExecResult("timeout", None, "", "", 10.0, sandbox.isolation())

    monkeypatch.setattr(verdicts, "run_program", timing_out)
    run_once("py", PASSES, 10.0, tmp_path)
    assert run_once("py", PASSES, 10.0, tmp_path)["cached"] is False
    assert len(calls) == 2 and not list(tmp_path.iterdir())


def test_a_damaged_entry_is_run_again_and_rewritten(tmp_path: Path, counted) -> None:
    run_once("py", PASSES, 10.0, tmp_path)
    (entry,) = tmp_path.iterdir()
    entry.write_text('{"status": "pas')  # torn
    assert run_once("py", PASSES, 10.0, tmp_path)["status"] == "passed"
    assert run_once("py", PASSES, 10.0, tmp_path)["cached"] is True
    assert len(counted) == 2
