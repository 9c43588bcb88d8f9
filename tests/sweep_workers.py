"""Two `sweep` worker processes on one study, the first killed mid-trial: what the journal test
(test_sweep.py) and the PostgreSQL test (test_sweep_database.py) both do, and what they both check."""
from __future__ import annotations

import signal
import subprocess
import time
from typing import Callable


def kill_first_mid_trial(first: subprocess.Popen, second: subprocess.Popen, mid_trial: Callable[[], bool],
                         wait: float, finish: float) -> tuple[str, str]:
    """SIGKILL `first` the moment `mid_trial()` holds (within `wait` seconds), then let `second`
    finish the study (within `finish` seconds): its stdout and stderr. Neither is left running."""
    try:
        deadline = time.monotonic() + wait
        while not mid_trial():
            assert time.monotonic() < deadline and first.poll() is None, \
                first.stderr.read() if first.poll() is not None else "the first worker never got mid-trial"
            time.sleep(0.01)
        first.send_signal(signal.SIGKILL)
        return second.communicate(timeout=finish)
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.kill()
            process.wait()


def killed_and_retried(trials: dict[int, dict]) -> dict:
    """The one trial failed by the heartbeat, after checking that another trial retried its settings."""
    killed = [trial for trial in trials.values() if trial["state"] == "failed"]
    assert len(killed) == 1 and "stopped sending heartbeats" in killed[0]["reason"]
    retry = next(trial for trial in trials.values() if trial["retry_of"] == killed[0]["number"])
    assert retry["params"] == killed[0]["params"] and retry["state"] in ("complete", "pruned")
    return killed[0]
