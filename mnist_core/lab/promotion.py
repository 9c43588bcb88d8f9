"""Promotion: a finished run's weights and record copied into checkpoints/ (kind "promoted"), after
its weights are loaded and evaluated on the 10,000 test images; un-promotion removes only what was
promoted (an existing checkpoint is never overwritten). `publish` trains a registered model with its
recipe as an ordinary run, through the same launch path as any run, and writes it into checkpoints/
as a shipped checkpoint (how `pretrain` and the seed tables make theirs).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..data.mnist import MNIST, Split
from ..store.checkpoint import CheckpointError, copy_checkpoint, load_model
from ..store.records import Record, RecordError, clean_stale_temporaries, read_record, summarize, write_record
from ..store.runs import Run, RunError, get_run, sanitize_name, usable_record
from ..store.shipped import CHECKPOINT_DIR, checkpoints_dir, list_checkpoints
from ..training.callbacks import Callback
from .launch import train_run
from .mode import refuse_in_demo


class PromotionError(RunError):
    """A run cannot be promoted (or a checkpoint un-promoted); the message says why."""


@dataclass
class PromotionPlan:
    """What promoting a run would do, for the confirmation: its measured test accuracy beside the
    shipped checkpoint of the same model."""
    run: str
    stem: str
    model: str
    test_acc: float  # percent, full 10k test set, measured now from the run's weights
    shipped_stem: str | None
    shipped_test_acc: float | None


def _check_promotable(name: str, stem: str | None, checkpoints: Path, directory: Path | None) -> tuple[Run, str]:
    run = get_run(name, directory)
    if run.status != "finished":
        raise PromotionError(f"only finished runs can be promoted; {name!r} is {run.status}: {run.reason}")
    if not run.has_weights:
        raise PromotionError(f"run {name!r} has no weights to promote")
    why_not = usable_record(run)[1]
    if why_not is not None:  # promoted, it would be a checkpoint no page lists
        raise PromotionError(f"run {name!r} cannot be promoted: {why_not}")
    try:
        stem = sanitize_name(stem or name)
    except ValueError as error:
        raise PromotionError(str(error)) from None
    taken = [path.name for path in (checkpoints / f"{stem}.pt", checkpoints / f"{stem}.json") if path.exists()]
    if taken:
        raise PromotionError(f"{', '.join(taken)} already exist in {checkpoints}; checkpoints are never "
                             f"overwritten (choose another name)")
    return run, stem


def _verified_accuracy(run: Run, data) -> float:
    """The run's test accuracy, measured now. `data`: the test Split, or an MNIST (its test split);
    None reads the test files alone."""
    from ..analysis.evaluate import evaluate
    from ..data.mnist import load_test

    try:
        model, checkpoint = load_model(run.weights_path)
    except CheckpointError as error:
        raise PromotionError(f"run {run.name!r}: its weights cannot be loaded: {error}") from None
    if checkpoint.model_name != run.config.get("model"):
        raise PromotionError(f"run {run.name!r}: its weights are for {checkpoint.model_name!r}, "
                             f"its config says {run.config.get('model')!r}")
    test = load_test() if data is None else getattr(data, "test", data)
    accuracy = 100.0 * evaluate(model, test).accuracy
    if accuracy != accuracy:
        raise PromotionError(f"run {run.name!r}: its weights give no finite test accuracy")
    return accuracy


def plan_promotion(name: str, stem: str | None = None, checkpoints: Path | None = None,
                   directory: Path | None = None, data=None) -> PromotionPlan:
    refuse_in_demo("Promoting runs to checkpoints")
    checkpoints = Path(checkpoints or checkpoints_dir())
    run, stem = _check_promotable(name, stem, checkpoints, directory)
    accuracy = _verified_accuracy(run, data)
    shipped = next((r for r in list_checkpoints(checkpoints)[0]
                    if r.kind == "shipped" and r.model == run.config.get("model")), None)
    return PromotionPlan(name, stem, run.config.get("model", "?"), accuracy,
                         shipped.name if shipped else None,
                         shipped.summary.final_test_acc if shipped and shipped.summary else None)


def promote(name: str, stem: str | None = None, checkpoints: Path | None = None,
            directory: Path | None = None, data=None) -> Record:
    """Copy a finished run's weights and record into checkpoints/ as <stem>.pt/.json (kind
    "promoted"). The weights are loaded and evaluated first; nothing is ever overwritten."""
    refuse_in_demo("Promoting runs to checkpoints")
    checkpoints = Path(checkpoints or checkpoints_dir())
    run, stem = _check_promotable(name, stem, checkpoints, directory)
    accuracy = _verified_accuracy(run, data)
    target = checkpoints / f"{stem}.pt"
    clean_stale_temporaries(checkpoints, depth=0)
    try:
        copy_checkpoint(run.weights_path, target, overwrite=False)
    except FileExistsError:
        raise PromotionError(f"{target} appeared meanwhile; nothing was overwritten") from None
    base = run.record
    record = summarize(stem, "promoted", run.config, base.history, status=run.status, reason=run.reason,
                       weights_path=target, wall_seconds=base.summary.wall_seconds if base.summary else None,
                       created_at=base.created_at, promoted_from=run.name, verified_test_acc=accuracy)
    try:
        write_record(checkpoints / f"{stem}.json", record)
    except Exception:
        target.unlink(missing_ok=True)
        raise
    return record


def unpromote(stem: str, checkpoints: Path | None = None) -> None:
    """Remove a promoted checkpoint (its .pt and .json); shipped checkpoints are refused."""
    refuse_in_demo("Un-promoting checkpoints")
    checkpoints = Path(checkpoints or checkpoints_dir())
    path = checkpoints / f"{stem}.json"
    try:
        record = read_record(path)
    except RecordError:
        raise PromotionError(f"no promoted checkpoint named {stem!r} in {checkpoints}") from None
    if record.kind != "promoted" or sanitize_name(stem) != stem:
        raise PromotionError(f"{stem!r} is a {record.kind or 'non-checkpoint'} file, not a promoted run; "
                             f"only what was promoted is removed")
    (checkpoints / f"{stem}.pt").unlink(missing_ok=True)
    path.unlink()


def train_set_accuracy(model, data: MNIST) -> float:
    """Accuracy (%) on all 60k training images: the measurement write-up 000 reported."""
    from ..analysis.evaluate import evaluate

    all_train = Split(torch.cat([data.train.images, data.validation.images]),
                      torch.cat([data.train.labels, data.validation.labels]))
    return 100.0 * evaluate(model, all_train).accuracy


def publish(name: str, out_dir: Path = CHECKPOINT_DIR, data: MNIST | None = None,
            callbacks: list[Callback] | tuple = (), seed: int | None = None, file_stem: str | None = None,
            directory: Path | None = None, **overrides) -> Record:
    """Train `name` with its recipe as an ordinary run (kept in the runs folder, `directory`), then
    write <stem>.pt and <stem>.json into `out_dir` (kind "shipped"); returns the Record. A run that
    does not finish raises RunError and writes nothing into `out_dir`."""
    from ..data.mnist import load_mnist
    from ..training.recipes import default_config

    config = default_config(name, seed=seed, **overrides)
    data = data or load_mnist(validation_size=config.validation_size)
    run = train_run(config, directory, data=data, callbacks=callbacks)
    if run.status != "finished" or not run.has_weights:
        raise RunError(f"training {name} did not finish ({run.status}: {run.reason}); run {run.name} keeps "
                       f"what it recorded")
    model, _ = load_model(run.weights_path)
    stem = file_stem or name
    weights = copy_checkpoint(run.weights_path, Path(out_dir) / f"{stem}.pt")
    record = summarize(stem, "shipped", run.config, run.epochs(), status=run.status, reason=run.reason,
                       weights_path=weights, wall_seconds=run.wall_seconds,
                       final_train_set_acc=train_set_accuracy(model, data))
    write_record(Path(out_dir) / f"{stem}.json", record)
    return record
