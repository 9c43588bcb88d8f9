"""SIGKILL a CLI training run at random moments, and once in the middle of saving its weights:
every file left on disk is absent or complete and loadable, and the run shows as interrupted."""
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from mnist_core.lab import launch
from mnist_core.store import runs
from mnist_core.store.checkpoint import load_checkpoint
from mnist_core.training.recipes import default_config

ROOT = Path(__file__).resolve().parent.parent
TRAIN = ["train", "--model", "writeup001_iter2", "--epochs", "20", "--limit", "1500", "--batch-size", "32"]


def start(runs_folder: Path, name: str, **env: str):
    return subprocess.Popen([sys.executable, "-m", "mnist_core", *TRAIN, "--name", name], cwd=ROOT,
                            env={**os.environ, "MNIST_RUNS": str(runs_folder), **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def assert_files_complete(folder: Path) -> None:
    for name in ("config.json", "status.json"):
        if (folder / name).exists():
            json.loads((folder / name).read_text())  # whole, thanks to write-then-rename
    for name in ("metrics.jsonl", "batches.jsonl", "samples.jsonl"):
        path = folder / name
        if path.exists():
            text = path.read_text()
            complete = text.split("\n")[:-1]  # a kill can cut only the line being appended
            for line in complete:
                json.loads(line)
    if (folder / "model.pt").exists():
        load_checkpoint(folder / "model.pt")


class Launched:
    """A CLI training run in a process of its own (one torch thread), and the moment its training
    loop began."""

    def __init__(self, runs_folder: Path, name: str):
        self.name = name
        self.process = start(runs_folder, name, OMP_NUM_THREADS="1")
        self.began_at = None
        self.began = threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self):
        self.process.stderr.readline()  # "training ...": the data are loaded and the loop starts
        self.began_at = time.monotonic()
        self.began.set()


def test_sigkill_at_random_moments_leaves_only_complete_files(tmp_path):
    moments = sorted(random.Random(2026).sample([x / 10 for x in range(3, 60)], 5))
    # Python and torch take seconds to start, so two runs are alive at a time, one torch thread
    # each: a core apiece, as fast as one run alone. Each is killed `delay` seconds after its own
    # training began, and the next one starts.
    launched = [Launched(tmp_path, "killed-0"), Launched(tmp_path, "killed-1")]
    try:
        for index, delay in enumerate(moments):
            run = launched[index]
            assert run.began.wait(timeout=120), run.name
            time.sleep(max(0.0, run.began_at + delay - time.monotonic()))
            run.process.send_signal(signal.SIGKILL)
            moment = time.monotonic() - run.began_at
            run.process.wait(timeout=30)
            if len(launched) < len(moments):
                launched.append(Launched(tmp_path, f"killed-{len(launched)}"))
            killed = runs.get_run(run.name, tmp_path)
            assert killed.status == "interrupted", (delay, moment, killed.status, killed.reason)
            assert_files_complete(tmp_path / killed.name)
    finally:
        for run in launched:
            run.process.kill()
            run.process.wait(timeout=30)
    assert {run.status for run in runs.list_runs(tmp_path)} == {"interrupted"}


HALF_SAVE_THEN_DIE = """
import os, signal, sys, torch
real_save = torch.save
def half_save_then_die(obj, path, *args, **kwargs):
    real_save(obj, path, *args, **kwargs)
    with open(path, "r+b") as handle:
        handle.truncate(os.path.getsize(path) // 2)
    os.kill(os.getpid(), signal.SIGKILL)  # killed in the middle of writing the checkpoint
torch.save = half_save_then_die
from mnist_core.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_sigkill_mid_save_leaves_no_half_checkpoint_and_the_next_start_cleans_up(tmp_path, tiny_data):
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            HALF_SAVE_THEN_DIE,
            "train",
            "--model",
            "writeup001_iter2",
            "--epochs",
            "1",
            "--limit",
            "256",
            "--name",
            "killed-mid-save",
        ],
        cwd=ROOT,
        env={**os.environ, "MNIST_RUNS": str(tmp_path)},
        stderr=subprocess.PIPE,
        text=True,
    )
    process.communicate(timeout=120)
    assert process.returncode == -signal.SIGKILL
    folder = tmp_path / "killed-mid-save"
    assert not (folder / "model.pt").exists(), "a half checkpoint must never carry the real name"
    leftovers = list(folder.glob(".model.pt.*.tmp"))
    assert leftovers
    run = runs.get_run("killed-mid-save", tmp_path)
    assert run.status == "interrupted" and len(run.epochs()) == 1 and not run.has_weights
    assert_files_complete(folder)
    for path in leftovers:
        os.utime(path, (time.time() - 600, time.time() - 600))
    launch.train_run(default_config("writeup001_iter2", epochs=1, limit=64, eval_limit=50), tmp_path, data=tiny_data)
    assert not any(path.exists() for path in leftovers)
