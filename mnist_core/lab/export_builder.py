"""Missing ONNX exports built in the background, for the Draw page's readout (app_ui.loaders),
which reads with the torch models until the files are there: one child process (`python -m
mnist_core.lab.export_builder WEIGHTS...`, niceness 19, one torch thread) builds them into the export
cache (store.exported), so a server never stalls on an export and the exporter's process-wide side
effects (warning filters, stderr) stay out of it.
"""
from __future__ import annotations

import logging
import subprocess
import sys
import threading
from pathlib import Path

import torch

from ..store.exported import cached_export, export_cached, known_failure
from .priority import lower_priority

log = logging.getLogger(__name__)
_locks = threading.Lock()
_requested: set[str] = set()  # weights whose ONNX build this process has started in a child


def build_in_background(weights: list[Path | str]) -> list[str]:
    """Start one child process that builds the ONNX exports of those `weights` that have none kept,
    no known failure and no build started by this process already; returns the ones it builds."""
    with _locks:
        wanted = [str(path) for path in weights if str(path) not in _requested]
        wanted = [path for path in wanted if Path(path).is_file() and cached_export(path, "onnx") is None
                  and known_failure(path, "onnx") is None]
        _requested.update(wanted)
    if wanted:
        child = subprocess.Popen([sys.executable, "-m", __name__, *wanted], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        lower_priority(19, child.pid)  # at once, not after its imports (seconds of CPU at the server's priority)
    return wanted


def main(weights: list[str]) -> int:
    """The child's work: each file's ONNX export, one after another, at the lowest priority."""
    lower_priority(19)
    torch.set_num_threads(1)
    built = 0
    for path in weights:
        try:
            export_cached(path, "onnx")
            built += 1
        except Exception as error:  # noqa: BLE001 - an export that fails is remembered (or retried next time)
            log.warning("no ONNX export of %s: %s", path, error)
    return 0 if built == len(weights) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
