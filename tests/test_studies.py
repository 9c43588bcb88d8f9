"""Seed studies on Compare: runs sharing a study tag are grouped (mean ± sd, every seed, a mean
curve with its band); sweep trials, unfinished runs and untagged runs are not."""
import dataclasses
import json
import math
import statistics
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mnist_core.lab import launch
from mnist_core.reports.studies import mean_band, shipped_study_groups, study_groups
from mnist_core.store import runs
from mnist_core.training.recipes import default_config

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def study_runs(tmp_path, monkeypatch, tiny_data):
    monkeypatch.setenv("MNIST_RUNS", str(tmp_path))
    for seed in (1, 2):
        config = default_config("writeup001_iter2", epochs=2, limit=256, eval_limit=100, seed=seed)
        launch.train_run(config.replace(extra={**config.extra, "study": "iter2-seeds"}), tmp_path,
                       name=f"iter2-seed{seed}", data=tiny_data)
    launch.train_run(default_config("writeup001_iter2", epochs=1, limit=256, eval_limit=100), tmp_path, name="alone",
                   data=tiny_data)
    return tmp_path


def test_runs_with_one_study_tag_are_grouped_with_their_mean_and_spread(study_runs):
    records = {run.record.key: run.record for run in runs.list_runs(study_runs)}
    (group,) = study_groups(records)
    assert group.study == "iter2-seeds" and [row["seed"] for row in group.seeds] == [1, 2]
    finals = [records[row["run"]].summary.final_test_acc for row in group.seeds]
    mean, sd = group.stat("final_test_acc")
    assert mean == pytest.approx(sum(finals) / 2) and sd == pytest.approx(abs(finals[0] - finals[1]) / math.sqrt(2))
    band = mean_band([row["history"] for row in group.seeds])
    assert [row["epoch"] for row in band] == [1, 2] and all(r["low"] <= r["mean"] <= r["high"] for r in band)


def test_compare_shows_a_study_of_two_seeds_grouped(study_runs):
    app = AppTest.from_file(str(ROOT / "pages" / "compare.py"), default_timeout=60).run()
    assert not app.exception
    assert any(header.value == "Seed studies" for header in app.subheader)
    table = next(frame.value for frame in app.dataframe if "study" in frame.value.columns)
    runs_rows = table[table["from"] == "runs"]
    assert list(runs_rows["study"]) == ["iter2-seeds"] and list(runs_rows["seeds"]) == [2]
    assert "±" in runs_rows["final test (mean ± sd)"].iloc[0]


def test_a_chosen_checkpoints_seeds_file_is_a_study_on_compare(monkeypatch, tmp_path):
    """Three seeds of a shipped iteration (checkpoints/<stem>_seeds.json) show as its mean ± sd."""
    monkeypatch.setenv("MNIST_RUNS", str(tmp_path))
    study = json.loads((ROOT / "checkpoints" / "frontier_seeds.json").read_text())
    finals = [row["final_test_acc"] for row in study["seeds"]]
    app = AppTest.from_file(str(ROOT / "pages" / "compare.py"), default_timeout=60)
    app.query_params["compare_choice"] = ["frontier", "best_small"]
    app.run()
    assert not app.exception
    table = next(frame.value for frame in app.dataframe if "study" in frame.value.columns)
    row = table[table["study"] == "frontier"].iloc[0]
    assert row["seeds"] == len(finals) >= 3 and row["from"] == "checkpoints/frontier_seeds.json"
    assert row["final test (mean ± sd)"] == f"{statistics.mean(finals):.2f} ± {statistics.stdev(finals):.2f} %"
    assert "best_small" in set(table["study"]) and "writeup001_iter1" not in set(table["study"])  # the chosen only


def test_a_seeds_file_for_another_model_or_malformed_counts_as_none(tmp_path):
    from mnist_core.store.records import read_record

    record = read_record(ROOT / "checkpoints" / "frontier.json")
    fake = tmp_path / "frontier.pt"
    fake.write_bytes(b"")
    record = dataclasses.replace(record, weights_path=str(fake))
    assert shipped_study_groups([record]) == []  # no file
    (tmp_path / "frontier_seeds.json").write_text('{"model": "sprint", "seeds": [{"final_test_acc": 99.0}]}')
    assert shipped_study_groups([record]) == []  # another model's
    (tmp_path / "frontier_seeds.json").write_text('{"model": "frontier", "seeds": [{"final": 1}]}')
    assert shipped_study_groups([record]) == []  # malformed
    (tmp_path / "frontier_seeds.json").write_text(
        '{"model": "frontier", "seeds": [{"seed": 1, "final_test_acc": 99.0, "final_val_acc": 98.0},'
        ' {"seed": 2, "final_test_acc": 99.2, "final_val_acc": null}]}')
    (group,) = shipped_study_groups([record])
    assert group.stat("final_test_acc") == pytest.approx((99.1, statistics.stdev([99.0, 99.2])))
    assert group.stat("final_val_acc") == (98.0, 0.0)  # the seed without one is left out
