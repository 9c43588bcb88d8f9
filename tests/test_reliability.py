"""Bad input of every kind gets a clear one-line error, loses nothing, runs nothing untrusted, and
never takes a page down. One section per kind of bad input (docs/safety.md). The CLI's verbs
run in this process (conftest's `cli` fixture: `main(argv)`, output captured, `env` set per call)."""
import gzip
import json
import os
import re
import struct
import time
import zlib
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from mnist_core.analysis.predict import ImageError, read_image
from mnist_core.data.mnist import DatasetError, load_mnist
from mnist_core.lab import launch
from mnist_core.models import create_model
from mnist_core.store import runs
from mnist_core.store.checkpoint import FORMAT, CheckpointError, load_checkpoint, save_checkpoint
from mnist_core.training.config import ConfigError
from mnist_core.training.loop import lr_schedule
from mnist_core.training.recipes import default_config

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "checkpoints"


def assert_one_line_error(result, *fragments):
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def page(name: str) -> AppTest:
    return AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=60)


def payload(**changes) -> dict:
    model = create_model("writeup004")
    value = {"format": FORMAT, "model": "writeup004", "state_dict": model.state_dict(), "config": {},
             "history": [], "metrics": {}, "versions": {}, "created_at": ""}
    value.update(changes)
    return value


# 1. Checkpoints ------------------------------------------------------------------------------

def bad_checkpoints(folder: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, a fragment its error must contain)."""
    folder.mkdir(parents=True, exist_ok=True)
    cases = {}
    without_weights = payload()
    del without_weights["state_dict"]
    torch.save(without_weights, folder / "missing_key.pt")
    cases["missing_key"] = (folder / "missing_key.pt", "'state_dict' must be a dict, found missing")
    torch.save(payload(state_dict=[1, 2, 3]), folder / "list_state.pt")
    cases["list_state"] = (folder / "list_state.pt", "'state_dict' must be a dict, found a list")
    other = create_model("writeup001_iter4").state_dict()
    torch.save(payload(state_dict=other), folder / "other_shape.pt")
    cases["other_shape"] = (folder / "other_shape.pt", "weights do not fit model 'writeup004'")
    wrong = create_model("writeup004").state_dict()
    first = next(key for key, value in wrong.items() if value.dim() == 4)
    wrong[first] = torch.zeros(3, 3, 3, 3)
    torch.save(payload(state_dict=wrong), folder / "wrong_shape.pt")
    cases["wrong_shape"] = (folder / "wrong_shape.pt", f"{first} has shape (3, 3, 3, 3), the model expects")
    full = (SHIPPED / "writeup004.pt").read_bytes()
    (folder / "truncated.pt").write_bytes(full[: len(full) // 2])
    cases["truncated"] = (folder / "truncated.pt", "truncated or not a PyTorch checkpoint")
    (folder / "text.pt").write_text("this is not a checkpoint\n")
    cases["text"] = (folder / "text.pt", "truncated or not a PyTorch checkpoint")
    nan = create_model("writeup004").state_dict()
    nan[first] = torch.full_like(nan[first], float("nan"))
    torch.save(payload(state_dict=nan), folder / "nan.pt")
    cases["nan"] = (folder / "nan.pt", "NaN or infinite values")
    return cases


def test_bad_checkpoints_are_refused_with_the_reason(tmp_path):
    for name, (path, fragment) in bad_checkpoints(tmp_path).items():
        with pytest.raises(CheckpointError) as caught:
            load_checkpoint(path)
        message = str(caught.value)
        assert fragment in message and str(path) in message, (name, message)
        assert "\n" not in message


def test_bad_checkpoints_exit_2_with_one_line_in_the_cli(cli, tmp_path):
    for name, (path, fragment) in bad_checkpoints(tmp_path).items():
        assert_one_line_error(cli("evaluate", "--checkpoint", str(path), "--limit", "10"), fragment)


def test_a_refused_checkpoint_is_a_plain_note_in_the_app(tmp_path, monkeypatch):
    folder = tmp_path / "checkpoints"
    cases = bad_checkpoints(folder)
    record = json.loads((SHIPPED / "writeup004.json").read_text())
    for name, (path, _) in cases.items():  # give each bad file a record, so the pages list it
        (folder / f"{name}.json").write_text(json.dumps({**record, "name": name, "weights_path": path.name}))
    for suffix in (".pt", ".json"):
        (folder / f"writeup001_iter3{suffix}").write_bytes((SHIPPED / f"writeup001_iter3{suffix}").read_bytes())
    monkeypatch.setenv("MNIST_CHECKPOINTS", str(folder))
    monkeypatch.setenv("MNIST_RUNS", str(tmp_path / "runs"))
    evaluate = page("evaluate").run()
    assert not evaluate.exception
    for name in cases:
        evaluate.selectbox[0].set_value(name).run()
        assert not evaluate.exception, name
        assert any("Cannot evaluate" in error.value for error in evaluate.error), name
    draw = page("draw")
    draw.session_state["draw_injected_image"] = canvas_of_test_digit(0)
    draw.run()
    assert not draw.exception and draw.metric[0].value == "7"
    table = next(element.value for element in draw.html if "probabilities-table" in element.value)
    assert re.findall(r'<th class="model">([^<]+)</th>', table) == [
        "write-up 001 · iteration 3"
    ]  # one row: the good one
    assert sum("(skipped)" in caption.value for caption in draw.caption) == len(cases)


def canvas_of_test_digit(index: int):
    import numpy as np

    from mnist_core.data.mnist import test_images_uint8
    digit = test_images_uint8()[index].numpy()
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., :3] = np.kron(digit, np.ones((10, 10), np.uint8))[..., None]
    rgba[..., 3] = 255
    return rgba


def test_malformed_checkpoint_records_are_skipped_with_a_note(tmp_path):
    from mnist_core.store.shipped import list_checkpoints

    record = json.loads((SHIPPED / "writeup004.json").read_text())
    for name, broken in {"text-acc": {**record, "summary": {**record["summary"], "final_test_acc": "high"}},
                         "list-summary": {**record, "summary": [1]}, "no-summary": {**record, "summary": None},
                         "not-json": None}.items():
        (tmp_path / f"{name}.pt").write_bytes((SHIPPED / "writeup004.pt").read_bytes())
        (tmp_path / f"{name}.json").write_text("{broken" if broken is None else json.dumps(broken))
    records, problems = list_checkpoints(tmp_path)
    assert records == [] and len(problems) == 4
    assert all("(skipped)" in problem for problem in problems)


# 2. Dataset ----------------------------------------------------------------------------------

def broken_dataset(root: Path, kind: str) -> Path:
    """A copy of MNIST (links to the real files) with one file broken."""
    real = Path(os.environ["MNIST_DATA"]) / "MNIST" / "raw"
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for path in real.iterdir():
        if path.name.startswith(("train-images", "t10k-images", "train-labels")):
            (raw / path.name).symlink_to(path)
    labels = (real / "t10k-labels-idx1-ubyte").read_bytes()
    if kind == "bad_label":
        (raw / "t10k-labels-idx1-ubyte").write_bytes(labels[:-1] + bytes([255]))
    else:  # a gzip whose header is fine and whose deflate body is not
        compressed = bytearray(gzip.compress(labels))
        compressed[20:40] = bytes(20)
        (raw / "t10k-labels-idx1-ubyte.gz").write_bytes(bytes(compressed))
    return root


@pytest.mark.parametrize("kind, fragment", [("bad_label", "label 255 at index 9999 is not a digit 0-9"),
                                            ("corrupt_gzip", "cannot read MNIST file")])
def test_a_corrupt_dataset_is_a_dataset_error(cli, tmp_path, kind, fragment):
    root = broken_dataset(tmp_path, kind)
    with pytest.raises(DatasetError, match=fragment):
        load_mnist(root)
    result = cli("evaluate", "--checkpoint", str(SHIPPED / "writeup004.pt"), env={"MNIST_DATA": str(root)})
    assert_one_line_error(result, fragment)


def test_dataset_errors_are_plain_messages_on_evaluate_and_train(tmp_path, monkeypatch):
    import app_ui

    root = broken_dataset(tmp_path / "data", "bad_label")
    monkeypatch.setenv("MNIST_DATA", str(root))
    monkeypatch.setenv("MNIST_RUNS", str(tmp_path / "runs"))
    app_ui.cached_test.clear()
    app_ui.cached_test_images.clear()
    app_ui.cached_evaluation.clear()
    try:
        evaluate = page("evaluate").run()
        assert not evaluate.exception
        assert any("label 255" in error.value for error in evaluate.error)
        train = page("train").run()
        assert not train.exception
        next(b for b in train.button if b.label == "Start training").click().run()
        assert not train.exception
        assert any("Cannot start" in error.value and "label 255" in error.value for error in train.error)
        assert runs.list_runs(tmp_path / "runs") == []
    finally:
        app_ui.cached_test.clear()
        app_ui.cached_test_images.clear()
        app_ui.cached_evaluation.clear()


# 3. Outputs ----------------------------------------------------------------------------------

def test_unwritable_outputs_are_refused_before_training(cli, tmp_path):
    (tmp_path / "a-file").write_text("x")
    env = {"MNIST_RUNS": str(tmp_path / "runs")}
    for out, fragment in ((tmp_path, "it is a directory"), (tmp_path / "a-file" / "m.pt", "is a file"),
                          (Path("/sys/m.pt"), "cannot write")):  # sysfs refuses new files, even to root
        started = time.perf_counter()
        result = cli("train", "--model", "writeup004", "--epochs", "1", "--limit", "256", "--out", str(out), env=env)
        assert_one_line_error(result, fragment)
        assert time.perf_counter() - started < 30
    assert not (tmp_path / "runs").exists() or runs.list_runs(tmp_path / "runs") == []


def test_stale_temporary_files_are_cleaned_on_the_next_start(tmp_path, tiny_data):
    folder = tmp_path / "old-run"
    folder.mkdir()
    stale = [folder / ".model.pt.abc123.tmp", tmp_path / ".status.json.4242.tmp"]
    fresh = folder / ".status.json.99.tmp"  # a live writer's: seconds old, kept
    for path in [*stale, fresh]:
        path.write_bytes(b"half a file")
    for path in stale:
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    launch.train_run(default_config("writeup001_iter2", epochs=1, limit=64, eval_limit=50), tmp_path, data=tiny_data)
    assert not any(path.exists() for path in stale) and fresh.exists()


# 4. Diverged runs ------------------------------------------------------------------------------

class Diverge:
    """Turns the weights into NaN after the first epoch: the next batch's loss is NaN."""

    def on_fit_start(self, state): ...
    def on_epoch_start(self, state): ...
    def on_batch_start(self, state): ...
    def on_batch_end(self, state): ...
    def on_fit_end(self, state): ...

    def on_epoch_end(self, state):
        with torch.no_grad():
            for parameter in state.model.parameters():
                parameter.fill_(float("nan"))


def strict_json(text: str):
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")
    return json.loads(text, parse_constant=refuse)


def test_a_diverged_run_fails_keeps_its_history_and_saves_no_weights(cli, tmp_path, tiny_data):
    config = default_config("writeup001_iter2", epochs=3, limit=128, eval_limit=50, batch_size=64)
    run = launch.train_run(config, tmp_path, name="diverged", data=tiny_data, callbacks=[Diverge()])
    assert run.status == "failed" and "loss became nan" in run.reason
    assert len(run.epochs()) == 1 and not run.has_weights
    listed = cli("runs", "--json", env={"MNIST_RUNS": str(tmp_path)})
    (row,) = strict_json(listed.stdout)
    assert row["status"] == "failed" and row["final_test_acc"] is not None and not row["has_weights"]
    with pytest.raises(CheckpointError, match="NaN"):
        save_checkpoint(tmp_path / "nan.pt", Diverge_model(), "writeup004")
    assert not (tmp_path / "nan.pt").exists()


def Diverge_model():
    model = create_model("writeup004")
    with torch.no_grad():
        next(model.parameters()).fill_(float("nan"))
    return model


def test_every_json_output_is_strict(cli, tmp_path):
    image = tmp_path / "digit.png"
    from PIL import Image
    Image.fromarray(canvas_of_test_digit(1)[..., 0]).save(image)
    for args in (["models", "--json"], ["runs", "--json"],
                 ["evaluate", "--checkpoint", str(SHIPPED / "writeup004.pt"), "--limit", "100", "--json"],
                 ["predict", "--checkpoint", str(SHIPPED / "writeup004.pt"), str(image), "--json"]):
        result = cli(*args, env={"MNIST_RUNS": str(tmp_path / "runs")})
        assert result.returncode == 0, result.stderr
        strict_json(result.stdout)
    nan_checkpoint = bad_checkpoints(tmp_path / "bad")["nan"][0]
    assert_one_line_error(cli("predict", "--checkpoint", str(nan_checkpoint), str(image), "--json"), "NaN")


# 5. Settings ---------------------------------------------------------------------------------

def test_lr_sets_the_onecycle_peak_and_max_lr_cannot_disagree():
    config = default_config("frontier", lr=0.05, epochs=2)
    assert config.scheduler == "onecycle"
    peak = max(row["lr"] for row in lr_schedule(config, 100, points=400))
    assert peak == pytest.approx(0.05, rel=0.02)
    with pytest.raises(ConfigError, match="max_lr"):
        config.replace(max_lr=0.2)


@pytest.mark.parametrize("limit", ["0", "-5"])
def test_evaluate_limit_must_be_positive(cli, limit):
    assert_one_line_error(cli("evaluate", "--checkpoint", str(SHIPPED / "writeup004.pt"), "--limit", limit),
                          "positive integer")


# 6. Images -----------------------------------------------------------------------------------

def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that claims width x height (its pixel data is a stub): only a decoder would notice."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize("side", [10000, 20000])
def test_oversized_images_are_refused_before_decoding(cli, tmp_path, side):
    image = png_header_only(tmp_path / f"{side}.png", side, side)
    started = time.perf_counter()
    with pytest.raises(ImageError, match="megapixels|too large"):
        read_image(image)
    assert time.perf_counter() - started < 1.0
    assert_one_line_error(cli("predict", "--checkpoint", str(SHIPPED / "writeup004.pt"), str(image)), str(image))


def test_unreadable_images_are_one_line_errors(cli, tmp_path):
    (tmp_path / "not.png").write_text("hello")
    assert_one_line_error(cli("predict", "--checkpoint", str(SHIPPED / "writeup004.pt"), str(tmp_path / "not.png")),
                          "cannot read image")
    assert_one_line_error(cli("predict", "--checkpoint", str(SHIPPED / "writeup004.pt"), str(tmp_path / "none.png")),
                          "image not found")


# 7. Run folders --------------------------------------------------------------------------------

def damaged_runs(folder: Path) -> None:
    for name, files in {"bad-config": {"config.json": "{oops", "status.json": "{}"},
                        "bad-status": {"config.json": json.dumps(default_config("writeup004").to_dict()),
                                       "status.json": "[1, 2"},
                        "bad-metrics": {"config.json": json.dumps(default_config("writeup004").to_dict()),
                                        "status.json": json.dumps({"status": "finished", "reason": "done"}),
                                        "metrics.jsonl": "{\"epoch\": 1, \"test_acc\": \n[garbage\n"}}.items():
        (folder / name).mkdir(parents=True)
        for file, text in files.items():
            (folder / name / file).write_text(text)


def test_unreadable_runs_are_listed_as_damaged_and_skipped(cli, tmp_path, monkeypatch):
    damaged_runs(tmp_path / "runs")
    listed = {run.name: run for run in runs.list_runs(tmp_path / "runs")}
    assert listed["bad-config"].status == "damaged" and "config.json" in listed["bad-config"].reason
    assert listed["bad-status"].status == "damaged" and "status.json" in listed["bad-status"].reason
    assert listed["bad-metrics"].status == "finished" and listed["bad-metrics"].record.summary is None
    rows = strict_json(cli("runs", "--json", env={"MNIST_RUNS": str(tmp_path / "runs")}).stdout)
    assert {row["name"]: row["status"] for row in rows}["bad-config"] == "damaged"
    monkeypatch.setenv("MNIST_RUNS", str(tmp_path / "runs"))
    for name in ("train", "compare", "evaluate"):
        app = page(name).run()
        assert not app.exception, name
    train = page("train").run()
    assert "damaged" in list(train.dataframe[-1].value["status"])


# Property-based: random settings and random canvases never end in a traceback -------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mnist_core.training.config import TrainConfig  # noqa: E402

NUMBERS = st.one_of(st.integers(-10, 10**6), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                    st.none(), st.text(max_size=5))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(TrainConfig.__dataclass_fields__)), NUMBERS, max_size=6))
def test_random_train_configs_are_valid_or_a_config_error(values):
    try:
        config = TrainConfig.from_dict(values)
    except ConfigError as error:
        assert str(error)  # names the field
        return
    config.validate()


def canvases():
    import numpy as np

    def build(kind, seed, width):
        rng = np.random.default_rng(seed)
        canvas = np.zeros((280, 280, 4), np.uint8)
        canvas[..., 3] = 255
        if kind == "dot":
            y, x = rng.integers(0, 280, 2)
            canvas[max(0, y - 2):y + 2, max(0, x - 2):x + 2, :3] = 255
        elif kind == "filled":
            canvas[..., :3] = 255
        elif kind == "scribble":
            points = rng.integers(0, 280, (20, 2))
            for (y0, x0), (y1, x1) in zip(points[:-1], points[1:]):
                for t in np.linspace(0, 1, 50):
                    y, x = int(y0 + t * (y1 - y0)), int(x0 + t * (x1 - x0))
                    canvas[max(0, y - width):y + width, max(0, x - width):x + width, :3] = 255
        elif kind == "transparent":
            canvas[..., 3] = 0
        return canvas
    return st.builds(build, st.sampled_from(["empty", "dot", "filled", "scribble", "transparent"]),
                     st.integers(0, 2**32 - 1), st.integers(1, 60))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(canvases())
def test_random_canvases_are_classified_or_said_empty(canvas):
    from mnist_core.analysis.predict import classify_with_models

    model = create_model("frontier").eval()
    prepared, rows = classify_with_models({"frontier": model}, canvas)
    if prepared is not None:
        (row,) = rows
        assert row["prediction"] in range(10) and abs(sum(row["probabilities"]) - 1) < 1e-4


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(canvases())
def test_the_draw_page_takes_any_canvas(canvas):
    app = page("draw")
    app.session_state["draw_injected_image"] = canvas
    app.run()
    assert not app.exception
