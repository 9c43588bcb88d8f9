"""The Run API: background runs one at a time, stop by name, partial metrics, safe names,
guarded promotion and un-promotion, delete, CLI-style runs, interrupted and damaged runs."""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mnist_core.lab import launch, promotion, run_queue
from mnist_core.store import runs
from mnist_core.store.checkpoint import load_checkpoint
from mnist_core.store.shipped import CHECKPOINT_DIR, list_checkpoints
from mnist_core.training.recipes import default_config


def wait_until_done(timeout=60):
    deadline = time.time() + timeout
    while launch.active_run() is not None and time.time() < deadline:
        time.sleep(0.05)
    assert launch.active_run() is None, "run did not finish in time"


def tiny(**changes):
    return default_config("writeup001_iter2", **{"epochs": 1, "batch_size": 64, "limit": 256,
                                              "eval_limit": 200, "log_every_batches": 1, **changes})


def wait_for_steps(run, directory, steps=3, timeout=30):
    deadline = time.time() + timeout
    while runs.get_run(run.name, directory).progress.get("step", 0) < steps and time.time() < deadline:
        time.sleep(0.02)


@pytest.fixture
def finished_run(tmp_path, tiny_data):
    run = launch.start_run(tiny(), tmp_path / "runs", data=tiny_data)
    wait_until_done()
    return runs.get_run(run.name, tmp_path / "runs")


def test_a_run_records_config_status_epochs_batches_samples_and_weights(tmp_path, tiny_data):
    started = launch.start_run(tiny(), tmp_path, data=tiny_data)
    assert started.status == "running"
    wait_until_done()
    run = runs.get_run(started.name, tmp_path)
    assert run.status == "finished" and run.progress["step"] == 4
    assert run.config["model"] == "writeup001_iter2"
    assert len(run.epochs()) == 1
    assert [row["step"] for row in run.batches()] == [1, 2, 3, 4]
    assert all(row["lr"] > 0 for row in run.batches())
    (sample,) = run.samples()
    assert len(sample["indices"]) == runs.SAMPLE_COUNT == len(sample["predictions"]) == len(sample["labels"])
    assert run.has_weights and load_checkpoint(run.weights_path).model_name == "writeup001_iter2"
    assert "test_acc" in run.metrics_csv().splitlines()[0]
    record = run.record
    assert record.kind == "run" and record.status == "finished" and record.summary.epochs == 1
    assert record.summary.final_test_acc == run.epochs()[-1]["test_acc"]
    assert [r.name for r in runs.list_runs(tmp_path)] == [run.name]


def test_stop_takes_a_name_and_never_stops_another_run(tmp_path, tiny_data):
    run = launch.start_run(tiny(epochs=50, batch_size=8), tmp_path, data=tiny_data)
    with pytest.raises(launch.RunBusyError, match=run.name):
        launch.start_run(tiny(), tmp_path, data=tiny_data)
    wait_for_steps(run, tmp_path)
    (tmp_path / "older").mkdir()  # a finished run from earlier, next to the active one
    (tmp_path / "older" / "config.json").write_text(json.dumps(tiny().to_dict()))
    (tmp_path / "older" / "status.json").write_text(json.dumps({"status": "finished", "reason": "done"}))
    with pytest.raises(runs.RunError, match="not training"):
        launch.stop_run("older", tmp_path)
    with pytest.raises(runs.RunNotFoundError):
        launch.stop_run("no-such-run", tmp_path)
    time.sleep(0.3)
    assert runs.get_run(run.name, tmp_path).status == "running", "a refused stop must leave the run training"
    with pytest.raises(runs.RunError, match="training"):
        launch.delete_run(run.name, tmp_path)
    assert "stopping" in launch.stop_run(run.name, tmp_path)
    wait_until_done()
    stopped = runs.get_run(run.name, tmp_path)
    assert stopped.status == "stopped" and "user" in stopped.reason
    rows = stopped.epochs()
    assert rows and rows[-1]["partial"] is True and stopped.record.summary.partial
    assert stopped.has_weights


def test_names_cannot_escape_the_runs_folder(tmp_path):
    assert runs.sanitize_name("../../etc/passwd") == "etc-passwd"
    assert "/" not in runs.sanitize_name("a/b\\c d")
    with pytest.raises(ValueError):
        runs.sanitize_name("../..")
    with pytest.raises(runs.RunNotFoundError):
        runs.get_run("../checkpoints", tmp_path)


def test_promote_evaluates_then_copies_and_unpromote_removes_only_that(tmp_path, finished_run, tiny_data):
    checkpoints = tmp_path / "checkpoints"
    plan = promotion.plan_promotion(finished_run.name, "my-run", checkpoints, tmp_path / "runs", data=tiny_data)
    assert plan.stem == "my-run" and 0 <= plan.test_acc <= 100 and plan.shipped_stem is None
    record = promotion.promote(finished_run.name, "my-run", checkpoints, tmp_path / "runs", data=tiny_data)
    assert record.kind == "promoted" and record.promoted_from == finished_run.name
    assert record.verified_test_acc == pytest.approx(plan.test_acc)
    listed, problems = list_checkpoints(checkpoints)
    assert [r.name for r in listed] == ["my-run"] and not problems
    assert load_checkpoint(checkpoints / "my-run.pt").model_name == "writeup001_iter2"
    with pytest.raises(promotion.PromotionError, match="never overwritten"):
        promotion.promote(finished_run.name, "my-run", checkpoints, tmp_path / "runs", data=tiny_data)
    shutil.copy(CHECKPOINT_DIR / "writeup004.json", checkpoints / "writeup004.json")
    shutil.copy(CHECKPOINT_DIR / "writeup004.pt", checkpoints / "writeup004.pt")
    with pytest.raises(promotion.PromotionError, match="never overwritten"):
        promotion.promote(finished_run.name, "writeup004", checkpoints, tmp_path / "runs", data=tiny_data)
    with pytest.raises(promotion.PromotionError, match="only what was promoted"):
        promotion.unpromote("writeup004", checkpoints)
    promotion.unpromote("my-run", checkpoints)
    assert sorted(path.name for path in checkpoints.iterdir()) == ["writeup004.json", "writeup004.pt"]


def test_promote_refuses_a_stopped_run_and_unloadable_weights(tmp_path, finished_run, tiny_data):
    directory, checkpoints = tmp_path / "runs", tmp_path / "checkpoints"
    folder = directory / finished_run.name
    status = json.loads((folder / "status.json").read_text())
    (folder / "status.json").write_text(json.dumps({**status, "status": "stopped", "reason": "stopped by the user"}))
    with pytest.raises(promotion.PromotionError, match="only finished runs.*stopped"):
        promotion.promote(finished_run.name, checkpoints=checkpoints, directory=directory, data=tiny_data)
    (folder / "status.json").write_text(json.dumps(status))
    (folder / "model.pt").write_bytes(b"not a checkpoint")  # a crafted or corrupt model.pt
    with pytest.raises(promotion.PromotionError, match="cannot be loaded"):
        promotion.promote(finished_run.name, checkpoints=checkpoints, directory=directory, data=tiny_data)
    assert not checkpoints.exists() or not any(checkpoints.iterdir()), "nothing may be copied"


def test_delete_removes_a_finished_run(tmp_path, finished_run):
    launch.delete_run(finished_run.name, tmp_path / "runs")
    assert runs.list_runs(tmp_path / "runs") == []


def test_foreground_runs_are_recorded_like_background_ones(tmp_path, tiny_data):
    run = launch.train_run(tiny(), tmp_path, name="from-the-cli", data=tiny_data)
    assert run.name == "from-the-cli" and run.status == "finished" and run.has_weights
    assert [r.name for r in runs.list_runs(tmp_path)] == ["from-the-cli"]
    records, _ = runs.trained_models(checkpoints=tmp_path / "none", directory=tmp_path)
    assert [r.key for r in records] == ["run:from-the-cli"]


def test_a_run_whose_process_died_is_interrupted_and_damaged_runs_are_listed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    folder = tmp_path / "killed"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(tiny().to_dict()))
    (folder / "status.json").write_text(json.dumps({"status": "running", "epoch": 2, "pid": pid,
                                                   "updated_at": time.time(), "started_at": time.time()}))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json")
    listed = {run.name: run for run in runs.list_runs(tmp_path)}
    assert listed["killed"].status == "interrupted" and "epoch 2" in listed["killed"].reason
    assert listed["broken"].status == "damaged" and "config.json" in listed["broken"].reason
    records, problems = runs.trained_models(checkpoints=tmp_path / "none", directory=tmp_path)
    assert records == [] and any("broken" in problem for problem in problems)


def test_a_stop_request_reaches_a_run_in_another_process(tmp_path):
    env = {**os.environ, "MNIST_RUNS": str(tmp_path)}
    process = subprocess.Popen([sys.executable, "-m", "mnist_core", "train", "--model", "writeup001_iter2",
                                "--epochs", "50", "--limit", "500", "--batch-size", "16", "--name", "cli-run"],
                               cwd=Path(__file__).resolve().parent.parent, env=env,
                               stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stderr:
            if line.startswith("epoch"):
                break
        assert runs.get_run("cli-run", tmp_path).status == "running"
        assert "stopping" in launch.stop_run("cli-run", tmp_path)
        process.communicate(timeout=60)
    finally:
        process.kill()
    run = runs.get_run("cli-run", tmp_path)
    assert run.status == "stopped" and run.has_weights


def test_start_run_train_run_and_the_queue_refuse_an_untrainable_schedule(tmp_path, tiny_data):
    from mnist_core.training.config import ConfigError

    config = default_config("writeup001_iter3", "fast", epochs=1)  # 256 images, batch 256: one batch
    queued_before = len(run_queue.queued())
    for attempt in (lambda: launch.start_run(config, tmp_path, data=tiny_data),
                    lambda: launch.train_run(config, tmp_path, data=tiny_data),
                    lambda: run_queue.enqueue([config], directory=tmp_path, data=tiny_data)):
        with pytest.raises(ConfigError, match="onecycle needs more than one batch"):
            attempt()
    assert runs.list_runs(tmp_path) == [] and len(run_queue.queued()) == queued_before
    launch.check_trainable(config)  # on the full 55,000 training images it is fine
