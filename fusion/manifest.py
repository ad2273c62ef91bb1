"""sha256 manifests of cached files: written once, checked on every reuse.

A cache that is reused silently must be the cache that was written: a torn or edited file
stops in one line naming the file and the fix, rather than feeding wrong weights to a stage.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from configs.errors import SuiteError


def sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks (checkpoints are hundreds of MB)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_hashes(root: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``root`` except the names in ``skip``."""
    root = Path(root)
    return {
        path.relative_to(root).as_posix(): sha256(path)
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name not in skip
    }


def verify(root: Path, files: dict[str, str], fix: str) -> None:
    """Every file of ``files`` is under ``root`` with its sha256, else one line with ``fix``."""
    for rel, digest in files.items():
        path = Path(root) / rel
        if not path.is_file():
            raise SuiteError(f"{root} is missing {rel}: {fix}")
        if sha256(path) != digest:
            raise SuiteError(f"{root}: {rel} does not match its sha256 in the manifest: {fix}")
