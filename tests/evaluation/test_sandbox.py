"""The sandbox: correct/wrong programs in every language, and containment of hostile ones."""

from __future__ import annotations

import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest

from configs.errors import SuiteError
from evaluation.code import sandbox
from evaluation.code.languages import LANGUAGES, get_language, missing_toolchain
from evaluation.code.sandbox import run_program

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


def _skip_unless_available(lang: str) -> None:
    """Skip, naming the missing binary, where this machine lacks the language's toolchain."""
    missing = missing_toolchain(lang)
    if missing is not None:
        fix = "python -m evaluation.code.toolchains --install"
        pytest.skip(f"{LANGUAGES[lang].display} toolchain missing: {missing} ({fix})")


def _gone(pid: int) -> bool:
    """True once ``pid`` no longer exists (a reaped or zombie process counts as gone)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


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
    _skip_unless_available(lang)
    correct = ADD_PROGRAMS[lang]
    assert correct.count(" + ") == 1
    wrong = correct.replace(" + ", " - ")
    with ThreadPoolExecutor(2) as pool:
        good, bad = pool.map(lambda src: run_program(lang, src, timeout_s=20), [correct, wrong])
    assert good.status == "passed", good
    assert bad.status == "failed", bad
    assert bad.exit_code != 0


def test_compile_error_is_error() -> None:
    _skip_unless_available("cpp")
    result = run_program("cpp", "int main() { return undefined_name; }\n")
    assert result.status == "error"
    assert "undefined_name" in result.stderr_tail


def test_missing_toolchain_is_reported_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "missing_toolchain", lambda lang: "ghostc")
    result = run_program("cpp", ADD_PROGRAMS["cpp"])
    assert result.status == "no_toolchain"
    assert "ghostc" in result.stderr_tail


INFINITE_WITH_ESCAPEE = """import os, time
child = os.fork()
if child == 0:
    os.setsid()  # leave the process group: only the per-uid sweep can reach it
    time.sleep(1000)
print(os.getpid(), child, flush=True)
while True:
    pass
"""


def test_infinite_loop_is_killed_with_everything_it_spawned() -> None:
    started = time.monotonic()
    result = run_program("py", INFINITE_WITH_ESCAPEE, timeout_s=1.5)
    assert result.status == "timeout"
    assert time.monotonic() - started < 10
    pids = [int(word) for word in result.stdout_tail.split()]
    assert len(pids) == 2
    if os.geteuid() != 0:
        pids = pids[:1]  # without root there is no uid of its own to sweep
    deadline = time.monotonic() + 5
    while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_gone(pid) for pid in pids), pids


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


def test_network_is_unreachable() -> None:
    if not sandbox.network_isolated():
        pytest.skip("no network namespace on this machine (needs root or user namespaces)")
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        socket.create_connection(("127.0.0.1", port), timeout=2).close()  # reachable here
        connect = "import socket\nsocket.create_connection(({!r}, {}), timeout=2)\n"
        local = run_program("py", connect.format("127.0.0.1", port))
    public = run_program("py", connect.format("1.1.1.1", 53))
    for result in (local, public):
        assert result.status == "failed"
        assert "Network is unreachable" in result.stderr_tail, result


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
    assert "PermissionError" in result.stderr_tail
    uid, gid = (int(word) for word in result.stdout_tail.split()[:2])
    assert uid >= sandbox._UID_BASE and gid == uid
    assert result.stdout_tail.split()[2] == "[]"


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can switch to a uid of its own")
def test_without_unshare_still_drops_privileges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "_net_prefix", lambda: None)
    result = run_program("py", WHO_AM_I)
    assert result.network_isolated is False
    assert "PermissionError" in result.stderr_tail
    assert int(result.stdout_tail.split()[0]) >= sandbox._UID_BASE
