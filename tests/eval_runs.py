"""Eval runs logged as the eval stage logs them, for report tests that need per-item samples."""

from __future__ import annotations

import json

import mlflow
import numpy as np

from configs import tracking
from configs.layout import Layout
from reports.tables import column_metrics


def log_commonsense_items(
    layout: Layout, name: str, variant: str, seed: str, scores: dict[str, np.ndarray]
) -> None:
    """An eval run ``name`` with CommonSense metrics and per-item samples artifacts (column ->
    0/1 item scores), tagged with its variant and seed, so cells get paired intervals."""
    keys = column_metrics(layout.cfg, "table2")
    with tracking.stage_run(layout, "eval", name):
        mlflow.set_tags({"variant": variant, "seed": seed})
        for column, items in scores.items():
            task = keys[column].split("/")[2]
            rows = [
                {"doc_id": i, "filter": "none", "acc": x, "acc_norm": x}
                for i, x in enumerate(items)
            ]
            mlflow.log_text(
                "".join(json.dumps(r) + "\n" for r in rows),
                f"eval/commonsense/samples_{task}.jsonl",
            )
            metric = "acc" if column == "boolq" else "acc_norm"
            mlflow.log_metric(keys[column].replace("acc_norm", metric), float(np.mean(items)))
