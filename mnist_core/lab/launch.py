"""Starting and supervising training: a run in the foreground (`train_run`, the CLI's way), in a
child process of its own (`start_run`, the app's way, `lab/worker.py`) or in a background thread
(`start_run` given an in-memory dataset: tests, notebooks), stopping it between batches
(`stop_run`), deleting it (`delete_run`), and the one place for training a process has.

One run trains at a time per process (the app's server): the server, the browser and the run do
not fight over one interpreter. A CLI run trains in the foreground of its own process; the app
shows it as running while that process is alive and as interrupted once it is gone. Other work
that trains (a sweep's child process) takes the same one place through `occupy`, so a run, the
queue and a sweep never train at once. Every run is recorded by the runs store's RunRecorder.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..store.records import write_json
from ..store.runs import (
    STATUS,
    STOP_REQUEST,
    WORKER_LOG,
    Run,
    RunError,
    RunRecorder,
    create_run_folder,
    get_run,
    read_json,
    read_run,
)
from ..training.callbacks import Callback, StopOnEvent
from ..training.config import TrainConfig
from .mode import check_demo_run, refuse_in_demo


class RunBusyError(RunError):
    """Another run is training in this process."""


@dataclass
class ActiveRun:
    """The run this process started: a child process (the app), or a thread (in-memory data)."""
    name: str
    folder: Path
    thread: threading.Thread | None = None
    stop: threading.Event | None = None
    process: subprocess.Popen | None = None

    def alive(self) -> bool:
        if self.thread is not None:
            return self.thread.is_alive()
        if self.process.poll() is None:
            return True
        _settle_exited_worker(self.folder, self.process.returncode)
        return False


_LOCK = threading.Lock()

_ACTIVE: ActiveRun | None = None

_OCCUPANT: tuple[str, subprocess.Popen] | None = None  # (what it is, its process): other work training here


def training_here() -> ActiveRun | None:
    """The run this process is training now (a child process or a thread), or None."""
    with _LOCK:
        return _ACTIVE if _ACTIVE is not None and _ACTIVE.alive() else None


def active_run() -> Run | None:
    """The run training for this process, if any (what a reloaded page re-attaches to)."""
    active = training_here()
    return read_run(active.folder) if active is not None else None


def _busy() -> str | None:
    """Why this process cannot start training now (a run or an occupant trains), or None; _LOCK held."""
    if _ACTIVE is not None and _ACTIVE.alive():
        return f"run {_ACTIVE.name!r} is already training; stop it or wait for it to finish"
    if _OCCUPANT is not None and _OCCUPANT[1].poll() is None:
        return f"{_OCCUPANT[0]} is training; stop it or wait for it to finish"
    return None


def occupy(label: str, spawn) -> subprocess.Popen:
    """Start `spawn()`, a child process that trains (a sweep's), in this process's one place for
    training: RunBusyError naming what trains when a run or another occupant holds it. The place
    is free again once that process exits; until then start_run and the queue wait."""
    global _OCCUPANT
    with _LOCK:
        busy = _busy()
        if busy is not None:
            raise RunBusyError(busy)
        process = spawn()
        _OCCUPANT = (label, process)
    return process


def child_env() -> dict[str, str]:
    """This environment, with mnist_core importable from a child process started anywhere."""
    package_parent = str(Path(__file__).resolve().parents[2])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))}


def _settle_exited_worker(folder: Path, returncode: int) -> None:
    """A child that ended while its status still says running died before it could say why (an
    import error, killed by the system): mark the run failed with the end of its log."""
    if (read_json(folder / STATUS) or {}).get("status") != "running":
        return
    try:
        tail = (folder / WORKER_LOG).read_text(errors="replace").strip().splitlines()[-1:]
    except OSError:
        tail = []
    _mark(folder, "failed", f"its training process exited with code {returncode}" + (f": {tail[0]}" if tail else ""))


def check_trainable(config: TrainConfig, data=None) -> None:
    """ConfigError when `config` cannot train on `data` (default: the full training split), e.g. a
    one-cycle schedule with too few batches, or a device this machine does not have: refused
    before a run folder exists."""
    from ..data.mnist import images_per_epoch
    from ..training.devices import pick_device
    from ..training.loop import check_schedule, planned_batches

    pick_device(config.device)
    train_size = len(data.train) if data is not None else images_per_epoch(None, config.validation_size)
    check_schedule(config, planned_batches(config, train_size))
    check_demo_run(config)  # demo mode's caps (nothing in full mode)


def start_run(config: TrainConfig, directory: Path | None = None, name: str | None = None, data=None) -> Run:
    """Start training `config` in the background; RunBusyError if one is already training. Without
    `data` the run trains in a child process that loads MNIST itself (the app's way); with an
    in-memory dataset, in a thread of this process."""
    global _ACTIVE
    check_trainable(config, data)
    with _LOCK:
        busy = _busy()
        if busy is not None:
            raise RunBusyError(busy)
        folder = create_run_folder(config, directory, name)
        if data is None:
            _ACTIVE = ActiveRun(folder.name, folder, process=_spawn_worker(folder))
        else:
            stop = threading.Event()
            thread = threading.Thread(
                target=train_in_folder, args=(config, folder, stop, data), name=f"run-{folder.name}", daemon=True
            )
            _ACTIVE = ActiveRun(folder.name, folder, thread=thread, stop=stop)
            thread.start()
    return read_run(folder)


def _spawn_worker(folder: Path) -> subprocess.Popen:
    """`python -m mnist_core.lab.worker FOLDER`, its output in the run's worker.log."""
    with (folder / WORKER_LOG).open("w") as log:
        return subprocess.Popen([sys.executable, "-m", "mnist_core.lab.worker", str(folder)], env=child_env(),
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)  # a Ctrl-C to the server is not the run's


def train_run(config: TrainConfig, directory: Path | None = None, name: str | None = None, data=None,
              callbacks: list[Callback] | tuple = (), stop: threading.Event | None = None,
              stop_reason: str = "stopped by the user") -> Run:
    """Train `config` in this thread (the CLI), recorded exactly as start_run records; returns the
    finished Run. Set `stop` (e.g. from a Ctrl-C handler) to stop between batches."""
    check_trainable(config, data)
    folder = create_run_folder(config, directory, name)
    train_in_folder(config, folder, stop or threading.Event(), data, callbacks, stop_reason)
    return read_run(folder)


def train_in_folder(config: TrainConfig, folder: Path, stop: threading.Event, data, callbacks=(),
                    stop_reason: str = "stopped by the user") -> None:
    """Train `config`, recording into its (already created) run folder; whatever goes wrong ends
    with a status that says why, never one that still says "running"."""
    from ..data.mnist import load_mnist
    from ..training.loop import fit

    try:
        data = data or load_mnist(validation_size=config.validation_size)
        recorder = RunRecorder(folder, data)
        fit(config, data, callbacks=[recorder, StopOnEvent(stop, stop_reason), *callbacks])
    except Exception as error:  # noqa: BLE001 - a crashed run must say why, not vanish
        _mark(folder, "failed", f"{type(error).__name__}: {error}")
    except BaseException:  # KeyboardInterrupt, SystemExit: this process is going away
        _mark(folder, "interrupted", "its process was interrupted; epochs recorded before that are kept")
        raise


def _mark(folder: Path, status: str, reason: str) -> None:
    progress = read_json(folder / STATUS) or {}
    write_json(folder / STATUS, {**progress, "status": status, "reason": reason, "updated_at": time.time()})


def stop_run(name: str, directory: Path | None = None) -> str:
    """Ask run `name` to stop after its current batch; RunError (doing nothing) when `name` is not
    training. Stopping by name means a stale page can never stop somebody else's run."""
    run = get_run(name, directory)
    if run.status != "running":
        raise RunError(f"run {name!r} is not training ({run.status}); nothing was stopped")
    active = training_here()
    if active is not None and active.stop is not None and active.folder.resolve() == run.folder.resolve():
        active.stop.set()
    else:
        (run.folder / STOP_REQUEST).touch()  # the training process checks for it every ~0.5 s
    return f"stopping {name} after the current batch"


def delete_run(name: str, directory: Path | None = None) -> None:
    refuse_in_demo("Deleting runs")
    run = get_run(name, directory)
    if run.status == "running":
        raise RunError(f"run {name!r} is training; stop it before deleting it")
    shutil.rmtree(run.folder)
