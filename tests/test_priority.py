"""Runs started by the app train at a lower CPU priority (issue 22): pages first on a shared
server; alone on the machine a run loses nothing."""
import os
import subprocess
import sys
import time
from pathlib import Path

from mnist_core.store import runs
from mnist_core.training.recipes import default_config

ROOT = Path(__file__).resolve().parent.parent


def niceness(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def lowered_by(value: str | None) -> int:
    """How much lower_priority() raises a fresh process's niceness with MNIST_RUN_NICE=value."""
    env = {k: v for k, v in os.environ.items() if k != "MNIST_RUN_NICE"}
    if value is not None:
        env["MNIST_RUN_NICE"] = value
    code = "import os; from mnist_core.store.worker import lower_priority; b = os.nice(0); print(lower_priority() - b)"
    return int(subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                              check=True).stdout)


def test_lower_priority_takes_the_environment_and_ignores_nonsense():
    assert lowered_by(None) == 10 or os.nice(0) + 10 > 19  # the default (capped at 19 by the system)
    assert lowered_by("3") == 3
    assert lowered_by("0") == 0
    assert lowered_by("-5") == 0  # never above the server's priority
    assert lowered_by("fast") == 10 or os.nice(0) + 10 > 19


def test_a_run_started_by_the_app_trains_at_a_lower_priority(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_RUN_NICE", "7")
    run = runs.start_run(default_config("seed004", epochs=2, limit=2048, eval_limit=256), tmp_path)
    process = runs._active().process
    try:
        deadline = time.time() + 20
        while niceness(process.pid) == os.nice(0) and process.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        assert niceness(process.pid) == min(os.nice(0) + 7, 19)
    finally:
        if process.poll() is None:
            try:
                runs.stop_run(run.name, tmp_path)
            except runs.RunError:
                pass  # it ended first
        process.wait(timeout=60)
    assert runs.get_run(run.name, tmp_path).status in {"stopped", "finished"}
