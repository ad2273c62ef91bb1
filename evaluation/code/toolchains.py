"""Which MultiPL-E languages this machine can execute, and installing the rest from Debian.

``python -m evaluation.code.toolchains`` prints one line per language and the isolation a
sample gets; ``--install`` first installs, with apt-get (needs root), bubblewrap and the Debian
packages of every missing language, one language at a time where the whole set fails, so one
unavailable package costs only its language. ``--missing`` prints only what is missing and the
command that installs it (the end of ``make setup``; it never needs root).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

from configs.errors import SuiteError
from evaluation.code.languages import LANGUAGES, locate, missing_toolchain
from evaluation.code.sandbox import box_status, isolation

BOX_PACKAGE = "bubblewrap"
INSTALL = "make toolchains-install"


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


def missing_groups() -> dict[str, list[str]]:
    """Debian packages per missing piece: each missing language, and bubblewrap's box."""
    groups = {n: list(s.apt) for n, s in LANGUAGES.items() if missing_toolchain(n) is not None}
    if shutil.which("bwrap") is None:
        groups["box"] = [BOX_PACKAGE]
    return groups


def missing_packages() -> list[str]:
    """Every package of ``missing_groups``, without duplicates."""
    return list(dict.fromkeys(p for packages in missing_groups().values() for p in packages))


def _apt(argv: list[str]) -> str | None:
    """Run one apt-get command; None on success, else its last line of stderr."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode == 0:
        return None
    return f"exit {done.returncode}: " + (done.stderr.strip().splitlines() or ["no output"])[-1]


def install(groups: dict[str, list[str]]) -> None:
    """apt-get install every group's packages (no recommends); where the whole set fails,
    each group on its own. Raises a one-line SuiteError naming the groups that failed."""
    if not groups:
        return
    packages = list(dict.fromkeys(p for group in groups.values() for p in group))
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise SuiteError(f"installing toolchains needs root and apt-get; install: {packages}")
    if (why := _apt(["apt-get", "update", "-q"])) is not None:
        raise SuiteError(f"`apt-get update` failed ({why})")
    add = ["apt-get", "install", "-y", "-q", "--no-install-recommends"]
    failed = {}
    if _apt([*add, *packages]) is not None:
        for name, group in groups.items():
            if (why := _apt([*add, *group])) is not None:
                failed[name] = why
    locate.cache_clear()
    if failed:
        raise SuiteError(f"apt-get could not install: {failed}")


def missing_summary() -> str:
    """What is missing for MultiPL-E (toolchains, the box) and the command that installs it."""
    groups = missing_groups()
    if not groups:
        return f"MultiPL-E: all {len(LANGUAGES)} toolchains and bubblewrap present"
    names = ", ".join(groups)
    packages = " ".join(missing_packages())
    return (
        f"MultiPL-E: missing here: {names} (their samples are reported missing, never scored)\n"
        f"  install them, as root: {INSTALL}  (apt-get install {packages})"
    )


def main(argv: list[str] | None = None) -> int:
    """Print availability per language; with --install, install the missing ones first."""
    parser = argparse.ArgumentParser(prog="python -m evaluation.code.toolchains")
    parser.add_argument("--install", action="store_true", help="apt-get the missing ones")
    parser.add_argument("--missing", action="store_true", help="only what is missing")
    args = parser.parse_args(argv)
    if args.missing:
        print(missing_summary())
        return 0
    code = 0
    try:
        if args.install:
            install(missing_groups())
    except SuiteError as err:
        print(f"error: {err}", file=sys.stderr)
        code = 1
    print("\n".join(report_lines()))
    held = isolation()
    print(f"sandbox: {box_status()}; isolation: {held}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
