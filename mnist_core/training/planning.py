"""Before Start: how long a run will take, from what this machine has measured.

The estimate uses the epochs already recorded for the same model (shipped checkpoints and runs:
their training images/s and their per-epoch evaluation time); without any, it times a few training
steps on random images now. It is an estimate for a machine with nothing else running.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import torch

from .config import TrainConfig

EVALUATED_IMAGES = 15000  # validation (5k) + test (10k) at every epoch end


@dataclass
class Estimate:
    seconds: float
    images_per_s: float
    evaluation_seconds: float  # per epoch
    basis: str  # what the figures come from, for the page


def past_epochs(model: str, records: list) -> list[tuple[float, float]]:
    """[(training images/s, evaluation seconds)] of every complete epoch recorded for `model`.
    `records` are the store's Records (anything with .model, .config and .history): the store sits
    above training, so they are passed in rather than imported."""
    rows = []
    for record in records:
        if record.model != model:
            continue
        batch_size = record.config.get("batch_size") or 0
        for row in record.history:
            rate, seconds = row.get("images_per_s"), row.get("seconds")
            if row.get("partial") or not rate or not seconds:
                continue
            train_seconds = row.get("batches", 0) * batch_size / rate
            rows.append((rate, max(seconds - train_seconds, 0.0)))
    return rows


def measure_steps(config: TrainConfig, steps: int = 3) -> float:
    """Training images/s of `config.model`, timed over a few steps on random images."""
    from ..models.spec import network
    from .loop import make_optimizer, train_step

    model = network(config.model, config.spec)
    optimizer = make_optimizer(model, config)
    size = min(config.batch_size, 512)
    images, labels = torch.randn(size, 1, 28, 28), torch.randint(0, 10, (size,))
    train_step(model, optimizer, images, labels, config)  # warm-up
    started = time.perf_counter()
    for _ in range(steps):
        train_step(model, optimizer, images, labels, config)
    return steps * size / (time.perf_counter() - started)


def estimate_duration(config: TrainConfig, train_size: int, records: list) -> Estimate:
    train_size = min(train_size, config.limit or train_size)
    evaluated = min(EVALUATED_IMAGES, 2 * config.eval_limit) if config.eval_limit else EVALUATED_IMAGES
    past = past_epochs(config.model, records)
    if past:
        rate = statistics.median(rate for rate, _ in past)
        evaluation = statistics.median(seconds for _, seconds in past) * evaluated / EVALUATED_IMAGES
        basis = f"{len(past)} recorded epochs of {config.model} on this machine"
    else:
        rate = measure_steps(config)
        evaluation = evaluated / (3 * rate)  # inference is roughly 3x a training step
        basis = f"3 training steps of {config.model} timed just now"
    seconds = config.epochs * (train_size / rate + evaluation)
    return Estimate(seconds, rate, evaluation, basis)
