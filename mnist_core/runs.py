"""The runs store: one folder per training run under runs/ (or $MNIST_RUNS).

A run folder holds config.json, status.json (running / finished / stopped / failed + reason and
progress), metrics.jsonl (one line per epoch), batches.jsonl (every `log_every_batches` batches, for
the live view) and model.pt (checkpoint.py) when there are weights worth keeping. Training runs in
a background thread; one run at a time per process (a server), stopped between batches on request.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .callbacks import Callback, StopOnEvent
from .checkpoint import save_checkpoint
from .config import TrainConfig
from .models import count_parameters, create_model, model_info

NAME_PATTERN = re.compile(r"[^A-Za-z0-9_.-]+")


class RunBusyError(RuntimeError):
    """Another run is training in this process."""


class RunNotFoundError(FileNotFoundError):
    pass


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


def write_json(path: Path, value) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(value, indent=1))
    temporary.replace(path)


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line being written right now
    return rows


class RunRecorder(Callback):
    """Writes a run's files as the trainer's events arrive."""

    def __init__(self, folder: Path, refresh_seconds: float = 0.5) -> None:
        self.folder = folder
        self.started = time.time()
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
                 "eta_s": (total - done) / rate if rate else None,
                 "updated_at": time.time(), "started_at": self.started, **extra}
        write_json(self.folder / "status.json", value)
        self.last_write = time.time()
        return value

    def on_fit_start(self, state) -> None:
        self.status(state)

    def on_batch_end(self, state) -> None:
        due = time.time() - self.last_write >= self.refresh_seconds
        if due or state.step % state.config.log_every_batches == 0 or state.batch == state.batches_per_epoch:
            with (self.folder / "batches.jsonl").open("a") as handle:
                handle.write(json.dumps({"step": state.step, "epoch": state.epoch, "batch": state.batch,
                                         "loss": state.batch_loss}) + "\n")
            self.status(state)

    def on_epoch_end(self, state) -> None:
        with (self.folder / "metrics.jsonl").open("a") as handle:
            handle.write(json.dumps(state.history[-1]) + "\n")
        self.status(state)

    def on_fit_end(self, state) -> None:
        if state.history and state.status != "failed":
            final = state.history[-1]
            save_checkpoint(self.folder / "model.pt", state.model, state.config.model, state.config.to_dict(),
                            state.history, {"status": state.status, "final_test_acc": final["test_acc"],
                                            "best_val_epoch": state.best_epoch})
        self.status(state, wall_seconds=state.wall_seconds)


@dataclass
class ActiveRun:
    name: str
    folder: Path
    thread: threading.Thread
    stop: threading.Event


_LOCK = threading.Lock()
_ACTIVE: ActiveRun | None = None


def active_run() -> ActiveRun | None:
    """The run training in this process, if any (what a reloaded page re-attaches to)."""
    with _LOCK:
        return _ACTIVE if _ACTIVE is not None and _ACTIVE.thread.is_alive() else None


def start_run(config: TrainConfig, directory: Path | None = None, name: str | None = None, data=None) -> ActiveRun:
    """Start training `config` in a background thread; RunBusyError if one is already training."""
    global _ACTIVE
    directory = Path(directory) if directory is not None else runs_dir()
    with _LOCK:
        if _ACTIVE is not None and _ACTIVE.thread.is_alive():
            raise RunBusyError(f"run {_ACTIVE.name!r} is already training; stop it or wait for it to finish")
        directory.mkdir(parents=True, exist_ok=True)
        name = sanitize_name(name) if name else new_run_name(config.model, directory)
        folder = directory / name
        folder.mkdir(exist_ok=False)
        write_json(folder / "config.json", config.to_dict())
        write_json(folder / "status.json", {"status": "running", "reason": "starting", "step": 0,
                                            "total_steps": None, "updated_at": time.time()})
        stop = threading.Event()
        thread = threading.Thread(target=_train, args=(config, folder, stop, data), name=f"run-{name}", daemon=True)
        _ACTIVE = ActiveRun(name, folder, thread, stop)
        thread.start()
        return _ACTIVE


def _train(config: TrainConfig, folder: Path, stop: threading.Event, data) -> None:
    from .data import load_mnist
    from .train import fit

    recorder = RunRecorder(folder)
    try:
        data = data or load_mnist(validation_size=config.validation_size)
        fit(config, data, callbacks=[recorder, StopOnEvent(stop, "stopped by the user")])
    except Exception as error:  # noqa: BLE001 - a crashed run must say why, not vanish
        write_json(folder / "status.json", {**read_status(folder), "status": "failed",
                                            "reason": f"{type(error).__name__}: {error}", "updated_at": time.time()})


def stop_active() -> str | None:
    run = active_run()
    if run is None:
        return None
    run.stop.set()
    return run.name


def read_status(folder: Path) -> dict:
    try:
        return json.loads((folder / "status.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {"status": "unknown", "reason": "no readable status.json"}


def run_folder(name: str, directory: Path | None = None) -> Path:
    directory = Path(directory) if directory is not None else runs_dir()
    folder = directory / sanitize_name(name)
    if not (folder / "config.json").exists():
        raise RunNotFoundError(f"no run named {name!r} in {directory}")
    return folder


def list_runs(directory: Path | None = None) -> list[dict]:
    """[{name, folder, status, config}] newest first."""
    directory = Path(directory) if directory is not None else runs_dir()
    if not directory.is_dir():
        return []
    runs = []
    for folder in directory.iterdir():
        if (folder / "config.json").is_file():
            status = read_status(folder)
            if status.get("status") == "running" and (active_run() is None or active_run().folder != folder):
                status = {**status, "status": "stopped", "reason": "the server stopped while it was training"}
            runs.append({"name": folder.name, "folder": folder, "status": status,
                         "config": json.loads((folder / "config.json").read_text())})
    return sorted(runs, key=lambda run: run["status"].get("updated_at", 0), reverse=True)


def run_record(folder: Path) -> dict:
    """A run in the same shape as a shipped checkpoint's record (for the Compare page)."""
    config = json.loads((folder / "config.json").read_text())
    history = read_jsonl(folder / "metrics.jsonl")
    complete = [row for row in history if not row.get("partial")] or history
    status = read_status(folder)
    info = model_info(config["model"])
    weights = folder / "model.pt"
    summary = None
    if complete:
        best = max(complete, key=lambda row: row["test_acc"])
        summary = {"final_test_acc": complete[-1]["test_acc"], "best_test_acc": best["test_acc"],
                   "best_test_epoch": best["epoch"], "epochs": len(complete),
                   "wall_seconds": status.get("wall_seconds") or sum(r["seconds"] for r in history)}
    return {"stem": f"run:{folder.name}", "model": config["model"], "source": info.source,
            "params": count_parameters(create_model(config["model"])),
            "size_bytes": weights.stat().st_size if weights.exists() else None,
            "summary": summary, "history": history, "config": config, "status": status,
            "weights": str(weights) if weights.exists() else None}


def promote(folder: Path, checkpoints: Path, stem: str | None = None) -> Path:
    """Copy a finished run's weights and record into checkpoints/ (explicitly, never automatically)."""
    record = run_record(folder)
    if record["weights"] is None or record["summary"] is None:
        raise RunNotFoundError(f"run {folder.name!r} has no weights to promote")
    stem = sanitize_name(stem or folder.name)
    checkpoints.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(record["weights"], checkpoints / f"{stem}.pt")
    info = model_info(record["model"])
    shipped = {"model": record["model"], **info.to_dict(), "params": record["params"],
               "size_bytes": record["size_bytes"], "config": record["config"],
               "summary": {**record["summary"], "final_train_set_acc": None, "seed": record["config"]["seed"]},
               "history": record["history"], "promoted_from": folder.name}
    shipped.pop("name")
    write_json(checkpoints / f"{stem}.json", shipped)
    return checkpoints / f"{stem}.pt"


def metrics_csv(folder: Path) -> str:
    import csv
    import io

    rows = read_jsonl(folder / "metrics.jsonl")
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
