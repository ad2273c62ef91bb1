"""Run one MultiPL-E program (prompt + completion + tests) in a throwaway sandbox.

Pass means exit code 0 within the timeout, as in MultiPL-E. What is enforced, per step:

* a fresh temp dir per sample (HOME and TMPDIR point into it), deleted afterwards;
* a clean environment: PATH, HOME, TMPDIR, LANG and the language's own variables only;
* no network: when running as root (or where unprivileged user namespaces work) every step
  runs under ``unshare --net`` in an empty network namespace where even loopback is down;
  ``ExecResult.network_isolated`` is False where that is impossible;
* when running as root, every step runs as a fresh uid of its own (never root, never a uid
  in use), so RLIMIT_NPROC and file permissions apply and, afterwards, a ``kill(-1)`` issued
  as that uid removes every process the sample started, even ones that left the process
  group. A compile step whose compiler only root can reach (e.g. rustup under /root) runs as
  the caller, which is safe because compilers do not execute the sample's code;
* limits via setrlimit: CPU seconds, file size, process count, and memory: RLIMIT_AS for
  native programs and plain interpreters (C++, Go, Rust, Python, PHP, R, Ruby), RLIMIT_DATA
  plus the runtime's heap flag for JVM and V8 (Java, JavaScript, TypeScript), which reserve
  far more address space than they use. Compile steps get their own timeout and fixed,
  roomier limits;
* a new session per step, whose process group is killed when the step ends or times out.

Not enforced: a sample can still write (files up to the size limit) into world-writable
dirs such as /tmp and /dev/shm, which are not cleaned up; without root there is no uid of
its own, so RLIMIT_NPROC is not binding and only the process group is killed.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from configs.errors import SuiteError
from evaluation.code.languages import (
    Language,
    get_language,
    locate,
    missing_toolchain,
    reachable_by_others,
)

Status = Literal["passed", "failed", "timeout", "error", "no_toolchain"]

TAIL_CHARS = 2000
COMPILE_MEMORY_MB = 4096
COMPILE_FILE_MB = 256
COMPILE_PROCS = 512
REAP_WAIT_S = 5.0
_UID_BASE = 10_000_000  # sandbox uids: far above any real account, unique per pid and slot
_UID_SLOTS = 64
_slots_lock = threading.Lock()
_slots_in_use: set[int] = set()
_BASE_PATH = ("/usr/local/bin", "/usr/bin", "/bin")


@dataclass(frozen=True)
class ExecResult:
    """Outcome of one sample.

    ``status``: ``passed`` (exit 0 in time), ``failed`` (non-zero exit or killed by a signal,
    e.g. out of memory), ``timeout`` (compile or run step out of time), ``error`` (did not
    compile), ``no_toolchain`` (``stderr_tail`` names what is missing).
    """

    status: Status
    exit_code: int | None
    stdout_tail: str
    stderr_tail: str
    seconds: float
    network_isolated: bool


@dataclass(frozen=True)
class _Limits:
    timeout_s: float
    memory_mb: int
    memory_kind: Literal["as", "data"]
    max_procs: int
    max_file_mb: int


@dataclass(frozen=True)
class _Step:
    exit_code: int | None
    timed_out: bool
    stdout: str
    stderr: str


@functools.cache
def _net_prefix() -> tuple[str, ...] | None:
    """The ``unshare`` words that give a step an empty network namespace, or None.

    Probed once: root can create the namespace directly; others need a user namespace.
    """
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    tries = [(unshare, "--net")] if os.geteuid() == 0 else []
    tries.append((unshare, "--net", "--map-root-user"))
    for words in tries:
        probe = subprocess.run([*words, "--", "true"], capture_output=True, check=False)
        if probe.returncode == 0:
            return words
    return None


def network_isolated() -> bool:
    """Whether sandboxed programs run without network on this machine."""
    return _net_prefix() is not None


@contextlib.contextmanager
def _sandbox_uid() -> Iterator[int | None]:
    """A uid no process holds (this pid's range, a free slot), or None when not root.

    A uid still held by zombies is skipped: they would count against the next RLIMIT_NPROC.
    """
    if os.geteuid() != 0:
        yield None
        return
    first = _UID_BASE + os.getpid() * _UID_SLOTS
    with _slots_lock:
        free = (s for s in range(_UID_SLOTS) if s not in _slots_in_use)
        slot = next((s for s in free if not _states_of(first + s)), None)
        if slot is None:
            raise SuiteError(f"more than {_UID_SLOTS} concurrent sandboxes in one process")
        _slots_in_use.add(slot)
    try:
        yield first + slot
    finally:
        with _slots_lock:
            _slots_in_use.discard(slot)


def _apply_limits(limits: _Limits) -> None:
    """Runs in the child between fork and exec (only setrlimit calls); all are inherited.

    The CPU limit is a per-process backstop at twice the wall timeout, since JIT and GC
    threads can burn CPU faster than wall time; the wall-clock timeout is what decides.
    """
    cpu = math.ceil(2 * limits.timeout_s) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    memory = limits.memory_mb << 20
    kind = resource.RLIMIT_AS if limits.memory_kind == "as" else resource.RLIMIT_DATA
    resource.setrlimit(kind, (memory, memory))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_procs, limits.max_procs))
    file_bytes = limits.max_file_mb << 20
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _states_of(uid: int) -> list[str]:
    """The state letter (R, S, Z, ...) of every process whose real uid is ``uid``."""
    states = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(os.path.join(entry.path, "status"), "rb") as status:
                fields = dict(line.split(b":", 1) for line in status if b":" in line)
        except OSError:
            continue  # the process exited while we looked
        if int(fields[b"Uid"].split()[0]) == uid:
            states.append(fields[b"State"].split()[0].decode())
    return states


def _kill_uid(uid: int) -> None:
    """SIGKILL every process of ``uid`` and wait until none runs (up to REAP_WAIT_S).

    kill(-1) issued as that uid reaches exactly its processes, and the kernel holds the task
    list while it delivers, so nothing forks past one sweep. Orphaned zombies are left for
    init to reap; ``_sandbox_uid`` does not hand out a uid until they are gone.
    """

    def become_and_kill() -> None:
        os.setgid(uid)
        os.setuid(uid)
        os.kill(-1, signal.SIGKILL)

    deadline = time.monotonic() + REAP_WAIT_S
    while True:
        subprocess.run(["true"], preexec_fn=become_and_kill, check=False)
        if set(_states_of(uid)) <= {"Z", "X"} or time.monotonic() > deadline:
            return
        time.sleep(0.01)


def _kill_group(pgid: int) -> None:
    """SIGKILL the step's process group (its session leader's group), if any is left."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _tail(path: Path) -> str:
    """The last TAIL_CHARS characters of a log file, decoded leniently."""
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 4 * TAIL_CHARS))
        return handle.read().decode("utf-8", errors="replace")[-TAIL_CHARS:]


def _run_step(
    argv: list[str], cwd: Path, env: dict[str, str], limits: _Limits, uid: int | None, logs: Path
) -> _Step:
    """Run one command in the sandbox and wait for it, killing whatever it leaves behind.

    Output goes to files, not pipes, so a chatty program is bounded by RLIMIT_FSIZE.
    """
    prefix = list(_net_prefix() or ())
    switch: dict[str, object] = {}
    if uid is not None and prefix:  # unshare creates the namespace as root, then drops
        prefix += ["--setuid", str(uid), "--setgid", str(uid)]
    elif uid is not None:
        switch = {"user": uid, "group": uid, "extra_groups": []}
    out_path, err_path = logs / "stdout", logs / "stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            [*prefix, "--", *argv] if prefix else argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            preexec_fn=functools.partial(_apply_limits, limits),
            start_new_session=True,
            **switch,
        )
        timed_out = False
        try:
            proc.wait(timeout=limits.timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            _kill_group(proc.pid)
            proc.wait()  # reap it first: as a zombie it would still hold the uid
            if uid is not None:
                _kill_uid(uid)
    timed_out = timed_out or proc.returncode == -signal.SIGXCPU  # hit the CPU backstop
    return _Step(proc.returncode, timed_out, _tail(out_path), _tail(err_path))


def _argv(template: tuple[str, ...], values: dict[str, str], uid: int | None) -> list[str] | str:
    """The command with placeholders filled and its binary resolved, or why it cannot run.

    Returns a reason string when the binary is missing, or when the step must drop to ``uid``
    but the binary is out of an unprivileged user's reach.
    """
    words = [word.format_map(values) for word in template]
    if template[0].startswith("{"):
        return words
    found = locate(template[0])
    if found is None:
        return f"missing toolchain: {template[0]}"
    path, reachable = found
    if uid is not None and not reachable:
        return f"{path} is not reachable by an unprivileged user; install {template[0]} system-wide"
    return [path, *words[1:]]


def _environment(spec: Language, values: dict[str, str]) -> dict[str, str]:
    """A clean environment: PATH (toolchain dirs first), HOME/TMPDIR in the sample's dir."""
    dirs: list[str] = []
    for binary in spec.binaries:
        found = locate(binary)
        if found and os.path.dirname(found[0]) not in dirs:
            dirs.append(os.path.dirname(found[0]))
    dirs += [d for d in _BASE_PATH if d not in dirs]
    env = {"PATH": os.pathsep.join(dirs), "HOME": values["dir"], "TMPDIR": values["dir"]}
    env["LANG"] = "C.UTF-8"
    env.update({key: value.format_map(values) for key, value in spec.env})
    return env


def _result(status: Status, step: _Step | None, started: float, note: str = "") -> ExecResult:
    """Package a step's outcome (or a note when no step ran) as an ExecResult."""
    return ExecResult(
        status=status,
        exit_code=step.exit_code if step else None,
        stdout_tail=step.stdout if step else "",
        stderr_tail=(step.stderr if step else note)[-TAIL_CHARS:],
        seconds=time.monotonic() - started,
        network_isolated=network_isolated(),
    )


def _workspace(base: Path, uid: int | None) -> tuple[Path, Path]:
    """The sample's own dir (owned by its uid) and a log dir only the harness can write."""
    work, logs = base / "work", base / "logs"
    work.mkdir()
    logs.mkdir()
    if uid is not None:
        base.chmod(0o711)
        os.chown(work, uid, uid)
    return work, logs


def run_program(
    lang: str,
    source: str,
    timeout_s: float = 10,
    memory_mb: int = 1024,
    max_procs: int = 64,
    max_file_mb: int = 16,
    compile_timeout_s: float = 60,
) -> ExecResult:
    """Compile (where the language needs it) and run ``source``; pass = exit 0 in time.

    ``timeout_s`` and the limits bound the run step; the compile step has its own timeout and
    fixed, roomier limits. Never leaves the temp dir or a process behind.
    """
    started = time.monotonic()
    spec = get_language(lang)
    missing = missing_toolchain(lang)
    if missing is not None:
        return _result("no_toolchain", None, started, f"missing toolchain: {missing}")
    limits = _Limits(timeout_s, memory_mb, spec.memory, max_procs, max_file_mb)
    with _sandbox_uid() as uid:
        root = tempfile.gettempdir()
        root = root if uid is None or reachable_by_others(root) else "/tmp"
        base = Path(tempfile.mkdtemp(prefix=f"sandbox-{lang}-", dir=root))
        try:
            work, logs = _workspace(base, uid)
            values = {"dir": str(work), "src": str(work / spec.source_file)}
            values.update(exe=str(work / "prog"), heap=str(memory_mb // 2))
            Path(values["src"]).write_text(source, encoding="utf-8")
            return _compile_and_run(spec, values, limits, compile_timeout_s, uid, logs, started)
        finally:
            shutil.rmtree(base, ignore_errors=True)


def _compile_and_run(
    spec: Language,
    values: dict[str, str],
    limits: _Limits,
    compile_timeout_s: float,
    uid: int | None,
    logs: Path,
    started: float,
) -> ExecResult:
    """The two steps of one sample, mapped to a status; the run step only if compiling worked."""
    env = _environment(spec, values)
    if spec.compile:
        step = _compile(spec, values, env, compile_timeout_s, uid, logs)
        if isinstance(step, str):
            return _result("no_toolchain", None, started, step)
        if step.timed_out or step.exit_code != 0:
            return _result("timeout" if step.timed_out else "error", step, started)
    argv = _argv(spec.run, values, uid)
    if isinstance(argv, str):
        return _result("no_toolchain", None, started, argv)
    step = _run_step(argv, Path(values["dir"]), env, limits, uid, logs)
    if step.timed_out:
        return _result("timeout", step, started)
    return _result("passed" if step.exit_code == 0 else "failed", step, started)


def _compile(
    spec: Language,
    values: dict[str, str],
    env: dict[str, str],
    timeout_s: float,
    uid: int | None,
    logs: Path,
) -> _Step | str:
    """Run the compile step, as the sample's uid when the compiler is reachable by it.

    A compiler only the caller can reach (rustup under /root) runs as the caller: compilers
    read the sample but never execute it, and the step is still offline and time-limited.
    """
    found = locate(spec.compile[0])
    as_uid = uid if found is not None and found[1] else None
    argv = _argv(spec.compile, values, as_uid)
    if isinstance(argv, str):
        return argv
    limits = _Limits(timeout_s, COMPILE_MEMORY_MB, "data", COMPILE_PROCS, COMPILE_FILE_MB)
    return _run_step(argv, Path(values["dir"]), env, limits, as_uid, logs)
