"""A trained model's exports (ONNX, TorchScript) kept on disk, built once per weights file.

An export depends only on the weights file, so, like the derived results (store.derived), it is
keyed by the file's content hash: `$MNIST_CACHE/exported/<digest>-v1.onnx` (or `.torchscript.pt`)
with a small JSON sidecar written after it (`…onnx.json`: the export's SHA-256, size, opset). The
file is written to a temporary name and renamed (analysis.export), so a reader never sees half of
it. An entry whose bytes no longer match its sidecar (truncated, bit-flipped, the sidecar missing
or damaged) is a miss: built again and replaced, with one logged line. A model that cannot be
exported is remembered beside it (`…onnx.failed`: the one-line reason and the torch version that
gave it), so a page that shows the reason asks once per weights and torch version, not on every
rerun. Exporting and checking a model are analysis.export's; this module decides when and where.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
from pathlib import Path

import torch
import torch.nn as nn

from ..analysis.export import EXTENSIONS, FORMATS, ExportError, export_model
from ..training.disk_cache import cache_root, read_cached, write_cached
from .derived import content_digest

EXPORT_VERSION = 1  # bump when analysis.export changes what it writes: older entries become misses
_building: dict[str, threading.Lock] = {}  # one build per entry at a time in this process (the app's sessions)
_locks = threading.Lock()
log = logging.getLogger(__name__)


def cache_dir() -> Path:
    return cache_root() / "exported"


def entry(weights: Path | str, fmt: str, digest: str | None = None) -> Path:
    """Where the `fmt` export of `weights` is kept (whether or not it exists yet)."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    return cache_dir() / f"{digest or content_digest(weights)}-v{EXPORT_VERSION}{EXTENSIONS[fmt]}"


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _failure(path: Path) -> Path:
    return path.with_name(path.name + ".failed")


def cached_export(weights: Path | str, fmt: str, digest: str | None = None) -> Path | None:
    """The kept export of `weights`, or None when there is none whose bytes match its sidecar."""
    path = entry(weights, fmt, digest)
    sidecar = read_cached(_sidecar(path), _decode_sidecar)
    if sidecar is None:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != sidecar["sha256"]:
        log.warning("cached export %s does not match its sidecar; exporting it again", path)
        return None
    return path


def known_failure(weights: Path | str, fmt: str, digest: str | None = None) -> str | None:
    """The one-line reason `weights` could not be exported to `fmt` with this torch, if it was tried."""
    failure = read_cached(_failure(entry(weights, fmt, digest)), json.loads)
    if isinstance(failure, dict) and failure.get("torch") == torch.__version__:
        return str(failure.get("reason"))
    return None


def export_cached(weights: Path | str, fmt: str, model: nn.Module | None = None) -> Path:
    """The `fmt` export of the checkpoint `weights`: the kept one, else built now (from `model`, or
    the checkpoint loaded: CheckpointError for a bad file) and kept. ExportError (one line naming the
    block) when the model cannot be exported, remembered so that the next call raises at once."""
    digest = content_digest(weights)
    path = entry(weights, fmt, digest)
    with _locks:
        lock = _building.setdefault(str(path), threading.Lock())
    with lock:
        if (found := cached_export(weights, fmt, digest)) is not None:
            return found
        if (reason := known_failure(weights, fmt, digest)) is not None:
            raise ExportError(reason)
        if model is None:
            from .checkpoint import load_model

            model = load_model(weights)[0]
        try:
            written = export_model(model, fmt, path)
        except ExportError as error:
            write_cached(_failure(path), json.dumps({"reason": str(error), "torch": torch.__version__}).encode())
            raise
        data = path.read_bytes()
        write_cached(_sidecar(path), json.dumps({
            "sha256": hashlib.sha256(data).hexdigest(), "file_bytes": len(data), "format": fmt,
            "opset": written["opset"], "weights_digest": digest, "torch": torch.__version__}, indent=1).encode())
        return path


def export_bytes(weights: Path | str, fmt: str) -> bytes:
    """The export's bytes (what a download button serves); see export_cached."""
    return export_cached(weights, fmt).read_bytes()


def _decode_sidecar(raw: bytes) -> dict:
    sidecar = json.loads(raw)
    if not isinstance(sidecar, dict) or not isinstance(sidecar.get("sha256"), str):
        raise ValueError("not an export's sidecar (no sha256)")
    return sidecar

