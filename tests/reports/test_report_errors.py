"""Report failures are one line naming the problem and its fix; nothing written is lost."""

from __future__ import annotations

import re
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import mlflow
import pytest

from configs import cli, tracking
from configs.errors import SuiteError
from configs.layout import Layout
from reports import __main__ as reports_cli
from reports import tables
from reports.tables import column_metrics, row_models
from tests.privileges import unprivileged

ROOT = Path(__file__).resolve().parents[2]
# `make tables` (tables, figures, report) and `make table2` (one table)
MODES = {"all": (), "one table": ("--table", "table2")}


@pytest.fixture(scope="module")
def store(micro_cfg, tmp_path_factory) -> Layout:
    """A store with one eval run."""
    layout = Layout.of(micro_cfg, tmp_path_factory.mktemp("runs"))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MLFLOW_TRACKING_URI", "")
        with tracking.stage_run(layout, "eval", row_models(micro_cfg)["llama2"]):
            mlflow.log_metrics(dict.fromkeys(column_metrics(micro_cfg, "table2").values(), 0.5))
    return layout


@pytest.fixture()
def readable_runs(store) -> Iterator[Path]:
    """A copy of the store where an unprivileged user may read it (pytest's tmp is 0700).

    A copy, so the read-only connections opened there never serve another test's writes."""
    runs = Path(tempfile.mkdtemp(prefix="report-errors-"))
    runs.chmod(0o755)
    shutil.copy(store.runs / "mlflow.db", runs / "mlflow.db")
    yield runs
    shutil.rmtree(runs)


def argv(runs: Path, *extra: str) -> list[str]:
    return ["prog", "--config", str(ROOT / "configs/micro.yaml"), "--runs", str(runs), *extra]


def fails(main: Callable[[], None], monkeypatch, capsys, runs: Path, *extra: str) -> str:
    """Run a CLI in-process: exit 2 with exactly one line on stderr, which is returned."""
    monkeypatch.setattr(sys, "argv", argv(runs, *extra))
    with pytest.raises(SystemExit) as exited:
        cli.run(main)
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    return err


def test_tables_before_eval_runs_name_the_target(store, monkeypatch, capsys) -> None:
    err = fails(reports_cli.main, monkeypatch, capsys, store.runs, "--set", "name=fresh")
    assert "no eval runs for 'fresh': run `make eval`" in err


def test_figures_before_tables_name_the_target(store) -> None:
    message = f"no tables under {store.tables}: run `make tables`"
    with pytest.raises(SuiteError, match=re.escape(message)):
        reports_cli.draw_figures(store)


@pytest.mark.parametrize("mode", MODES)
def test_missing_store_is_not_created(mode, monkeypatch, capsys, tmp_path) -> None:
    err = fails(reports_cli.main, monkeypatch, capsys, tmp_path / "runs", *MODES[mode])
    assert f"no MLflow store at {tmp_path / 'runs' / 'mlflow.db'}: run `make eval`" in err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("mode", MODES)
def test_corrupt_store(mode, monkeypatch, capsys, tmp_path) -> None:
    db = tmp_path / "mlflow.db"
    db.write_bytes(b"\x00garbage, not sqlite\xff" * 512)
    err = fails(reports_cli.main, monkeypatch, capsys, tmp_path, *MODES[mode])
    assert f"cannot read the MLflow store {db}: file is not a database" in err


def test_locked_store(monkeypatch, capsys, tmp_path) -> None:
    db = tmp_path / "mlflow.db"
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("CREATE TABLE runs (id TEXT)")
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(tables, "STORE_WAIT_S", 0.2)
    try:
        err = fails(reports_cli.main, monkeypatch, capsys, tmp_path)
    finally:
        holder.close()
    assert f"cannot read the MLflow store {db}: another process holds it" in err


def test_unwritable_runs_keeps_the_tables_there(readable_runs, monkeypatch, capsys) -> None:
    tables_dir = readable_runs / "micro" / "tables"
    monkeypatch.setattr(sys, "argv", argv(readable_runs, "--table", "table2"))
    reports_cli.main()
    before = {p: p.read_bytes() for p in tables_dir.iterdir()}
    tables_dir.chmod(0o555)
    try:
        with unprivileged():
            err = fails(reports_cli.main, monkeypatch, capsys, readable_runs, "--table", "table2")
    finally:
        tables_dir.chmod(0o755)
    assert f"cannot write under {tables_dir}: Permission denied" in err
    assert {p: p.read_bytes() for p in tables_dir.iterdir()} == before


def test_runs_under_a_file_is_one_line(store, monkeypatch, capsys, tmp_path) -> None:
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("a file where RUNS' parent should be")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store.tracking_uri)
    err = fails(reports_cli.main, monkeypatch, capsys, blocker / "runs", "--table", "table2")
    assert f"cannot write under {blocker / 'runs' / 'micro' / 'tables'}: Not a directory" in err
