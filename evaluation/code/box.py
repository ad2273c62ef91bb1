"""The box one sample step runs in: bubblewrap's arguments, built from a spec (pure).

Inside the box a program sees the system read-only (``/usr`` and the ``/bin``, ``/lib*``
links, a few ``/etc`` entries the toolchains read, the toolchain dirs that live elsewhere),
a private size-capped ``/tmp``, its scratch dir (the only writable place, at the same path as
outside) and nothing else: no home, no ``runs/``, no other user file. It gets its own user,
network (loopback only), pid, ipc, uts and cgroup namespaces, a non-root uid without
capabilities, a new session, and dies with its parent. When the caller is root, bwrap itself
runs as the sample's fresh uid (``setpriv``), so no process of the sample ever holds root; a
toolchain dir that only root can reach (rustup under ``/root``) is first bind-mounted, read-only,
onto a reachable mount point in a private mount namespace (``unshare --mount``), since the
unprivileged bwrap cannot see it.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# What the ten toolchains read under /etc: the loader's cache, alternatives' links (java,
# c++), the JVM's, R's and PHP's configuration. Never passwd, shadow, ssh or ssl keys.
ETC_ENTRIES = (
    "alternatives",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "java-*",
    "R",
    "php",
)
BOX_UID = 1000  # the sample's uid inside its user namespace (mapped to the caller's)
TMP_MB = 32  # the private /tmp (a tmpfs: memory, so capped)
# Root only: mount each (source, mount point) pair read-only, then run the rest of argv.
STAGE_SCRIPT = (
    'n=$1; shift; while [ "$n" -gt 0 ]; do mount --bind -o ro "$1" "$2" || exit 125; '
    'shift 2; n=$((n - 1)); done; exec "$@"'
)


@dataclass(frozen=True)
class Host:
    """What the builder needs to know of the machine: absolute tool paths and the layout.

    ``system``: (path, symlink target or None) of each SYSTEM_DIRS entry that exists.
    ``etc``: the paths ETC_ENTRIES (globs) match.
    """

    bwrap: str
    setpriv: str
    unshare: str
    system: tuple[tuple[str, str | None], ...]
    etc: tuple[str, ...]


@dataclass(frozen=True)
class BoxSpec:
    """One step's box.

    ``scratch``: the only writable dir. ``toolchains``: extra dirs shown read-only at their
    own path. ``staged``: (dir only root can reach, reachable empty mount point) pairs, shown
    read-only at the first path. ``drop_to``: the uid bwrap runs as when the caller is root
    (None: the caller's own). ``status_fd``: where bwrap writes its JSON status.
    """

    scratch: str
    toolchains: tuple[str, ...] = ()
    staged: tuple[tuple[str, str], ...] = ()
    drop_to: int | None = None
    status_fd: int | None = None


def host_layout(bwrap: str, setpriv: str, unshare: str) -> Host:
    """The running machine's ``Host``."""
    system = tuple(
        (path, os.readlink(path) if os.path.islink(path) else None)
        for path in SYSTEM_DIRS
        if os.path.lexists(path)
    )
    etc = tuple(path for entry in ETC_ENTRIES for path in sorted(glob.glob(f"/etc/{entry}")))
    return Host(bwrap, setpriv, unshare, system, etc)


def under_system(path: str) -> bool:
    """Whether ``path`` is inside a dir every box shows (so it needs no bind of its own)."""
    return any(path == d or path.startswith(d + "/") for d in SYSTEM_DIRS)


def toolchain_prefix(binary: str) -> str | None:
    """The install prefix to show for a binary outside the system dirs (``<prefix>/bin/x``).

    Uses the binary's real path: rustup's sysroot, a pyenv version, an nvm node.
    """
    real = os.path.realpath(binary)
    return None if under_system(real) else os.path.dirname(os.path.dirname(real))


def bwrap_args(host: Host, spec: BoxSpec) -> list[str]:
    """bwrap and its options up to (not including) the command."""
    args = [host.bwrap, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session"]
    args += ["--hostname", "sandbox", "--uid", str(BOX_UID), "--gid", str(BOX_UID)]
    for path, target in host.system:
        args += ["--symlink", target, path] if target is not None else ["--ro-bind", path, path]
    for path in host.etc:
        args += ["--ro-bind", path, path]
    for path in spec.toolchains:
        args += ["--ro-bind", path, path]
    for source, mount_point in spec.staged:
        args += ["--ro-bind", mount_point, source]
    args += ["--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev"]
    args += ["--size", str(TMP_MB << 20), "--perms", "1777", "--tmpfs", "/tmp"]
    args += ["--bind", spec.scratch, spec.scratch, "--remount-ro", "/", "--chdir", spec.scratch]
    if spec.status_fd is not None:
        args += ["--json-status-fd", str(spec.status_fd)]
    return args


def box_argv(host: Host, spec: BoxSpec, command: list[str]) -> list[str]:
    """The full argv that runs ``command`` in the box described by ``spec``."""
    argv = [*bwrap_args(host, spec), "--", *command]
    if spec.drop_to is not None:
        uid = str(spec.drop_to)
        argv = [host.setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--", *argv]
    if spec.staged:
        pairs = [path for pair in spec.staged for path in pair]
        stage = [host.unshare, "--mount", "--propagation", "private", "--"]
        argv = [
            *stage,
            "/bin/sh",
            "-c",
            STAGE_SCRIPT,
            "stage",
            str(len(spec.staged)),
            *pairs,
            *argv,
        ]
    return argv
