"""No races in the runs store: two starts with one name at the same moment give one run and one
clear refusal (or the next free name), never a traceback or a half-made run."""
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mnist_core.store import runs
from mnist_core.training.recipes import default_config

ROOT = Path(__file__).resolve().parent.parent


def create_at_once(tmp_path, names):
    barrier = threading.Barrier(len(names))
    results = [None] * len(names)

    def create(index):
        barrier.wait()
        try:
            results[index] = runs.create_run_folder(default_config("writeup004"), tmp_path, names[index])
        except runs.RunError as error:
            results[index] = error

    threads = [threading.Thread(target=create, args=(index,)) for index in range(len(names))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("attempt", range(5))
def test_one_name_twice_at_once_is_one_run_and_one_refusal(tmp_path, attempt):
    results = create_at_once(tmp_path, ["twin"] * 4)
    made = [result for result in results if isinstance(result, Path)]
    refused = [result for result in results if isinstance(result, runs.RunError)]
    assert len(made) == 1 and len(refused) == 3
    assert all("already exists" in str(error) for error in refused)
    assert [run.name for run in runs.list_runs(tmp_path)] == ["twin"]
    assert runs.get_run("twin", tmp_path).status != "damaged"
    assert not list(tmp_path.glob(".new-run-*"))  # no staging folder left behind


def test_automatic_names_at_once_are_all_distinct_runs(tmp_path):
    results = create_at_once(tmp_path, [None] * 4)
    assert all(isinstance(result, Path) for result in results)
    assert len({result.name for result in results}) == 4
    assert all(run.status != "damaged" for run in runs.list_runs(tmp_path))


def test_two_cli_trains_with_one_name_both_exit_cleanly(tmp_path):
    env = {**os.environ, "MNIST_RUNS": str(tmp_path)}
    command = [sys.executable, "-m", "mnist_core", "train", "--model", "writeup004", "--epochs", "1", "--limit", "256",
               "--name", "twin"]
    processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]
    outcomes = [(process.wait(timeout=180), process.stderr.read()) for process in processes]
    assert sorted(code for code, _ in outcomes) in ([0, 2], [0, 0])
    for code, stderr in outcomes:
        assert "Traceback" not in stderr
        if code == 2:
            assert stderr.strip().splitlines()[-1].startswith("error: a run named 'twin' already exists")
    listed = json.loads(subprocess.run([sys.executable, "-m", "mnist_core", "runs", "--json"], cwd=ROOT, env=env,
                                       capture_output=True, text=True, check=True).stdout)
    assert [row["name"] for row in listed] == ["twin"] and listed[0]["status"] == "finished"
