"""The models and corpora ``make prefetch`` downloads: every hub item a config names.

The CLI (`evaluation.prefetch`) adds the benchmark datasets the eval stage reads; this module
knows only the config, so the plan and the tests can list the items without a harness.
"""

from __future__ import annotations

from pathlib import Path

from configs.schema import SuiteConfig


def hub_items(cfg: SuiteConfig) -> list[tuple[str, str, str | None]]:
    """``(kind, hub id, revision)`` for every model and dataset not already a local path."""
    items: list[tuple[str, str, str | None]] = []
    for spec in cfg.config_models():
        if spec.hub_id and not Path(spec.hub_id).exists():
            items.append(("model", spec.hub_id, spec.revision))
    if cfg.corpus.dataset and not Path(cfg.corpus.dataset).exists():
        items.append(("dataset", cfg.corpus.dataset, None))
    if cfg.pythia and cfg.pythia.domain_datasets:
        items.extend(("dataset", d, None) for d in cfg.pythia.domain_datasets.values())
    return list(dict.fromkeys(items))  # unique, in order


def fetch(kind: str, hub_id: str, revision: str | None) -> None:
    """Download one item into the local Hugging Face caches."""
    from huggingface_hub import snapshot_download

    repo_type = "model" if kind == "model" else "dataset"
    snapshot_download(hub_id, revision=revision, repo_type=repo_type)
