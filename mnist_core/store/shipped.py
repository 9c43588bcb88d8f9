"""The shipped checkpoints: train each registered model with its write-up's recipe and write
checkpoints/<model>.pt (weights, final epoch) + checkpoints/<model>.json (its Record).

The JSON is what the README table and the app's pages read; it never needs torch. Promoted runs
(runs.promote) live in the same folder with kind "promoted".
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import torch

from ..analysis.evaluate import evaluate
from ..data.mnist import MNIST, Split, load_mnist
from ..training.callbacks import Callback
from ..training.loop import fit
from ..training.recipes import default_config
from .checkpoint import save_checkpoint
from .records import Record, RecordError, read_record, summarize, write_record

CHECKPOINT_DIR = Path(__file__).resolve().parents[2] / "checkpoints"  # the shipped ones, in the repo


def checkpoints_dir() -> Path:
    """Where the app and CLI look for checkpoints: $MNIST_CHECKPOINTS, default checkpoints/."""
    return Path(os.environ.get("MNIST_CHECKPOINTS", CHECKPOINT_DIR)).expanduser()


def train_set_accuracy(model, data: MNIST) -> float:
    """Accuracy (%) on all 60k training images: the measurement write-up 000 reported."""
    all_train = Split(torch.cat([data.train.images, data.validation.images]),
                      torch.cat([data.train.labels, data.validation.labels]))
    return 100.0 * evaluate(model, all_train).accuracy


def publish(name: str, out_dir: Path = CHECKPOINT_DIR, data: MNIST | None = None,
            callbacks: list[Callback] | tuple = (), seed: int | None = None,
            file_stem: str | None = None, **overrides) -> Record:
    """Train `name` with its recipe and write <stem>.pt and <stem>.json; returns the Record."""
    config = default_config(name, seed=seed, **overrides)
    data = data or load_mnist(validation_size=config.validation_size)
    started = time.perf_counter()
    state = fit(config, data, callbacks=callbacks)
    seconds = time.perf_counter() - started
    if state.status == "failed" or not state.history:
        raise RuntimeError(f"training {name} failed: {state.reason}")
    stem = file_stem or name
    weights = save_checkpoint(out_dir / f"{stem}.pt", state.model, name, config.to_dict(), state.history,
                              {"status": state.status, "final_test_acc": state.history[-1]["test_acc"]})
    record = summarize(stem, "shipped", config.to_dict(), state.history, status=state.status,
                       reason=state.reason, weights_path=weights, wall_seconds=seconds,
                       final_train_set_acc=train_set_accuracy(state.model, data))
    write_record(out_dir / f"{stem}.json", record)
    return record


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
