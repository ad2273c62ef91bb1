"""``make prefetch``: download every model, tokenizer and dataset a config names, once.

Run it on a machine with hub access (a cluster login node); afterwards every stage runs
with ``HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1``. Without access it stops at the first item
it cannot fetch, naming it, in one line.
"""

from __future__ import annotations

import os
from pathlib import Path

from configs import cli
from configs.errors import SuiteError
from configs.schema import SuiteConfig


def hub_items(cfg: SuiteConfig) -> list[tuple[str, str, str | None]]:
    """``(kind, hub id, revision)`` for every model and dataset not already a local path."""
    items: list[tuple[str, str, str | None]] = []
    models = cfg.models.all() + ([cfg.pythia.base] if cfg.pythia else [])
    for spec in models:
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


def prefetch(cfg: SuiteConfig) -> list[str]:
    """Fetch every hub item of ``cfg``; return their ids. Raises on the first failure."""
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        raise SuiteError("HF_HUB_OFFLINE=1 is set: unset it to prefetch")
    items = hub_items(cfg)
    for kind, hub_id, revision in items:
        try:
            fetch(kind, hub_id, revision)
        except Exception as err:  # any hub/network failure becomes one line naming the item
            text = str(err).strip() or type(err).__name__
            reason = text.splitlines()[0].split(". ")[0][:160]
            raise SuiteError(
                f"could not fetch {kind} '{hub_id}' ({reason}): run `make prefetch` on a "
                "machine with Hugging Face hub access (and `huggingface-cli login` for gated "
                "models)"
            ) from None
        print(f"fetched {kind} {hub_id}")
    return [hub_id for _, hub_id, _ in items]


def main() -> None:
    args = cli.parser("Download every model and dataset a config names.").parse_args()
    cfg, _ = cli.load(args)
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "10")
    os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", "10")
    fetched = prefetch(cfg)
    if not fetched:
        print(f"nothing to fetch: '{cfg.name}' is built locally (make world)")


if __name__ == "__main__":
    cli.run(main)
