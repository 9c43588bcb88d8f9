"""A run's own process: `python -m mnist_core.lab.worker RUN_FOLDER`, started by `lab.launch.start_run`.

It trains the config.json already in the folder, recording exactly as every run records (the
runs store's RunRecorder): the server that started it only reads the folder. It stops between
batches on the folder's stop request (how `stop_run` reaches it) or on SIGTERM. Torch keeps its
default thread count (the cores), like a CLI run, so an app run trains at the CLI's speed.

It runs at a lower CPU priority (`nice` 10, or `$MNIST_RUN_NICE`; 0 keeps the server's): alone on
the machine a run loses nothing, and while visitors draw or open pages, their answers come first
(drawings stay quick while a run trains on a shared server).
"""
from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

from ..store.runs import CONFIG, read_json
from ..training.config import TrainConfig
from . import priority
from .launch import train_in_folder

RUN_NICE_ENV = "MNIST_RUN_NICE"
DEFAULT_NICE = 10


def nice_increment(value: str | None) -> int:
    """How much lower a run's priority goes for `$MNIST_RUN_NICE`'s value: 0..19, the default for
    an unset or non-integer value, never negative (a run never outranks the server)."""
    try:
        increment = int(value) if value is not None else DEFAULT_NICE
    except ValueError:
        increment = DEFAULT_NICE
    return max(0, min(increment, 19))


def lower_priority() -> int:
    """Add nice_increment($MNIST_RUN_NICE) to this process's niceness (and its session's autogroup:
    lab.priority); returns the niceness now, or 0 (and the priority is left as it was) where the
    system has no setpriority or refuses."""
    return priority.lower_priority(nice_increment(os.environ.get(RUN_NICE_ENV)))


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: python -m mnist_core.lab.worker RUN_FOLDER", file=sys.stderr)
        return 2
    folder = Path(argv[0])
    lower_priority()
    config = TrainConfig.from_dict(read_json(folder / CONFIG))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    train_in_folder(config, folder, stop, data=None)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
