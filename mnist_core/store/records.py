"""What a trained model is: one record shape for shipped checkpoints, promoted runs and runs.

A `Record` carries the model name, where it came from, its parameter count, the config it was
trained with, its per-epoch history, a `Summary` of final / best figures, its status and reason,
library versions, when it was made and where its weights are. `summarize()` is the only code that
builds one; the report, the Compare / Evaluate / Draw pages and the CLI (`runs`, `report`) all read
records. On disk a record is plain JSON (`write_record` / `read_record`), readable without torch.

Accuracies in records are percentages, like the training history.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("shipped", "promoted", "run")
# finished: ran every planned epoch (or reached its early-stop target); stopped: a person asked;
# failed: an error or a diverged loss; running: training now (here or in another process);
# interrupted: its process ended without saying so (killed, server restarted); damaged: unreadable.
STATUSES = ("finished", "stopped", "failed", "running", "interrupted", "damaged")


class RecordError(ValueError):
    """A record file cannot be read; the message names the file and why."""


@dataclass
class Summary:
    """The figures a trained model is judged by (percentages; epochs are 1-based)."""
    epochs: int  # complete epochs
    final_test_acc: float
    final_test_loss: float
    final_val_acc: float
    best_test_acc: float
    best_test_epoch: int
    best_val_acc: float
    best_val_epoch: int
    test_acc_at_best_val: float
    wall_seconds: float
    seed: int | None
    partial: bool = False  # the last recorded epoch was cut short (a stopped run)
    final_train_set_acc: float | None = None  # all 60k training images (write-up 000's measurement)


@dataclass
class Record:
    name: str  # the checkpoint's file stem, or the run's name
    kind: str  # one of KINDS
    model: str
    params: int | None  # None when the model is no longer registered
    config: dict
    history: list[dict] = field(default_factory=list)
    summary: Summary | None = None  # None until an epoch has been evaluated
    status: str = "finished"
    reason: str = ""
    versions: dict = field(default_factory=dict)
    created_at: str = ""
    weights_path: str | None = None
    size_bytes: int | None = None
    promoted_from: str | None = None  # the run a promoted checkpoint came from
    verified_test_acc: float | None = None  # full 10k test set, measured when it was promoted

    @property
    def key(self) -> str:
        """Unique among every trained model the app lists (runs may share a checkpoint's name)."""
        return f"run:{self.name}" if self.kind == "run" else self.name

    @property
    def source(self) -> str:
        """The write-up (000..004) or "own"; "?" for a model that is no longer registered."""
        from ..models import UnknownModelError, model_info
        if self.config.get("spec") is not None:
            return "custom"
        try:
            return model_info(self.model).source
        except UnknownModelError:
            return "?"

    @property
    def has_weights(self) -> bool:
        return self.weights_path is not None and Path(self.weights_path).is_file()

    @property
    def title(self) -> str:
        """The name people read: a write-up's shipped model as "write-up 001 · iteration 1", else the key."""
        from ..models import display_name

        return display_name(self.name) if self.kind == "shipped" else self.key

    def label(self) -> str:
        """A short label for choosers: the title and final test accuracy (or the status)."""
        if self.summary is None:
            return f"{self.title} ({self.status})"
        partial = ", partial" if self.summary.partial else ""
        if not _finite(self.summary.final_test_acc):  # a sweep's trial: validation only
            return f"{self.title} (val {self.summary.final_val_acc:.2f}%{partial})"
        return f"{self.title} ({self.summary.final_test_acc:.2f}%{partial})"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "Record":
        known = {f.name for f in dataclasses.fields(cls)}
        values = {key: value for key, value in values.items() if key in known}
        if "kind" not in values:  # not a record (e.g. a results table beside the checkpoints)
            return cls(name="", kind="", model="", params=None, config={})
        summary = values.get("summary")
        if isinstance(summary, dict):
            summary_fields = {f.name for f in dataclasses.fields(Summary)}
            values["summary"] = Summary(**{k: v for k, v in summary.items() if k in summary_fields})
            for name in ("final_test_acc", "best_test_acc", "final_val_acc", "wall_seconds"):
                if not isinstance(getattr(values["summary"], name), (int, float)):
                    raise TypeError(f"summary.{name} must be a number")
        elif summary is not None:
            raise TypeError("summary must be an object")
        if not isinstance(values.get("history", []), list) or not isinstance(values.get("config", {}), dict):
            raise TypeError("history must be a list and config an object")
        return cls(**values)


def summarize_history(history: list[dict], seed: int | None = None,
                      wall_seconds: float | None = None) -> Summary | None:
    """Final and best figures from per-epoch rows; None when no epoch was evaluated.

    Figures come from the complete epochs; a run stopped inside its first epoch is summarized
    from that partial epoch (and marked partial). Non-finite values (a diverged run) are kept
    out: such rows cannot be final or best. Rows without test figures (a sweep's trials never read
    the test split) are summarized from validation; their test figures are NaN."""
    usable = [row for row in history if _finite(row.get("val_acc"))
              and (_finite(row.get("test_acc")) or "test_acc" not in row)]
    complete = [row for row in usable if not row.get("partial")]
    rows = complete or usable
    if not rows:
        return None
    final = rows[-1]
    tested = [row for row in rows if "test_acc" in row]
    best_test = max(tested, key=lambda row: row["test_acc"]) if tested else {}
    best_val = max(rows, key=lambda row: row["val_acc"])  # the first of equals: the earliest epoch
    seconds = wall_seconds if wall_seconds is not None else sum(row.get("seconds", 0.0) for row in history)
    untested = math.nan
    return Summary(
        epochs=len(complete), final_test_acc=final.get("test_acc", untested),
        final_test_loss=final.get("test_loss", untested), final_val_acc=final["val_acc"],
        best_test_acc=best_test.get("test_acc", untested), best_test_epoch=best_test.get("epoch"),
        best_val_acc=best_val["val_acc"], best_val_epoch=best_val["epoch"],
        test_acc_at_best_val=best_val.get("test_acc", untested),
        wall_seconds=seconds, seed=None if seed is None else int(seed),
        partial=bool(history and history[-1].get("partial")))


def summarize(name: str, kind: str, config: dict, history: list[dict], *, status: str = "finished",
              reason: str = "", weights_path: Path | str | None = None, wall_seconds: float | None = None,
              versions: dict | None = None, created_at: str | None = None,
              final_train_set_acc: float | None = None, promoted_from: str | None = None,
              verified_test_acc: float | None = None) -> Record:
    """The one place a Record is built."""
    from ..models import UnknownModelError, current_name
    from ..models.spec import SpecError, network_parameters

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    if status not in STATUSES:
        raise ValueError(f"status must be one of {list(STATUSES)}, got {status!r}")
    model = current_name(str(config.get("model", "?")))  # a record of an old run: its model's name today
    try:
        params = network_parameters(model, config.get("spec"))
    except (UnknownModelError, SpecError):
        params = None
    summary = summarize_history(history, config.get("seed"), wall_seconds)
    if summary is not None and final_train_set_acc is not None:
        summary.final_train_set_acc = final_train_set_acc
    if summary is not None and verified_test_acc is not None and not _finite(summary.final_test_acc):
        # a sweep's trial, promoted: its final weights' test accuracy is the one measured now
        summary.final_test_acc = summary.best_test_acc = verified_test_acc
    weights = Path(weights_path) if weights_path is not None else None
    present = weights is not None and weights.is_file()
    return Record(
        name=name, kind=kind, model=model, params=params, config=config, history=history,
        summary=summary, status=status, reason=reason, versions=versions or library_versions(),
        created_at=created_at or now_iso(), weights_path=str(weights) if present else None,
        size_bytes=weights.stat().st_size if present else None, promoted_from=promoted_from,
        verified_test_acc=verified_test_acc)


def library_versions() -> dict:
    import platform

    import torch
    import torchvision
    return {"torch": str(torch.__version__), "torchvision": str(torchvision.__version__),
            "python": platform.python_version()}


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def write_json(path: Path, value) -> None:
    """Write JSON atomically (a hidden temp file, then rename): readers never see half a file.
    Strict JSON: NaN or infinity raise ValueError instead of writing invalid JSON."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(json.dumps(value, indent=1, allow_nan=False))
        temporary.replace(path)
    finally:
        if temporary.exists():
            temporary.unlink()


def write_record(path: Path, record: Record) -> None:
    """The record as JSON; weights_path is stored relative to the JSON's folder when inside it."""
    values = record.to_dict()
    if record.weights_path is not None:
        weights = Path(record.weights_path)
        if weights.parent.resolve() == path.parent.resolve():
            values["weights_path"] = weights.name
    write_json(path, json_safe(values))


def read_record(path: Path) -> Record:
    """A record from JSON; RecordError (naming the file) when it is unreadable or malformed."""
    try:
        values = json.loads(Path(path).read_text())
        if not isinstance(values, dict):
            raise TypeError("not a JSON object")
        record = Record.from_dict(values)
    except (OSError, ValueError, TypeError) as error:
        raise RecordError(f"{path}: unreadable record ({type(error).__name__}: {error})") from None
    from ..models import current_name

    record.model = current_name(record.model)  # a checkpoint promoted under a write-up model's old name
    if record.weights_path is not None:
        weights = Path(path).parent / record.weights_path
        record.weights_path = str(weights) if weights.is_file() else None
    return record


def metrics_csv(history: list[dict]) -> str:
    """Per-epoch rows as CSV (the columns of the first row), "" when there are none."""
    import csv
    import io

    if not history:
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(history[0]), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(history)
    return buffer.getvalue()


def json_safe(value):
    """The same structure with NaN / infinity replaced by None (JSON has no such numbers)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def clean_stale_temporaries(folder: Path, older_than_seconds: float = 60.0, depth: int = 1) -> list[Path]:
    """Delete the hidden `.<name>...tmp` files that atomic writes leave behind when a process is
    killed mid-save (in `folder` and, with depth 1, its subfolders). Only files older than
    `older_than_seconds` go: a live writer's temp file exists for milliseconds."""
    import time

    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    now = time.time()
    candidates = list(folder.glob(".*.tmp"))
    if depth > 0:
        candidates += list(folder.glob("*/.*.tmp"))
    for path in candidates:
        try:
            if path.is_file() and now - path.stat().st_mtime > older_than_seconds:
                path.unlink()
                removed.append(path)
        except OSError:
            continue  # gone meanwhile, or not ours to delete
    return removed
