"""The box's bubblewrap arguments (pure): what is shown, what is writable, who runs it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from evaluation.code.box import (
    BOX_UID,
    STAGE_SCRIPT,
    BoxSpec,
    Host,
    box_argv,
    bwrap_args,
    host_layout,
    toolchain_prefix,
)

HOST = Host(
    bwrap="/usr/bin/bwrap",
    setpriv="/usr/bin/setpriv",
    unshare="/usr/bin/unshare",
    system=(("/usr", None), ("/bin", "usr/bin"), ("/lib64", "usr/lib64")),
    etc=("/etc/alternatives", "/etc/ld.so.cache"),
)
SCRATCH = "/tmp/sandbox-py-x/work"


def _mounts(args: list[str]) -> list[tuple[str, ...]]:
    """(option, its operands) for every mount-like option, in order."""
    arity = {"--ro-bind": 2, "--bind": 2, "--symlink": 2, "--proc": 1, "--dev": 1}
    arity |= {"--tmpfs": 1, "--remount-ro": 1}
    found, i = [], 0
    while i < len(args):
        n = arity.get(args[i], 0)
        if n:
            found.append(tuple(args[i : i + n + 1]))
        i += n + 1 if n else 1
    return found


def test_the_scratch_dir_is_the_only_writable_bind_and_the_root_is_read_only() -> None:
    args = bwrap_args(HOST, BoxSpec(SCRATCH, toolchains=("/opt/go",)))
    mounts = _mounts(args)
    assert [m for m in mounts if m[0] == "--bind"] == [("--bind", SCRATCH, SCRATCH)]
    assert ("--ro-bind", "/usr", "/usr") in mounts and ("--symlink", "usr/bin", "/bin") in mounts
    assert ("--ro-bind", "/etc/alternatives", "/etc/alternatives") in mounts
    assert ("--ro-bind", "/opt/go", "/opt/go") in mounts
    assert mounts[-1] == ("--remount-ro", "/")  # after every mount point was made
    assert ("--remount-ro", "/dev") in mounts
    shown = {m[-1] for m in mounts}
    assert not {"/home", "/root", "/etc", "/var", "/run"} & shown  # nothing else of the user's
    assert args[args.index("--tmpfs") - 2 : args.index("--tmpfs")] == ["--perms", "1777"]
    assert args[args.index("--size") + 1] == str(32 << 20)  # a capped private /tmp
    assert args[args.index("--chdir") + 1] == SCRATCH


def test_every_namespace_a_non_root_uid_and_death_with_the_parent() -> None:
    args = bwrap_args(HOST, BoxSpec(SCRATCH, status_fd=7))
    assert args[0] == "/usr/bin/bwrap"
    for option in ("--unshare-all", "--unshare-user", "--die-with-parent", "--new-session"):
        assert option in args
    assert args[args.index("--uid") + 1] == str(BOX_UID) != "0"
    assert args[args.index("--gid") + 1] == str(BOX_UID)
    assert args[args.index("--json-status-fd") + 1] == "7"
    assert "--cap-add" not in args and "--share-net" not in args


def test_as_the_callers_uid_bwrap_runs_the_command_directly() -> None:
    argv = box_argv(HOST, BoxSpec(SCRATCH), ["python3", "main.py"])
    assert argv[0] == "/usr/bin/bwrap" and argv[-3:] == ["--", "python3", "main.py"]


def test_as_root_bwrap_itself_runs_as_the_fresh_uid() -> None:
    argv = box_argv(HOST, BoxSpec(SCRATCH, drop_to=10_000_001), ["{exe}"])
    assert argv[:5] == [
        "/usr/bin/setpriv",
        "--reuid=10000001",
        "--regid=10000001",
        "--clear-groups",
        "--",
    ]
    assert argv[5] == "/usr/bin/bwrap"


def test_a_hidden_toolchain_is_staged_by_root_then_shown_read_only_at_its_path() -> None:
    hidden, point = "/root/.rustup/toolchains/stable", "/tmp/sandbox-rs-x/toolchain0"
    spec = BoxSpec(SCRATCH, staged=((hidden, point),), drop_to=10_000_001)
    argv = box_argv(HOST, spec, ["rustc"])
    stage = ["/usr/bin/unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c"]
    assert argv[: len(stage)] == stage
    rest = argv[len(stage) :]
    assert rest[:5] == [STAGE_SCRIPT, "stage", "1", hidden, point]
    assert rest[5] == "/usr/bin/setpriv"  # mounted as root, then dropped before bwrap runs
    assert ("--ro-bind", point, hidden) in _mounts(rest)


def test_the_stage_script_mounts_every_pair_then_runs_the_command(tmp_path: Path) -> None:
    """The script's loop, with ``mount`` replaced by a stub that records its arguments."""
    log = tmp_path / "mounts"
    stub = tmp_path / "mount"
    stub.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    stub.chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin"}
    argv = ["sh", "-c", STAGE_SCRIPT, "stage", "2", "/a", "/b", "/c", "/d", "echo", "ran", "x"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    assert done.stdout == "ran x\n"
    assert log.read_text() == "--bind -o ro /a /b\n--bind -o ro /c /d\n"
    stub.write_text("#!/bin/sh\nexit 32\n")  # a failed mount stops before the command
    failed = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    assert failed.returncode == 125 and failed.stdout == ""


def test_toolchain_prefix_is_the_install_dir_of_a_binary_outside_the_system(
    tmp_path: Path,
) -> None:
    real = tmp_path / "toolchains" / "stable" / "bin" / "rustc"
    real.parent.mkdir(parents=True)
    real.write_text("")
    link = tmp_path / "cargo-bin-rustc"
    link.symlink_to(real)
    assert toolchain_prefix(str(link)) == str(tmp_path / "toolchains" / "stable")
    assert toolchain_prefix("/usr/bin/env") is None


def test_host_layout_reads_this_machine() -> None:
    host = host_layout("/b", "/s", "/u")
    assert ("/usr", None) in host.system
    for path, target in host.system:
        assert (target is None) == (not os.path.islink(path))
    assert all(path.startswith("/etc/") and os.path.lexists(path) for path in host.etc)
