"""The red team: hostile completions in Python, JavaScript, C++ and Rust, run as the caller
and (when the caller is root) as an unprivileged user, must all be contained.

Each attack (``redteam_attacks.py``) tries one thing: delete or overwrite a canary tree that
stands in for ``runs/`` (world-writable, so only the box protects it), read the user's mode-600
key, write to the user's home, connect to a server this test listens on at 127.0.0.1, fork
bomb, memory bomb, infinite loop, 1 GB of output, a background process meant to outlive the
sample, sleep past the timeout. Contained means: the canary tree hashes the same, the verdict
is the expected failure, nothing survives, and a healthy sample passes next. Where the sandbox
lacks a property (no bubblewrap, no root), the test asserts that its record admits it.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from redteam_attacks import EXPECTED, FILESYSTEM, run_attack, tree_hash

from evaluation.code import sandbox
from evaluation.code.languages import locate

ROOT = Path(__file__).resolve().parents[2]
LANGS = ("py", "js", "cpp", "rs")
NOBODY = 65534
# What a hostile sample needs of the repository when it runs as another user.
MODULES = (
    "configs/errors.py",
    "evaluation/code/__init__.py",
    "evaluation/code/box.py",
    "evaluation/code/languages.py",
    "evaluation/code/sandbox.py",
    "tests/evaluation/redteam_attacks.py",
)


def _arena(owner: int) -> dict[str, str]:
    """A canary ``runs/`` tree, a home with a mode-600 key, all owned by ``owner``, in a dir
    anyone can reach; the paths and a unique token for the attacks."""
    base = Path(tempfile.mkdtemp(prefix="redteam-", dir="/tmp"))
    base.chmod(0o755)
    canary, home = base / "runs", base / "home"
    (canary / "tiny" / "eval").mkdir(parents=True)
    (canary / "mlflow.db").write_bytes(os.urandom(4096))
    (canary / "tiny" / "eval" / "results.json").write_text('{"pass@1": 0.5}\n')
    home.mkdir()
    secret = home / ".key"
    secret.write_text(f"SECRET-{os.urandom(8).hex()}\n")
    secret.chmod(0o600)
    for path in [canary, *canary.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o666)
    for path in [base, *base.rglob("*")]:
        os.chown(path, owner, owner)
    token = f"{random.randint(10**6, 10**7 - 1)}.{os.getpid() % 1000:03d}"
    return {"canary": str(canary), "home": str(home), "secret": str(secret), "token": token}


@pytest.fixture
def server() -> Iterator[socket.socket]:
    """A server on 127.0.0.1 the attacks try to reach; non-blocking, to count what came."""
    with socket.create_server(("127.0.0.1", 0)) as listening:
        listening.setblocking(False)
        socket.create_connection(listening.getsockname(), timeout=2).close()  # reachable here
        listening.accept()[0].close()
        yield listening


def _accepted(listening: socket.socket) -> int:
    count = 0
    while True:
        try:
            listening.accept()[0].close()
        except BlockingIOError:
            return count
        count += 1


def _check(rows: list[dict], lang: str, paths: dict[str, str], why_missing: str | None) -> None:
    """Every attack of ``lang`` contained, or (where the sandbox lacks the property that
    would contain it) its record saying so; a missing toolchain reported, never skipped."""
    assert [r["attack"] for r in rows] == list(EXPECTED)
    secret = Path(paths["secret"]).read_text().strip()
    for r in rows:
        attack, held = r["attack"], r["isolation"]
        assert r["next_sample"] == "passed", r
        if why_missing is not None:
            assert r["status"] == "no_toolchain" and why_missing in r["stderr_tail"], r
            continue
        guard = "filesystem" if attack in FILESYSTEM else "network" if attack == "connect" else None
        if guard is None or held[guard]:
            assert r["status"] == EXPECTED[attack], r
        assert r["canary_intact"] or not held["filesystem"], r
        assert not r["home_written"] or not held["filesystem"], r
        assert secret not in r["stdout_tail"] or not held["filesystem"], r
        assert r["survivors"] == [] or not (held["filesystem"] or held["uid"]), r
        assert r["seconds"] < 30, r  # compiles included: no attack stalls the harness


@pytest.mark.parametrize("lang", LANGS)
def test_hostile_completions_are_contained(lang: str, server: socket.socket) -> None:
    paths = _arena(os.getuid()) | {"port": str(server.getsockname()[1])}
    canary = Path(paths["canary"])
    before = tree_hash(canary)
    if os.geteuid() == 0:
        first = sandbox._UID_BASE + os.getpid() * sandbox._UID_SLOTS
        uids = range(first, first + sandbox._UID_SLOTS)
    else:
        uids = range(os.getuid(), os.getuid() + 1)
    try:
        rows = [run_attack(lang, attack, paths, uids) for attack in EXPECTED]
        _check(rows, lang, paths, sandbox.unavailable(lang))
        held = sandbox.isolation()
        assert {json.dumps(r["isolation"]) for r in rows} == {json.dumps(vars(held))}
        assert _accepted(server) == 0 or not held.network
        assert tree_hash(canary) == before or not held.filesystem
    finally:
        shutil.rmtree(canary.parent)


def _unprivileged_python() -> str:
    """A python3 an unprivileged user can run (the venv's may live under /root)."""
    found = locate("python3")
    assert found is not None and found[1], "no python3 an unprivileged user can run"
    return found[0]


@pytest.mark.skipif(os.geteuid() != 0, reason="the caller is unprivileged: the test above is it")
def test_hostile_completions_are_contained_without_root(server: socket.socket) -> None:
    """The same attacks from a process running as ``nobody`` (setpriv), with its own canary."""
    paths = _arena(NOBODY) | {"port": str(server.getsockname()[1])}
    canary = Path(paths["canary"])
    code = Path(tempfile.mkdtemp(prefix="redteam-code-", dir="/tmp"))
    code.chmod(0o755)  # mkdtemp's 0700 would keep nobody out of its own code
    try:
        for module in MODULES:
            (code / module).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / module, code / module)
        spec = code / "spec.json"
        spec.write_text(json.dumps({"langs": LANGS, "attacks": list(EXPECTED), "paths": paths}))
        before = tree_hash(canary)
        done = subprocess.run(
            ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]
            + [_unprivileged_python(), str(code / MODULES[-1]), str(spec)],
            cwd=code,
            env={"PATH": "/usr/bin:/bin", "HOME": paths["home"], "PYTHONPATH": str(code)},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        rows = json.loads(done.stdout)
        for lang in LANGS:
            mine = [r for r in rows if r["lang"] == lang]
            missing = mine[0]["stderr_tail"] if mine[0]["status"] == "no_toolchain" else None
            if missing is not None:  # e.g. rustup under /root: nobody cannot even find it
                assert missing.startswith("missing toolchain: "), missing
                assert missing.split(": ")[1] in sandbox.get_language(lang).binaries, missing
            _check(mine, lang, paths, missing)
        held = {json.dumps(r["isolation"]) for r in rows}
        assert len(held) == 1
        record = json.loads(held.pop())
        assert record["uid"] is False  # no uid of its own without root: said, not hidden
        assert _accepted(server) == 0 or not record["network"]
        assert tree_hash(canary) == before or not record["filesystem"]
    finally:
        shutil.rmtree(canary.parent)
        shutil.rmtree(code)
