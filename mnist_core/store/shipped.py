"""The checkpoints folder: checkpoints/<stem>.pt (weights, final epoch) + <stem>.json (its Record)
for every registered model (kind "shipped", written by `lab.promotion.publish`) and every promoted
run (kind "promoted"). The JSON is what the README table and the app's pages read; it never needs
torch.
"""
from __future__ import annotations

import os
from pathlib import Path

from .records import Record, RecordError, read_record

CHECKPOINT_DIR = Path(__file__).resolve().parents[2] / "checkpoints"  # the shipped ones, in the repo


def checkpoints_dir() -> Path:
    """Where the app and CLI look for checkpoints: $MNIST_CHECKPOINTS, default checkpoints/."""
    return Path(os.environ.get("MNIST_CHECKPOINTS", CHECKPOINT_DIR)).expanduser()


def list_checkpoints(directory: Path | None = None) -> tuple[list[Record], list[str]]:
    """(records, problems): every <stem>.json with its .pt beside it, sorted by name. A JSON that
    cannot be read or whose weights are missing is skipped and described in `problems`."""
    records, problems = [], []
    for path in sorted(Path(directory or checkpoints_dir()).glob("*.json")):
        try:
            record = read_record(path)
        except RecordError as error:
            problems.append(f"{error} (skipped)")
            continue
        if not record.kind:
            continue  # a result table (e.g. frontier_seeds.json), not a checkpoint's record
        if record.weights_path is None:
            problems.append(f"{path.name}: its weights file {path.stem}.pt is missing (skipped)")
            continue
        if record.summary is None:
            problems.append(f"{path.name}: no evaluated epoch in its history (skipped)")
            continue
        records.append(record)
    return records, problems


def shipped_models(directory: Path | None = None) -> dict:
    """name -> model for every shipped iteration that loads (the uncertainty rule's jury)."""
    from .checkpoint import CheckpointError, load_model

    models = {}
    for record in list_checkpoints(directory)[0]:
        if record.kind == "shipped":
            try:
                models[record.name] = load_model(record.weights_path)[0]
            except CheckpointError:
                continue
    return models
