"""Sweeps: every trial is a run of the runs store tagged with its study, the test split
is never read, trials behind the median are pruned at an epoch end, the budget is the study's, and
two worker processes share one journal: different trials, none twice, a killed worker's trial failed
and retried. Tiny: 256 training and validation images, one or two epochs, writeup004."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from sweep_workers import kill_first_mid_trial, killed_and_retried

from mnist_core.lab.search_space import parse_space
from mnist_core.lab.sweep import Sweep, budget, run_sweep
from mnist_core.store import runs
from mnist_core.training import loop
from mnist_core.training.recipes import default_config

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--model", "writeup004", "--epochs", "1", "--limit", "256"]
SPACE = {"lr": {"low": 0.005, "high": 0.05, "log": True}, "batch_size": {"choices": [64, 128]}}


def strict_json(text: str):
    return json.loads(text, parse_constant=lambda name: pytest.fail(f"bare {name} in JSON"))


def tiny_base(**changes):
    return default_config("writeup004", **{"epochs": 1, "limit": 256, "eval_limit": 256, **changes})


def no_test_figures(run) -> bool:
    return all("test_acc" not in row and "test_loss" not in row for row in run.epochs()) and not run.samples()


def test_a_sweep_lists_its_trials_and_best_and_each_trial_is_a_run_of_its_study(cli, tmp_path, monkeypatch, mnist):
    """The acceptance command, small: trials with number, params, val_acc, state and the best;
    `runs --json` lists the trial runs with their study; the test split is never evaluated."""
    real_evaluate = loop.evaluate_split

    def evaluate_validation_only(model, split, config, device):
        assert split is mnist.validation, "a sweep evaluated a split other than validation"
        return real_evaluate(model, split, config, device)

    def no_test_digits(*args):
        raise AssertionError("a sweep predicted the live grid of test digits")

    monkeypatch.setattr(loop, "evaluate_split", evaluate_validation_only)
    monkeypatch.setattr(runs, "sample_predictions", no_test_digits)
    env = {"MNIST_RUNS": str(tmp_path)}
    result = cli("sweep", *TINY, "--epochs", "2", "--trials", "3", "--study", "small", "--json", env=env)
    assert result.returncode == 0, result.stderr
    sweep = strict_json(result.stdout)
    assert sweep["study"] == "small" and sweep["optuna"] == optuna.__version__
    assert sweep["storage"] == str(tmp_path / ".sweeps" / "small.journal")
    space = set(sweep["settings"]["space"])
    assert space == {"lr", "momentum", "weight_decay", "batch_size", "rotation", "translate", "scale"}  # NLL loss
    trials = sweep["trials"]
    assert [trial["number"] for trial in trials] == [0, 1, 2]
    assert all(trial["state"] in ("complete", "pruned") and set(trial["params"]) == space for trial in trials)
    assert all(0 <= trial["val_acc"] <= 100 for trial in trials)
    complete = [trial for trial in trials if trial["state"] == "complete"]
    assert sweep["best"]["val_acc"] == max(trial["val_acc"] for trial in complete)
    assert sum(line.startswith("trial ") for line in result.stderr.splitlines()) == 3  # one per trial as it ends

    listed = strict_json(cli("runs", "--json", env=env).stdout)
    assert sorted(row["name"] for row in listed) == sorted(trial["run"] for trial in trials)
    assert all(row["sweep"] == "small" and row["seed_study"] is None for row in listed)  # a sweep, not seeds
    assert all(row["study"] == "small" and row["final_test_acc"] is None for row in listed)
    assert all(row["final_val_acc"] is not None and row["has_weights"] for row in listed)
    for trial in trials:
        run = runs.get_run(trial["run"], tmp_path)
        assert run.config["extra"]["trial"] == trial["number"] and not run.config["evaluate_test"]
        assert no_test_figures(run)
        assert run.record.summary.best_val_acc == trial["val_acc"]
        reused = runs.config_of(run)  # "Settings from this run": the settings, not the membership
        assert reused.evaluate_test and not {"sweep", "trial", "study"} & set(reused.extra)


def test_a_trial_behind_the_median_is_a_run_stopped_at_an_epoch_end(tiny_data, tmp_path):
    storage = str(tmp_path / "pruning.journal")
    sweep = Sweep(tiny_base(epochs=2), "pruning", trials=3, space=parse_space(SPACE, tiny_base(epochs=2)),
                  storage=storage)
    study = optuna.create_study(study_name="pruning", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(storage)), direction="maximize")
    for _ in range(2):  # two finished trials far ahead: the third falls behind at epoch 1
        study.add_trial(optuna.create_trial(value=99.0, intermediate_values={1: 99.0, 2: 99.0}))
    result = run_sweep(sweep, tiny_data, directory=tmp_path)
    pruned = result["trials"][2]
    assert pruned["state"] == "pruned" and pruned["epochs"] == 1
    run = runs.get_run(pruned["run"], tmp_path)
    assert run.status == "stopped" and len(run.epochs()) == 1 and run.has_weights
    assert run.reason == f"pruned at epoch 1 (val {pruned['val_acc']:.2f}% below the median 99.00%)"
    assert result["best"]["number"] in (0, 1)


def test_the_budget_is_the_studys_and_a_database_url_works(tiny_data, tmp_path):
    """SQLite through Optuna's RDBStorage (with its own heartbeat): a second command with the same
    budget runs nothing, a larger budget runs only the difference."""
    def sweep(trials):
        base = tiny_base()
        return Sweep(base, "budget", trials=trials, space=parse_space(SPACE, base),
                     storage=f"sqlite:///{tmp_path / 'budget.db'}")

    assert len(run_sweep(sweep(2), tiny_data, directory=tmp_path)["trials"]) == 2
    assert len(run_sweep(sweep(2), tiny_data, directory=tmp_path)["trials"]) == 2
    result = run_sweep(sweep(3), tiny_data, directory=tmp_path)
    assert [trial["state"] for trial in result["trials"]] == ["complete"] * 3
    assert sorted(run.name for run in runs.list_runs(tmp_path)) == [f"budget-trial{n}" for n in range(3)]


@pytest.mark.parametrize("space, message", [
    ({"epochs": {"low": 1, "high": 3}}, "'epochs' cannot be searched (a sweep holds it fixed)"),
    ({"lr": {"low": -0.1, "high": 0.1}}, "space: lr = -0.1 cannot train: lr must be in (0.0, 10.0]"),
    ({"batch_size": {"low": 32.5, "high": 64}}, "batch_size's low and high must be integers"),
    ({"rotation": [0, 10]}, 'rotation must be {"low": L, "high": H}'),
    ({"label_smoothing": {"low": 0.0, "high": 0.1}}, "label_smoothing must be 0 when loss is 'nll'"),
])
def test_a_bad_space_is_one_line_naming_the_setting(cli, tmp_path, space, message):
    path = tmp_path / "space.json"
    path.write_text(json.dumps(space))
    result = cli("sweep", *TINY, "--space", path, env={"MNIST_RUNS": str(tmp_path)})
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr and not list(tmp_path.glob("*-trial*"))


def test_workers_of_one_study_must_run_the_same_sweep(cli, tmp_path):
    env = {"MNIST_RUNS": str(tmp_path)}
    assert cli("sweep", *TINY, "--trials", "1", "--study", "same", env=env).returncode == 0
    result = cli("sweep", *TINY, "--epochs", "2", "--trials", "1", "--study", "same", env=env)
    assert result.returncode == 2 and "searches epochs 1, this command 2" in result.stderr


def test_importing_the_package_does_not_import_optuna():
    """Optuna is imported inside functions only, so `import mnist_core` stays fast."""
    for path in (ROOT / "mnist_core").rglob("*.py"):
        tree = ast.parse(path.read_text())
        top = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        names = {alias.name for node in top if isinstance(node, ast.Import) for alias in node.names}
        names |= {node.module or "" for node in top if isinstance(node, ast.ImportFrom)}
        assert not any(name.split(".")[0] == "optuna" for name in names), path


def worker(tmp_path: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "mnist_core", "sweep", *TINY, "--trials", "6", "--study", "shared",
               "--storage", str(tmp_path / "shared.journal"), "--heartbeat", "1", "--json"]
    env = {**os.environ, "MNIST_RUNS": str(tmp_path / "runs"), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def runs_of(pid: int, folder: Path) -> list[Path]:
    found = []
    for status in folder.glob("*/status.json"):
        if status.parent.name.startswith("."):
            continue  # a run folder being filled, not yet a run
        try:
            if json.loads(status.read_text()).get("pid") == pid:
                found.append(status.parent)
        except (OSError, ValueError):
            pass  # being renamed into place
    return found


def training_now(pid: int, folder: Path) -> bool:
    """Whether a run of process `pid` has trained a batch and still trains."""
    for run in runs_of(pid, folder):
        try:
            status = json.loads((run / "status.json").read_text())["status"]
            if (run / "batches.jsonl").exists() and status == "running":
                return True
        except (OSError, ValueError, KeyError):
            pass  # being written
    return False


def test_two_workers_share_a_study_and_a_killed_workers_trial_is_retried(tmp_path):
    """Two processes, one journal, 6 trials: each trial runs once, as its own run; the first worker
    is killed mid-trial (once a run of its has trained a batch): that trial is failed by the
    heartbeat, retried with the same settings by the other worker, and the study still ends with 6
    finished trials."""
    first, second = worker(tmp_path), worker(tmp_path)
    # not "as its second trial starts": on a busy machine the other worker had taken every trial left
    out, err = kill_first_mid_trial(first, second, lambda: training_now(first.pid, tmp_path / "runs"),
                                    wait=90, finish=90)
    assert second.returncode == 0, err
    result = strict_json(out)
    trials = {trial["number"]: trial for trial in result["trials"]}
    killed = [killed_and_retried(trials)]
    finished = [trial for trial in trials.values() if trial["state"] in ("complete", "pruned")]
    assert len(finished) == 6 and len(trials) == 7
    names = [trial["run"] for trial in finished]
    assert len(set(names)) == 6
    by_name = {run.name: run for run in runs.list_runs(tmp_path / "runs")}
    assert set(by_name) == set(names) | {killed[0]["run"]}  # every trial its run, none twice
    assert by_name[killed[0]["run"]].status == "interrupted"
    assert all(run.sweep == "shared" and no_test_figures(run) for run in by_name.values())
    pids = {run.progress["pid"] for run in by_name.values()}
    assert pids == {first.pid, second.pid}  # both workers trained
    assert budget(optuna.load_study(study_name="shared", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(tmp_path / "shared.journal")))))[:2] == (6, 0)


def test_a_sweep_varies_a_specs_widths_under_a_parameter_cap(cli, tmp_path):
    """An architecture search: layers.N.FIELD varies a block of the spec; trials over --max-params fail
    at once, in one line each, and do not count against --trials; the others train the network their
    widths make."""
    from mnist_core.models.spec import parameter_count, pool_once_spec

    spec = pool_once_spec("tiny-pool", [4, 4], [6, 6])
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    space = {"layers.0.out": {"low": 2, "high": 8}, "layers.10.out": {"choices": [4, 12]}}
    (tmp_path / "space.json").write_text(json.dumps(space))
    cap = parameter_count(spec)  # the base's own size: wider trials are refused
    result = cli("sweep", "--spec", tmp_path / "spec.json", "--space", tmp_path / "space.json", "--epochs", "1",
                 "--limit", "256", "--trials", "4", "--max-params", str(cap), "--study", "widths", "--json",
                 env={"MNIST_RUNS": str(tmp_path / "runs")})
    assert result.returncode in (0, 1), result.stderr
    trials = strict_json(result.stdout)["trials"]
    assert "Traceback" not in result.stderr
    assert len([trial for trial in trials if trial["network_params"] <= cap]) == 4  # the budget: trained trials
    for trial in trials:
        params = trial["params"]
        expected = pool_once_spec("tiny-pool", [params["layers.0.out"], 4], [6, params["layers.10.out"]])
        assert trial["network_params"] == parameter_count(expected)
        over = trial["network_params"] > cap
        assert (trial["state"] == "failed") == over and (not over or "over the study's cap" in trial["reason"])
    bad = cli("sweep", "--model", "frontier", "--space", tmp_path / "space.json", "--limit", "256", "--trials", "1")
    assert bad.returncode == 2 and "sweep a spec" in bad.stderr


def test_prune_after_lets_every_trial_train_that_many_epochs(cli, tmp_path):
    result = cli("sweep", *TINY[:2], "--epochs", "2", "--limit", "256", "--trials", "3", "--startup-trials", "0",
                 "--prune-after", "2", "--study", "patient", "--json", env={"MNIST_RUNS": str(tmp_path / "runs")})
    assert result.returncode == 0, result.stderr
    sweep = strict_json(result.stdout)
    assert sweep["settings"]["prune_after"] == 2
    assert [trial["state"] for trial in sweep["trials"]] == ["complete"] * 3 and all(
        trial["epochs"] == 2 for trial in sweep["trials"])
