"""The runs store and its API: every training run, from the app or the CLI, is a `Run`.

`$MNIST_RUNS` (default `runs/`) holds one folder per run. Only this module knows what is in it:
config.json, status.json (status, reason, progress, the pid training it), metrics.jsonl (one line
per epoch), batches.jsonl (batch losses and learning rates for the live view), samples.jsonl (the
fixed grid of test digits' predictions at each epoch end) and model.pt (checkpoint.py) once there
are weights worth keeping. Pages and the CLI use `list_runs`, `get_run`, `start_run`, `train_run`,
`stop_run(name)`, `delete_run`, `promote` / `unpromote`, and read `Run` objects; they never build
a path into a run folder.

One run trains at a time per process (the app's server). `start_run` trains it in a child process
of its own (`store/worker.py`), so the server, the browser and the run do not fight over one
interpreter; given an in-memory dataset (tests, notebooks) it trains in a background thread
instead, since that data cannot cross a process boundary. Either way it stops between batches on
request. A CLI run trains in the foreground of its own process; the app shows it as running while
that process is alive and as interrupted once it is gone. Other work that trains (a sweep's child
process) takes the same one place through `occupy`, so a run, the queue and a sweep never train at once.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..training.callbacks import Callback, StopOnEvent
from ..training.config import ConfigError, TrainConfig
from .checkpoint import CheckpointError, copy_checkpoint, load_model, save_checkpoint
from .records import (
    Record,
    RecordError,
    clean_stale_temporaries,
    json_safe,
    metrics_csv,
    read_record,
    summarize,
    write_json,
    write_record,
)
from .mode import check_demo_run, refuse_in_demo
from .shipped import checkpoints_dir, list_checkpoints

NAME_PATTERN = re.compile(r"[^A-Za-z0-9_.-]+")
SAMPLE_COUNT = 24  # the live view's fixed grid of test digits
HEARTBEAT_SECONDS = 60.0  # a run in another process that has not written for this long is gone
CONFIG, STATUS, EPOCHS, BATCHES, SAMPLES, WEIGHTS, STOP_REQUEST = (
    "config.json", "status.json", "metrics.jsonl", "batches.jsonl", "samples.jsonl", "model.pt", "stop-request")
WORKER_LOG = "worker.log"  # what a run's own process printed (read when it dies without a word)


class RunError(RuntimeError):
    """A run operation cannot be done; the message says which run and why."""


class RunBusyError(RunError):
    """Another run is training in this process."""


class RunNotFoundError(RunError, FileNotFoundError):
    pass


class PromotionError(RunError):
    """A run cannot be promoted (or a checkpoint un-promoted); the message says why."""


def runs_dir() -> Path:
    return Path(os.environ.get("MNIST_RUNS", "runs")).expanduser()


def sanitize_name(name: str) -> str:
    """A safe folder name: letters, digits, '-', '_', '.'; no path tricks; at most 64 chars."""
    cleaned = NAME_PATTERN.sub("-", name).strip(".-")[:64]
    if not cleaned:
        raise ValueError(f"run name {name!r} has no usable characters (letters, digits, - _ .)")
    return cleaned


def new_run_name(model: str, directory: Path) -> str:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = sanitize_name(f"{model}-{stamp}")
    name, counter = base, 2
    while (directory / name).exists():
        name, counter = f"{base}-{counter}", counter + 1
    return name


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line being written right now, or cut by a kill
        if isinstance(row, dict):
            rows.append(row)
    return rows


def append_jsonl(path: Path, row: dict) -> None:
    with path.open("a") as handle:
        handle.write(json.dumps(row) + "\n")


def _process_alive(pid) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Run:
    """One training run, as read from its folder (a snapshot: call get_run again for news)."""
    name: str
    status: str
    reason: str
    config: dict
    progress: dict = field(default_factory=dict)  # status.json: epoch, batch, step, ETA, pid, ...
    _folder: Path = field(default=None, repr=False)

    @property
    def weights_path(self) -> Path:
        return self._folder / WEIGHTS

    @property
    def has_weights(self) -> bool:
        return self.weights_path.is_file()

    @property
    def is_running(self) -> bool:
        return self.status == "running"

    @property
    def started_at(self) -> float | None:
        return self.progress.get("started_at")

    @property
    def wall_seconds(self) -> float | None:
        return self.progress.get("wall_seconds") or self.progress.get("elapsed_s")

    @property
    def study(self) -> str | None:
        """The study this run belongs to (a sweep's trials: `extra["study"]`), or None."""
        extra = self.config.get("extra")
        return extra.get("study") if isinstance(extra, dict) else None

    def epochs(self) -> list[dict]:
        """One row per evaluated epoch (a stopped run's last row is marked partial)."""
        return read_jsonl(self._folder / EPOCHS)

    def batches(self) -> list[dict]:
        """[{step, epoch, batch, loss, lr}] every few batches."""
        return read_jsonl(self._folder / BATCHES)

    def samples(self) -> list[dict]:
        """[{epoch, indices, labels, predictions}] for the fixed grid of test digits."""
        return read_jsonl(self._folder / SAMPLES)

    @property
    def record(self) -> Record:
        return summarize(self.name, "run", self.config, self.epochs(), status=self.status,
                         reason=self.reason, weights_path=self.weights_path if self.has_weights else None,
                         wall_seconds=self.wall_seconds, created_at=self.progress.get("created_at"))

    def metrics_csv(self) -> str:
        return metrics_csv(self.epochs())


class RunRecorder(Callback):
    """Writes a run's files as the trainer's events arrive; honours a stop-request file (how a
    run training in another process is asked to stop)."""

    def __init__(self, folder: Path, data=None, refresh_seconds: float = 0.5) -> None:
        self.folder = folder
        self.data = data
        self.started = time.time()
        self.created_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        self.refresh_seconds = refresh_seconds  # the live view never waits longer than this
        self.last_write = 0.0

    def status(self, state, **extra) -> dict:
        done = state.step
        total = state.total_batches
        elapsed = time.time() - self.started
        rate = done / elapsed if elapsed > 0 and done else 0.0
        value = {"status": state.status, "reason": state.reason, "epoch": state.epoch,
                 "epochs": state.config.epochs, "batch": state.batch, "batches_per_epoch": state.batches_per_epoch,
                 "step": done, "total_steps": total, "elapsed_s": elapsed,
                 "images_per_s": rate * state.config.batch_size,
                 "eta_s": (total - done) / rate if rate else None, "pid": os.getpid(),
                 "updated_at": time.time(), "started_at": self.started, "created_at": self.created_at, **extra}
        write_json(self.folder / STATUS, json_safe(value))
        self.last_write = time.time()
        return value

    def on_fit_start(self, state) -> None:
        # the loop settled "auto" settings (precision, memory format) for this machine: keep what ran
        write_json(self.folder / CONFIG, state.config.to_dict())
        self.status(state)

    def on_batch_end(self, state) -> None:
        due = time.time() - self.last_write >= self.refresh_seconds
        if due or state.step % state.config.log_every_batches == 0 or state.batch == state.batches_per_epoch:
            append_jsonl(self.folder / BATCHES, {"step": state.step, "epoch": state.epoch, "batch": state.batch,
                                                 "loss": state.batch_loss, "lr": state.lr})
            if (self.folder / STOP_REQUEST).exists():
                state.request_stop("stopped by the user", status="stopped")
            self.status(state)

    def on_epoch_end(self, state) -> None:
        append_jsonl(self.folder / EPOCHS, json_safe(state.history[-1]))
        if self.data is not None and state.config.evaluate_test:  # the grid is of test digits
            append_jsonl(self.folder / SAMPLES, {"epoch": state.epoch, **sample_predictions(state.model, self.data)})
        self.status(state)

    def on_fit_end(self, state) -> None:
        if state.history and state.status != "failed":
            final = state.history[-1]
            save_checkpoint(self.folder / WEIGHTS, state.model, state.config.model, state.config.to_dict(),
                            state.history, {"status": state.status, "final_test_acc": final.get("test_acc"),
                                            "best_val_epoch": state.best_epoch})
        (self.folder / STOP_REQUEST).unlink(missing_ok=True)
        self.status(state, wall_seconds=state.wall_seconds)


def sample_indices(test_size: int = 10000, count: int = SAMPLE_COUNT) -> list[int]:
    """Fixed test-set indices for the live grid: spread evenly over the test set."""
    return [index * test_size // count for index in range(count)]


def sample_predictions(model, data) -> dict:
    from ..analysis.evaluate import predict_logits

    indices = sample_indices(len(data.test))
    images = data.test.images[indices]
    predictions = predict_logits(model, images).argmax(1).tolist()
    return {"indices": indices, "labels": data.test.labels[indices].tolist(), "predictions": predictions}


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


def _active() -> ActiveRun | None:
    with _LOCK:
        return _ACTIVE if _ACTIVE is not None and _ACTIVE.alive() else None


def active_run() -> Run | None:
    """The run training for this process, if any (what a reloaded page re-attaches to)."""
    active = _active()
    return _read_run(active.folder) if active is not None else None


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
    status = _read_json(folder / STATUS) or {}
    if status.get("status") != "running":
        return
    try:
        tail = (folder / WORKER_LOG).read_text(errors="replace").strip().splitlines()[-1:]
    except OSError:
        tail = []
    reason = f"its training process exited with code {returncode}" + (f": {tail[0]}" if tail else "")
    write_json(folder / STATUS, {**status, "status": "failed", "reason": reason, "updated_at": time.time()})


def _create_folder(config: TrainConfig, directory: Path | None, name: str | None) -> Path:
    with _CREATE_LOCK:  # threads of one process take turns (cleanup scans the folder); processes rely on the rename
        return _create_folder_unlocked(config, directory, name)


def _create_folder_unlocked(config: TrainConfig, directory: Path | None, name: str | None) -> Path:
    """A new run folder, complete (config.json, status.json) the moment it appears: it is filled
    under a hidden name, then renamed into place, which is atomic and refuses an existing run. Two
    starts with one name: one gets it, the other a RunError (an explicit --name) or the next free
    name (an automatic one); a reader never sees a half-made run."""
    directory = Path(directory) if directory is not None else runs_dir()
    directory.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(directory)  # left by a run killed mid-save
    for stale in directory.glob(".new-run-*"):  # left by a start killed before its rename
        try:
            if time.time() - stale.stat().st_mtime > 60:
                shutil.rmtree(stale, ignore_errors=True)
        except OSError:
            pass
    staging = Path(tempfile.mkdtemp(prefix=".new-run-", dir=directory))
    write_json(staging / CONFIG, config.to_dict())
    write_json(staging / STATUS, {"status": "running", "reason": "starting", "step": 0, "total_steps": None,
                                  "pid": os.getpid(), "updated_at": time.time(), "started_at": time.time()})
    wanted = sanitize_name(name) if name else None
    return _claim_name(staging, directory, wanted, config)


_CREATE_LOCK = threading.Lock()


def _claim_name(staging: Path, directory: Path, wanted: str | None, config: TrainConfig) -> Path:
    for attempt in range(100):
        candidate = wanted or new_run_name(config.model, directory)
        try:
            os.rename(staging, directory / candidate)
            return directory / candidate
        except OSError as error:  # the name was taken between the check and the rename
            if not (directory / candidate).exists():
                shutil.rmtree(staging, ignore_errors=True)
                raise RunError(f"cannot create run {candidate!r} in {directory}: {error.strerror or error}") from None
            if wanted is not None:
                shutil.rmtree(staging, ignore_errors=True)
                raise RunError(f"a run named {wanted!r} already exists in {directory}; choose another name") from None
    shutil.rmtree(staging, ignore_errors=True)
    raise RunError(f"no free run name for {config.model} in {directory}")


def check_trainable(config: TrainConfig, data=None) -> None:
    """ConfigError when `config` cannot train on `data` (default: the full training split), e.g. a
    one-cycle schedule with too few batches: refused before a run folder exists."""
    from ..data.mnist import TRAIN_IMAGES
    from ..training.loop import check_schedule, planned_batches

    train_size = len(data.train) if data is not None else TRAIN_IMAGES - config.validation_size
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
        folder = _create_folder(config, directory, name)
        if data is None:
            _ACTIVE = ActiveRun(folder.name, folder, process=_spawn_worker(folder))
        else:
            stop = threading.Event()
            thread = threading.Thread(target=_train, args=(config, folder, stop, data), name=f"run-{folder.name}",
                                      daemon=True)
            _ACTIVE = ActiveRun(folder.name, folder, thread=thread, stop=stop)
            thread.start()
    return _read_run(folder)


def _spawn_worker(folder: Path) -> subprocess.Popen:
    """`python -m mnist_core.store.worker FOLDER`, its output in the run's worker.log."""
    with (folder / WORKER_LOG).open("w") as log:
        return subprocess.Popen([sys.executable, "-m", "mnist_core.store.worker", str(folder)], env=child_env(),
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)  # a Ctrl-C to the server is not the run's


def train_run(config: TrainConfig, directory: Path | None = None, name: str | None = None, data=None,
              callbacks: list[Callback] | tuple = (), stop: threading.Event | None = None,
              stop_reason: str = "stopped by the user") -> Run:
    """Train `config` in this thread (the CLI), recorded exactly as start_run records; returns the
    finished Run. Set `stop` (e.g. from a Ctrl-C handler) to stop between batches."""
    check_trainable(config, data)
    folder = _create_folder(config, directory, name)
    _train(config, folder, stop or threading.Event(), data, callbacks, stop_reason)
    return _read_run(folder)


def _train(config: TrainConfig, folder: Path, stop: threading.Event, data, callbacks=(),
           stop_reason: str = "stopped by the user") -> None:
    from ..data.mnist import load_mnist
    from ..training.loop import fit

    try:
        data = data or load_mnist(validation_size=config.validation_size)
        recorder = RunRecorder(folder, data)
        fit(config, data, callbacks=[recorder, StopOnEvent(stop, stop_reason), *callbacks])
    except Exception as error:  # noqa: BLE001 - a crashed run must say why, not vanish
        status = _read_json(folder / STATUS) or {}
        write_json(folder / STATUS, {**status, "status": "failed", "reason": f"{type(error).__name__}: {error}",
                                     "updated_at": time.time()})


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _read_run(folder: Path) -> Run:
    """A Run from its folder; an unreadable one comes back with status "damaged" and the reason."""
    config = _read_json(folder / CONFIG)
    progress = _read_json(folder / STATUS)
    if not isinstance(config, dict):
        return Run(folder.name, "damaged", f"{CONFIG} is missing or unreadable", {}, {}, folder)
    if not isinstance(progress, dict):
        return Run(folder.name, "damaged", f"{STATUS} is missing or unreadable", config, {}, folder)
    status, reason = progress.get("status", "damaged"), progress.get("reason", "")
    if status == "running":
        active = _active()
        if active is not None and active.folder.resolve() == folder.resolve():
            pass
        elif (progress.get("pid") != os.getpid() and _process_alive(progress.get("pid"))
              and time.time() - progress.get("updated_at", 0) < HEARTBEAT_SECONDS):
            pass  # training in another process (a CLI run)
        else:
            status = "interrupted"
            reason = (f"its process ended during epoch {progress.get('epoch', '?')} (killed, or the server "
                      f"restarted); epochs recorded before that are kept")
    if status not in ("finished", "stopped", "failed", "running", "interrupted"):
        status, reason = "damaged", f"unknown status {status!r} in {STATUS}"
    return Run(folder.name, status, reason, config, progress, folder)


def _folder(name: str, directory: Path | None = None) -> Path:
    directory = Path(directory) if directory is not None else runs_dir()
    try:
        folder = directory / sanitize_name(name)
    except ValueError as error:
        raise RunNotFoundError(str(error)) from None
    if sanitize_name(name) != name or not folder.is_dir():
        raise RunNotFoundError(f"no run named {name!r} in {directory}")
    return folder


def list_runs(directory: Path | None = None) -> list[Run]:
    """Every run, newest first; damaged ones included (status "damaged", with the reason)."""
    directory = Path(directory) if directory is not None else runs_dir()
    if not directory.is_dir():
        return []
    runs = [_read_run(folder) for folder in directory.iterdir()
            if folder.is_dir() and not folder.name.startswith(".")]
    return sorted(runs, key=lambda run: (run.progress.get("started_at") or 0, run.name), reverse=True)


def get_run(name: str, directory: Path | None = None) -> Run:
    return _read_run(_folder(name, directory))


def stop_run(name: str, directory: Path | None = None) -> str:
    """Ask run `name` to stop after its current batch; RunError (doing nothing) when `name` is not
    training. Stopping by name means a stale page can never stop somebody else's run."""
    run = get_run(name, directory)
    if run.status != "running":
        raise RunError(f"run {name!r} is not training ({run.status}); nothing was stopped")
    active = _active()
    if active is not None and active.stop is not None and active.folder.resolve() == run._folder.resolve():
        active.stop.set()
    else:
        (run._folder / STOP_REQUEST).touch()  # the training process checks for it every ~0.5 s
    return f"stopping {name} after the current batch"


def delete_run(name: str, directory: Path | None = None) -> None:
    refuse_in_demo("Deleting runs")
    run = get_run(name, directory)
    if run.status == "running":
        raise RunError(f"run {name!r} is training; stop it before deleting it")
    shutil.rmtree(run._folder)


@dataclass
class PromotionPlan:
    """What promoting a run would do, for the confirmation: its measured test accuracy beside the
    shipped checkpoint of the same model."""
    run: str
    stem: str
    model: str
    test_acc: float  # percent, full 10k test set, measured now from the run's weights
    shipped_stem: str | None
    shipped_test_acc: float | None


def _check_promotable(name: str, stem: str | None, checkpoints: Path, directory: Path | None) -> tuple[Run, str]:
    run = get_run(name, directory)
    if run.status != "finished":
        raise PromotionError(f"only finished runs can be promoted; {name!r} is {run.status}: {run.reason}")
    if not run.has_weights:
        raise PromotionError(f"run {name!r} has no weights to promote")
    try:
        stem = sanitize_name(stem or name)
    except ValueError as error:
        raise PromotionError(str(error)) from None
    taken = [path.name for path in (checkpoints / f"{stem}.pt", checkpoints / f"{stem}.json") if path.exists()]
    if taken:
        raise PromotionError(f"{', '.join(taken)} already exist in {checkpoints}; checkpoints are never "
                             f"overwritten (choose another name)")
    return run, stem


def _verified_accuracy(run: Run, data) -> float:
    """The run's test accuracy, measured now. `data`: the test Split, or an MNIST (its test split);
    None reads the test files alone."""
    from ..analysis.evaluate import evaluate
    from ..data.mnist import load_test

    try:
        model, checkpoint = load_model(run.weights_path)
    except CheckpointError as error:
        raise PromotionError(f"run {run.name!r}: its weights cannot be loaded: {error}") from None
    if checkpoint.model_name != run.config.get("model"):
        raise PromotionError(f"run {run.name!r}: its weights are for {checkpoint.model_name!r}, "
                             f"its config says {run.config.get('model')!r}")
    test = load_test() if data is None else getattr(data, "test", data)
    accuracy = 100.0 * evaluate(model, test).accuracy
    if accuracy != accuracy:
        raise PromotionError(f"run {run.name!r}: its weights give no finite test accuracy")
    return accuracy


def plan_promotion(name: str, stem: str | None = None, checkpoints: Path | None = None,
                   directory: Path | None = None, data=None) -> PromotionPlan:
    refuse_in_demo("Promoting runs to checkpoints")
    checkpoints = Path(checkpoints or checkpoints_dir())
    run, stem = _check_promotable(name, stem, checkpoints, directory)
    accuracy = _verified_accuracy(run, data)
    shipped = next((r for r in list_checkpoints(checkpoints)[0]
                    if r.kind == "shipped" and r.model == run.config.get("model")), None)
    return PromotionPlan(name, stem, run.config.get("model", "?"), accuracy,
                         shipped.name if shipped else None,
                         shipped.summary.final_test_acc if shipped and shipped.summary else None)


def promote(name: str, stem: str | None = None, checkpoints: Path | None = None,
            directory: Path | None = None, data=None) -> Record:
    """Copy a finished run's weights and record into checkpoints/ as <stem>.pt/.json (kind
    "promoted"). The weights are loaded and evaluated first; nothing is ever overwritten."""
    refuse_in_demo("Promoting runs to checkpoints")
    checkpoints = Path(checkpoints or checkpoints_dir())
    run, stem = _check_promotable(name, stem, checkpoints, directory)
    accuracy = _verified_accuracy(run, data)
    target = checkpoints / f"{stem}.pt"
    clean_stale_temporaries(checkpoints, depth=0)
    try:
        copy_checkpoint(run.weights_path, target, overwrite=False)
    except FileExistsError:
        raise PromotionError(f"{target} appeared meanwhile; nothing was overwritten") from None
    base = run.record
    record = summarize(stem, "promoted", run.config, base.history, status=run.status, reason=run.reason,
                       weights_path=target, wall_seconds=base.summary.wall_seconds if base.summary else None,
                       created_at=base.created_at, promoted_from=run.name, verified_test_acc=accuracy)
    try:
        write_record(checkpoints / f"{stem}.json", record)
    except Exception:
        target.unlink(missing_ok=True)
        raise
    return record


def unpromote(stem: str, checkpoints: Path | None = None) -> None:
    """Remove a promoted checkpoint (its .pt and .json); shipped checkpoints are refused."""
    refuse_in_demo("Un-promoting checkpoints")
    checkpoints = Path(checkpoints or checkpoints_dir())
    path = checkpoints / f"{stem}.json"
    try:
        record = read_record(path)
    except RecordError:
        raise PromotionError(f"no promoted checkpoint named {stem!r} in {checkpoints}") from None
    if record.kind != "promoted" or sanitize_name(stem) != stem:
        raise PromotionError(f"{stem!r} is a {record.kind or 'non-checkpoint'} file, not a promoted run; "
                             f"only what was promoted is removed")
    (checkpoints / f"{stem}.pt").unlink(missing_ok=True)
    path.unlink()


def config_of(run: Run) -> TrainConfig:
    """The run's settings as a TrainConfig (for "Settings from this run"); ConfigError if they no
    longer validate (e.g. a model that is no longer registered). A sweep's trial gives its
    settings, not its membership: no study tag, and the test split evaluated again."""
    values = dict(run.config)
    if isinstance(values.get("extra"), dict):
        values["extra"] = {key: value for key, value in values["extra"].items() if key not in ("study", "trial")}
    values.pop("evaluate_test", None)
    try:
        return TrainConfig.from_dict(values)
    except (ConfigError, TypeError) as error:
        raise ConfigError(f"run {run.name!r}: its settings cannot be reused: {error}") from None


def trained_models(include_runs: bool = True, checkpoints: Path | None = None,
                   directory: Path | None = None) -> tuple[list[Record], list[str]]:
    """(records, problems): every trained model with weights the app can load — shipped and
    promoted checkpoints, then finished or stopped runs (newest first). Unreadable files and
    damaged runs are skipped and described in `problems`."""
    records, problems = list_checkpoints(checkpoints)
    if include_runs:
        for run in list_runs(directory):
            if run.status == "damaged":
                problems.append(f"run {run.name}: damaged, {run.reason} (skipped)")
            elif run.status in ("finished", "stopped") and run.has_weights:
                record = run.record
                if record.summary is not None:
                    records.append(record)
    return records, problems


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
    active = _active()
    training = active is not None and active.name in names
    return names, bool(items) and not waiting and not training


def _work_the_queue(directory: Path | None, data, poll_seconds: float) -> None:
    while True:
        with _QUEUE_LOCK:
            waiting = [item for item in _QUEUE if item.state == "waiting"]
        if not waiting:
            return
        if _active() is not None:
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
