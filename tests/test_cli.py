"""The CLI end to end (tiny dry runs) and its --json outputs. The verbs run in this process
(conftest's `cli` fixture: `main(argv)`, output captured); the real `python -m mnist_core` process
is started only where the process is the behaviour: its exit code, and Ctrl-C."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mnist_core.data import mnist as mnist_data
from mnist_core.models import list_models

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def runs_folder(tmp_path, monkeypatch):
    """Every CLI run records into a fresh runs folder and promotes into a scratch checkpoints/."""
    monkeypatch.setenv("MNIST_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("MNIST_CHECKPOINTS", str(tmp_path / "checkpoints"))
    return tmp_path / "runs"


def cli_process(*args):
    """`python -m mnist_core ARGS` in a process of its own."""
    return subprocess.run([sys.executable, "-m", "mnist_core", *args], cwd=ROOT, env=os.environ.copy(),
                          capture_output=True, text=True, timeout=120)


def test_models_json_lists_the_registry(cli):
    result = cli("models", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row["name"] for row in rows] == list_models()
    for row in rows:
        assert {"name", "source", "params", "reported_accuracy"} <= set(row)
    params = {row["name"]: row["params"] for row in rows}
    assert params["writeup001_iter4"] == 7904
    assert params["frontier"] == 3962 < 4000 and params["frontier_v1"] == 4930  # our own models
    assert params["sprint"] == 28410 and params["best_small"] < 20000


def test_an_old_write_up_name_works_with_a_one_line_notice(cli, runs_folder):
    listed = cli("models")
    assert "writeup001_iter1" in listed.stdout and "seed001" not in listed.stdout
    trained = cli("train", "--model", "seed004", "--recipe", "seed004", "--epochs", "1", "--limit", "64",
                  "--name", "old-name", env={"MNIST_RUNS": str(runs_folder)})
    assert trained.returncode == 0, trained.stderr
    notices = [line for line in trained.stderr.splitlines() if line.startswith("note: ")]
    assert notices == ["note: 'seed004' is now called 'writeup004'; the old name works until the next release"] * 2
    listed = {
        row["name"]: row for row in json.loads(cli("runs", "--json", env={"MNIST_RUNS": str(runs_folder)}).stdout)
    }
    assert listed["old-name"]["model"] == "writeup004"
    unknown = cli("train", "--model", "seed009", "--limit", "64")
    assert unknown.returncode == 2 and "unknown model 'seed009'" in unknown.stderr


def test_train_evaluate_predict_dry_run(cli, tmp_path):
    checkpoint = tmp_path / "tiny.pt"
    trained = cli("train", "--model", "writeup001_iter3", "--epochs", "1", "--limit", "256",
                  "--out", str(checkpoint))
    assert trained.returncode == 0, trained.stderr
    assert "epoch   1/1" in trained.stderr and checkpoint.exists()

    evaluated = cli("evaluate", "--checkpoint", str(checkpoint), "--json", "--limit", "500")
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads(evaluated.stdout)
    assert 0.0 <= report["accuracy"] <= 1.0 and report["loss"] > 0
    matrix = np.array(report["confusion_matrix"])
    assert matrix.shape == (10, 10) and matrix.sum() == 500

    digit = 255 - mnist_data.test_images_uint8()[0].numpy()  # dark ink on light paper, then enlarged
    Image.fromarray(digit).resize((140, 140)).save(tmp_path / "digit.png")
    predicted = cli("predict", "--checkpoint", str(checkpoint), str(tmp_path / "digit.png"), "--json")
    assert predicted.returncode == 0, predicted.stderr
    answer = json.loads(predicted.stdout)
    assert answer["prediction"] in range(10)
    assert abs(sum(answer["probabilities"]) - 1.0) < 1e-4 and len(answer["probabilities"]) == 10


def test_user_errors_exit_2_without_traceback(cli, tmp_path):
    (tmp_path / "bad.pt").write_bytes(b"junk")
    cases = (["evaluate", "--checkpoint", str(tmp_path / "bad.pt")],
             ["train", "--model", "nope"],
             ["train", "--model", "writeup000", "--epochs", "0"])
    for args in cases:
        result = cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr and result.stderr.startswith("error:")
    real = cli_process(*cases[0])  # the real entry point exits with main's code
    assert real.returncode == 2, real.stderr
    assert "Traceback" not in real.stderr and real.stderr.startswith("error:")


def test_ctrl_c_stops_between_batches_and_saves_the_partial_run(tmp_path):
    import signal

    checkpoint = tmp_path / "interrupted.pt"
    process = subprocess.Popen([sys.executable, "-m", "mnist_core", "train", "--model", "writeup001_iter2",
                                "--epochs", "50", "--limit", "500", "--batch-size", "16", "--out", str(checkpoint)],
                               cwd=ROOT, env=os.environ.copy(), stderr=subprocess.PIPE, text=True)
    lines = []
    for line in process.stderr:  # wait until training has begun
        lines.append(line)
        if line.startswith("epoch"):
            break
    process.send_signal(signal.SIGINT)
    rest = process.communicate(timeout=60)[1]
    assert process.returncode == 0, rest
    assert "stopped: interrupted (Ctrl-C)" in rest and checkpoint.exists()
    from mnist_core.store.checkpoint import load_checkpoint
    history = load_checkpoint(checkpoint).history
    assert 1 <= len(history) < 50


def test_a_cli_run_is_recorded_in_the_runs_store_and_listed(cli, runs_folder):
    trained = cli("train", "--model", "writeup004", "--epochs", "1", "--limit", "1024")
    assert trained.returncode == 0, trained.stderr
    listed = cli("runs", "--json")
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert row["model"] == "writeup004" and row["status"] == "finished" and row["epochs"] == 1
    assert 0.0 <= row["final_test_acc"] <= 100.0
    assert f"run {row['name']}: finished" in trained.stderr
    from mnist_core.store import runs
    assert runs.get_run(row["name"], runs_folder).has_weights

    promoted = cli("promote", row["name"], "--as", "cli-promoted")
    assert promoted.returncode == 0, promoted.stderr
    assert "test accuracy" in promoted.stderr
    again = cli("promote", row["name"], "--as", "cli-promoted")
    assert again.returncode == 2 and "never overwritten" in again.stderr and "Traceback" not in again.stderr
    assert cli("unpromote", "cli-promoted").returncode == 0
    assert cli("delete", row["name"]).returncode == 0
    assert json.loads(cli("runs", "--json").stdout) == []
    gone = cli("delete", row["name"])
    assert gone.returncode == 2 and "no run named" in gone.stderr


def test_out_that_cannot_be_written_is_refused_before_training(cli, tmp_path, runs_folder):
    (tmp_path / "a-file").write_text("x")
    for out in (tmp_path, tmp_path / "a-file" / "model.pt"):
        result = cli("train", "--model", "writeup004", "--epochs", "1", "--limit", "256", "--out", str(out))
        assert result.returncode == 2 and result.stderr.startswith("error: cannot write"), result.stderr
        assert "epoch" not in result.stderr  # refused before any training
    assert not runs_folder.exists() or not any(runs_folder.iterdir())


def test_explain_and_predict_json_say_how_sure_they_are(cli, tmp_path):
    digit = 255 - mnist_data.test_images_uint8()[0].numpy()
    Image.fromarray(digit).resize((140, 140)).save(tmp_path / "digit.png")
    dot = np.full((200, 200), 255, np.uint8)
    dot[100:104, 90:94] = 0  # one small dark dot on white paper
    Image.fromarray(dot).save(tmp_path / "dot.png")
    checkpoint = str(ROOT / "checkpoints" / "writeup004.pt")
    explained = cli("explain", "--checkpoint", checkpoint, str(tmp_path / "digit.png"), "--json")
    assert explained.returncode == 0, explained.stderr
    result = json.loads(explained.stdout)
    assert result["prediction"] == 7 and result["uncertain"] is False and result["reason"] == ""
    for name in ("saliency", "gradcam"):
        grid = np.array(result[name])
        assert grid.shape == (28, 28) and np.isfinite(grid).all() and grid.max() <= 1.0
    assert len(result["probabilities"]) == 10
    predicted = json.loads(cli("predict", "--checkpoint", checkpoint, str(tmp_path / "dot.png"), "--json").stdout)
    assert predicted["uncertain"] is True and "too little ink" in predicted["reason"]
    text = cli("predict", "--checkpoint", checkpoint, str(tmp_path / "dot.png"))
    assert text.returncode == 0 and text.stdout.startswith("not sure:")
    shown = cli("explain", "--checkpoint", checkpoint, str(tmp_path / "digit.png"))
    assert shown.returncode == 0 and "Grad-CAM on" in shown.stdout


def test_spec_robustness_and_html_report_verbs(cli, tmp_path, runs_folder):
    spec = {"name": "cli-three", "layers": [{"block": "conv", "out": 8, "kernel": 3}, {"block": "relu"},
                                            {"block": "maxpool", "kernel": 2}, {"block": "conv", "out": 16},
                                            {"block": "relu"}, {"block": "gap"}, {"block": "linear", "out": 10}]}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    counted = json.loads(cli("models", "--spec", str(tmp_path / "spec.json"), "--json").stdout)
    assert counted["params"] == 8 * 9 + 8 * 16 * 9 + 16 * 10 + 10 and counted["model"] == "spec:cli-three"
    trained = cli("train", "--spec", str(tmp_path / "spec.json"), "--epochs", "1", "--limit", "256")
    assert trained.returncode == 0, trained.stderr
    (row,) = json.loads(cli("runs", "--json").stdout)
    assert row["model"] == "spec:cli-three" and row["status"] == "finished"
    bad = dict(spec, layers=spec["layers"][:-1])
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    refused = cli("models", "--spec", str(tmp_path / "bad.json"))
    assert refused.returncode == 2 and "layer 6 (gap)" in refused.stderr and "10 outputs" in refused.stderr

    probed = cli(
        "robustness", "--checkpoint", str(ROOT / "checkpoints" / "writeup001_iter2.pt"), "--limit", "200", "--json"
    )
    assert probed.returncode == 0, probed.stderr
    rows = json.loads(probed.stdout)
    assert {"perturbation", "strength", "accuracy"} <= set(rows[0]) and all(0 <= r["accuracy"] <= 1 for r in rows)

    page = tmp_path / "report.html"
    made = cli("report", "--checkpoint", str(ROOT / "checkpoints" / "writeup004.pt"), "--html", str(page))
    assert made.returncode == 0, made.stderr
    assert "confusion-matrix" in page.read_text() and "http" not in page.read_text()


def test_recipe_fast_trains_the_architectures_fast_variant(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_RUNS", str(tmp_path))
    trained = cli("train", "--model", "writeup001_iter3", "--recipe", "fast", "--epochs", "1", "--limit", "2048")
    assert trained.returncode == 0, trained.stderr
    (row,) = json.loads(cli("runs", "--json").stdout)
    from mnist_core.store import runs
    config = runs.get_run(row["name"], tmp_path).config
    assert (config["recipe"], config["scheduler"]) == ("writeup001_iter3_fast", "onecycle")
    # the fast recipe says precision "auto": the run records what this machine chose, and why
    assert config["precision"] in ("fp32", "bf16") and config["extra"]["precision_reason"]
    assert f"precision {config['precision']}" in trained.stderr
    refused = cli("train", "--model", "sprint", "--recipe", "fast", "--epochs", "1", "--limit", "64")
    assert refused.returncode == 2 and "no fast variant" in refused.stderr and "Traceback" not in refused.stderr


def test_a_schedule_too_short_for_the_data_is_refused_before_a_run_exists(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_RUNS", str(tmp_path))
    refused = cli("train", "--model", "writeup001_iter3", "--recipe", "fast", "--epochs", "1", "--limit", "512")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "onecycle needs more than one batch in each phase; 2 batches" in refused.stderr
    assert json.loads(cli("runs", "--json").stdout) == []  # no failed run left behind


def test_device_flag_trains_there_records_it_and_refuses_a_missing_one(cli, runs_folder):
    import torch

    env = {"MNIST_RUNS": str(runs_folder)}
    trained = cli("train", "--model", "frontier", "--epochs", "1", "--limit", "256", "--batch-size", "32",
                  "--device", "cpu", "--name", "on-cpu", env=env)
    assert trained.returncode == 0, trained.stderr
    row = next(row for row in json.loads(cli("runs", "--json", env=env).stdout) if row["name"] == "on-cpu")
    assert row["device"] == "cpu"
    if not torch.cuda.is_available():
        missing = cli("train", "--model", "frontier", "--limit", "256", "--device", "cuda", env=env)
        assert missing.returncode == 2 and "no CUDA GPU" in missing.stderr and "cpu" in missing.stderr
        assert len(missing.stderr.strip().splitlines()) == 1
    bad = cli("sweep", "--model", "frontier", "--device", "tpu")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
