"""Which MultiPL-E languages this machine can execute, and installing the rest from Debian.

``python -m evaluation.code.toolchains`` prints one line per language; ``--install`` first
installs the Debian packages of every missing language with apt-get (needs root).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

from configs.errors import SuiteError
from evaluation.code.languages import LANGUAGES, locate, missing_toolchain
from evaluation.code.sandbox import network_isolated


def report_lines() -> list[str]:
    """One line per language: available (with its binaries) or the missing piece."""
    lines = []
    for name, spec in LANGUAGES.items():
        missing = missing_toolchain(name)
        if missing is None:
            paths = ", ".join(found[0] for b in spec.binaries if (found := locate(b)))
            lines.append(f"{name:4} {spec.display:10} available  ({paths})")
        else:
            packages = " ".join(spec.apt)
            lines.append(f"{name:4} {spec.display:10} MISSING    {missing} (apt: {packages})")
    return lines


def missing_packages() -> list[str]:
    """Debian packages of every language that is not available, without duplicates."""
    packages: list[str] = []
    for name, spec in LANGUAGES.items():
        if missing_toolchain(name) is not None:
            packages += [p for p in spec.apt if p not in packages]
    return packages


def install(packages: list[str]) -> None:
    """apt-get install ``packages`` (no recommends); a failure is a one-line SuiteError."""
    if not packages:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise SuiteError(f"installing toolchains needs root and apt-get; install: {packages}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
    ):
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise SuiteError(f"`{' '.join(argv[:2])}` failed ({done.returncode}): {last}")
    locate.cache_clear()


def main(argv: list[str] | None = None) -> int:
    """Print availability per language; with --install, install the missing ones first."""
    parser = argparse.ArgumentParser(prog="python -m evaluation.code.toolchains")
    parser.add_argument("--install", action="store_true", help="apt-get the missing ones")
    args = parser.parse_args(argv)
    try:
        if args.install:
            install(missing_packages())
    except SuiteError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print("\n".join(report_lines()))
    print(f"network isolation: {'on (unshare --net)' if network_isolated() else 'OFF'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
