"""The lab: network specs, the run queue, robustness probes and HTML reports."""
import json
import time
from html.parser import HTMLParser

import pytest
import torch

from mnist_core.analysis.evaluate import evaluate
from mnist_core.analysis.robustness import PERTURBATIONS, probe
from mnist_core.lab import launch, run_queue
from mnist_core.models import count_parameters, create_model, list_models
from mnist_core.models.spec import SpecError, build, parameter_count, spec_from_model, spec_layers
from mnist_core.reports.html import html_report
from mnist_core.store import runs
from mnist_core.store.derived import cached_probe
from mnist_core.store.records import read_record
from mnist_core.store.shipped import CHECKPOINT_DIR
from mnist_core.training.config import ConfigError
from mnist_core.training.recipes import default_config, spec_config

THREE = {"name": "three", "layers": [{"block": "conv", "out": 8, "kernel": 3}, {"block": "relu"},
                                     {"block": "maxpool", "kernel": 2}, {"block": "conv", "out": 16, "kernel": 3},
                                     {"block": "relu"}, {"block": "gap"}, {"block": "linear", "out": 10}]}


def test_a_specs_parameter_count_equals_the_built_models():
    rows = spec_layers(THREE)
    assert [row["output"] for row in rows][-1] == "10"
    assert parameter_count(THREE) == count_parameters(build(THREE)) == 8 * 9 + 8 * 16 * 9 + 16 * 10 + 10
    assert build(THREE)(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


@pytest.mark.parametrize(
    "layers, where, what",
    [
        (
            [
                {"block": "conv", "out": 8, "kernel": 3},
                {"block": "maxpool", "kernel": 2},
                {"block": "maxpool", "kernel": 2},
                {"block": "maxpool", "kernel": 2},
                {"block": "maxpool", "kernel": 2},
                {"block": "maxpool", "kernel": 2},
                {"block": "linear", "out": 10},
            ],
            "layer 6 (maxpool)",
            "spatial size reaches 0",
        ),
        (
            [
                {"block": "conv", "out": 8},
                {"block": "maxpool"},
                {"block": "maxpool"},
                {"block": "maxpool"},
                {"block": "conv", "out": 8, "kernel": 5},
            ],
            "layer 5 (conv)",
            "does not fit a 3×3 input",
        ),
        (
            [{"block": "gap"}, {"block": "linear", "out": 10}, {"block": "conv", "out": 4}],
            "layer 3 (conv)",
            "spatial input",
        ),
        (
            [{"block": "conv", "out": 8}, {"block": "gap"}, {"block": "linear", "out": 7}],
            "layer 3 (linear)",
            "10 outputs",
        ),
        ([{"block": "conv", "out": -1}], "layer 1 (conv)", "out must be an integer"),
        ([{"block": "softmax"}], "layer 1", "block must be one of"),
        ([{"block": "dropout", "p": 2}], "layer 1 (dropout)", "p must be a number"),
    ],
)
def test_invalid_specs_are_rejected_naming_the_layer(layers, where, what):
    with pytest.raises(SpecError) as caught:
        spec_layers({"name": "bad", "layers": layers})
    assert where in str(caught.value) and what in str(caught.value)
    with pytest.raises(ConfigError, match="spec: "):
        spec_config({"name": "bad", "layers": layers})


@pytest.mark.parametrize("name", list_models())
def test_registered_models_round_trip_through_a_spec_where_they_can(name):
    spec = spec_from_model(name)
    if spec is None:
        pytest.skip(f"{name} cannot be written as blocks")
    assert parameter_count(spec) == count_parameters(create_model(name)) == count_parameters(build(spec))


def test_most_registered_models_are_expressible():
    expressible = [name for name in list_models() if spec_from_model(name) is not None]
    assert len(expressible) >= len(list_models()) - 1


def test_a_spec_run_trains_records_and_reloads(tmp_path, tiny_data):
    from mnist_core.store.checkpoint import load_model

    config = spec_config(THREE, "writeup004", epochs=1, limit=256, eval_limit=200)
    run = launch.train_run(config, tmp_path, data=tiny_data)
    assert run.status == "finished" and run.config["spec"] == THREE and run.config["model"] == "spec:three"
    assert run.record.params == parameter_count(THREE) and run.record.source == "custom"
    model, checkpoint = load_model(run.weights_path)
    assert count_parameters(model) == parameter_count(THREE)


def tiny(**changes):
    return default_config(
        "writeup001_iter2", **{"epochs": 1, "batch_size": 64, "limit": 256, "eval_limit": 200, **changes}
    )


def test_the_queue_trains_one_after_another_and_cancels_waiting_items(tmp_path, tiny_data):
    first, second, third = run_queue.enqueue([tiny(seed=1), tiny(seed=2), tiny(seed=3)], "test batch", tmp_path,
                                        tiny_data, poll_seconds=0.05)
    assert run_queue.cancel_queued(third.id) == 1
    deadline = time.time() + 120
    while time.time() < deadline:
        names, done = run_queue.batch_runs("test batch")
        if done:
            break
        time.sleep(0.1)
    assert done and len(names) == 2
    listed = {run.name: run for run in runs.list_runs(tmp_path)}
    assert [listed[name].config["seed"] for name in names] == [1, 2]
    assert all(listed[name].status == "finished" for name in names)
    assert listed[names[0]].progress["updated_at"] <= listed[names[1]].progress["started_at"]  # in order
    assert third.state == "cancelled" and third.run is None


def test_robustness_at_strength_zero_equals_evaluate_and_is_cached(tmp_path, monkeypatch, mnist):
    from mnist_core.store.checkpoint import load_model

    monkeypatch.setenv("MNIST_CACHE", str(tmp_path))
    model, _ = load_model(CHECKPOINT_DIR / "writeup001_iter2.pt")
    rows = probe(model, mnist.test, limit=300)
    plain = evaluate(model, mnist.test.head(300)).accuracy
    baseline = {"scale (factor)": 1.0}
    for perturbation in PERTURBATIONS:
        at_zero = next(r for r in rows if r["perturbation"] == perturbation
                       and r["strength"] == baseline.get(perturbation, 0.0))
        assert at_zero["accuracy"] == pytest.approx(plain, abs=1e-6)
    rotated = [r["accuracy"] for r in rows if r["perturbation"].startswith("rotation")]
    assert rotated[-1] < rotated[0]  # 60 degrees hurts
    first = cached_probe(CHECKPOINT_DIR / "writeup001_iter2.pt", mnist.test, 300)
    assert (
        list(tmp_path.rglob("*.json"))
        and cached_probe(CHECKPOINT_DIR / "writeup001_iter2.pt", mnist.test, 300) == first
    )


class Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.scripts, self.urls, self.tags = set(), [], [], []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.add(attributes["id"])
        for key in ("src", "href"):
            if key in attributes:
                self.urls.append(attributes[key])
        self._in_script = tag == "script"

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)

    def handle_endtag(self, tag):
        self._in_script = False


def test_the_html_report_parses_has_the_matrix_and_curve_data_and_no_external_url(mnist):
    from mnist_core.store.checkpoint import load_model

    record = read_record(CHECKPOINT_DIR / "writeup004.json")
    model, _ = load_model(CHECKPOINT_DIR / "writeup004.pt")
    evaluation = evaluate(model, mnist.test.head(500)).to_dict()
    page = html_report(record, evaluation)
    parser = Collector()
    parser.feed(page)
    assert "confusion-matrix" in parser.ids and "curve-data" in parser.ids and "svg" in parser.tags
    data = json.loads(parser.scripts[-1])
    assert data["confusion_matrix"] == evaluation["confusion_matrix"] and len(data["history"]) == len(record.history)
    assert all(url.startswith("data:") for url in parser.urls)
    assert "http://" not in page and "https://" not in page and "//cdn" not in page


def test_a_crop_block_keeps_the_centre_and_checks_its_size():
    spec = {"name": "cropped", "layers": [{"block": "crop", "size": 24}, {"block": "conv", "out": 10, "kernel": 24},
                                          {"block": "gap"}]}
    rows = spec_layers(spec)
    assert rows[0]["output"] == "1×24×24" and rows[1]["output"] == "10×1×1"
    net = build(spec).eval()
    image = torch.zeros(1, 1, 28, 28)
    image[..., :2, :] = 100.0  # border only: the crop must not see it
    with torch.no_grad():
        assert torch.allclose(net(image), net(torch.zeros(1, 1, 28, 28)))
    with pytest.raises(SpecError, match=r"layer 2 \(crop\): cannot keep 26×26 of a 24×24 input"):
        spec_layers({"name": "x", "layers": [{"block": "crop", "size": 24}, {"block": "crop", "size": 26}]})
