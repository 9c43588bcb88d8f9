"""Sweeps: search an iteration's recipe with Optuna, on the validation split; every trial is a run.

`run_sweep(Sweep(...), data)` asks Optuna for settings, trains each set as an ordinary run of the
runs store (its config tagged `extra["study"]` and `extra["trial"]`, so the runs table, Compare,
Evaluate and promotion see trials like any run) and maximises the best validation accuracy. The
test split is never read: trial configs have `evaluate_test=False` and the trainer is handed the
data with an empty test split. A trial that falls behind is pruned at an epoch end (Optuna's
MedianPruner on per-epoch validation accuracy): its run stops with the reason "pruned at epoch k
(val x% below the median y%)".

Several workers, one study: each runs the same command against one storage, a journal file (one
machine, or a shared disk) or a database URL (across machines). `trials` is the study's budget: it
counts every trial except those a heartbeat failed and retried, so N workers run N trials in all and
none twice (workers sharing a runs folder take turns to claim the last places; on machines with
separate runs folders one more trial can slip in at the very end). A killed worker's trial stops
sending heartbeats: after a grace period another worker marks it failed and queues a retry with
the same settings (Optuna's RetryHeartbeatStaleTrialCallback, which replaced the deprecated
RetryFailedTrialCallback in 4.9). A worker whose budget is spent waits while other workers' trials
run, so that a retry always finds someone to run it.

The app starts a sweep with `start_sweep`: the CLI's `sweep` verb in a child process (its output in
<runs>/.sweeps/<study>.log), holding the server's one place for training (runs.occupy), so a run,
the queue and a sweep never train at once. Demo mode refuses sweeps, here and in `run_sweep`.

Optuna 5.1's JournalStorage has no heartbeat (only RDBStorage does; optuna/optuna#6615), so
`_heartbeat_journal_storage` adds one: a running trial's last beat is a trial system attribute.
Optuna is imported inside functions, so `import mnist_core` stays fast. Nothing here prints: the
CLI shows each finished trial through `on_trial`.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import math
import signal
import statistics
import subprocess
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..data.mnist import MNIST
from ..training.callbacks import Callback
from ..training.config import ConfigError, TrainConfig
from ..training.recipes import default_config
from .mode import refuse_in_demo
from .runs import RunNotFoundError, check_trainable, child_env, get_run, occupy, runs_dir, sanitize_name, train_run

SWEEPS_FOLDER = ".sweeps"  # inside the runs folder; hidden, so list_runs never takes it for a run
HEARTBEAT_ATTR = "mnist_heartbeat"  # journal storages: a running trial's last beat (Unix time)
GRACE_BEATS = 3  # a trial is stale after this many heartbeat intervals without a beat
MAX_RETRIES = 2  # a trial whose worker died is run again at most this often
STUDY_NAME_LENGTH = 48  # run names are "<study>-trial<number>", and run names stop at 64 characters
# What a sweep holds fixed: what is trained, for how long, on which images, and how it is recorded.
FIXED = ("model", "recipe", "epochs", "seed", "limit", "eval_limit", "validation_size", "evaluate_test",
         "eval_batch_size", "device", "channels_last", "precision", "log_every_batches", "extra", "spec",
         "target_accuracy", "max_lr")
DEFAULTS = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
SEARCHABLE = tuple(name for name in DEFAULTS if name not in FIXED)
STATES = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running", "WAITING": "waiting"}


class TrialFailed(Exception):
    """A trial's run could not give a validation accuracy (diverged, refused settings)."""


class SweepInterrupted(Exception):
    """The sweep was asked to stop (Ctrl-C) while a trial trained."""


@dataclass(frozen=True)
class Dimension:
    """One setting the search varies: a range (low..high, optionally log-uniform) or choices."""
    name: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple | None = None

    def suggest(self, trial):
        if self.choices is not None:
            return trial.suggest_categorical(self.name, list(self.choices))
        if isinstance(DEFAULTS[self.name], int):
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.name, self.low, self.high, log=self.log)

    def values(self) -> list:
        """The values whose validity stands for the whole dimension: its ends or its choices."""
        return list(self.choices) if self.choices is not None else [self.low, self.high]

    def to_dict(self) -> dict:
        if self.choices is not None:
            return {"choices": list(self.choices)}
        return {"low": self.low, "high": self.high, "log": self.log}


SPACE_EXAMPLE = '{"lr": {"low": 0.01, "high": 0.3, "log": true}, "batch_size": {"choices": [64, 128]}}'


def parse_space(values, base: TrainConfig, data: MNIST | None = None) -> list[Dimension]:
    """Dimensions from a space's JSON object; ConfigError naming the setting when one is unknown,
    held fixed, malformed, or has an end (or a choice) that `base` cannot train with."""
    if not isinstance(values, dict) or not values:
        raise ConfigError(f"space: a JSON object of settings to vary, e.g. {SPACE_EXAMPLE}")
    space = [_dimension(name, bounds) for name, bounds in values.items()]
    for dimension in space:
        for value in dimension.values():
            try:
                check_trainable(base.replace(**{dimension.name: value}), data)
            except ConfigError as error:
                raise ConfigError(f"space: {dimension.name} = {value!r} cannot train: {error}") from None
    return space


def _dimension(name: str, bounds) -> Dimension:
    if name not in SEARCHABLE:
        held = " (a sweep holds it fixed)" if name in FIXED else ""
        raise ConfigError(f"space: {name!r} cannot be searched{held}; searchable settings: {', '.join(SEARCHABLE)}")
    if isinstance(bounds, dict) and set(bounds) == {"choices"}:
        choices = bounds["choices"]
        scalars = isinstance(choices, list) and all(isinstance(c, (bool, int, float, str)) for c in choices)
        if not choices or not scalars:
            raise ConfigError(f"space: {name}.choices must be a non-empty list of numbers, strings or booleans")
        return Dimension(name, choices=tuple(choices))
    if not isinstance(bounds, dict) or not {"low", "high"} <= set(bounds) <= {"low", "high", "log"}:
        raise ConfigError(f"space: {name} must be {{\"low\": L, \"high\": H}} (optionally \"log\": true) or "
                          f"{{\"choices\": [...]}}, got {bounds!r}")
    if not isinstance(DEFAULTS[name], (int, float)) or isinstance(DEFAULTS[name], bool):
        raise ConfigError(f"space: {name} is not a number; give {{\"choices\": [...]}}")
    low, high, log = bounds["low"], bounds["high"], bounds.get("log", False)
    whole = isinstance(DEFAULTS[name], int)
    for end in (low, high):
        if isinstance(end, bool) or not isinstance(end, int if whole else (int, float)) or not math.isfinite(end):
            raise ConfigError(f"space: {name}'s low and high must be {'integers' if whole else 'numbers'}, got {end!r}")
    if not low < high:
        raise ConfigError(f"space: {name} needs low < high, got {low!r} and {high!r}")
    if not isinstance(log, bool) or (log and low <= 0):
        raise ConfigError(f"space: {name}.log must be true or false, and a log range needs low > 0")
    return Dimension(name, low if whole else float(low), high if whole else float(high), log)


def default_space(base: TrainConfig, data: MNIST | None = None) -> list[Dimension]:
    """The usual knobs of `base`'s recipe family, around its own values: learning rate (x/4..x4,
    log), batch size (those the schedule can run on these images), rotation / shift / zoom; SGD
    adds momentum and light weight decay, Adam(W) a wider weight decay; cross-entropy adds label
    smoothing."""
    space: dict = {"lr": {"low": base.lr / 4, "high": min(base.lr * 4, 10.0), "log": True}}
    if base.optimizer == "sgd":
        space["momentum"] = {"low": 0.8, "high": 0.97}
        space["weight_decay"] = {"low": 1e-6, "high": 1e-3, "log": True}
    else:
        space["weight_decay"] = {"low": 1e-5, "high": 0.1, "log": True}
    if base.loss == "cross_entropy":
        space["label_smoothing"] = {"low": 0.0, "high": 0.15}
    sizes = [size for size in sorted({64, 128, 256, base.batch_size})
             if _trainable(base.replace(batch_size=size), data)]
    if not sizes:
        raise ConfigError(f"batch_size: no batch size of 64..256 can run {base.recipe}'s schedule on these images "
                          f"in {base.epochs} epoch(s); use a larger --limit or more --epochs")
    space["batch_size"] = {"choices": sizes}
    space.update(rotation={"low": 0.0, "high": 15.0}, translate={"low": 0.0, "high": 0.15},
                 scale={"low": 0.0, "high": 0.15})
    return parse_space(space, base, data)


def _trainable(config: TrainConfig, data) -> bool:
    try:
        check_trainable(config, data)
    except ConfigError:
        return False
    return True


def read_space(path: Path, base: TrainConfig, data: MNIST | None = None) -> list[Dimension]:
    try:
        values = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"space not found: {path}") from None
    except (OSError, ValueError) as error:
        raise ConfigError(f"space {path}: not readable JSON ({error})") from None
    return parse_space(values, base, data)


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

    def __post_init__(self) -> None:
        if sanitize_name(self.study) != self.study or len(self.study) > STUDY_NAME_LENGTH:
            raise ConfigError(f"study must be at most {STUDY_NAME_LENGTH} letters, digits, '-', '_' or '.', "
                              f"got {self.study!r}")
        for name, low in (("trials", 1), ("heartbeat", 1), ("startup_trials", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")
        # max_lr 0: one-cycle's peak is lr, whatever lr the trial draws
        self.base = self.base.replace(evaluate_test=False, max_lr=0.0)

    def fingerprint(self, space: list[Dimension]) -> dict:
        """What every worker of one study must agree on (the budget may grow between commands)."""
        base = self.base
        return {"model": base.model, "recipe": base.recipe, "epochs": base.epochs, "limit": base.limit,
                "seed": base.seed, "startup_trials": self.startup_trials,
                "space": {dimension.name: dimension.to_dict() for dimension in space}}


def new_study_name(model: str) -> str:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return sanitize_name(f"{model.replace('spec:', '')[:24]}-sweep-{stamp}")


def default_storage(study: str, directory: Path | None = None) -> str:
    """<runs>/.sweeps/<study>.journal: one journal file per study, beside the trials' runs."""
    return str((Path(directory) if directory is not None else runs_dir()) / SWEEPS_FOLDER / f"{study}.journal")


def validation_only(data: MNIST) -> MNIST:
    """The data a trial trains on: the training and validation splits, and no test images at all."""
    return MNIST(train=data.train, validation=data.validation, test=data.test.head(0), root=data.root)


def open_storage(url: str, heartbeat: int):
    """(Optuna storage with heartbeats and retries, the file whose lock guards the budget or None).
    A URL with "://" is a database (sqlite:///file.db, postgresql://..., mysql://...); anything else
    is a journal file (an optional "journal:" prefix is dropped)."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRIES)
        grace = GRACE_BEATS * heartbeat
        if "://" in url:
            if url.startswith(("redis", "journal")):
                raise ConfigError(f"storage: {url!r}: use a journal file path or a database URL (sqlite:///..., "
                                  f"postgresql://..., mysql://...)")
            try:
                storage = optuna.storages.RDBStorage(url, heartbeat_interval=heartbeat, grace_period=grace,
                                                     heartbeat_stale_trial_callback=retry)
            except (ImportError, ValueError, RuntimeError) as error:
                raise ConfigError(f"storage {url}: {error}") from None
            except Exception as error:  # noqa: BLE001 - SQLAlchemy's errors: the database cannot be reached
                raise ConfigError(f"storage {url}: {type(error).__name__}: {str(error).splitlines()[0]}") from None
            return storage, None
        path = Path(url.removeprefix("journal:")).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            backend = optuna.storages.journal.JournalFileBackend(str(path))
        except OSError as error:
            raise ConfigError(f"storage {path}: {error.strerror or error}") from None
        return _heartbeat_journal_storage()(backend, heartbeat, grace, retry), path


@functools.cache
def _heartbeat_journal_storage():
    """A JournalStorage with Optuna's heartbeat protocol (BaseHeartbeat, private in Optuna 5.1)."""
    import optuna
    from optuna.storages._heartbeat import BaseHeartbeat
    from optuna.trial import TrialState

    class HeartbeatJournalStorage(optuna.storages.JournalStorage, BaseHeartbeat):
        def __init__(self, backend, interval: int, grace: int, callback) -> None:
            super().__init__(backend)
            self._interval, self._grace, self._callback = interval, grace, callback

        def record_heartbeat(self, trial_id: int) -> None:
            self.set_trial_system_attr(trial_id, HEARTBEAT_ATTR, time.time())

        def _get_stale_trial_ids(self, study_id: int) -> list[int]:
            now, stale = time.time(), []
            for trial in self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)):
                # a retried trial carries its predecessor's last beat: its own start counts too
                started = trial.datetime_start.timestamp() if trial.datetime_start else None
                last = max((beat for beat in (trial.system_attrs.get(HEARTBEAT_ATTR), started) if beat), default=None)
                if last is not None and now - last > self._grace:
                    stale.append(trial._trial_id)
            return stale

        def get_heartbeat_interval(self) -> int:
            return self._interval

        def get_heartbeat_stale_trial_callback(self):
            return self._callback

    return HeartbeatJournalStorage


class BudgetLock:
    """Held from counting the study's trials until this worker's new trial exists, so two workers
    never both take the last place. A file lock (Optuna's symlink lock, NFS-safe) beside the journal,
    or in the runs folder for a database: it serves the workers that share that folder."""

    def __init__(self, target: Path) -> None:
        from optuna.storages.journal import JournalFileSymlinkLock

        target.parent.mkdir(parents=True, exist_ok=True)
        self._lock = JournalFileSymlinkLock(str(target), grace_period=10)  # held for milliseconds
        self.held = False

    def acquire(self) -> None:
        self._lock.acquire()
        self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            self._lock.release()


def budget(study) -> tuple[int, int, int]:
    """(trials that count against the budget, waiting, running): every trial but those failed by a
    heartbeat and retried (their retry counts instead)."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    retried = {number for trial in trials for number in trial.system_attrs.get("retry_history", [])}
    counted = [trial for trial in trials if trial.number not in retried]
    return (len(counted), sum(t.state == TrialState.WAITING for t in trials),
            sum(t.state == TrialState.RUNNING for t in trials))


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
                 stop: threading.Event, directory: Path | None) -> None:
        self.sweep, self.space, self.data = sweep, space, data
        self.lock, self.stop, self.directory = lock, stop, directory

    def __call__(self, trial) -> float:
        import optuna

        if self.lock is not None:
            self.lock.release()  # the trial exists: other workers count it from now on
        params = {dimension.name: dimension.suggest(trial) for dimension in self.space}
        extra = {**self.sweep.base.extra, "study": self.sweep.study, "trial": trial.number}
        try:
            config = self.sweep.base.replace(**params, extra=extra)
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
              directory: Path | None = None) -> dict:
    """Run trials of `sweep.study` until its budget is spent and no trial runs elsewhere; return
    `study_summary`. `on_trial(row)` hears of each trial this worker finishes; setting `stop` ends
    the current trial between batches (recorded as failed) and the sweep with it."""
    import optuna

    refuse_in_demo("Sweeps")
    stop = stop or threading.Event()
    space = sweep.space if sweep.space is not None else default_space(sweep.base, data)
    url = sweep.storage or default_storage(sweep.study, directory)
    storage, journal = open_storage(url, sweep.heartbeat)
    study = optuna.create_study(study_name=sweep.study, storage=storage, direction="maximize", load_if_exists=True,
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=sweep.startup_trials))
    check_same_sweep(study, sweep.fingerprint(space), url)
    target = journal.with_name(journal.name + ".budget") if journal is not None else \
        (Path(directory) if directory is not None else runs_dir()) / SWEEPS_FOLDER / f"{sweep.study}.budget"
    lock = BudgetLock(target)
    objective = Objective(sweep, space, validation_only(data), lock, stop, directory)
    callbacks = [lambda study, trial: on_trial(trial_row(trial))] if on_trial is not None else []
    interrupted = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # heartbeats are experimental
        while not stop.is_set():
            lock.acquire()
            try:
                optuna.storages.fail_stale_trials(study)  # a dead worker's trial -> failed, and queued again
                counted, waiting, running = budget(study)
                if counted >= sweep.trials and not waiting:
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
            "retry_of": history[-1] if history else None}


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
    return {"study": study.study_name, "storage": storage, "optuna": optuna.__version__,
            "objective": "best validation accuracy (%); the test split is never read",
            "settings": study.user_attrs.get("sweep"), "trials": rows,
            "best": None if best is None else {key: best[key] for key in ("number", "params", "val_acc", "run")}}


# --- the app's way: a sweep in a child process ----------------------------------------------------

@dataclass
class BackgroundSweep:
    """A sweep this process started: `python -m mnist_core sweep ...` in a child process."""
    study: str
    trials: int
    directory: Path
    process: subprocess.Popen
    log: Path

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """The CLI's Ctrl-C: the trial training stops between batches, and the sweep after it."""
        if self.running():
            self.process.send_signal(signal.SIGINT)

    def log_tail(self, lines: int = 3) -> list[str]:
        try:
            return self.log.read_text(errors="replace").strip().splitlines()[-lines:]
        except OSError:
            return []


_BACKGROUND: BackgroundSweep | None = None


def background_sweep() -> BackgroundSweep | None:
    """The sweep this process started last (running or ended), or None."""
    return _BACKGROUND


def start_sweep(model: str, recipe: str | None = None, trials: int = 8, epochs: int | None = None,
                limit: int | None = None, study: str | None = None, directory: Path | None = None) -> BackgroundSweep:
    """Sweep `model`'s recipe in a child process; its settings are checked here first (ConfigError,
    DemoModeError), and RunBusyError when a run, the queue's run or another sweep trains."""
    global _BACKGROUND
    refuse_in_demo("Sweeps")
    base = default_config(model, recipe, epochs=epochs, limit=limit, eval_limit=limit)
    sweep = Sweep(base, study or new_study_name(base.model), trials)  # checks the name and the budget
    default_space(sweep.base)  # settings the recipe cannot train with: refused now, not in the child's log
    directory = Path(directory) if directory is not None else runs_dir()
    log = Path(default_storage(sweep.study, directory)).with_suffix(".log")
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "mnist_core", "sweep", "--model", model, "--trials", str(trials),
               "--study", sweep.study, "--lower-priority"]  # pages first, as for the app's runs
    for flag, value in (("--recipe", recipe), ("--epochs", epochs), ("--limit", limit)):
        command += [flag, str(value)] if value is not None else []
    env = {**child_env(), "MNIST_RUNS": str(directory)}

    def spawn() -> subprocess.Popen:
        with log.open("w") as output:
            return subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=output,
                                    stderr=subprocess.STDOUT, start_new_session=True)  # the server's Ctrl-C is not its

    process = occupy(f"sweep {sweep.study!r}", spawn)
    _BACKGROUND = BackgroundSweep(sweep.study, trials, directory, process, log)
    return _BACKGROUND
