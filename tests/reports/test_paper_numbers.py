"""reports/paper.py holds exactly the paper's numbers as tests/data/paper_numbers/ has them.

tests/data/paper_numbers/ is a byte copy of the shared reference ``../shared/paper_numbers/``
(the paper's eight tables as CSVs, see its README), kept in the project so that a clone
without the shared folder still checks every transcribed number.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NUMBERS = ROOT / "tests/data/paper_numbers"
SHARED = ROOT.parent / "shared/paper_numbers"


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"no shared reference at {SHARED}")
def test_copy_is_byte_identical_to_the_shared_reference() -> None:
    ours, shared = _files(NUMBERS), _files(SHARED)
    assert sorted(ours) == sorted(shared)
    changed = [name for name in shared if ours[name] != shared[name]]
    assert not changed, f"differs from {SHARED}: {changed}"
