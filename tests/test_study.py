"""The `study` verb: one ordinary run per seed, queued, carrying one study tag that `runs --json` shows."""
import json

import pytest


@pytest.fixture(autouse=True)
def runs_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_RUNS", str(tmp_path / "runs"))
    return tmp_path / "runs"


def test_study_queues_one_tagged_run_per_seed(cli, runs_folder):
    from mnist_core.store import runs

    result = cli("study", "--model", "writeup004", "--seeds", "1", "2", "--epochs", "1", "--limit", "64", "--json")
    assert result.returncode == 0, result.stderr
    studied = json.loads(result.stdout)
    assert [row["status"] for row in studied] == ["finished", "finished"]
    listed = {row["name"]: row for row in json.loads(cli("runs", "--json").stdout)}
    tags = {listed[row["name"]]["seed_study"] for row in studied}
    assert len(tags) == 1 and tags.pop().startswith("writeup004-seeds-")
    assert all(listed[row["name"]]["sweep"] is None for row in studied)  # a seed study is not a sweep
    seeds = [runs.get_run(row["name"], runs_folder).config["seed"] for row in studied]
    assert seeds == [1, 2]


def test_study_of_an_unknown_model_is_one_line_and_exit_2(cli):
    result = cli("study", "--model", "no-such-model", "--seeds", "1")
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "no-such-model" in result.stderr
