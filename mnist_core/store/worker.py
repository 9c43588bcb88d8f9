"""A run's own process: `python -m mnist_core.store.worker RUN_FOLDER`, started by `runs.start_run`.

It trains the config.json already in the folder, recording exactly as every run records (the
runs store's RunRecorder): the server that started it only reads the folder. It stops between
batches on the folder's stop request (how `stop_run` reaches it) or on SIGTERM. Torch keeps its
default thread count (the cores), like a CLI run, so an app run trains at the CLI's speed.
"""
from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from ..training.config import TrainConfig
from .runs import CONFIG, _read_json, _train


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: python -m mnist_core.store.worker RUN_FOLDER", file=sys.stderr)
        return 2
    folder = Path(argv[0])
    config = TrainConfig.from_dict(_read_json(folder / CONFIG))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    _train(config, folder, stop, data=None)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
