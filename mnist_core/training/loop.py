"""fit(): the training loop. It fires callback events and never prints.

Data stay resident as tensors; each epoch is a `randperm` over them, each batch is augmented in
one call (augment.py). Validation and test are evaluated at every epoch end (test unless
`evaluate_test` is off, as in sweeps: then its rows have no test figures); model selection and
early stopping read the *validation* split only. A stop request is honoured between batches and
leaves a consistent history (a partial epoch is evaluated and marked `partial`). A non-finite
loss ends the run as `failed`. Same seed on the CPU -> identical history.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field

import torch
import torch.nn as nn

from ..analysis.evaluate import loss_and_accuracy, predict_logits
from ..data.augment import augment_from_config
from ..data.mnist import MNIST, Split, load_mnist
from ..models.spec import network
from .callbacks import Callback, EarlyStopAtAccuracy
from .config import ConfigError, TrainConfig
from .devices import pick_device
from .machine import resolve as resolve_settings
from .step import compute_loss, train_step  # noqa: F401 - the loop's public step


@dataclass
class TrainState:
    """Everything a callback may read while the run goes on, and the result when it ends."""
    config: TrainConfig
    model: nn.Module
    device: torch.device
    train_size: int
    batches_per_epoch: int
    epoch: int = 0  # 1-based, the epoch in progress
    batch: int = 0  # 1-based, within the epoch
    step: int = 0  # batches done in the whole run
    batch_loss: float = float("nan")
    lr: float = 0.0
    history: list[dict] = field(default_factory=list)
    status: str = "running"  # running / finished / stopped / failed
    reason: str = ""
    stop_requested: bool = False
    best_epoch: int | None = None  # by validation accuracy
    best_val_acc: float = -1.0
    best_state: dict | None = None
    started_at: float = field(default_factory=time.time)
    wall_seconds: float = 0.0

    def request_stop(self, reason: str, status: str = "stopped") -> None:
        if not self.stop_requested:
            self.stop_requested, self.reason, self._stop_status = True, reason, status

    @property
    def total_batches(self) -> int:
        return self.batches_per_epoch * self.config.epochs


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                               nesterov=config.nesterov and config.momentum > 0,
                               weight_decay=config.weight_decay)
    optimizer_class = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    return optimizer_class(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


def planned_batches(config: TrainConfig, train_size: int) -> int:
    """Batches per epoch for a training split of `train_size` images (after `limit`)."""
    return math.ceil(min(train_size, config.limit or train_size) / config.batch_size)


def check_schedule(config: TrainConfig, batches_per_epoch: int) -> None:
    """ConfigError when the schedule cannot run with this many batches per epoch, so that a run
    is refused before it starts rather than failing at its first step."""
    total = config.epochs * batches_per_epoch
    if config.scheduler == "onecycle" and (config.pct_start * total <= 1 or (1 - config.pct_start) * total <= 1):
        raise ConfigError(f"pct_start: onecycle needs more than one batch in each phase; {total} batches "
                          f"in all with pct_start {config.pct_start} (use more images or epochs, or a "
                          f"smaller batch)")


def make_scheduler(optimizer, config: TrainConfig, batches_per_epoch: int):
    """(scheduler, per_batch): per-batch schedulers step every batch, StepLR every epoch."""
    check_schedule(config, batches_per_epoch)
    total = config.epochs * batches_per_epoch
    if config.scheduler == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, config.step_size, config.gamma), False
    if config.scheduler == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=config.lr, total_steps=total,
            pct_start=config.pct_start), True
    if config.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total), True
    return None, False


def evaluate_split(model: nn.Module, split: Split, config: TrainConfig, device) -> tuple[float, float]:
    """(loss, accuracy %) on a split, or NaNs for an empty one."""
    split = split.head(config.eval_limit)
    logits = predict_logits(model, prepare(split.images, config, device), config.eval_batch_size, device)
    loss, accuracy = loss_and_accuracy(logits, split.labels)
    return loss, accuracy * 100.0


def prepare(images: torch.Tensor, config: TrainConfig, device) -> torch.Tensor:
    images = images.to(device)
    return images.contiguous(memory_format=torch.channels_last) if config.channels_last else images


def fit(config: TrainConfig, data: MNIST | None = None, model: nn.Module | None = None,
        callbacks: list[Callback] | tuple = ()) -> TrainState:
    """Train `config.model` (or the given model) and return the final TrainState."""
    config = resolve_settings(config)  # precision "auto" → what this machine runs fastest
    torch.manual_seed(config.seed)  # weights init and dropout
    generator = torch.Generator().manual_seed(config.seed)  # shuffling and augmentation
    data = data or load_mnist(validation_size=config.validation_size)
    train = data.train.head(config.limit)
    device = pick_device(config.device)
    model = (model or network(config.model, config.spec)).to(device)
    if config.channels_last:
        model = model.to(memory_format=torch.channels_last)
    batches = planned_batches(config, len(data.train))
    state = TrainState(config, model, device, len(train), batches)
    callbacks = list(callbacks)
    if config.target_accuracy is not None:
        callbacks.append(EarlyStopAtAccuracy(config.target_accuracy))
    optimizer = make_optimizer(model, config)
    scheduler, per_batch = make_scheduler(optimizer, config, batches)
    fire(callbacks, "on_fit_start", state)
    started = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        state.epoch, state.batch = epoch, 0
        fire(callbacks, "on_epoch_start", state)
        run_epoch(state, train, data, optimizer, scheduler if per_batch else None, generator, callbacks)
        if state.status == "failed":
            break
        if scheduler is not None and not per_batch:
            scheduler.step()
        fire(callbacks, "on_epoch_end", state)
        if state.stop_requested:
            break
    if state.status == "running":
        state.status = getattr(state, "_stop_status", "finished") if state.stop_requested else "finished"
        state.reason = state.reason or f"completed {len(state.history)} epochs"
    state.wall_seconds = time.perf_counter() - started
    fire(callbacks, "on_fit_end", state)
    return state


def lr_schedule(config: TrainConfig, batches_per_epoch: int, points: int = 200) -> list[dict]:
    """The learning rate the run will use, sampled at ~`points` steps: [{step, epoch, lr}].

    Simulated with the same optimizer and scheduler classes on a single dummy parameter, so the
    Train page can draw the schedule before Start."""
    parameter = nn.Parameter(torch.zeros(1))
    holder = nn.Module()
    holder.weight = parameter
    optimizer = make_optimizer(holder, config)
    scheduler, per_batch = make_scheduler(optimizer, config, batches_per_epoch)
    total = config.epochs * batches_per_epoch
    every = max(1, total // points)
    rows = []
    for step in range(total):
        if step % every == 0 or step == total - 1:
            rows.append({"step": step + 1, "epoch": step / batches_per_epoch,
                         "lr": optimizer.param_groups[0]["lr"]})
        optimizer.step()  # no gradient: a no-op that keeps the scheduler's order check quiet
        if scheduler is not None and (per_batch or (step + 1) % batches_per_epoch == 0):
            scheduler.step()
    return rows


def run_epoch(state: TrainState, train: Split, data: MNIST, optimizer, batch_scheduler, generator,
              callbacks) -> None:
    config, model, device = state.config, state.model, state.device
    model.train()
    order = torch.randperm(len(train), generator=generator)
    loss_sum, correct, seen = 0.0, 0, 0
    state.lr = optimizer.param_groups[0]["lr"]
    epoch_started = time.perf_counter()
    for batch in range(state.batches_per_epoch):
        state.batch = batch + 1
        fire(callbacks, "on_batch_start", state)
        index = order[batch * config.batch_size:(batch + 1) * config.batch_size]
        images = augment_from_config(train.images[index], config, generator)
        images, labels = prepare(images, config, device), train.labels[index].to(device)
        loss, output = train_step(model, optimizer, images, labels, config)
        if loss is None:
            state.status = "failed"
            state.reason = f"loss became {output} at epoch {state.epoch}, batch {state.batch}"
            return
        if batch_scheduler is not None:
            batch_scheduler.step()
        state.step += 1
        state.batch_loss = loss.item()
        state.lr = optimizer.param_groups[0]["lr"]
        loss_sum += state.batch_loss * len(labels)
        correct += (output.argmax(1) == labels).sum().item()
        seen += len(labels)
        fire(callbacks, "on_batch_end", state)
        if state.stop_requested:
            break
    train_seconds = time.perf_counter() - epoch_started
    record_epoch(state, data, loss_sum, correct, seen, train_seconds, epoch_started)


def record_epoch(state: TrainState, data: MNIST, loss_sum, correct, seen, train_seconds, epoch_started) -> None:
    if seen == 0:
        return
    config, model, device = state.config, state.model, state.device
    val_loss, val_acc = evaluate_split(model, data.validation, config, device)
    tested = {}
    if config.evaluate_test:
        test_loss, test_acc = evaluate_split(model, data.test, config, device)
        tested = {"test_loss": test_loss, "test_acc": test_acc}
    partial = state.batch < state.batches_per_epoch
    state.history.append({
        "epoch": state.epoch, "partial": partial, "batches": state.batch,
        "batches_per_epoch": state.batches_per_epoch,
        "train_loss": loss_sum / seen, "train_acc": 100.0 * correct / seen,
        "val_loss": val_loss, "val_acc": val_acc, **tested,
        "lr": state.lr, "seconds": time.perf_counter() - epoch_started,
        "images_per_s": seen / max(train_seconds, 1e-9),
    })
    if not partial and val_acc == val_acc and val_acc > state.best_val_acc:
        state.best_val_acc, state.best_epoch = val_acc, state.epoch
        state.best_state = copy.deepcopy({k: v.detach().cpu() for k, v in model.state_dict().items()})


def fire(callbacks, event: str, state: TrainState) -> None:
    for callback in callbacks:
        getattr(callback, event)(state)
