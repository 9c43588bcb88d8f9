"""Architecture and recipe diff: multiply-adds per layer, the `diff` verb and the Compare page's
"Architecture diff"."""
import dataclasses
import json
from pathlib import Path

import pytest
import torch.nn as nn

from mnist_core.models import count_parameters, create_model, list_models
from mnist_core.models.trace import trace_layers
from mnist_core.reports.diff import architecture_diff, config_diff
from mnist_core.training.config import TrainConfig
from mnist_core.training.recipes import default_config

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def runs_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_RUNS", str(tmp_path / "runs"))
    return tmp_path / "runs"


def test_multiply_adds_by_hand():
    model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Conv2d(8, 4, 3, groups=2), nn.Flatten(),
                          nn.Linear(4 * 24 * 24, 10))
    rows = trace_layers(model)
    assert [row["macs"] for row in rows] == [8 * 26 * 26 * 9, 0, 4 * 24 * 24 * 4 * 9, 0, 10 * 4 * 24 * 24]


@pytest.mark.parametrize("name", list_models())
def test_every_registered_model_has_its_work_counted(name):
    rows = trace_layers(create_model(name))
    assert sum(row["macs"] for row in rows) > 0
    assert all(row["macs"] == 0 for row in rows if row["params"] == 0)  # only weighted layers multiply


def test_diff_verb_acceptance(cli):
    result = cli("diff", "writeup001_iter3", "writeup001_iter4", "--json")
    assert result.returncode == 0, result.stderr
    diff = json.loads(result.stdout, parse_constant=lambda name: pytest.fail(f"bare {name} in JSON"))
    assert {"layers_a", "layers_b", "params_a", "params_b", "macs_a", "macs_b", "config_diff"} <= set(diff)
    for side, name in (("a", "writeup001_iter3"), ("b", "writeup001_iter4")):
        layers = diff[f"layers_{side}"]
        assert diff[f"params_{side}"] == count_parameters(create_model(name)) == sum(row["params"] for row in layers)
        assert diff[f"macs_{side}"] == sum(row["macs"] for row in layers) > 0
        assert all({"layer", "type", "output", "params", "macs"} <= set(row) for row in layers)
    assert (diff["params_a"], diff["params_b"]) == (10970, 7904)
    changed = {row["setting"]: (row["a"], row["b"]) for row in diff["config_diff"]}
    assert changed == {"model": ("writeup001_iter3", "writeup001_iter4"), "recipe": ("writeup001", "writeup001_iter4"),
                       "scheduler": ("none", "step"), "rotation": (0.0, 7.0)}
    everything = json.loads(cli("diff", "writeup001_iter3", "writeup001_iter4", "--json", "--all").stdout)[
        "config_diff"
    ]
    fields = [field.name for field in dataclasses.fields(TrainConfig) if field.name != "extra"]
    assert [row["setting"] for row in everything] == fields
    assert sum(row["differs"] for row in everything) == 4


def test_diff_text_shows_the_tables_side_by_side_and_the_totals(cli):
    result = cli("diff", "writeup001_iter3", "writeup001_iter4")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "writeup001_iter3" in lines[0] and "writeup001_iter4" in lines[0]
    assert lines[1].count("params") == 2
    assert "parameters:    10,970 -> 7,904 (-3,066, -27.9%)" in result.stdout
    assert "multiply-adds:" in result.stdout and "rotation" in result.stdout


def test_registered_architectures_diff_with_their_recipes():
    diff = architecture_diff("writeup004", "sprint", records=[])  # no checkpoints: the registry's view
    assert (diff["source_a"], diff["source_b"]) == ("registry", "registry")
    assert diff["params_b"] == count_parameters(create_model("sprint"))
    expected = config_diff(default_config("writeup004").to_dict(), default_config("sprint").to_dict())
    assert diff["config_diff"] == expected and {"epochs", "lr", "precision"} <= {r["setting"] for r in expected}


def test_an_older_record_without_a_field_counts_it_at_its_default():
    old = default_config("writeup004").to_dict()
    old.pop("precision")
    assert config_diff(old, default_config("writeup004").to_dict()) == []


def test_diff_of_an_unknown_name_is_one_line_and_exit_2(cli):
    result = cli("diff", "writeup004", "no-such-model")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "'no-such-model' is neither" in result.stderr


def test_compare_page_shows_the_architecture_diff():
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "pages" / "compare.py"), default_timeout=60).run()
    assert not app.exception
    chooser = {box.label: box for box in app.selectbox}
    assert (
        chooser["Architecture A"].value == "writeup001_iter3" and chooser["Architecture B"].value == "writeup001_iter4"
    )
    tables = [frame.value for frame in app.dataframe]
    assert any("multiply-adds" in table.columns and table["params"].sum() == 10970 for table in tables)
    settings = next(table for table in tables if "setting" in table.columns)
    assert set(settings["setting"]) == {"model", "recipe", "scheduler", "rotation"}
    next(toggle for toggle in app.toggle if toggle.label == "Show all settings").set_value(True).run()
    assert not app.exception
    settings = next(frame.value for frame in app.dataframe if "setting" in frame.value.columns)
    assert len(settings) == len(dataclasses.fields(TrainConfig)) - 1
