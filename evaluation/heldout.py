"""Held-out text for the perplexity suite, per domain, from wherever the config's data lives.

Tiny worlds: each domain corpus's test split (never trained on). Paper configs: the Pythia
domains' held-out twentieth (as ``make pythia`` scores them) when the config has domain
datasets, else the fusion corpus's own ``test`` split (MiniPile ships one), read from the
local Hugging Face cache (``make prefetch``).
"""

from __future__ import annotations

from datasets import load_dataset

from configs.errors import SuiteError
from configs.layout import Layout
from configs.schema import SuiteConfig
from fusion.corpus import domain_texts, load_corpora

HELDOUT_SPLIT = "test"


def corpus_heldout(cfg: SuiteConfig) -> list[str]:
    """The fusion corpus's test split (its training split is what the blocks come from)."""
    c = cfg.corpus
    try:
        ds = load_dataset(c.dataset, split=HELDOUT_SPLIT)
    except ValueError as err:  # datasets: unknown split
        raise SuiteError(f"corpus {c.dataset} has no '{HELDOUT_SPLIT}' split: {err}") from None
    except (OSError, ConnectionError) as err:
        raise SuiteError(
            f"corpus {c.dataset} is not available offline: run `make prefetch` where the hub is "
            f"reachable ({str(err).splitlines()[0][:120]})"
        ) from None
    if c.text_field not in ds.column_names:
        raise SuiteError(
            f"corpus {c.dataset} has no column '{c.text_field}': set corpus.text_field to one of "
            f"{ds.column_names}"
        )
    return ds[c.text_field]


def heldout_texts(cfg: SuiteConfig, layout: Layout) -> dict[str, list[str]]:
    """Domain -> held-out documents (domains without any are left out)."""
    if cfg.is_tiny:
        found = {d: splits["test"] for d, splits in load_corpora(layout).items()}
    elif cfg.pythia and cfg.pythia.domain_datasets:
        found = {d: domain_texts(cfg, layout, d, "test") for d in cfg.pythia.domains}
    else:
        found = {"corpus": corpus_heldout(cfg)}
    return {domain: texts for domain, texts in found.items() if texts}
