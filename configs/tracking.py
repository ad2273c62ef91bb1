"""The MLflow schema: the one contract between the stages that write and the tables that read.

- experiment: the config's ``name``; store: ``Layout.tracking_uri`` (sqlite under RUNS unless
  ``MLFLOW_TRACKING_URI`` or ``reporting.tracking_uri`` says otherwise); artifacts under
  ``$(RUNS)/mlartifacts`` for the sqlite store.
- run: one per stage x model, named ``<stage>:<model>``, tagged ``stage``, ``model``,
  ``config`` and ``sub`` (a sub-experiment such as ``pythia``, else empty; its run names get
  a ``<sub>/`` prefix) so tables can find runs without parsing names. A run left RUNNING
  by a killed process is marked KILLED when its stage redoes it; readers take FINISHED runs.
- params: the stage's config slice, flattened with dots (``build.hidden_size``).
- metrics: slash-separated keys, ``<stage>/<what>[/<detail>]``, e.g. ``train/loss``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import mlflow

from configs.layout import Layout


def metric_key(*parts: str) -> str:
    """Join parts with '/' keeping only characters MLflow accepts in a key."""
    return "/".join(re.sub(r"[^A-Za-z0-9_.\- ]", "_", str(p)) for p in parts)


def flatten(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested mapping -> ``{"a.b": "value"}`` with values stringified (MLflow params)."""
    flat: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = str(value)[:6000]
    return flat


def use_store(layout: Layout) -> None:
    """Point MLflow at the layout's store without exporting it to the environment.

    ``mlflow.set_tracking_uri`` also sets ``MLFLOW_TRACKING_URI`` for child processes; left
    there, every later layout in this process (and every stage subprocess) would take it for
    the user's override and write to this store.
    """
    before = os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(layout.tracking_uri)
    if before is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = before


def experiment_id(layout: Layout) -> str:
    """The config's experiment, created (with the store and its schema) if absent. Called
    once before parallel workers start, so they never race to create the sqlite schema."""
    use_store(layout)
    name = layout.cfg.name
    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    location = None
    if layout.tracking_uri.startswith("sqlite:"):
        location = (layout.runs / "mlartifacts").resolve().as_uri()
    return mlflow.create_experiment(name, artifact_location=location)


def mark_killed(experiment: str, name: str) -> None:
    """Mark runs named ``name`` still RUNNING as KILLED: a process killed with SIGKILL never
    ends its run, and the stage redoing it is the proof that nothing else is (one stage runs
    a given model at a time). Readers take FINISHED runs only."""
    client = mlflow.MlflowClient()
    query = f"attributes.run_name = '{name}' and attributes.status = 'RUNNING'"
    for run in client.search_runs([experiment], query):
        client.set_terminated(run.info.run_id, "KILLED")


@contextmanager
def stage_run(
    layout: Layout, stage: str, model: str, params: Mapping[str, Any] | None = None
) -> Iterator[mlflow.ActiveRun]:
    """Open the MLflow run of ``stage`` for ``model``, with its tags and params logged."""
    experiment = experiment_id(layout)
    tags = {"stage": stage, "model": model, "config": layout.cfg.name, "sub": layout.sub}
    name = f"{layout.sub}/{stage}:{model}" if layout.sub else f"{stage}:{model}"
    mark_killed(experiment, name)
    with mlflow.start_run(experiment_id=experiment, run_name=name, tags=tags) as run:
        if params:
            mlflow.log_params(flatten(params))
        yield run


def log_history(stage: str, history: list[dict]) -> None:
    """Log a Trainer's log history as step-indexed metrics ``<stage>/<name>``."""
    for entry in history:  # one write per logged step (SQLite commits each call on its own)
        numbers = {
            metric_key(stage, name): float(value)
            for name, value in entry.items()
            if name != "step" and isinstance(value, int | float)
        }
        mlflow.log_metrics(numbers, step=int(entry.get("step", 0)))
