"""What a run is on disk: the run folder's format, `Run` objects read from it, and the recorder
that writes it while a run trains.

`$MNIST_RUNS` (default `runs/`) holds one folder per run. Only this module knows what is in it:
config.json, status.json (status, reason, progress, the pid training it), metrics.jsonl (one line
per epoch), batches.jsonl (batch losses and learning rates for the live view), samples.jsonl (the
fixed grid of test digits' predictions at each epoch end) and model.pt (checkpoint.py) once there
are weights worth keeping. Pages and the CLI read runs with `list_runs`, `get_run` and
`trained_models` and never build a path into a run folder.

Starting, stopping, queueing, promoting and deleting runs is the lab's work (`mnist_core.lab`):
this module only creates a run's folder (`create_run_folder`), reads it and records into it. A run
says "running" while the process named in its status is alive and has written within
HEARTBEAT_SECONDS; once that process is gone it reads as interrupted.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..training.callbacks import Callback
from ..training.config import ConfigError, TrainConfig
from ..training.devices import device_name
from .checkpoint import save_checkpoint
from .records import Record, clean_stale_temporaries, json_safe, metrics_csv, summarize, write_json
from .shipped import list_checkpoints

NAME_PATTERN = re.compile(r"[^A-Za-z0-9_.-]+")

SAMPLE_COUNT = 24  # the live view's fixed grid of test digits

HEARTBEAT_SECONDS = 60.0  # a run in another process that has not written for this long is gone

CONFIG, STATUS, EPOCHS, BATCHES, SAMPLES, WEIGHTS, STOP_REQUEST = (
    "config.json", "status.json", "metrics.jsonl", "batches.jsonl", "samples.jsonl", "model.pt", "stop-request")

TAGS = ("sweep", "seed_study", "trial", "study")  # a run's membership in extra ("study": before sweep / seed_study)
WORKER_LOG = "worker.log"  # what a run's own process printed (read when it dies without a word)


class RunError(RuntimeError):
    """A run operation cannot be done; the message says which run and why."""


class RunNotFoundError(RunError, FileNotFoundError):
    pass


def run_tags(config: dict) -> tuple[str | None, str | None]:
    """(sweep, seed study) a run's config is tagged with (`extra["sweep"]`, `extra["seed_study"]`).
    Runs made before the two tags were told apart carry `extra["study"]`: with a trial number it
    was a sweep's, without one a seed study's."""
    extra = config.get("extra") if isinstance(config, dict) else None
    if not isinstance(extra, dict):
        return None, None
    legacy = extra.get("study")
    sweep = extra.get("sweep") or (legacy if "trial" in extra else None)
    seed_study = extra.get("seed_study") or (legacy if "trial" not in extra else None)
    return sweep, seed_study


def runs_dir() -> Path:
    return Path(os.environ.get("MNIST_RUNS", "runs")).expanduser()


def check_runs_folder(directory: Path | None = None) -> Path:
    """The runs folder, or RunError (one line) when it cannot be one: it, or a folder above it, is
    a file. Missing is fine (it is created with the first run)."""
    directory = Path(directory) if directory is not None else runs_dir()
    for place in (directory, *directory.parents):
        if place.exists():
            if not place.is_dir():
                raise RunError(f"the runs folder {directory} ($MNIST_RUNS) cannot be used: {place} is a file, "
                               "not a folder")
            break
    return directory


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
    try:
        lines = path.read_bytes().splitlines()
    except OSError:
        return []  # missing (no epoch yet) or unreadable: no rows
    rows = []
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a line being written right now, cut by a kill, or damaged (not UTF-8)
        if isinstance(row, dict):
            rows.append(row)
    return rows


def append_jsonl(path: Path, row: dict) -> None:
    with path.open("a") as handle:
        handle.write(json.dumps(row) + "\n")


def process_alive(pid) -> bool:
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
    def folder(self) -> Path:
        """Where the run lives (for the lab's own operations; pages ask for what is in it)."""
        return self._folder

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
    def sweep(self) -> str | None:
        """The sweep (Optuna study) this run is a trial of, or None."""
        return run_tags(self.config)[0]

    @property
    def seed_study(self) -> str | None:
        """The seed study (one recipe over several seeds) this run belongs to, or None."""
        return run_tags(self.config)[1]

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
                 "device": device_name(state.device),
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


def create_run_folder(config: TrainConfig, directory: Path | None, name: str | None) -> Path:
    with CREATE_LOCK:  # threads of one process take turns (cleanup scans the folder); processes rely on the rename
        return _create_run_folder_unlocked(config, directory, name)


def _create_run_folder_unlocked(config: TrainConfig, directory: Path | None, name: str | None) -> Path:
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


CREATE_LOCK = threading.Lock()


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


def read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def read_run(folder: Path) -> Run:
    """A Run from its folder; an unreadable one comes back with status "damaged" and the reason."""
    config = read_json(folder / CONFIG)
    progress = read_json(folder / STATUS)
    if not isinstance(config, dict):
        return Run(folder.name, "damaged", f"{CONFIG} is missing or unreadable", {}, {}, folder)
    if not isinstance(progress, dict):
        return Run(folder.name, "damaged", f"{STATUS} is missing or unreadable", config, {}, folder)
    status, reason = progress.get("status", "damaged"), progress.get("reason", "")
    if status == "running" and not (process_alive(progress.get("pid"))
                                    and time.time() - progress.get("updated_at", 0) < HEARTBEAT_SECONDS):
        status = "interrupted"
        reason = (f"its process ended during epoch {progress.get('epoch', '?')} (killed, or the server "
                  f"restarted); epochs recorded before that are kept")
    if status not in ("finished", "stopped", "failed", "running", "interrupted"):
        status, reason = "damaged", f"unknown status {status!r} in {STATUS}"
    return Run(folder.name, status, reason, config, progress, folder)


def run_folder(name: str, directory: Path | None = None) -> Path:
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
    runs = [read_run(folder) for folder in directory.iterdir()
            if folder.is_dir() and not folder.name.startswith(".")]
    return sorted(runs, key=lambda run: (run.progress.get("started_at") or 0, run.name), reverse=True)


def get_run(name: str, directory: Path | None = None) -> Run:
    return read_run(run_folder(name, directory))


def config_of(run: Run) -> TrainConfig:
    """The run's settings as a TrainConfig (for "Settings from this run"); ConfigError if they no
    longer validate (e.g. a model that is no longer registered). A sweep's trial gives its
    settings, not its membership: no sweep or seed-study tag, and the test split evaluated again."""
    values = dict(run.config)
    if isinstance(values.get("extra"), dict):
        values["extra"] = {key: value for key, value in values["extra"].items() if key not in TAGS}
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
            elif run.status in ("finished", "stopped"):
                record, why_not = usable_record(run)
                if record is not None:
                    records.append(record)
                elif run.has_weights:  # a run stopped before its first epoch has nothing to list
                    problems.append(f"run {run.name}: {run.status} but cannot be used: {why_not} (skipped)")
    return records, problems


def usable_record(run: Run, record: Record | None = None) -> tuple[Record | None, str | None]:
    """(the run's record, None) when it can be evaluated, compared and promoted, else (None, why
    not): still training, failed, damaged, no weights, or no epoch with finite figures. The one
    rule `runs`, `trained_models` and the lookups by name share (`record`: run.record, if at hand)."""
    if run.status not in ("finished", "stopped"):
        return None, f"it is {run.status}" + (f" ({run.reason})" if run.reason else "")
    if not run.has_weights:
        return None, f"it has no weights ({WEIGHTS})"
    record = record or run.record
    if record.summary is None:
        return None, "no epoch has finite figures (its accuracies and losses are NaN or missing)"
    return record, None
