"""Paper-parity of an eval run: the settings it used, and where they depart from the pinned ones.

Numbers are comparable with the paper's only under the same harness for each suite (lm-eval
for BBH and CommonSense, OpenCompass for the generation suite), harness versions, backend, full
test sets, shots, dtype and batch size. A paper config pins these
(``evaluation.paper_settings``); every eval run records what it actually used as MLflow
tags (``settings.*``) plus a verdict (``parity``: ``paper`` / ``departs`` / ``unpinned``)
and, when it departs, the departures in one line (``parity.departures``), which the tables
print beside the run's numbers.
"""

from __future__ import annotations

from typing import Any

from configs.schema import PaperSettings, SuiteConfig
from evaluation.suites import PAPER_HARNESS, harness_of


def shots_of(results: dict) -> set[int]:
    """The few-shot counts of the tasks in an lm-eval results dict (its ``configs``)."""
    configs = results.get("configs", {})
    return {int(c["num_fewshot"]) for c in configs.values() if c.get("num_fewshot") is not None}


def used_settings(
    cfg: SuiteConfig,
    dtype: str,
    versions: dict[str, str],
    shots: dict[str, set[int]],
    harnesses: dict[str, str] | None = None,
) -> dict[str, Any]:
    """What an eval run used: the harness of each suite and the versions of those harnesses,
    the HF backend, dtype, batch size, item cap and the shots of each suite."""
    return {
        "harness": dict(harnesses or {}),
        **versions,
        "model_backend": "hf",  # run_lm_eval and the OpenCompass runner both load HF models
        "dtype": dtype,
        "batch_size": cfg.evaluation.batch_size,
        "limit": cfg.evaluation.limit,
        **({"limits": dict(cfg.evaluation.limits)} if cfg.evaluation.limits else {}),
        "shots": {suite: sorted(n) for suite, n in shots.items()},
    }


def departures(pinned: PaperSettings, used: dict[str, Any]) -> list[str]:
    """Each way ``used`` differs from the pinned settings, as ``what (paper: value)``."""
    found = [
        f"{suite} harness {harness} (paper: {PAPER_HARNESS[suite]})"
        for suite, harness in used.get("harness", {}).items()
        if suite in PAPER_HARNESS and harness != PAPER_HARNESS[suite]
    ]
    for key in ("lm_eval", "opencompass", "model_backend", "dtype", "batch_size"):
        want = getattr(pinned, key)
        if want is not None and key in used and str(used[key]) != str(want):
            found.append(f"{key} {used[key]} (pinned: {want})")
    if pinned.full_test_sets and used.get("limit") is not None:
        found.append(f"evaluation.limit {used['limit']} (paper: full test sets)")
    if pinned.full_test_sets:
        capped = {s: n for s, n in used.get("limits", {}).items() if n is not None}
        found += [f"evaluation.limits.{s} {n} (paper: full test sets)" for s, n in capped.items()]
    for suite, want in pinned.shots.items():
        got = used.get("shots", {}).get(suite)
        if got and got != [want]:
            found.append(f"{suite} shots {','.join(map(str, got))} (paper: {want})")
    return found


def planned_departures(cfg: SuiteConfig) -> list[str]:
    """Suites of ``cfg`` that will run through another harness than the paper's (before any
    run: ``make plan`` prints them)."""
    return [
        f"{suite} harness {harness_of(cfg, suite)} (paper: {PAPER_HARNESS[suite]})"
        for suite in cfg.evaluation.suites
        if suite in PAPER_HARNESS and harness_of(cfg, suite) != PAPER_HARNESS[suite]
    ]


def parity_tags(cfg: SuiteConfig, used: dict[str, Any]) -> dict[str, str]:
    """MLflow tags of an eval run: ``settings.<key>``, ``parity`` and ``parity.departures``."""
    tags = {f"settings.{k}": str(v) for k, v in used.items()}
    pinned = cfg.evaluation.paper_settings
    if pinned is None:
        return tags | {"parity": "unpinned"}
    found = departures(pinned, used)
    return tags | {"parity": "departs" if found else "paper", "parity.departures": "; ".join(found)}
