"""Run one MultiPL-E program (prompt + completion + tests) in a throwaway sandbox.

Pass means exit code 0 within the timeout, as in MultiPL-E. What is enforced, per step
(compile and run alike):

* a fresh scratch dir per sample (HOME and TMPDIR point into it), deleted afterwards;
* with bubblewrap working (``box.py``): a box with a read-only view of the system, the
  scratch dir as the only writable place and none of the user's files; its own network
  (loopback only), pid, ipc and uts namespaces; a non-root uid without capabilities. When the
  step ends, its pid namespace dies with everything in it;
* when running as root, every step runs as a fresh uid of its own (never root, never a uid
  in use), so RLIMIT_NPROC and file permissions apply and, afterwards, a ``kill(-1)`` issued
  as that uid removes every process the sample started;
* without bubblewrap (or where it cannot create a user namespace): ``unshare --net`` for the
  network where possible, nothing for the filesystem;
* limits via setrlimit: CPU seconds, file size, process count, and memory: RLIMIT_AS for
  native programs and plain interpreters (C++, Go, Rust, Python, PHP, R, Ruby), RLIMIT_DATA
  plus the runtime's heap flag for JVM and V8 (Java, JavaScript, TypeScript), which reserve
  far more address space than they use. Compile steps get their own timeout and fixed,
  roomier limits;
* a new session per step, whose process group is killed when the step ends or times out.

Every result says what held (``Isolation``: network, filesystem, uid); nothing is claimed
that was not set up. Without root the sample's uid is the caller's (``uid`` is False): inside
the box it sees none of the caller's files or processes, outside a box it can reach them.
"""

from __future__ import annotations

import contextlib
import functools
import json
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
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Literal

from configs.errors import SuiteError
from evaluation.code.box import BoxSpec, Host, box_argv, host_layout, toolchain_prefix, under_system
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
INSTALL_BOX = "apt-get install bubblewrap"


@dataclass(frozen=True)
class Isolation:
    """What held while a sample ran.

    ``network``: no route off the machine (an empty network namespace). ``filesystem``: a
    box where the scratch dir is the only writable place and no user file is visible.
    ``uid``: a uid of its own, neither root nor the caller's.
    """

    network: bool
    filesystem: bool
    uid: bool


ISOLATION = tuple(f.name for f in fields(Isolation))  # the keys results and tags record


@dataclass(frozen=True)
class ExecResult:
    """Outcome of one sample.

    ``status``: ``passed`` (exit 0 in time), ``failed`` (non-zero exit or killed by a signal,
    e.g. out of memory), ``timeout`` (compile or run step out of time), ``error`` (did not
    compile), ``no_toolchain`` (``stderr_tail`` names what is missing). ``exit_code`` is
    negative for a signal, as in ``subprocess``.
    """

    status: Status
    exit_code: int | None
    stdout_tail: str
    stderr_tail: str
    seconds: float
    isolation: Isolation


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


@dataclass(frozen=True)
class _Sample:
    """How one sample's steps run: its uid (root only), its box (None: no bubblewrap here),
    and the log dir only the harness writes."""

    uid: int | None
    host: Host | None
    box: BoxSpec | None
    logs: Path

    @property
    def isolation(self) -> Isolation:
        boxed = self.box is not None
        network = boxed or _net_prefix() is not None
        return Isolation(network=network, filesystem=boxed, uid=self.uid is not None)


@functools.cache
def _net_prefix() -> tuple[str, ...] | None:
    """The ``unshare`` words that give a step an empty network namespace, or None.

    The fallback where bubblewrap is missing. Probed once: root can create the namespace
    directly; others need a user namespace.
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


@functools.cache
def _probe_box() -> tuple[Host | None, str]:
    """The machine's bubblewrap host (None where it is missing or fails) and a one-line why.

    Probed once, as the sample would run (as a fresh uid when root), with ``true``.
    """
    tools = [shutil.which(tool) for tool in ("bwrap", "setpriv", "unshare")]
    if None in tools:
        return None, f"no bubblewrap: `{INSTALL_BOX}` (as root) gives every sample a box"
    host = host_layout(*tools)
    with _sandbox_uid() as uid:
        base = Path(tempfile.mkdtemp(prefix="sandbox-probe-", dir=_temp_root(uid)))
        try:
            work, _ = _workspace(base, uid)
            spec = BoxSpec(str(work), drop_to=uid)
            argv = box_argv(host, spec, ["true"])
            probe = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        finally:
            shutil.rmtree(base, ignore_errors=True)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"bubblewrap fails here ({last}): no user namespaces?"
    return host, f"bubblewrap ({tools[0]})"


def box_status() -> str:
    """One line: whether samples run in a bubblewrap box here, or why not."""
    return _probe_box()[1]


def isolation() -> Isolation:
    """What a sample run on this machine gets (every result also carries its own)."""
    boxed = _probe_box()[0] is not None
    network = boxed or _net_prefix() is not None
    return Isolation(network=network, filesystem=boxed, uid=os.geteuid() == 0)


def unavailable(lang: str) -> str | None:
    """Why ``lang`` cannot run in this machine's sandbox, or None.

    A binary or support file is missing, or (root without bubblewrap) a binary lies where the
    sample's uid cannot reach it, such as rustup under /root.
    """
    missing = missing_toolchain(lang)
    if missing is not None:
        return f"missing toolchain: {missing}"
    if os.geteuid() == 0 and _probe_box()[0] is None:
        for binary in get_language(lang).binaries:
            path, reachable = locate(binary) or ("", True)
            if not reachable:
                return (
                    f"{path} is not reachable by an unprivileged user; install {binary} "
                    f"system-wide, or `{INSTALL_BOX}`"
                )
    return None


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


def _wait_gone(pid: int) -> None:
    """Wait (up to REAP_WAIT_S) until ``pid`` is gone or a zombie.

    Used on a box's first process, pid 1 of its pid namespace: it becomes a zombie only
    after the kernel has killed and reaped everything else in the namespace.
    """
    deadline = time.monotonic() + REAP_WAIT_S
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                state = stat.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            return
        if state in (b"Z", b"X"):
            return
        time.sleep(0.01)


def _tail(path: Path) -> str:
    """The last TAIL_CHARS characters of a log file, decoded leniently."""
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 4 * TAIL_CHARS))
        return handle.read().decode("utf-8", errors="replace")[-TAIL_CHARS:]


def _box_pid(status: Path) -> int | None:
    """The pid of the box's first process from bwrap's JSON status, or None if none started."""
    for line in status.read_text().splitlines():
        with contextlib.suppress(ValueError):
            if "child-pid" in (doc := json.loads(line)):
                return int(doc["child-pid"])
    return None


def _run_step(argv: list[str], sample: _Sample, env: dict[str, str], limits: _Limits) -> _Step:
    """Run one command in the sandbox and wait for it, killing whatever it leaves behind.

    Output goes to files, not pipes, so a chatty program is bounded by RLIMIT_FSIZE.
    """
    uid, logs = sample.uid, sample.logs
    switch: dict[str, object] = {}
    out_path, err_path, status_path = logs / "stdout", logs / "stderr", logs / "status"
    with out_path.open("wb") as out, err_path.open("wb") as err, status_path.open("wb") as st:
        if sample.box is not None and sample.host is not None:
            spec = replace(sample.box, status_fd=st.fileno())
            command = box_argv(sample.host, spec, argv)
        else:
            command = _unboxed(argv, uid, switch)
        proc = subprocess.Popen(
            command,
            cwd=env["HOME"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            preexec_fn=functools.partial(_apply_limits, limits),
            start_new_session=True,
            pass_fds=(st.fileno(),),
            **switch,
        )
        timed_out = False
        try:
            proc.wait(timeout=limits.timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            _kill_group(proc.pid)  # bwrap: its box dies with it (--die-with-parent)
            proc.wait()  # reap it first: as a zombie it would still hold the uid
            if uid is not None:
                _kill_uid(uid)
    code = proc.returncode
    if sample.box is not None:
        pid = _box_pid(status_path)
        if pid is None and not timed_out:
            raise SuiteError(f"the sandbox's box did not start: {_tail(err_path).strip()}")
        if pid is not None:
            _wait_gone(pid)
        code = -(code - 128) if code > 128 else code  # bwrap reports signal n as 128 + n
    timed_out = timed_out or code == -signal.SIGXCPU  # hit the CPU backstop
    return _Step(code, timed_out, _tail(out_path), _tail(err_path))


def _unboxed(argv: list[str], uid: int | None, switch: dict[str, object]) -> list[str]:
    """The fallback without bubblewrap: ``unshare --net`` where possible, the uid via Popen.

    Fills ``switch`` with Popen's uid arguments when the uid is not switched by unshare.
    """
    prefix = list(_net_prefix() or ())
    if uid is not None and prefix:  # unshare creates the namespace as root, then drops
        prefix += ["--setuid", str(uid), "--setgid", str(uid)]
    elif uid is not None:
        switch.update(user=uid, group=uid, extra_groups=[])
    return [*prefix, "--", *argv] if prefix else argv


def _binary(name: str) -> str:
    """The path a step runs ``name`` by: outside the system dirs, its real path, which is
    what the box shows (a symlink elsewhere would dangle there)."""
    found = locate(name)
    if found is None:  # run_program checked unavailable() first: the toolchain just went
        raise SuiteError(f"'{name}' is no longer on PATH: run `make toolchains`")
    real = os.path.realpath(found[0])
    return found[0] if under_system(real) else real


def _argv(template: tuple[str, ...], values: dict[str, str]) -> list[str]:
    """The command with placeholders filled and its binary resolved."""
    words = [word.format_map(values) for word in template]
    return words if template[0].startswith("{") else [_binary(template[0]), *words[1:]]


def _environment(spec: Language, values: dict[str, str]) -> dict[str, str]:
    """A clean environment: PATH (toolchain dirs first), HOME/TMPDIR in the sample's dir."""
    dirs: list[str] = []
    for binary in spec.binaries:
        if os.path.dirname(path := _binary(binary)) not in dirs:
            dirs.append(os.path.dirname(path))
    dirs += [d for d in _BASE_PATH if d not in dirs]
    env = {"PATH": os.pathsep.join(dirs), "HOME": values["dir"], "TMPDIR": values["dir"]}
    env["LANG"] = "C.UTF-8"
    env.update({key: value.format_map(values) for key, value in spec.env})
    return env


def _result(
    status: Status, step: _Step | None, started: float, isolated: Isolation, note: str = ""
) -> ExecResult:
    """Package a step's outcome (or a note when no step ran) as an ExecResult."""
    return ExecResult(
        status=status,
        exit_code=step.exit_code if step else None,
        stdout_tail=step.stdout if step else "",
        stderr_tail=(step.stderr if step else note)[-TAIL_CHARS:],
        seconds=time.monotonic() - started,
        isolation=isolated,
    )


def _temp_root(uid: int | None) -> str:
    """Where sample dirs go: the temp dir, or /tmp where a sample's uid could not reach it."""
    root = tempfile.gettempdir()
    return root if uid is None or reachable_by_others(root) else "/tmp"


def _workspace(base: Path, uid: int | None) -> tuple[Path, Path]:
    """The sample's own dir (owned by its uid) and a log dir only the harness can write."""
    work, logs = base / "work", base / "logs"
    work.mkdir()
    logs.mkdir()
    if uid is not None:
        base.chmod(0o711)
        os.chown(work, uid, uid)
    return work, logs


def _box(spec: Language, base: Path, work: Path, uid: int | None) -> BoxSpec:
    """The box of one sample: its scratch dir and the toolchain dirs outside /usr.

    As root, a toolchain dir the sample's uid cannot reach is staged on a mount point in
    ``base`` (see ``box.py``); the caller can reach its own.
    """
    dirs: list[str] = []
    for binary in spec.binaries:
        prefix = toolchain_prefix(_binary(binary))
        if prefix is not None and prefix not in dirs:
            dirs.append(prefix)
    shown = tuple(d for d in dirs if uid is None or reachable_by_others(d))
    staged = []
    for i, hidden in enumerate(d for d in dirs if d not in shown):
        (point := base / f"toolchain{i}").mkdir()
        staged.append((hidden, str(point)))
    return BoxSpec(str(work), toolchains=shown, staged=tuple(staged), drop_to=uid)


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
    why = unavailable(lang)
    if why is not None:
        return _result("no_toolchain", None, started, isolation(), why)
    limits = _Limits(timeout_s, memory_mb, spec.memory, max_procs, max_file_mb)
    host = _probe_box()[0]
    with _sandbox_uid() as uid:
        base = Path(tempfile.mkdtemp(prefix=f"sandbox-{lang}-", dir=_temp_root(uid)))
        try:
            work, logs = _workspace(base, uid)
            box = _box(spec, base, work, uid) if host is not None else None
            sample = _Sample(uid, host, box, logs)
            values = {"dir": str(work), "src": str(work / spec.source_file)}
            values.update(exe=str(work / "prog"), heap=str(memory_mb // 2))
            Path(values["src"]).write_text(source, encoding="utf-8")
            return _compile_and_run(spec, values, limits, compile_timeout_s, sample, started)
        finally:
            shutil.rmtree(base, ignore_errors=True)


def _compile_and_run(
    spec: Language,
    values: dict[str, str],
    limits: _Limits,
    compile_timeout_s: float,
    sample: _Sample,
    started: float,
) -> ExecResult:
    """The two steps of one sample, mapped to a status; the run step only if compiling worked.

    Both run in the same sandbox: a compiler is never run as root, nor outside the box.
    """
    env = _environment(spec, values)
    if spec.compile:
        roomy = _Limits(
            compile_timeout_s, COMPILE_MEMORY_MB, "data", COMPILE_PROCS, COMPILE_FILE_MB
        )
        step = _run_step(_argv(spec.compile, values), sample, env, roomy)
        if step.timed_out or step.exit_code != 0:
            status: Status = "timeout" if step.timed_out else "error"
            return _result(status, step, started, sample.isolation)
    step = _run_step(_argv(spec.run, values), sample, env, limits)
    if step.timed_out:
        return _result("timeout", step, started, sample.isolation)
    status = "passed" if step.exit_code == 0 else "failed"
    return _result(status, step, started, sample.isolation)
