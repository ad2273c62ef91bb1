"""Running part of a test as ``nobody``: root ignores file permissions, so a test of an
unwritable or unreadable path drops to an unprivileged uid for the call, then returns."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

NOBODY = 65534


@contextmanager
def unprivileged() -> Iterator[None]:
    """As root: the effective uid is ``nobody`` inside, root again after; otherwise no-op."""
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
