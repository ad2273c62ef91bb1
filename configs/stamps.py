"""Stage stamps: what makes ``make reproduce`` a chain of file targets.

Each stage of the Makefile is a file ``$(RUNS)/<name>/stamps/<stage>.json`` that depends on
the config file and the stamp of the stage before it, so a second ``make reproduce`` finds
every stamp newer than its inputs and runs nothing. The stamp records the config slice the
stage's outputs were made from (its own settings and every upstream stage's) and the
stage's wall time. When the config file changes, make re-runs the stages from the first one;
each compares its slice with the stamp: an unchanged slice leaves the outputs alone (the
stage only does what is missing, e.g. a newly listed seed), a changed one removes that stage's
outputs first, because every stage skips work whose marker exists and would otherwise keep
outputs of the old settings. Usage (what the Makefile runs):
``python -m configs.stamps --config C --runs R --stage train -- python -m training.train ...``;
``--times`` prints the wall time of every stamped stage; ``--upstream-of MODEL`` the stage
``make eval MODEL=`` waits for (``train`` for a trained variant, else ``world``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from configs import cli
from configs.errors import SuiteError
from configs.layout import Layout
from configs.stages import STAGES, changed_keys, fingerprint, stamp_path, times, total
from configs.variants import is_trained


def prepare(layout: Layout, stage: str) -> list[str]:
    """Remove ``stage``'s outputs when its stamp was made from another config slice.

    Returns the changed keys (empty when the outputs are current or there is no stamp).
    """
    path = stamp_path(layout, stage)
    if not path.is_file():
        return []
    try:
        old = json.loads(path.read_text())["config"]
    except (ValueError, KeyError):
        raise SuiteError(f"corrupt stage stamp {path}: delete it and re-run make") from None
    changed = changed_keys(old, fingerprint(layout.cfg, stage))
    if changed:
        for out in STAGES[stage].outputs:
            shutil.rmtree(layout.root / out, ignore_errors=True)
    return changed


def record(layout: Layout, stage: str, started: float, finished: float) -> Path:
    """Write the stamp (atomically): the slice the outputs now match, the wall time and when
    the stage ran (epoch seconds: stages that ran side by side overlap)."""
    path = stamp_path(layout, stage)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "stage": stage,
        "seconds": round(finished - started, 1),
        "started": round(started, 1),
        "finished": round(finished, 1),
        "config": fingerprint(layout.cfg, stage),
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, indent=2))
    tmp.rename(path)
    return path


def main() -> None:
    p = cli.parser("Run one pipeline stage as a make file target (stamp, config-change check).")
    p.add_argument("--stage", choices=list(STAGES), help="the stage the command runs")
    p.add_argument("--times", action="store_true", help="print each stamped stage's wall time")
    p.add_argument("--upstream-of", metavar="MODEL", help="print the stage eval of MODEL needs")
    p.add_argument("command", nargs="*", help="the stage's command, after --")
    args = p.parse_args()
    cfg, layout = cli.load(args)
    if args.upstream_of:
        print("train" if is_trained(cfg, args.upstream_of) else "world")
        return
    if args.times:
        rows = times(layout)
        for stage, seconds in rows:
            print(f"  {stage:<10} {seconds / 60:6.1f} min")
        print(f"  {'total':<10} {total(layout) / 60:6.1f} min")
        return
    if not args.stage or not args.command:
        raise SuiteError("give --stage NAME -- COMMAND (or --times)")
    changed = prepare(layout, args.stage)
    if changed:
        print(f"{args.stage}: config changed ({', '.join(changed[:5])}): outputs rebuilt")
    started = time.time()
    code = subprocess.call(args.command)
    if code != 0:
        sys.exit(code)  # the stage printed its own error; no stamp, so make retries it
    record(layout, args.stage, started, time.time())


if __name__ == "__main__":
    cli.run(main)
