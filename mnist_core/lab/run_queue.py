"""The queue: configurations that train one after another in this process (the app's server, or a
`study` command). A worker thread starts each waiting item through `launch.start_run` whenever
nothing else trains here; items can be cancelled while they wait.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..training.config import TrainConfig
from .launch import RunBusyError, check_trainable, start_run, training_here
from .mode import check_demo_run


# The queue: configurations that train one after another in this process (the app's server).
@dataclass
class Queued:
    id: int
    config: TrainConfig
    batch: str  # what queued it, e.g. "Reproduce write-up 001"; runs of one batch open together
    run: str | None = None  # the run's name once it has started
    state: str = "waiting"  # waiting / started / cancelled / failed-to-start
    reason: str = ""


_QUEUE: list[Queued] = []

_QUEUE_LOCK = threading.Lock()

_QUEUE_IDS = iter(range(1, 10**9))

_WORKER: threading.Thread | None = None


def enqueue(configs: list[TrainConfig], batch: str = "queued by hand", directory: Path | None = None,
            data=None, poll_seconds: float = 0.5) -> list[Queued]:
    """Add configurations to the queue; a worker starts each one when nothing else trains."""
    global _WORKER
    for config in configs:
        check_trainable(config, data)
    with _QUEUE_LOCK:
        waiting = sum(item.state == "waiting" for item in _QUEUE)
        for offset, config in enumerate(configs):
            check_demo_run(config, queued=waiting + offset)
        items = [Queued(next(_QUEUE_IDS), config, batch) for config in configs]
        _QUEUE.extend(items)
        if _WORKER is None or not _WORKER.is_alive():
            _WORKER = threading.Thread(target=_work_the_queue, args=(directory, data, poll_seconds),
                                       name="run-queue", daemon=True)
            _WORKER.start()
    return items


def queued() -> list[Queued]:
    """Every item queued in this process, oldest first (waiting, started, cancelled)."""
    with _QUEUE_LOCK:
        return list(_QUEUE)


def cancel_queued(item_id: int | None = None) -> int:
    """Cancel one waiting item (or every waiting item with None); returns how many."""
    with _QUEUE_LOCK:
        count = 0
        for item in _QUEUE:
            if item.state == "waiting" and (item_id is None or item.id == item_id):
                item.state, count = "cancelled", count + 1
        return count


def batch_runs(batch: str) -> tuple[list[str], bool]:
    """(names of the runs a batch started so far, whether the whole batch is over)."""
    with _QUEUE_LOCK:
        items = [item for item in _QUEUE if item.batch == batch]
    names = [item.run for item in items if item.run]
    waiting = any(item.state == "waiting" for item in items)
    active = training_here()
    training = active is not None and active.name in names
    return names, bool(items) and not waiting and not training


def _work_the_queue(directory: Path | None, data, poll_seconds: float) -> None:
    while True:
        with _QUEUE_LOCK:
            waiting = [item for item in _QUEUE if item.state == "waiting"]
        if not waiting:
            return
        if training_here() is not None:
            time.sleep(poll_seconds)
            continue
        item = waiting[0]
        try:
            run = start_run(item.config, directory, data=data)
        except RunBusyError:
            time.sleep(poll_seconds)  # somebody pressed Start meanwhile: wait for that run
            continue
        except Exception as error:  # noqa: BLE001 - a bad item must not stop the queue
            with _QUEUE_LOCK:
                item.state, item.reason = "failed-to-start", f"{type(error).__name__}: {error}"
            continue
        with _QUEUE_LOCK:
            item.state, item.run = "started", run.name
        time.sleep(poll_seconds)
