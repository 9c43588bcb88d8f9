"""The runs store: background runs, one at a time, stop keeps partial metrics, safe names, promote."""
import json
import time

import pytest

from mnist_core import runs
from mnist_core.checkpoint import load_checkpoint
from mnist_core.recipes import default_config


def wait_until_done(timeout=60):
    deadline = time.time() + timeout
    while runs.active_run() is not None and time.time() < deadline:
        time.sleep(0.05)
    assert runs.active_run() is None, "run did not finish in time"


def tiny(**changes):
    return default_config("seed001_iter2", **{"epochs": 1, "batch_size": 64, "limit": 256,
                                              "eval_limit": 200, "log_every_batches": 1, **changes})


def test_a_run_writes_config_status_metrics_batches_and_weights(tmp_path, tiny_data):
    run = runs.start_run(tiny(), tmp_path, data=tiny_data)
    wait_until_done()
    folder = run.folder
    status = runs.read_status(folder)
    assert status["status"] == "finished" and status["step"] == 4
    assert json.loads((folder / "config.json").read_text())["model"] == "seed001_iter2"
    assert len(runs.read_jsonl(folder / "metrics.jsonl")) == 1
    assert [row["step"] for row in runs.read_jsonl(folder / "batches.jsonl")] == [1, 2, 3, 4]
    assert load_checkpoint(folder / "model.pt").model_name == "seed001_iter2"
    assert "test_acc" in runs.metrics_csv(folder).splitlines()[0]
    listed = runs.list_runs(tmp_path)
    assert [r["name"] for r in listed] == [run.name]


def test_second_run_is_refused_and_stop_keeps_partial_metrics(tmp_path, tiny_data):
    run = runs.start_run(tiny(epochs=50, batch_size=8), tmp_path, data=tiny_data)
    with pytest.raises(runs.RunBusyError, match=run.name):
        runs.start_run(tiny(), tmp_path, data=tiny_data)
    deadline = time.time() + 30
    while runs.read_status(run.folder).get("step", 0) < 3 and time.time() < deadline:
        time.sleep(0.02)
    assert runs.stop_active() == run.name
    wait_until_done()
    status = runs.read_status(run.folder)
    assert status["status"] == "stopped" and "user" in status["reason"]
    rows = runs.read_jsonl(run.folder / "metrics.jsonl")
    assert rows and rows[-1]["partial"] is True
    assert (run.folder / "model.pt").exists()


def test_names_cannot_escape_the_runs_folder(tmp_path):
    assert runs.sanitize_name("../../etc/passwd") == "etc-passwd"
    assert "/" not in runs.sanitize_name("a/b\\c d")
    with pytest.raises(ValueError):
        runs.sanitize_name("../..")
    with pytest.raises(runs.RunNotFoundError):
        runs.run_folder("../checkpoints", tmp_path)


def test_promote_copies_weights_and_a_record(tmp_path, tiny_data):
    run = runs.start_run(tiny(), tmp_path / "runs", data=tiny_data)
    wait_until_done()
    path = runs.promote(run.folder, tmp_path / "checkpoints", stem="my-run")
    record = json.loads((tmp_path / "checkpoints" / "my-run.json").read_text())
    assert path.exists() and record["model"] == "seed001_iter2" and record["promoted_from"] == run.name
    from mnist_core.pretrained import read_records
    assert [r["stem"] for r in read_records(tmp_path / "checkpoints")] == ["my-run"]
