"""Wall seconds per epoch of several training configs, measured side by side in one process.

Each config gets its own model, optimizer and generator; their training steps (augmentation,
memory format, the shared `train_step`) run alternately, one batch each in turn, so whatever
else the machine does hits them alike. An epoch is then `batches_per_epoch x median batch` plus
the epoch-end evaluation that `fit` does (validation + test), timed the same way. Used by
scripts/fast_recipes.py to compare each write-up's recipe with its fast variant.
"""
from __future__ import annotations

import math
import statistics
import time

import torch

from ..data.augment import augment_from_config
from ..data.mnist import MNIST
from ..models.spec import network
from ..training.config import TrainConfig
from ..training.loop import evaluate_split, make_optimizer, prepare, train_step


def epoch_seconds(configs: dict[str, TrainConfig], data: MNIST, batches: int = 20, warmup: int = 3) -> dict:
    """{name: {"batch_ms", "train_seconds", "eval_seconds", "epoch_seconds", "batches_per_epoch"}}
    for each config, timing `batches` batches of each (after `warmup` untimed) alternately."""
    if batches < 1 or warmup < 0:
        raise ValueError(f"batches must be >= 1 and warmup >= 0, got {batches} and {warmup}")
    states = {}
    for name, config in configs.items():
        torch.manual_seed(config.seed)
        model = network(config.model, config.spec)
        if config.channels_last:
            model = model.to(memory_format=torch.channels_last)
        states[name] = (config, model, make_optimizer(model, config), torch.Generator().manual_seed(config.seed))
    durations: dict[str, list[float]] = {name: [] for name in configs}
    train = data.train
    for index in range(warmup + batches):
        for name, (config, model, optimizer, generator) in states.items():
            model.train()
            size = config.batch_size
            start = (index * size) % max(1, len(train) - size)
            started = time.perf_counter()
            images = augment_from_config(train.images[start:start + size], config, generator)
            images = prepare(images, config, torch.device("cpu"))
            loss, _ = train_step(model, optimizer, images, train.labels[start:start + size], config)
            if loss is None:
                raise RuntimeError(f"{name}: the loss became non-finite while timing")
            loss.item()
            if index >= warmup:
                durations[name].append(time.perf_counter() - started)
    result = {}
    for name, (config, model, _, _) in states.items():
        started = time.perf_counter()
        evaluate_split(model, data.validation, config, torch.device("cpu"))
        evaluate_split(model, data.test, config, torch.device("cpu"))
        eval_seconds = time.perf_counter() - started
        per_epoch = math.ceil(len(train.head(config.limit)) / config.batch_size)
        batch = statistics.median(durations[name])
        result[name] = {"batch_ms": batch * 1e3, "batches_per_epoch": per_epoch,
                        "train_seconds": batch * per_epoch, "eval_seconds": eval_seconds,
                        "epoch_seconds": batch * per_epoch + eval_seconds}
    return result


def first_epoch_reaching(history: list[dict], target: float, key: str = "test_acc") -> int | None:
    """The first complete epoch whose `key` is >= target, or None."""
    for row in history:
        if not row.get("partial") and row.get(key) is not None and row[key] >= target:
            return row["epoch"]
    return None
