"""``make chaos``: kill ``make reproduce`` with SIGKILL inside every stage, finish it, and check
that nothing differs from an uninterrupted run.

Crash safety is a claim about every file a stage writes, so it is tested by injection: a
reference ``make reproduce`` runs first (its manifest is kept, then its RUNS is deleted so the
interrupted run writes the same absolute paths); then ``make reproduce`` is started again and
again, each time killed (its whole process group, SIGKILL) when a kill point's path first
appears under ``RUNS/<name>`` (plus a delay), and a last run finishes the job. Every artifact
must then have the reference's hash and every MLflow run the reference's metrics: a
half-written file accepted, a stage that fails to resume, or a result lost shows up as a
difference. Kill points are chained in pipeline order in one RUNS, so the whole check costs
about two runs. Usage: ``python -m configs.chaos --config configs/micro.yaml --runs R
[--points quick|all]`` (``make chaos``); exit 1 lists the differences.

What legitimately differs between two uninterrupted runs is excluded by name, with the reason
in :data:`SKIPPED_FILES` and :data:`VOLATILE_KEYS`.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from configs import cli
from configs.errors import SuiteError
from configs.layout import Layout

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class KillPoint:
    """Kill ``make reproduce`` ``delay`` seconds after ``path`` (a glob under
    ``RUNS/<name>``) first exists: a moment inside ``stage``."""

    stage: str
    path: str
    delay: float = 0.0

    def __str__(self) -> str:
        return f"{self.stage}: {self.path}" + (f" +{self.delay:g}s" if self.delay else "")


# In the order ``make reproduce JOBS=1`` reaches them (eval before pythia: the Makefile's order).
ALL_POINTS = (
    KillPoint("world", "world/corpora"),
    KillPoint("world", "world/models/.openllama.tmp", 0.5),  # mid-training, MLflow run open
    KillPoint("world", "world/models/pythia"),  # every model built, manifest not yet
    KillPoint("represent", "blocks"),
    KillPoint("represent", "represent/openllama/shard-00000"),
    KillPoint("represent", "represent/mpt/meta.json"),
    KillPoint("align", ".align-cache-*", 0.3),  # mid-map
    KillPoint("align", "align/mpt_mined/meta.json"),  # saved, MLflow run not yet logged
    KillPoint("fuse", "fuse/fusellm/meta.json"),
    KillPoint("fuse", "fuse/.kd.tmp"),
    KillPoint("train", "train/clm/checkpoints/checkpoint-2"),
    KillPoint("train", "train/fusellm/model/model.safetensors"),  # saved, meta.json not yet
    KillPoint("train", "train/kd/checkpoints/checkpoint-*"),  # while the Trainer writes one
    KillPoint("eval", "eval/llama2/commonsense", 1.0),
    KillPoint("eval", "eval/*/done.json"),
    KillPoint("eval", "eval/clm/perplexity/perplexity.json"),
    KillPoint("pythia", "pythia/experts/nih"),
    KillPoint("pythia", "pythia/weight_merging"),
    KillPoint("pythia", "pythia/train/fusellm/checkpoints/checkpoint-2"),
    KillPoint("card", "card/openllama"),  # a model's card written, its MLflow run closing
    KillPoint("tables", "tables/table1.csv"),
    KillPoint("tables", "tables/training_curves.png"),
)
# One per stage: what the slow test runs.
QUICK_POINTS = tuple(p for i, p in enumerate(ALL_POINTS) if i in (1, 4, 7, 8, 11, 14, 18, 19, 20))

# Files (globs under RUNS) whose bytes differ between two uninterrupted runs, and why.
SKIPPED_FILES = {
    "mlflow.db": "run ids and timestamps; its metrics are compared run by run instead",
    "mlartifacts/*": "stored under random run ids; copies of files compared where written",
    "*/eval/*/*/cache/*": "lm-eval's request cache (sqlite pages, insertion order)",
    "cache/programs/*": "MultiPL-E's verdict cache; the verdicts are compared in the samples",
    "*/report.md": "holds the wall time per stage",
    "*/training_args.bin": "a pickle of TrainingArguments: holds the run's logging dir name",
}
# JSON keys (at any depth) that hold wall times, dates or throughput, dropped before hashing.
VOLATILE_KEYS = {
    "seconds",
    "started",
    "finished",
    "date",
    "start_time",
    "end_time",
    "total_evaluation_time_seconds",
    "train_runtime",
    "train_samples_per_second",
    "train_steps_per_second",
    "tokens_per_s",
    "elapsed",
    "duration",
    "git_hash",  # lm-eval records the suite's commit
    "stderr_tail",  # a MultiPL-E sample's stderr names its random sandbox dir
    "cached",  # whether a MultiPL-E verdict was reused: depends on what ran before a kill
}
# MLflow metrics that are throughput or wall time.
VOLATILE_METRICS = ("_per_second", "tokens_per_s", "runtime", "seconds")


def _skipped(rel: str) -> bool:
    return any(fnmatch.fnmatch(rel, pattern) for pattern in SKIPPED_FILES)


def _stable(value: object) -> object:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def _digest(path: Path) -> str:
    """sha256 of a file; JSON (and JSON lines) without its volatile keys."""
    data = path.read_bytes()
    try:
        if path.suffix == ".json":
            data = json.dumps(_stable(json.loads(data)), sort_keys=True).encode()
        elif path.suffix == ".jsonl":
            rows = [_stable(json.loads(line)) for line in data.splitlines() if line.strip()]
            data = json.dumps(rows, sort_keys=True).encode()
    except ValueError:
        pass  # not JSON after all (or half written): hashed as bytes
    return hashlib.sha256(data).hexdigest()


def manifest(runs: Path) -> dict[str, str]:
    """Relative path -> digest of every file under ``runs`` except :data:`SKIPPED_FILES`."""
    found = {}
    for path in sorted(runs.rglob("*")):
        rel = path.relative_to(runs).as_posix()
        if path.is_file() and not path.is_symlink() and not _skipped(rel):
            found[rel] = _digest(path)
    return found


def _runs(layout: Layout) -> list[tuple[str, str, str]]:
    """(run id, name, status) of the config's runs, oldest first, read from RUNS' sqlite
    store with a fresh connection: MLflow's client keeps its engine per URI, which would go
    on reading a store deleted and recreated under it (the reference's)."""
    store = layout.runs / "mlflow.db"
    if not store.is_file():
        return []
    query = (
        "SELECT r.run_uuid, r.name, r.status FROM runs r JOIN experiments e "
        "ON r.experiment_id = e.experiment_id WHERE e.name = ? ORDER BY r.start_time"
    )
    with closing(sqlite3.connect(store)) as db:
        return db.execute(query, (layout.cfg.name,)).fetchall()


def mlflow_metrics(layout: Layout) -> dict[str, dict[str, list[list[float]]]]:
    """Run name -> metric -> sorted [[step, value], ...] of the newest FINISHED run of each
    name (a killed run's partial metrics never count), volatile metrics left out."""
    found: dict[str, dict[str, list[list[float]]]] = {}
    with closing(sqlite3.connect(layout.runs / "mlflow.db")) as db:
        for run_id, name, status in _runs(layout):
            if status != "FINISHED":
                continue
            rows = db.execute("SELECT key, step, value FROM metrics WHERE run_uuid = ?", (run_id,))
            metrics: dict[str, list[list[float]]] = {}
            for key, step, value in rows:
                if not any(part in key for part in VOLATILE_METRICS):
                    metrics.setdefault(key, []).append([step, value])
            found[name] = {k: sorted(v) for k, v in sorted(metrics.items())}  # newest wins
    return found


def unfinished_runs(layout: Layout) -> list[str]:
    """Names of the runs still marked RUNNING: a killed run that nothing marked KILLED."""
    return [name for _, name, status in _runs(layout) if status == "RUNNING"]


def snapshot(layout: Layout) -> dict:
    """Everything a finished ``make reproduce`` is compared on."""
    if not (layout.runs / "mlflow.db").is_file():
        return {"files": manifest(layout.runs), "metrics": {}}
    return {"files": manifest(layout.runs), "metrics": mlflow_metrics(layout)}


def differences(reference: dict, got: dict) -> list[str]:
    """One line per file or metric that is missing, extra or different."""
    lines = []
    for what in ("files", "metrics"):
        ref, new = reference[what], got[what]
        lines += [f"{what}: missing {k}" for k in sorted(set(ref) - set(new))]
        lines += [f"{what}: extra {k}" for k in sorted(set(new) - set(ref))]
        lines += [f"{what}: differs {k}" for k in sorted(set(ref) & set(new)) if ref[k] != new[k]]
    return lines


def start(config: Path, runs: Path, log: Path) -> subprocess.Popen:
    """``make reproduce`` in its own process group (so a kill takes every child with it)."""
    # one stage at a time (whatever JOBS the environment sets): the kill points chain in
    # pipeline order, which stages side by side would not keep
    cmd = [
        "make",
        "--no-print-directory",
        "reproduce",
        f"CONFIG={config}",
        f"RUNS={runs}",
        "JOBS=1",
    ]
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}  # RUNS' store
    with log.open("a") as out:
        return subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def kill_at(config: Path, layout: Layout, point: KillPoint, log: Path, timeout: float) -> str:
    """Run ``make reproduce`` until ``point``, then SIGKILL its process group.

    Returns ``killed``, or why not: the path existed before the run (``already past``) or
    the run ended first (``finished first``).
    """
    root = layout.root
    if any(root.glob(point.path)):
        return "already past"
    proc = start(config, layout.runs, log)
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if any(root.glob(point.path)):
            time.sleep(point.delay)
            break
        time.sleep(0.01)
    if proc.poll() is not None:
        return "finished first"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return "killed"


def run_chaos(
    config: Path, layout: Layout, points: tuple[KillPoint, ...], log: Path, timeout: float = 1800
) -> tuple[list[str], list[str]]:
    """Reference run, then ``points`` in one interrupted run, finished; returns (the kill
    points survived, the differences found). ``layout.runs`` is emptied first."""
    shutil.rmtree(layout.runs, ignore_errors=True)
    layout.runs.mkdir(parents=True)
    reference = complete(config, layout, log, timeout)
    (log.with_suffix(".reference.json")).write_text(json.dumps(reference, indent=1))
    shutil.rmtree(layout.runs)
    layout.runs.mkdir()
    outcomes = []
    for point in points:
        outcome = kill_at(config, layout, point, log, timeout)
        print(f"  {point}: {outcome}", flush=True)
        outcomes.append((point, outcome))
    got = complete(config, layout, log, timeout)
    (log.with_suffix(".interrupted.json")).write_text(json.dumps(got, indent=1))
    problems = differences(reference, got)
    problems += [f"mlflow: run {name} still RUNNING" for name in unfinished_runs(layout)]
    problems += [f"kill point {p}: {o}" for p, o in outcomes if o != "killed"]
    survived = [str(p) for p, o in outcomes if o == "killed"] if not problems else []
    return survived, problems


def complete(config: Path, layout: Layout, log: Path, timeout: float) -> dict:
    """Run ``make reproduce`` to the end; its snapshot."""
    proc = start(config, layout.runs, log)
    if proc.wait(timeout=timeout) != 0:
        raise SuiteError(f"make reproduce failed (exit {proc.returncode}): see {log}")
    return snapshot(layout)


def main() -> None:
    p = cli.parser("Kill make reproduce at every stage, finish it, compare with a clean run.")
    p.add_argument("--points", choices=["quick", "all"], default="all")
    args: argparse.Namespace = p.parse_args()
    if args.overrides:
        p.error("--set is not supported: write the settings into a config file")
    cfg, layout = cli.load(args)
    if cfg.reporting.tracking_uri:
        raise SuiteError("make chaos compares RUNS' own MLflow store: drop reporting.tracking_uri")
    points = ALL_POINTS if args.points == "all" else QUICK_POINTS
    log = layout.runs.with_name(f"{layout.runs.name}.chaos.log")
    log.unlink(missing_ok=True)
    print(f"chaos: {len(points)} kill points, make output in {log}", flush=True)
    survived, problems = run_chaos(Path(args.config).resolve(), layout, points, log)
    for line in problems:
        print(f"  {line}")
    print(f"chaos: {len(survived)} of {len(points)} kill points survived")
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    cli.run(main)
