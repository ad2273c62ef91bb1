"""Sandbox verdicts shared across models: each distinct program is compiled and run once.

The trained variants of one target (a dozen, each with three seeds) often write the same
greedy completion for a problem, and then the whole program (prompt, completion, tests) is
the same; compiling it again gives the same verdict at about a second a sample (javac, tsc,
rustc). A verdict is keyed by the language, the program's text, the run timeout and the
isolation this machine's sandbox gives (a verdict from a weaker sandbox is never reused under
a stronger one). Only settled verdicts are kept (passed, failed, did not compile): a timeout
may be the machine's load and a missing toolchain may be installed later, so those run again.
Entries are JSON files written whole (temp file, then rename), so the eval workers share the
directory; a damaged entry is run again and rewritten.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

from evaluation.code.sandbox import isolation, run_program

SETTLED = ("passed", "failed", "error")  # verdicts the program alone decides


def verdict_key(lang: str, program: str, timeout_s: float) -> str:
    """What decides a verdict, hashed: language, program text, timeout, sandbox isolation."""
    blob = json.dumps([lang, program, timeout_s, asdict(isolation())], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def run_once(lang: str, program: str, timeout_s: float, cache: Path | None) -> dict:
    """The sandbox's verdict on ``program`` (``ExecResult`` fields, isolation as a dict) and
    whether it came from ``cache`` (``None``: always run)."""
    entry = cache / f"{verdict_key(lang, program, timeout_s)}.json" if cache else None
    if entry is not None and entry.is_file():
        try:
            return json.loads(entry.read_text()) | {"cached": True}
        except ValueError:
            pass  # a torn or foreign file: run again and overwrite it
    verdict = asdict(run_program(lang, program, timeout_s=timeout_s))
    if entry is not None and verdict["status"] in SETTLED:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(verdict))
        tmp.replace(entry)
    return verdict | {"cached": False}
