"""The app's way to sweep: the CLI's `sweep` verb in a child process (its output in
<runs>/.sweeps/<study>.log), holding the server's one place for training (`launch.occupy`), so a
run, the queue and a sweep never train at once. Demo mode refuses sweeps.
"""
from __future__ import annotations

import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..store.runs import runs_dir
from ..training.recipes import default_config
from .launch import child_env, occupy
from .mode import refuse_in_demo
from .search_space import default_space
from .sweep import Sweep, new_study_name
from .sweep_storage import default_storage


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
