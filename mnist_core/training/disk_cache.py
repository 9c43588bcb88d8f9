"""The disk cache of recomputable results: where it is, and reading and writing one entry.

`$MNIST_CACHE` (default `$MNIST_RUNS/.cache`, so `runs/.cache`) holds what can always be computed
again: the machine's precision probe (training.machine), each checkpoint's derived results
(store.derived), the not-a-digit network's drawn banks (scripts). Because every entry can be
recomputed, a read that fails for any reason (missing, truncated, bit-flipped, a bad zip, a zlib
error, the wrong shape or type, `null`) is a miss, never an error: `read_cached` returns None and
logs one line for a damaged entry; the caller computes the result and `write_cached` replaces the
entry atomically. A cache that cannot be written (a read-only disk, `$MNIST_CACHE` a file) costs
a recomputation next time and one logged line, never the command. What an entry holds is its
caller's business.
"""
from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

Value = TypeVar("Value")
log = logging.getLogger(__name__)


def cache_root() -> Path:
    """Where derived, recomputable results are kept: `$MNIST_CACHE` (default `runs/.cache`)."""
    return Path(os.environ.get("MNIST_CACHE", Path(os.environ.get("MNIST_RUNS", "runs")) / ".cache"))


def read_cached(path: Path, decode: Callable[[bytes], Value]) -> Value | None:
    """`decode(the file's bytes)`, or None when the entry is missing or cannot be read or decoded.
    `decode` raises (anything) for content it does not accept; a damaged entry is logged in one line."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None  # not there (a file in the cache's way is said when the entry is written)
    except OSError as error:
        log.warning("cache entry %s is unreadable (%s); computing it again", path, error.strerror or error)
        return None
    try:
        return decode(raw)
    except Exception as error:  # noqa: BLE001 - a cache entry is recomputable: whatever fails to decode is a miss
        log.warning("cache entry %s is damaged (%s: %s); computing it again", path, type(error).__name__, error)
        return None


def write_cached(path: Path, data: bytes) -> bool:
    """Write an entry atomically (a hidden temp file, then rename: readers see the old entry or the
    new one). False, with one logged line, when it cannot be written."""
    path = Path(path)
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
        return True
    except OSError as error:
        log.warning("cannot keep %s in the cache (%s); it will be computed again next time", path,
                    error.strerror or error)
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)
        return False
