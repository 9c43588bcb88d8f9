"""Optuna studies on a real PostgreSQL (tests/postgres.py's throwaway server): two worker processes
share one study, as a sweep's workers do, and every trial ends COMPLETE."""
from __future__ import annotations

import subprocess
import sys

import optuna
import pytest
from postgres import postgres_url  # noqa: F401  (a module-scoped fixture: pytest finds it by name)

HEARTBEAT = {"heartbeat_interval": 1, "grace_period": 3}
TRIALS_PER_WORKER = 8

# One worker: loads the study, says it is ready and waits for the other one (so that the two really
# run at the same time), then runs its trials, each tagged with the worker's pid.
WORKER = """
import os, sys, time
from pathlib import Path
import optuna

url, name, trials, ready, peers = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5])
optuna.logging.set_verbosity(optuna.logging.WARNING)
storage = optuna.storages.RDBStorage(url, heartbeat_interval=1, grace_period=3)
study = optuna.load_study(study_name=name, storage=storage)
(ready / str(os.getpid())).touch()
deadline = time.monotonic() + 60
while len(list(ready.iterdir())) < peers and time.monotonic() < deadline:
    time.sleep(0.02)

def objective(trial):
    trial.set_user_attr("worker", os.getpid())
    x = trial.suggest_float("x", -10, 10)
    time.sleep(0.02)
    return (x - 2) ** 2

study.optimize(objective, n_trials=trials)
storage.engine.dispose()
"""


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")  # heartbeat_interval's
def test_two_workers_share_a_study_on_postgres(postgres_url, tmp_path):  # noqa: F811 (the fixture)
    assert postgres_url.startswith("postgresql+psycopg://")
    storage = optuna.storages.RDBStorage(postgres_url, **HEARTBEAT)
    try:
        study = optuna.create_study(study_name="shared", storage=storage, direction="minimize")
        ready = tmp_path / "ready"
        ready.mkdir()
        workers = [subprocess.Popen([sys.executable, "-c", WORKER, postgres_url, "shared",
                                     str(TRIALS_PER_WORKER), str(ready), "2"],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                   for _ in range(2)]
        try:
            outputs = [worker.communicate(timeout=120)[0] for worker in workers]
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()
        for worker, output in zip(workers, outputs):
            assert worker.returncode == 0, output

        trials = study.get_trials(deepcopy=False)
        assert len(trials) == 2 * TRIALS_PER_WORKER
        assert [trial.state for trial in trials] == [optuna.trial.TrialState.COMPLETE] * len(trials)
        assert sorted(trial.number for trial in trials) == list(range(2 * TRIALS_PER_WORKER))
        by_worker = {}
        for trial in trials:
            by_worker.setdefault(trial.user_attrs["worker"], []).append(trial)
        assert sorted(by_worker) == sorted(worker.pid for worker in workers)
        assert all(len(mine) == TRIALS_PER_WORKER for mine in by_worker.values())
        # the two workers' trials interleave in time: they shared the study while both ran
        first, second = by_worker.values()
        assert (min(t.datetime_start for t in first) < max(t.datetime_complete for t in second)
                and min(t.datetime_start for t in second) < max(t.datetime_complete for t in first))
        assert study.best_value == min(trial.value for trial in trials)
    finally:
        storage.engine.dispose()
