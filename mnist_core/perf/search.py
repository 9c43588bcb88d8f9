"""One candidate of a validation search, trained and read on the validation split only.

`validation_trial(config, data)` is what every search script runs per candidate and seed: it trains
`config` (or a given network) with the test images out of memory, so a choice made from its
result can never have looked at the test set, and returns the figures a search compares: final
and best validation accuracy, training accuracy, per-epoch rows, parameters, wall time and the
settings this machine actually ran (precision, memory format). The test split is read once,
later, for the chosen candidate only (perf/seeds.py).
"""
from __future__ import annotations

import time

import torch
import torch.nn as nn

from ..data.mnist import MNIST, without_test
from ..models import count_parameters
from ..models.spec import network
from ..training.config import TrainConfig
from ..training.loop import fit


def validation_trial(config: TrainConfig, data: MNIST, model: nn.Module | None = None, callbacks=()) -> dict:
    """Train one candidate (`model`, or the network `config` names) on `data`'s training split and
    return {params, final_val_acc, best_val_acc, best_val_epoch, train_acc, epochs, seconds,
    precision, channels_last, status, rows: [(epoch, val_acc, seconds)]}. The weights are seeded
    from `config.seed`, so a candidate and its seed give the same start on every machine."""
    config = config.replace(evaluate_test=False)
    torch.manual_seed(config.seed)  # the initial weights of a given model too, not only what fit() seeds
    model = model if model is not None else network(config.model, config.spec)
    started = time.perf_counter()
    state = fit(config, without_test(data), model=model, callbacks=callbacks)
    seconds = time.perf_counter() - started
    history = [row for row in state.history if not row.get("partial")]
    best = max(history, key=lambda row: row["val_acc"]) if history else None
    return {"params": count_parameters(model), "status": state.status, "reason": state.reason,
            "final_val_acc": history[-1]["val_acc"] if history else None,
            "best_val_acc": best["val_acc"] if best else None, "best_val_epoch": best["epoch"] if best else None,
            "train_acc": history[-1]["train_acc"] if history else None, "epochs": len(history),
            "seconds": round(seconds, 1), "precision": state.config.precision,
            "channels_last": state.config.channels_last,
            "rows": [(row["epoch"], round(row["val_acc"], 2), round(row["seconds"], 1)) for row in history]}
