"""Where a sweep's study lives: a journal file (one machine, or a shared disk) or a database URL
(sqlite:///file.db, postgresql://...), opened with heartbeats so that a killed worker's trial is
failed and retried; and the file lock that guards a study's trial budget.

Optuna 5.1's JournalStorage has no heartbeat (only RDBStorage does; optuna/optuna#6615), so
`_heartbeat_journal_storage` adds one: a running trial's last beat is a trial system attribute.
"""
from __future__ import annotations

import functools
import random
import time
import warnings
from pathlib import Path

from ..store.runs import runs_dir
from ..training.config import ConfigError
from .storage_check import check_storage, safe_url

SWEEPS_FOLDER = ".sweeps"  # inside the runs folder; hidden, so list_runs never takes it for a run

HEARTBEAT_ATTR = "mnist_heartbeat"  # journal storages: a running trial's last beat (Unix time)

GRACE_BEATS = 3  # a trial is stale after this many heartbeat intervals without a beat

MAX_RETRIES = 2  # a trial whose worker died is run again at most this often


def default_storage(study: str, directory: Path | None = None) -> str:
    """<runs>/.sweeps/<study>.journal: one journal file per study, beside the trials' runs."""
    return str((Path(directory) if directory is not None else runs_dir()) / SWEEPS_FOLDER / f"{study}.journal")


def open_storage(url: str, heartbeat: int):
    """(Optuna storage with heartbeats and retries, the journal file or None, the checked Storage).
    A URL with "://" is a database (sqlite:///file.db, postgresql://..., mysql://...); anything else
    is a journal file (an optional "journal:" prefix is dropped). The storage is checked (and a cut
    journal repaired, `checked.note` says so) before anything is written: storage_check."""
    import optuna

    checked = check_storage(url)
    url = checked.url
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRIES)
        grace = GRACE_BEATS * heartbeat
        if "://" in url:
            try:
                storage = first_to_create(lambda: optuna.storages.RDBStorage(
                    url, heartbeat_interval=heartbeat, grace_period=grace, heartbeat_stale_trial_callback=retry))
            except (ImportError, ValueError, RuntimeError) as error:
                raise ConfigError(f"storage {safe_url(url)}: {error}") from None
            except Exception as error:  # noqa: BLE001 - SQLAlchemy's errors: the database cannot be reached
                raise ConfigError(f"storage {safe_url(url)}: cannot be reached ({type(error).__name__}: "
                                  f"{str(error).strip().splitlines()[0][:200]})") from None
            return storage, None, checked
        path = Path(url.removeprefix("journal:")).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            backend = optuna.storages.journal.JournalFileBackend(str(path))
        except OSError as error:
            raise ConfigError(f"storage {path}: {error.strerror or error}") from None
        return _heartbeat_journal_storage()(backend, heartbeat, grace, retry), path, checked


def first_to_create(make, attempts: int = 5):
    """`make()`, which creates tables where none exist yet; when N workers start at once on an empty
    database, all but one lose the race to create them (an IntegrityError or "already exists"):
    they try again, and find the tables made."""
    import sqlalchemy

    for attempt in range(attempts):
        try:
            return make()
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError, sqlalchemy.exc.OperationalError) \
                as error:
            racing = isinstance(error, sqlalchemy.exc.IntegrityError) or "already exists" in str(error)
            if not racing or attempt == attempts - 1:
                raise
            time.sleep(0.2 + random.random() * (attempt + 1))


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
