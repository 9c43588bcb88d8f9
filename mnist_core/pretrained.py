"""The shipped checkpoints: train each registered model with its write-up's recipe and write
checkpoints/<model>.pt (weights, final epoch) + checkpoints/<model>.json (history and summary).

The JSON is what the README table and the app's Compare page read; it never needs torch.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from .callbacks import Callback
from .checkpoint import library_versions, save_checkpoint
from .config import TrainConfig
from .data import MNIST, Split, load_mnist
from .evaluate import evaluate
from .models import model_info
from .recipes import default_config
from .runs import write_json
from .train import fit

CHECKPOINT_DIR = Path(__file__).resolve().parent.parent / "checkpoints"


def summarize(state, config: TrainConfig, data: MNIST, seconds: float) -> dict:
    """Final / best figures from a finished run, plus an accuracy on the full 60k training set
    (the measurement write-up 000 reported)."""
    complete = [row for row in state.history if not row["partial"]]
    final = complete[-1]
    best_test = max(complete, key=lambda row: row["test_acc"])
    best_val = next(row for row in complete if row["epoch"] == state.best_epoch)
    all_train = Split(torch.cat([data.train.images, data.validation.images]),
                      torch.cat([data.train.labels, data.validation.labels]))
    train_set = evaluate(state.model, all_train)
    return {
        "status": state.status, "reason": state.reason, "epochs": len(complete),
        "final_test_acc": final["test_acc"], "final_test_loss": final["test_loss"],
        "final_val_acc": final["val_acc"], "final_train_set_acc": 100.0 * train_set.accuracy,
        "best_test_acc": best_test["test_acc"], "best_test_epoch": best_test["epoch"],
        "best_val_epoch": best_val["epoch"], "best_val_acc": best_val["val_acc"],
        "test_acc_at_best_val": best_val["test_acc"],
        "wall_seconds": seconds, "seed": config.seed,
    }


def publish(name: str, out_dir: Path = CHECKPOINT_DIR, data: MNIST | None = None,
            callbacks: list[Callback] | tuple = (), seed: int | None = None,
            file_stem: str | None = None, **overrides) -> dict:
    """Train `name` with its recipe and write <stem>.pt and <stem>.json; returns the JSON dict."""
    config = default_config(name, seed=seed, **overrides)
    data = data or load_mnist(validation_size=config.validation_size)
    started = time.perf_counter()
    state = fit(config, data, callbacks=callbacks)
    seconds = time.perf_counter() - started
    if state.status == "failed" or not state.history:
        raise RuntimeError(f"training {name} failed: {state.reason}")
    info = model_info(name)
    summary = summarize(state, config, data, seconds)
    stem = file_stem or name
    weights = save_checkpoint(out_dir / f"{stem}.pt", state.model, name, config.to_dict(),
                              state.history, summary)
    record = {"model": name, **info.to_dict(), "size_bytes": weights.stat().st_size,
              "config": config.to_dict(), "summary": summary, "history": state.history,
              "versions": library_versions(), "device": str(state.device)}
    record.pop("name")
    write_json(out_dir / f"{stem}.json", record)
    return record


def read_records(directory: Path = CHECKPOINT_DIR) -> list[dict]:
    """Every <model>.json in the directory that has a .pt beside it, sorted by name."""
    records = []
    for path in sorted(directory.glob("*.json")):
        record = json.loads(path.read_text())
        record["stem"] = path.stem
        if (directory / f"{path.stem}.pt").exists():
            records.append(record)
    return records
