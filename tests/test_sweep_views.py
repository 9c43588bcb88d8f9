"""Sweeps in the app: the reports wing's rows of a study (trials, best so far,
parallel coordinates, importances), the Compare page's Sweeps section on a tiny real sweep, the
Train page's sweep panel, a sweep in the background holding the one place for training, and
demo mode with no sweeps. Tiny: frontier on 1,024 images (one-cycle needs more than 256 in one
epoch), or writeup004 on 256, one epoch."""
from __future__ import annotations

import json
import time
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState, create_trial
from streamlit.testing.v1 import AppTest

from mnist_core.lab import background_sweep as sweep_module
from mnist_core.lab import launch
from mnist_core.lab.background_sweep import start_sweep
from mnist_core.lab.mode import DemoModeError
from mnist_core.lab.sweep import Sweep, run_sweep
from mnist_core.reports.sweeps import (
    StudyNotFoundError,
    axis_ends,
    axis_position,
    best_so_far,
    importances,
    list_studies,
    load_study,
    parallel_coordinates,
    sweep_progress,
    sweep_report,
)
from mnist_core.store import runs
from mnist_core.training.config import ConfigError
from mnist_core.training.recipes import default_config

ROOT = Path(__file__).resolve().parent.parent
TINY_SWEEP = ["sweep", "--model", "frontier", "--trials", "3", "--epochs", "1", "--limit", "1024", "--study", "tiny"]
SPACE = {"lr": {"low": 0.01, "high": 1.0, "log": True}, "batch_size": {"choices": [64, 128, 256]},
         "rotation": {"low": 0.0, "high": 10.0, "log": False}}


def row(number, state="complete", val_acc=90.0, **params):
    return {"number": number, "state": state, "val_acc": val_acc, "params": params, "run": f"s-trial{number}",
            "epochs": 1, "reason": "", "retry_of": None}


def charts(app: AppTest) -> dict[str, dict]:
    """The page's Altair charts by title (a layered chart's title is its own or its first layer's)."""
    found = {}
    for element in app.get("vega_lite_chart"):
        spec = json.loads(element.proto.spec)
        title = spec.get("title") or next(
            (layer.get("title") for layer in spec.get("layer", []) if layer.get("title")), ""
        )
        found[title if isinstance(title, str) else title.get("text", "")] = spec
    return found


# --- the pure functions ------------------------------------------------------------------------

def test_best_so_far_is_the_running_best_of_complete_trials_in_trial_order():
    rows = [row(2, val_acc=95.0), row(0, val_acc=90.0), row(1, "pruned", 97.0), row(3, "failed", None),
            row(4, val_acc=93.0)]
    assert [(point["trial"], point["best"]) for point in best_so_far(rows)] == [(0, 90.0), (1, 90.0), (2, 95.0),
                                                                               (4, 95.0)]
    assert best_so_far([row(0, "pruned", 80.0)])[0]["best"] is None  # pruned trials are not the study's best


def test_axis_positions_run_from_the_search_ranges_low_end_to_its_high_end():
    assert axis_position(0.1, SPACE["lr"], []) == pytest.approx(0.5)  # log: 0.1 is halfway from 0.01 to 1
    assert axis_position(5.0, SPACE["rotation"], []) == pytest.approx(0.5)
    assert [axis_position(size, SPACE["batch_size"], []) for size in (64, 128, 256)] == [0.0, 0.5, 1.0]
    assert axis_position(3, None, [1, 3, 5]) == pytest.approx(0.5)  # no space: between the values seen
    assert axis_position("adam", None, ["sgd", "adam"]) == 0.0 and axis_position(7, None, [7]) == 0.5


def test_parallel_coordinates_has_one_point_per_trial_and_setting_of_the_space_in_its_order():
    rows = [row(0, lr=0.01, batch_size=64, rotation=0.0), row(1, "pruned", 80.0, lr=1.0, batch_size=256, rotation=10.0),
            row(2, "failed", None, lr=0.1, batch_size=128, rotation=5.0)]
    points = parallel_coordinates(rows, SPACE)
    assert [point["setting"] for point in points] == ["lr", "lr", "batch_size", "batch_size", "rotation", "rotation"]
    assert {(point["trial"], point["position"]) for point in points} == {(0, 0.0), (1, 1.0)}  # no val: no line
    assert {point["val_acc"] for point in points if point["trial"] == 1} == {80.0}
    ends = axis_ends(rows, SPACE)
    assert ends[0] == {"setting": "lr", "low": "0.01 (log)", "high": "1"} and ends[1]["high"] == "256"


def study_with(values: list[float | None]):
    """An in-memory study of finished trials (None: pruned), without training anything."""
    study = optuna.create_study(direction="maximize")
    distributions = {"lr": FloatDistribution(0.01, 1.0, log=True), "batch_size": CategoricalDistribution([64, 128])}
    for index, value in enumerate(values):
        params = {"lr": 0.01 * (1.5 ** index), "batch_size": [64, 128][index % 2]}
        state = TrialState.COMPLETE if value is not None else TrialState.PRUNED
        study.add_trial(create_trial(params=params, distributions=distributions, value=value, state=state))
    return study


def test_importances_need_two_complete_trials_that_differ():
    ranked, note = importances(study_with([91.0, None]))
    assert ranked == {} and "at least 2 complete trials" in note and "has 1" in note
    ranked, note = importances(study_with([91.0, 91.0, 91.0]))
    assert ranked == {} and "same validation accuracy" in note
    ranked, note = importances(study_with([80.0 + index for index in range(12)]))
    assert set(ranked) == {"lr", "batch_size"} and sum(ranked.values()) == pytest.approx(1.0)
    assert list(ranked.values()) == sorted(ranked.values(), reverse=True) and "PED-ANOVA" in note


def test_no_studies_and_a_missing_one_say_so(tmp_path):
    assert list_studies(tmp_path) == [] and list_studies(tmp_path / "nowhere") == []
    with pytest.raises(StudyNotFoundError, match="no study 'gone'.*studies: none"):
        load_study("gone", tmp_path)
    assert sweep_progress("gone", 4, tmp_path)["ended"] == 0  # a sweep whose child has not written yet


# --- a tiny real sweep on the pages ----------------------------------------------------------------

def test_compare_shows_a_studys_best_so_far_parallel_coordinates_importances_and_trials(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_RUNS", str(tmp_path))
    result = cli(*TINY_SWEEP, env={"MNIST_RUNS": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert list_studies(tmp_path) == ["tiny"]
    report = sweep_report("tiny", tmp_path)
    assert [trial["number"] for trial in report["trials"]] == [0, 1, 2]
    assert report["settings"]["model"] == "frontier"
    assert len(report["parallel"]) == 3 * len(report["settings"]["space"])  # every trial completes or is pruned
    assert all(0.0 <= point["position"] <= 1.0 for point in report["parallel"])
    assert report["importances"] or report["importance_note"]
    progress = sweep_progress("tiny", 3, tmp_path)
    assert progress["ended"] == 3 and progress["best_val_acc"] == report["best"]["val_acc"]

    app = AppTest.from_file(str(ROOT / "pages" / "compare.py"), default_timeout=120).run()
    assert not app.exception
    assert "Sweeps" in [header.value for header in app.subheader]
    assert app.selectbox(key="sweep_study").value == "tiny"
    drawn = charts(app)
    assert "best validation accuracy so far" in drawn
    assert "varied settings, one line per trial (colour: validation accuracy)" in drawn
    if report["importances"]:
        assert "which settings mattered most" in drawn
    else:
        assert any(report["importance_note"] in info.value for info in app.info)
    table = app.dataframe[-1].value
    assert list(table["trial"]) == [0, 1, 2] and "lr" in table.columns and "run" in table.columns
    assert any("best: trial" in markdown.value for markdown in app.markdown)


def test_compare_has_no_sweeps_section_without_a_study(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_RUNS", str(tmp_path))
    app = AppTest.from_file(str(ROOT / "pages" / "compare.py"), default_timeout=120).run()
    assert not app.exception
    assert "Sweeps" not in [header.value for header in app.subheader]


def test_train_page_has_the_sweep_expander(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_RUNS", str(tmp_path))
    app = AppTest.from_file(str(ROOT / "pages" / "train.py"), default_timeout=60).run()
    assert not app.exception
    assert "Sweep a recipe (Optuna)" in [expander.label for expander in app.expander]
    assert app.number_input(key="sweep_trials").value == 8
    assert app.button(key="sweep_start")


# --- a sweep in the background -------------------------------------------------------------------

def wait_for(sweep, seconds: float = 180.0) -> None:
    deadline = time.monotonic() + seconds
    while sweep.running() and time.monotonic() < deadline:
        time.sleep(0.5)
    if sweep.running():
        sweep.process.kill()
        pytest.fail(f"the sweep did not end in {seconds:.0f} s: {sweep.log_tail()}")


def test_a_background_sweep_holds_the_one_place_for_training_and_the_page_shows_its_progress(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_RUNS", str(tmp_path))
    with pytest.raises(ConfigError, match="batch size"):  # refused here, before a child process starts
        start_sweep("frontier", trials=2, epochs=1, limit=256, directory=tmp_path)
    background = start_sweep("writeup004", trials=2, epochs=1, limit=256, study="background", directory=tmp_path)
    try:
        assert background.running()
        with pytest.raises(launch.RunBusyError, match="sweep 'background' is training"):
            launch.start_run(default_config("writeup004", epochs=1, limit=256), tmp_path)
        with pytest.raises(launch.RunBusyError):
            start_sweep("writeup004", trials=1, epochs=1, limit=256, directory=tmp_path)
        app = AppTest.from_file(str(ROOT / "pages" / "train.py"), default_timeout=60).run()
        assert not app.exception
        assert any(element.proto.text.startswith("**background**") for element in app.get("progress"))
    finally:
        wait_for(background)
    assert background.process.returncode == 0, background.log_tail()
    progress = sweep_progress("background", 2, tmp_path)
    assert progress["ended"] == 2 and progress["best_run"] in {run.name for run in runs.list_runs(tmp_path)}
    assert (tmp_path / ".sweeps" / "background.log").read_text()
    app = AppTest.from_file(str(ROOT / "pages" / "train.py"), default_timeout=60).run()
    assert any("finished" in element.value for element in app.success)


# --- demo mode -------------------------------------------------------------------------------------

def test_demo_mode_has_no_sweeps(tiny_data, tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_LAB_MODE", "demo")
    monkeypatch.setenv("MNIST_RUNS", str(tmp_path))
    with pytest.raises(DemoModeError, match="Sweeps is off"):
        start_sweep("writeup004", trials=1, epochs=1, limit=256, directory=tmp_path)
    base = default_config("writeup004", epochs=1, limit=256, eval_limit=256)
    with pytest.raises(DemoModeError, match="Sweeps is off"):
        run_sweep(Sweep(base, "demo", 1), tiny_data, directory=tmp_path)
    assert not list(tmp_path.iterdir())  # no journal, no run
    app = AppTest.from_file(str(ROOT / "pages" / "train.py"), default_timeout=60).run()
    assert not app.exception
    assert "Sweep a recipe (Optuna)" not in [expander.label for expander in app.expander]
    assert sweep_module.background_sweep() is None or not sweep_module.background_sweep().running()
