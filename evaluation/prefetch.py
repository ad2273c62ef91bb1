"""``make prefetch``: download every model, corpus and benchmark dataset a config reads, once.

Run it on a machine with hub access (a cluster login node); afterwards every stage runs with
``HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1``. Models and corpora come from `configs.prefetch`,
the benchmark data from `evaluation.benchmark_data` (lm-eval tasks' datasets, OpenCompass data
into ``COMPASS_DATA_CACHE``, MultiPL-E). Every item is tried; the ones that failed are listed,
then one line names the first and the fix (exit 2). ``--dry-run`` lists the items and fetches
nothing (``make plan`` prints it too).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from configs import cli
from configs.errors import SuiteError
from configs.prefetch import fetch, hub_items
from configs.schema import SuiteConfig
from evaluation.benchmark_data import BenchmarkData, benchmark_data, fetch_data, present
from evaluation.parity import planned_departures

Item = tuple[str, Callable[[], None]]  # (what, how to fetch it)


def _reason(err: Exception) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0].split(". ")[0][:160]


def listing(cfg: SuiteConfig, data: list[BenchmarkData]) -> list[str]:
    """The dry run's lines: models and corpora, then benchmark data with who reads it."""
    lines = [
        f"{kind} {hub_id}" + (f" @ {rev}" if rev else "") for kind, hub_id, rev in hub_items(cfg)
    ]
    for item in data:
        state = " [on disk]" if present(item) else ""
        lines.append(f"benchmark {item.label()}{state}  <- {', '.join(item.used_by)}")
    return lines


def items(cfg: SuiteConfig, data: list[BenchmarkData]) -> list[Item]:
    """Everything to fetch, in order; OpenCompass data already on disk is left out."""
    out: list[Item] = []
    for kind, hub_id, revision in hub_items(cfg):
        out.append((f"{kind} '{hub_id}'", lambda k=kind, h=hub_id, r=revision: fetch(k, h, r)))
    for item in data:
        if not present(item):
            out.append((f"benchmark data '{item.label()}'", lambda i=item: fetch_data(i)))
    return out


def prefetch(todo: list[Item]) -> list[str]:
    """Fetch every item, going on past failures; return what was fetched.

    Raises:
        SuiteError: one line naming how many failed, the first one, and the fix.
    """
    if os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("HF_DATASETS_OFFLINE") == "1":
        raise SuiteError("HF_HUB_OFFLINE/HF_DATASETS_OFFLINE=1 is set: unset them to prefetch")
    fetched, failed = [], []
    for what, get in todo:
        try:
            get()
        except Exception as err:  # any hub/network failure: listed, then one line at the end
            failed.append(f"{what} ({_reason(err)})")
            print(f"failed {failed[-1]}")
            continue
        fetched.append(what)
        print(f"fetched {what}")
    if failed:
        raise SuiteError(
            f"could not fetch {len(failed)} of {len(todo)} items, first {failed[0]}: run "
            "`make prefetch` on a machine with Hugging Face hub access (and `huggingface-cli "
            "login` for gated models)"
        )
    return fetched


def main() -> None:
    p = cli.parser("Download every model, corpus and benchmark dataset a config reads.")
    p.add_argument("--dry-run", action="store_true", help="list the items; fetch nothing")
    args = p.parse_args()
    cfg, _ = cli.load(args)
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "10")
    os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", "10")
    data = benchmark_data(cfg)
    if args.dry_run:
        lines = listing(cfg, data)
        if lines:
            print(f"prefetch fetches {len(lines)} items for '{cfg.name}':")
            print("\n".join(f"  {line}" for line in lines))
        else:
            print(f"nothing to fetch: '{cfg.name}' is built locally (make world)")
        for departure in planned_departures(cfg):
            print(f"parity: {departure}")
        return
    todo = items(cfg, data)
    if not todo:
        print(f"nothing to fetch: '{cfg.name}' is built locally (make world)")
        return
    prefetch(todo)


if __name__ == "__main__":
    cli.run(main)
