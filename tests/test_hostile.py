"""Unlucky set-ups, every verb: a runs folder that is a file, a cache that cannot be written, and
finished runs that cannot be used (NaN metrics, no weights), which `runs` and the lookups by name
must agree on and explain."""
import json

import pytest
from hostile import FINITE_ROW, NAN_ROW, make_run, smallest_arguments, verb_parsers

from mnist_core.reports.comparison import find_trained
from mnist_core.store import runs

VERBS = verb_parsers()


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_a_runs_folder_that_is_a_file_is_one_line_on_every_verb(verb, cli, tmp_path):
    (tmp_path / "runs").write_text("not a folder")
    for place in (tmp_path / "runs", tmp_path / "runs" / "below"):  # it, or a folder above it, is a file
        result = cli(verb, *smallest_arguments(VERBS[verb]), env={"MNIST_RUNS": str(place)})
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert result.stderr.strip().splitlines() == [
            f"error: the runs folder {place} ($MNIST_RUNS) cannot be used: {tmp_path / 'runs'} is a file, not a folder"]
    assert (tmp_path / "runs").read_text() == "not a folder"


def test_a_cache_that_is_a_file_costs_a_recomputation_not_the_command(cli, tmp_path):
    (tmp_path / "cache").write_text("")
    result = cli("robustness", "--checkpoint", "checkpoints/frontier.pt", "--limit", "10", "--json",
                 env={"MNIST_RUNS": str(tmp_path / "runs"), "MNIST_CACHE": str(tmp_path / "cache")})
    assert result.returncode == 0 and len(json.loads(result.stdout)) > 10


@pytest.fixture
def lab(tmp_path, monkeypatch):
    """A runs folder with a good run, a finished run whose every figure is NaN, one stopped before
    any weights, one failed and one damaged."""
    monkeypatch.setenv("MNIST_RUNS", str(tmp_path))
    make_run(tmp_path, "good", [FINITE_ROW])
    make_run(tmp_path, "all-nan", [NAN_ROW, {**NAN_ROW, "epoch": 2}])
    make_run(tmp_path, "no-weights", [FINITE_ROW], status="stopped", weights=False)
    make_run(tmp_path, "failed", [NAN_ROW], status="failed", weights=False)
    (tmp_path / "damaged").mkdir()
    return tmp_path


def test_runs_and_the_lookups_by_name_agree_on_which_runs_can_be_used(lab, cli):
    rows = {row["name"]: row for row in json.loads(cli("runs", "--json").stdout)}
    assert set(rows) == {"good", "all-nan", "no-weights", "failed", "damaged"}
    for name, row in rows.items():
        try:
            find_trained(name)
            found = True
        except runs.RunNotFoundError as error:
            found = False
            assert f"run {name!r} cannot be used: {row['unusable_reason']}" == str(error)
        assert found == row["usable"], name
    assert rows["all-nan"]["status"] == "finished" and "NaN" in rows["all-nan"]["unusable_reason"]
    assert "no weights" in rows["no-weights"]["unusable_reason"]


def test_changes_and_runs_say_why_a_finished_nan_run_cannot_be_used(lab, cli):
    result = cli("changes", "--old", "frontier", "--new", "all-nan")
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        "error: run 'all-nan' cannot be used: no epoch has finite figures (its accuracies and losses are NaN or "
        "missing)"]
    listing = cli("runs").stdout
    assert "cannot be used: no epoch has finite figures" in listing
    records, problems = runs.trained_models()
    assert "run:good" in {record.key for record in records} and "run:all-nan" not in {r.key for r in records}
    assert any(problem.startswith("run all-nan: finished but cannot be used") for problem in problems)
    promoted = cli("promote", "all-nan", env={"MNIST_CHECKPOINTS": str(lab / "checkpoints")})
    assert promoted.returncode == 2 and "cannot be promoted: no epoch has finite figures" in promoted.stderr
    assert not (lab / "checkpoints").exists() or not list((lab / "checkpoints").iterdir())
