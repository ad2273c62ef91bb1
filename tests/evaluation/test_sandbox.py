"""The sandbox: correct/wrong programs in every language, and containment of hostile ones."""

from __future__ import annotations

import ast
import errno
import os
import random
import shutil
import socket
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from configs.errors import SuiteError
from evaluation.code import sandbox
from evaluation.code.box import BOX_UID
from evaluation.code.languages import LANGUAGES, get_language
from evaluation.code.sandbox import ExecResult, Isolation, run_program

# MultiPL-E-shaped programs (prompt + completion + test suite) for `add`; the wrong variant
# subtracts. Each test suite mirrors the one MultiPL-E's translator writes for the language.
ADD_PROGRAMS = {
    "cpp": """#include<assert.h>
#include<bits/stdc++.h>
// Add two numbers
long add(long x, long y) {
    return x + y;
}
int main() {
    auto candidate = add;
    assert(candidate((2), (3)) == (5));
}
""",
    "go": """package add_test

import (
    "testing"
    "fmt"
)

// Add two numbers
func add(x int, y int) int {
    return x + y
}

func TestAdd(t *testing.T) {
  candidate := add
\ttype test struct {
\t\tactual   interface{}
\t\texpected interface{}
\t}
   tests := []test{
     { actual: candidate(2, 3), expected: 5 },
   }

\tfor i, tc := range tests {
\t\tt.Run(fmt.Sprintf("test num % d", i), func(t *testing.T) {
\t\t\tif fmt.Sprintf("%v", tc.actual) != fmt.Sprintf("%v", tc.expected) {
\t\t\t\tt.Errorf("expected '%s', got '%s'", tc.expected, tc.actual)
\t\t\t}
\t\t})
\t}
}
""",
    "java": """import java.util.*;
import org.javatuples.*;
class Problem {
    // Add two numbers
    public static long add(long x, long y) {
        return x + y;
    }
    public static void main(String[] args) {
    assert(add((2l), (3l)) == (5l));
    }

}
""",
    "js": """//Add two numbers
function add(x, y){
  return x + y;
}

const assert = require('node:assert');


function test() {
  let candidate = add;
  assert.deepEqual(candidate(2, 3),5);
}

test();
""",
    "php": """<?php
// Add two numbers
function add($x, $y) {
    return $x + $y;
}
function candidate(...$args) {
    return add(...$args);
}

function test(): void {
    if (candidate(2, 3) !== 5) { throw new Exception("Test failed!"); }
}

test();
""",
    "py": '''def add(x: int, y: int) -> int:
    """Add two numbers"""
    return x + y

def check(candidate):
    assert candidate(2, 3) == 5

def test_check():
    check(add)

test_check()
''',
    "r": """# Add two numbers
add <- function(x, y) {
  return(x + y)
}
test_humaneval <- function() {
    candidate <- add
    stopifnot(isTRUE(all.equal(candidate(2, 3), 5)))
}
test_humaneval()
""",
    "rb": """# Add two numbers
def add(x, y)
  return x + y
end

require 'test/unit'
class TestHumanEval < Test::Unit::TestCase
  def test_add
    candidate = method(:add)
    assert_equal(5, candidate.call(2, 3))
  end
end
""",
    "rs": """/// Add two numbers
fn add(x: isize, y: isize) -> isize {
    x + y
}

fn main() {
    let candidate = add;
    assert_eq!(candidate(2, 3), 5);
}
""",
    "ts": """//Add two numbers
function add(x: number, y: number): number {
  return x + y;
}

declare var require: any;
const assert = require('node:assert');


function test() {
  let candidate = add;
  assert.deepEqual(candidate(2, 3),5);
}

test();
""",
}


def _reported_missing(lang: str, *results: ExecResult) -> bool:
    """Whether the sandbox cannot run ``lang`` here; if so, every result must say why.

    A missing toolchain is a reported result (``no_toolchain`` naming it), never a skip.
    """
    why = sandbox.unavailable(lang)
    if why is None:
        return False
    for result in results:
        assert result.status == "no_toolchain" and why in result.stderr_tail, result
    return True


def _carrying(token: str) -> list[int]:
    """Live processes with ``token`` in their command line."""
    return [
        proc.pid
        for proc in psutil.process_iter(["cmdline", "status"])
        if token in " ".join(proc.info["cmdline"] or []) and proc.info["status"] != "zombie"
    ]


def _sandbox_processes() -> list[int]:
    """Live processes running as one of the sandbox uids this test process hands out."""
    first = sandbox._UID_BASE + os.getpid() * sandbox._UID_SLOTS
    own = range(first, first + sandbox._UID_SLOTS)
    return [
        proc.pid
        for proc in psutil.process_iter(["uids", "status"])
        if proc.info["uids"].real in own and proc.info["status"] != psutil.STATUS_ZOMBIE
    ]


def test_every_language_has_a_program_and_the_multiple_stop_sequences() -> None:
    assert set(ADD_PROGRAMS) == set(LANGUAGES)
    assert get_language("py").stop_sequences == ("\ndef", "\n#", "\nif", "\nclass")
    assert get_language("cpp").stop_sequences == ("\n}",)
    assert all(spec.stop_sequences for spec in LANGUAGES.values())
    with pytest.raises(SuiteError, match="unknown MultiPL-E language 'cobol'"):
        get_language("cobol")


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_correct_passes_and_wrong_fails(lang: str) -> None:
    correct = ADD_PROGRAMS[lang]
    assert correct.count(" + ") == 1
    wrong = correct.replace(" + ", " - ")
    with ThreadPoolExecutor(2) as pool:
        good, bad = pool.map(lambda src: run_program(lang, src, timeout_s=20), [correct, wrong])
    if _reported_missing(lang, good, bad):
        return
    assert good.isolation == sandbox.isolation()  # compile and run steps in the same sandbox
    assert good.status == "passed", good
    assert bad.status == "failed", bad
    assert bad.exit_code != 0


def test_compile_error_is_error() -> None:
    result = run_program("cpp", "int main() { return undefined_name; }\n")
    if _reported_missing("cpp", result):
        return
    assert result.status == "error"
    assert "undefined_name" in result.stderr_tail


def test_missing_toolchain_is_reported_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "missing_toolchain", lambda lang: "ghostc")
    result = run_program("cpp", ADD_PROGRAMS["cpp"])
    assert result.status == "no_toolchain"
    assert "ghostc" in result.stderr_tail


INFINITE_WITH_ESCAPEE = """import subprocess
subprocess.Popen(["sleep", "{token}"], start_new_session=True)  # leaves the process group
while True:
    pass
"""


def test_infinite_loop_is_killed_with_everything_it_spawned() -> None:
    token = f"{os.getpid()}.{time.monotonic_ns() % 10**6:06d}"  # sleep's argument: a float
    started = time.monotonic()
    result = run_program("py", INFINITE_WITH_ESCAPEE.format(token=token), timeout_s=1.5)
    assert result.status == "timeout"
    assert time.monotonic() - started < 10
    if not (result.isolation.filesystem or result.isolation.uid):
        # Neither a box (pid namespace) nor a uid to sweep: the escapee is not reached, and
        # the record says so. Clean up after it.
        assert os.geteuid() != 0
        for pid in _carrying(token):
            os.kill(pid, 9)
        return
    deadline = time.monotonic() + 5
    while _carrying(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _carrying(token) == []


FORK_BOMB = """import os
while True:
    try:
        os.fork()
    except OSError:
        pass
"""

COUNT_FORKS = """import os, time
forked = 0
try:
    for _ in range(500):
        if os.fork() == 0:
            time.sleep(5)
            os._exit(0)
        forked += 1
except OSError:
    pass
print(forked)
"""


def test_fork_bomb_is_contained() -> None:
    started = time.monotonic()
    bomb = run_program("py", FORK_BOMB, timeout_s=2)
    assert bomb.status != "passed"
    assert time.monotonic() - started < 15
    assert run_program("py", ADD_PROGRAMS["py"]).status == "passed"  # the machine survived
    assert _sandbox_processes() == []


@pytest.mark.skipif(os.geteuid() != 0, reason="RLIMIT_NPROC binds only a uid of its own (root)")
def test_process_limit_binds() -> None:
    result = run_program("py", COUNT_FORKS, timeout_s=10, max_procs=16)
    assert result.status == "passed", result
    assert int(result.stdout_tail.split()[-1]) < 16


def test_ten_gigabyte_allocation_is_contained() -> None:
    result = run_program("py", "x = bytearray(10 * 1024**3)\n", memory_mb=512)
    assert result.status == "failed"
    assert "MemoryError" in result.stderr_tail


def test_big_file_is_stopped_by_the_file_size_limit() -> None:
    result = run_program("py", "open('big', 'wb').write(b'0' * (100 << 20))\n", max_file_mb=16)
    assert result.status == "failed"
    assert "File too large" in result.stderr_tail


def test_network_is_unreachable_even_on_loopback() -> None:
    """A server this test starts on 127.0.0.1 is reachable from here, never from a sample;
    where the machine cannot isolate the network, the record says so (and only loopback,
    the test's own server, is ever addressed)."""
    connect = "import socket\nsocket.create_connection(('127.0.0.1', {}), timeout=2)\n"
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(2)
        port = server.getsockname()[1]
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        server.accept()[0].close()  # reachable here
        result = run_program("py", connect.format(port))
        server.setblocking(False)
        try:
            server.accept()[0].close()
            reached = True
        except BlockingIOError:
            reached = False
    assert result.isolation == sandbox.isolation()
    assert reached is not result.isolation.network, result
    if result.isolation.network:
        assert result.status == "failed"
        refused = ("Connection refused", "Network is unreachable")  # box: own loopback; unshare
        assert any(why in result.stderr_tail for why in refused), result


def test_temp_dir_is_removed() -> None:
    result = run_program("py", "import os\nprint(os.getcwd())\n")
    assert result.status == "passed"
    assert not os.path.exists(result.stdout_tail.strip())


WHO_AM_I = """import os
print(os.getuid(), os.getgid(), os.getgroups())
os.listdir("/root")
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can switch to a uid of its own")
def test_runs_as_an_unprivileged_uid_of_its_own() -> None:
    result = run_program("py", WHO_AM_I)
    assert result.status == "failed"
    assert result.isolation.uid is True
    uid, gid = (int(word) for word in result.stdout_tail.split()[:2])
    assert uid != 0 and gid == uid
    assert result.stdout_tail.split()[2] == "[]"
    if result.isolation.filesystem:  # the box: its own uid inside, no /root to list
        assert uid == BOX_UID and "FileNotFoundError" in result.stderr_tail
    else:
        assert "PermissionError" in result.stderr_tail


def test_on_the_machine_the_sample_holds_a_fresh_uid_as_root_else_the_callers() -> None:
    """Seen from outside while it runs: its uid namespace maps it to a fresh uid (root) or the
    caller's own (which the record then admits)."""
    token = f"1.5{random.randrange(10**8):08d}"  # sleep's argument: about 1.5 s, unique
    program = f'import os\nos.execvp("sleep", ["sleep", "{token}"])\n'
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(run_program, "py", program, timeout_s=10)
        seen: set[int] = set()
        while not seen and not running.done():
            procs = psutil.process_iter(["cmdline", "uids"])
            seen = {p.info["uids"].real for p in procs if token in (p.info["cmdline"] or [])}
        result = running.result()
    assert result.status == "passed" and len(seen) == 1, (result, seen)
    if os.geteuid() == 0:
        assert seen.pop() >= sandbox._UID_BASE and result.isolation.uid
    else:
        assert seen == {os.getuid()} and not result.isolation.uid


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can switch to a uid of its own")
def test_without_bubblewrap_or_unshare_still_drops_privileges(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sandbox, "_probe_box", lambda: (None, "no bubblewrap (test)"))
    monkeypatch.setattr(sandbox, "_net_prefix", lambda: None)
    result = run_program("py", WHO_AM_I)
    assert result.isolation == Isolation(network=False, filesystem=False, uid=True)
    assert sandbox.isolation() == result.isolation
    assert "PermissionError" in result.stderr_tail
    assert int(result.stdout_tail.split()[0]) >= sandbox._UID_BASE


def test_without_bubblewrap_the_record_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback (``unshare --net`` at most) never claims a filesystem it did not guard."""
    monkeypatch.setattr(sandbox, "_probe_box", lambda: (None, "no bubblewrap (test)"))
    result = run_program("py", "import os\nprint(os.getuid())\n")
    assert result.status == "passed"
    network = sandbox._net_prefix() is not None
    assert result.isolation == Isolation(network, filesystem=False, uid=os.geteuid() == 0)


def test_the_box_is_used_where_bubblewrap_works() -> None:
    held, why = sandbox.isolation(), sandbox.box_status()
    if shutil.which("bwrap") is None:
        assert not held.filesystem and why.startswith("no bubblewrap")
    else:
        assert held.filesystem or why.startswith("bubblewrap fails here"), why
    assert held.network or not held.filesystem  # a box always has its own network


LOOK_AROUND = """import os
print(sorted(os.listdir("/")))
print(sorted(os.listdir("/etc")))
for path in ("/usr/pwned", "/pwned", "/etc/pwned"):
    try:
        open(path, "w")
        print("wrote", path)
    except OSError:
        pass
open("scratch_ok", "w").write("x")
open("/tmp/tmp_ok", "w").write("x")
chunk = b"0" * (8 << 20)
try:
    for i in range(8):
        open(f"/tmp/fill{i}", "wb").write(chunk)
except OSError as err:
    print("tmp full after", i, err.errno)
"""


def test_a_boxed_sample_sees_the_system_read_only_and_only_its_scratch_dir() -> None:
    result = run_program("py", LOOK_AROUND)
    if not result.isolation.filesystem:
        assert not sandbox.isolation().filesystem  # no box here, and the record says so
        return
    assert result.status == "passed", result
    root, etc, *rest = result.stdout_tail.splitlines()
    assert not {"home", "root", "work", "var", "srv", "mnt", "opt"} & set(ast.literal_eval(root))
    assert not {"passwd", "shadow", "ssh", "ssl", "hostname"} & set(ast.literal_eval(etc))
    assert not [line for line in rest if line.startswith("wrote")]
    assert rest[-1].startswith("tmp full after") and rest[-1].endswith(str(errno.ENOSPC))


SNOOPING_COMPILER = """#include "{path}"
int main() {{ return secret[0] == 'S' ? 0 : 1; }}
"""


def test_the_compiler_runs_in_the_box_too(tmp_path) -> None:
    """A world-readable file outside the scratch dir: a compile step outside the box would
    include it; inside, it does not exist."""
    reachable = Path(tempfile.mkdtemp(prefix="snoop-", dir="/tmp"))
    try:
        reachable.chmod(0o755)
        (reachable / "secret.h").write_text('const char* secret = "S";\n')
        (reachable / "secret.h").chmod(0o644)
        result = run_program("cpp", SNOOPING_COMPILER.format(path=reachable / "secret.h"))
    finally:
        shutil.rmtree(reachable)
    if _reported_missing("cpp", result):
        return
    if result.isolation.filesystem:
        assert result.status == "error" and "No such file" in result.stderr_tail, result
    else:
        assert result.status == "passed"  # outside a box it could: the record says so


def test_a_toolchain_the_sample_uid_cannot_reach_is_missing_without_a_box_as_root(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Root without bubblewrap cannot show rustup under /root to a fresh uid: reported, not
    run as root (as compilers once were)."""
    monkeypatch.setattr(sandbox, "_probe_box", lambda: (None, "no bubblewrap (test)"))
    monkeypatch.setattr(sandbox, "missing_toolchain", lambda lang: None)
    monkeypatch.setattr(sandbox, "locate", lambda binary: (f"/root/.tc/bin/{binary}", False))
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    why = sandbox.unavailable("rs")
    assert why is not None and "/root/.tc/bin/rustc is not reachable" in why
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert sandbox.unavailable("rs") is None  # the caller's own toolchain: runs as the caller
