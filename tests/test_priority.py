"""Runs started by the app train at a lower CPU priority: pages first on a shared
server; alone on the machine a run loses nothing."""
import os
import subprocess
import sys
import time
from pathlib import Path

from mnist_core.lab import launch, priority
from mnist_core.lab.worker import nice_increment
from mnist_core.store import runs
from mnist_core.training.recipes import default_config

ROOT = Path(__file__).resolve().parent.parent


def niceness(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def test_the_increment_takes_the_environment_and_ignores_nonsense():
    assert nice_increment(None) == 10  # the default
    assert nice_increment("3") == 3 and nice_increment("0") == 0
    assert nice_increment("-5") == 0  # never above the server's priority
    assert nice_increment("40") == 19 and nice_increment("fast") == 10


def test_lower_priority_lowers_this_process():
    code = "import os; from mnist_core.lab.worker import lower_priority; b = os.nice(0); print(lower_priority() - b)"
    env = {**os.environ, "MNIST_RUN_NICE": "3"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert int(result.stdout) == min(3, 19 - os.nice(0))


def test_a_run_started_by_the_app_trains_at_a_lower_priority(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_RUN_NICE", "7")
    run = launch.start_run(default_config("writeup004", epochs=2, limit=2048, eval_limit=256), tmp_path)
    process = launch.training_here().process
    try:
        deadline = time.time() + 20
        while niceness(process.pid) == os.nice(0) and process.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        assert niceness(process.pid) == min(os.nice(0) + 7, 19)
        # and its session's autogroup, where the kernel groups sessions (else nice alone does nothing
        # against the server's session)
        assert priority.autogroup_niceness(process.pid) in (None, min(os.nice(0) + 7, 19))
    finally:
        if process.poll() is None:
            try:
                launch.stop_run(run.name, tmp_path)
            except runs.RunError:
                pass  # it ended first
        process.wait(timeout=60)
    assert runs.get_run(run.name, tmp_path).status in {"stopped", "finished"}


def test_a_child_in_a_session_of_its_own_is_lowered_with_its_autogroup():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
    try:
        assert priority.lower_priority(19, child.pid) == 19 == niceness(child.pid)
        group = Path("/proc/sys/kernel/sched_autogroup_enabled")
        if group.is_file() and group.read_text().strip() == "1":
            assert priority.autogroup_niceness(child.pid) == 19
            assert priority.autogroup_niceness() != 19  # this test's own session is untouched
    finally:
        child.kill()
        child.wait()
