"""Seed studies on Compare: runs sharing a study tag are grouped (mean ± sd, every seed, a mean
curve with its band); sweep trials, unfinished runs and untagged runs are not."""
import math
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mnist_core.reports.studies import mean_band, study_groups
from mnist_core.store import runs
from mnist_core.training.recipes import default_config

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def study_runs(tmp_path, monkeypatch, tiny_data):
    monkeypatch.setenv("MNIST_RUNS", str(tmp_path))
    for seed in (1, 2):
        config = default_config("seed001_iter2", epochs=2, limit=256, eval_limit=100, seed=seed)
        runs.train_run(config.replace(extra={**config.extra, "study": "iter2-seeds"}), tmp_path,
                       name=f"iter2-seed{seed}", data=tiny_data)
    runs.train_run(default_config("seed001_iter2", epochs=1, limit=256, eval_limit=100), tmp_path, name="alone",
                   data=tiny_data)
    return tmp_path


def test_runs_with_one_study_tag_are_grouped_with_their_mean_and_spread(study_runs):
    records = {run.record.key: run.record for run in runs.list_runs(study_runs)}
    (group,) = study_groups(records)
    assert group.study == "iter2-seeds" and [row["seed"] for row in group.seeds] == [1, 2]
    finals = [records[row["run"]].summary.final_test_acc for row in group.seeds]
    mean, sd = group.stat("final_test_acc")
    assert mean == pytest.approx(sum(finals) / 2) and sd == pytest.approx(abs(finals[0] - finals[1]) / math.sqrt(2))
    band = mean_band([records[row["run"]] for row in group.seeds])
    assert [row["epoch"] for row in band] == [1, 2] and all(r["low"] <= r["mean"] <= r["high"] for r in band)


def test_compare_shows_a_study_of_two_seeds_grouped(study_runs):
    app = AppTest.from_file(str(ROOT / "pages" / "compare.py"), default_timeout=60).run()
    assert not app.exception
    assert any(header.value == "Seed studies" for header in app.subheader)
    table = next(frame.value for frame in app.dataframe if "study" in frame.value.columns)
    assert list(table["study"]) == ["iter2-seeds"] and list(table["seeds"]) == [2]
    assert "±" in table["final test (mean ± sd)"][0]
