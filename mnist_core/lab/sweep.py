"""Sweeps: search an iteration's recipe with Optuna, on the validation split; every trial is a run.

`run_sweep(Sweep(...), data)` asks Optuna for settings, trains each set as an ordinary run (its
config tagged `extra["sweep"]` and `extra["trial"]`, so the runs table, Compare, Evaluate and
promotion see trials like any run) and maximises the best validation accuracy. The test split is
never read: trial configs have `evaluate_test=False` and the trainer is handed the data with an
empty test split. A trial that falls behind is pruned at an epoch end (Optuna's MedianPruner on
per-epoch validation accuracy): its run stops with the reason "pruned at epoch k (val x% below
the median y%)".

Several workers, one study: each runs the same command against one storage (`sweep_storage`).
`trials` is the study's budget: it counts every trial except those a heartbeat failed and retried,
so N workers run N trials in all and none twice (workers sharing a runs folder take turns to claim
the last places; on machines with separate runs folders one more trial can slip in at the very
end). A killed worker's trial stops sending heartbeats: after a grace period another worker marks
it failed and queues a retry with the same settings (Optuna's RetryHeartbeatStaleTrialCallback). A
worker whose budget is spent waits while other workers' trials run, so that a retry always finds
someone to run it. Optuna is imported inside functions, so `import mnist_core` stays fast. Nothing
here prints: the CLI shows each finished trial through `on_trial`.
"""
from __future__ import annotations

import datetime as dt
import math
import statistics
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..data.mnist import MNIST, without_test
from ..models.spec import network_parameters
from ..store.runs import RunNotFoundError, get_run, runs_dir, sanitize_name
from ..training.callbacks import Callback
from ..training.config import ConfigError, TrainConfig
from .launch import train_run
from .mode import refuse_in_demo
from .search_space import STUDY_NAME_LENGTH, Dimension, apply, default_space
from .storage_check import safe_url
from .sweep_results import artifact_store, record_trial
from .sweep_storage import SWEEPS_FOLDER, BudgetLock, default_storage, open_storage

STATES = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running", "WAITING": "waiting"}


class TrialFailed(Exception):
    """A trial's run could not give a validation accuracy (diverged, refused settings)."""


class SweepInterrupted(Exception):
    """The sweep was asked to stop (Ctrl-C) while a trial trained."""


@dataclass
class Sweep:
    """What to search: `base` is the recipe the search starts from (its epochs, limit and seed are
    the sweep's), `space` what varies (None: `default_space(base)`), `trials` the study's budget."""
    base: TrainConfig
    study: str
    trials: int = 20
    space: list[Dimension] | None = None
    storage: str | None = None  # None: default_storage(study), a journal file in the runs folder
    startup_trials: int = 2  # trials that complete before the pruner may stop one
    heartbeat: int = 10  # seconds between a running trial's heartbeats
    max_params: int | None = None  # a trial whose network is larger fails at once (architecture searches)
    prune_after: int = 0  # epochs a trial trains before the pruner may stop it (a one-cycle epoch 1 says little)

    def __post_init__(self) -> None:
        if sanitize_name(self.study) != self.study or len(self.study) > STUDY_NAME_LENGTH:
            raise ConfigError(f"study must be at most {STUDY_NAME_LENGTH} letters, digits, '-', '_' or '.', "
                              f"got {self.study!r}")
        if self.max_params is not None and (isinstance(self.max_params, bool) or not isinstance(self.max_params, int)
                                            or self.max_params < 1):
            raise ConfigError(f"max_params must be a positive integer, got {self.max_params!r}")
        for name, low in (("trials", 1), ("heartbeat", 1), ("startup_trials", 0), ("prune_after", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")
        # max_lr 0: one-cycle's peak is lr, whatever lr the trial draws
        self.base = self.base.replace(evaluate_test=False, max_lr=0.0)

    def fingerprint(self, space: list[Dimension]) -> dict:
        """What every worker of one study must agree on (the budget may grow between commands)."""
        base = self.base
        return {"model": base.model, "recipe": base.recipe, "epochs": base.epochs, "limit": base.limit,
                "seed": base.seed, "startup_trials": self.startup_trials, "max_params": self.max_params,
                "prune_after": self.prune_after or None,
                "space": {dimension.name: dimension.to_dict() for dimension in space}}


def new_study_name(model: str) -> str:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return sanitize_name(f"{model.replace('spec:', '')[:24]}-sweep-{stamp}")


OVER_CAP_PER_TRIAL = 20  # a study gives up once its sampler has drawn this many networks over the cap per trial


def budget(study) -> tuple[int, int, int, int]:
    """(trials that count against the budget, waiting, running, over the parameter cap): every trial
    but those failed by a heartbeat and retried (their retry counts instead) and those whose network
    was over --max-params (refused before training, they cost nothing: the budget is trained trials)."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    retried = {number for trial in trials for number in trial.system_attrs.get("retry_history", [])}
    over_cap = [trial for trial in trials if trial.user_attrs.get("over_cap")]
    counted = [trial for trial in trials if trial.number not in retried and not trial.user_attrs.get("over_cap")]
    return (len(counted), sum(t.state == TrialState.WAITING for t in trials),
            sum(t.state == TrialState.RUNNING for t in trials), len(over_cap))


class PruneBehindTheMedian(Callback):
    """Reports each complete epoch's validation accuracy to the trial and stops the run at an epoch
    end when the pruner says it falls behind (never after the last epoch: nothing would be saved)."""

    def __init__(self, trial) -> None:
        self.trial = trial
        self.reported: list[float] = []
        self.pruned = False

    def on_epoch_end(self, state) -> None:
        row = state.history[-1]
        if row["partial"] or not math.isfinite(row["val_acc"]):
            return
        self.trial.report(row["val_acc"], state.epoch)
        self.reported.append(row["val_acc"])
        if state.epoch < state.config.epochs and self.trial.should_prune():
            self.pruned = True
            state.request_stop(f"pruned at epoch {state.epoch} (val {max(self.reported):.2f}% below the median "
                               f"{median_at(self.trial.study, state.epoch):.2f}%)", status="stopped")


def median_at(study, epoch: int) -> float:
    """The median validation accuracy of the completed trials at `epoch` (what MedianPruner uses)."""
    from optuna.trial import TrialState

    completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    values = [trial.intermediate_values[epoch] for trial in completed if epoch in trial.intermediate_values]
    return statistics.median(values) if values else math.nan


class Objective:
    """One trial: settings from the sampler -> a run in the runs store -> its best validation accuracy."""

    def __init__(self, sweep: Sweep, space: list[Dimension], data: MNIST, lock: BudgetLock | None,
                 stop: threading.Event, directory: Path | None, store=None, log=None) -> None:
        self.sweep, self.space, self.data = sweep, space, data
        self.lock, self.stop, self.directory = lock, stop, directory
        self.store, self.log = store, log or (lambda line: None)  # where trials keep their runs (sweep_results)

    def __call__(self, trial) -> float:
        import optuna

        if self.lock is not None:
            self.lock.release()  # the trial exists: other workers count it from now on
        params = {dimension.name: dimension.suggest(trial) for dimension in self.space}
        extra = {**self.sweep.base.extra, "sweep": self.sweep.study, "trial": trial.number}
        try:
            config = apply(self.sweep.base, params).replace(extra=extra)
            size = network_parameters(config.model, config.spec)
            trial.set_user_attr("network_params", size)
            if self.sweep.max_params is not None and size > self.sweep.max_params:
                trial.set_user_attr("over_cap", True)
                raise ConfigError(f"{size:,} parameters, over the study's cap of {self.sweep.max_params:,}")
        except ConfigError as error:  # a combination the ends alone did not show (e.g. nll with smoothing)
            trial.set_user_attr("reason", str(error))
            raise TrialFailed(str(error)) from None
        name = self.free_name(f"{self.sweep.study}-trial{trial.number}")
        trial.set_user_attr("run", name)
        pruner = PruneBehindTheMedian(trial)
        try:
            run = train_run(config, self.directory, name, self.data, callbacks=[pruner], stop=self.stop,
                            stop_reason="interrupted (Ctrl-C)")
        except ConfigError as error:
            trial.set_user_attr("reason", str(error))
            raise TrialFailed(str(error)) from None
        summary = run.record.summary
        trial.set_user_attr("reason", run.reason)
        if summary is not None:
            trial.set_user_attr("val_acc", summary.best_val_acc)
            trial.set_user_attr("epochs", summary.epochs)
        if self.store is not None and (warning := record_trial(trial, run, self.store)):
            self.log(warning)
        if pruner.pruned:
            raise optuna.TrialPruned(run.reason)
        if self.stop.is_set():
            raise SweepInterrupted(run.reason)
        if run.status != "finished" or summary is None:
            raise TrialFailed(f"run {run.name} {run.status}: {run.reason}")
        return summary.best_val_acc

    def free_name(self, wanted: str) -> str:
        """`wanted`, or wanted-2, -3, ... when a run of that name exists (a study name used before)."""
        for attempt in range(1, 1000):
            name = wanted if attempt == 1 else f"{wanted}-{attempt}"
            try:
                get_run(name, self.directory)
            except RunNotFoundError:
                return name
        raise ConfigError(f"study: too many runs named {wanted}-*; choose another study name")


def run_sweep(sweep: Sweep, data: MNIST, on_trial=None, stop: threading.Event | None = None,
              directory: Path | None = None, log=None) -> dict:
    """Run trials of `sweep.study` until its budget is spent and no trial runs elsewhere; return
    `study_summary`. `on_trial(row)` hears of each trial this worker finishes, `log(line)` of a
    repaired journal or a run that could not be stored with the study; setting `stop` ends the
    current trial between batches (recorded as failed) and the sweep with it."""
    import optuna

    refuse_in_demo("Sweeps")
    stop = stop or threading.Event()
    space = sweep.space if sweep.space is not None else default_space(sweep.base, data)
    url = sweep.storage or default_storage(sweep.study, directory)
    storage, journal, checked = open_storage(url, sweep.heartbeat)
    if checked.note and log is not None:
        log(checked.note)
    study = optuna.create_study(study_name=sweep.study, storage=storage, direction="maximize", load_if_exists=True,
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=sweep.startup_trials,
                                                                   n_warmup_steps=sweep.prune_after))
    check_same_sweep(study, sweep.fingerprint(space), url)
    target = journal.with_name(journal.name + ".budget") if journal is not None else \
        (Path(directory) if directory is not None else runs_dir()) / SWEEPS_FOLDER / f"{sweep.study}.budget"
    lock = BudgetLock(target)
    objective = Objective(sweep, space, without_test(data), lock, stop, directory, artifact_store(checked), log)
    callbacks = [lambda study, trial: on_trial(trial_row(trial))] if on_trial is not None else []
    interrupted = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # heartbeats are experimental
        while not stop.is_set():
            lock.acquire()
            try:
                optuna.storages.fail_stale_trials(study)  # a dead worker's trial -> failed, and queued again
                counted, waiting, running, over_cap = budget(study)
                if over_cap >= OVER_CAP_PER_TRIAL * sweep.trials and log is not None and not running:
                    log(f"study {sweep.study}: {over_cap} sampled networks were over --max-params "
                        f"{sweep.max_params:,}; stopping (narrow the widths in --space)")
                if (counted >= sweep.trials or over_cap >= OVER_CAP_PER_TRIAL * sweep.trials) and not waiting:
                    if not running:
                        break
                    lock.release()
                    stop.wait(sweep.heartbeat)  # trials run elsewhere: their worker may die and need a retry
                    continue
                study.optimize(objective, n_trials=1, catch=(TrialFailed,), callbacks=callbacks, gc_after_trial=False)
            except SweepInterrupted:
                interrupted = True
            finally:
                lock.release()
    result = study_summary(study, url)
    result["interrupted"] = interrupted or stop.is_set()
    return result


def check_same_sweep(study, fingerprint: dict, storage: str) -> None:
    """The first worker writes what the study searches; every later one must search the same."""
    known = study.user_attrs.get("sweep")
    if known is None:
        study.set_user_attr("sweep", fingerprint)
        return
    for key in fingerprint:
        if known.get(key) != fingerprint[key]:
            raise ConfigError(f"study {study.study_name!r} in {storage} searches {key} {known.get(key)!r}, this "
                              f"command {fingerprint[key]!r}; every worker of a study runs the same sweep "
                              f"(or choose another --study)")


def trial_row(trial) -> dict:
    """A trial as `sweep --json` lists it (val_acc in percent: its run's best validation accuracy)."""
    state = STATES.get(trial.state.name, trial.state.name.lower())
    value = trial.user_attrs.get("val_acc", trial.value)
    history = trial.system_attrs.get("retry_history", [])
    return {"number": trial.number, "state": state, "params": trial.params, "val_acc": value,
            "epochs": trial.user_attrs.get("epochs", len(trial.intermediate_values)),
            "run": trial.user_attrs.get("run"), "reason": trial.user_attrs.get("reason", ""),
            "retry_of": history[-1] if history else None,
            "network_params": trial.user_attrs.get("network_params")}


def study_summary(study, storage: str | None = None) -> dict:
    """Every trial of the study (this worker's and the others'), and the best completed one."""
    import optuna

    rows = [trial_row(trial) for trial in study.get_trials(deepcopy=False)]
    retries = {row["retry_of"]: row["number"] for row in rows if row["retry_of"] is not None}
    for row in rows:
        if row["number"] in retries and row["state"] == "failed":
            row["reason"] = (f"its worker stopped sending heartbeats (killed?); retried as trial "
                             f"{retries[row['number']]}")
    complete = [row for row in rows if row["state"] == "complete" and row["val_acc"] is not None]
    best = max(complete, key=lambda row: row["val_acc"]) if complete else None
    return {"study": study.study_name, "storage": safe_url(storage) if storage else storage,
            "optuna": optuna.__version__,
            "objective": "best validation accuracy (%); the test split is never read",
            "settings": study.user_attrs.get("sweep"), "trials": rows,
            "best": None if best is None else {key: best[key] for key in ("number", "params", "val_acc", "run")}}
