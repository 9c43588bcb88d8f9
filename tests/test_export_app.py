"""Exports kept on disk (mnist_core.store.exported) and the app's Download ONNX / TorchScript:
built once per weights (a second call, or a renamed copy, reuses the file), a damaged entry built
again, a model that cannot be exported remembered and shown in one line; Evaluate and the All runs
table offer both buttons and the "Use this model" snippet, in demo mode too."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
from streamlit.testing.v1 import AppTest

from mnist_core.analysis import export as export_module
from mnist_core.analysis.export import ExportError, load_exported
from mnist_core.lab import export_builder
from mnist_core.store import exported

ROOT = Path(__file__).resolve().parent.parent
FRONTIER = ROOT / "checkpoints" / "frontier.pt"


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("MNIST_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def exports_made(monkeypatch) -> list[str]:
    """Every export_model call, by format (the real function still runs)."""
    calls = []
    real = export_module.export_model

    def counting(model, fmt, out_path):
        calls.append(fmt)
        return real(model, fmt, out_path)

    monkeypatch.setattr(exported, "export_model", counting)
    return calls


def test_an_export_is_built_once_per_weights_and_reused(cache, exports_made, tmp_path):
    first = exported.export_cached(FRONTIER, "onnx")
    assert first.parent == cache / "exported" and first.name.endswith("-v1.onnx")
    stat = first.stat()
    again = exported.export_cached(FRONTIER, "onnx")
    renamed = tmp_path / "my-copy.pt"
    shutil.copy(FRONTIER, renamed)
    assert exported.export_cached(renamed, "onnx") == again == first  # keyed by content, not by name
    assert first.stat().st_mtime_ns == stat.st_mtime_ns and exports_made == ["onnx"]
    assert exported.export_bytes(FRONTIER, "onnx") == first.read_bytes()
    assert load_exported(first, "onnx")(torch.rand(2, 1, 28, 28)).shape == (2, 10)
    assert sorted(p.name for p in first.parent.iterdir()) == [first.name, first.name + ".json"]  # no temporary


@pytest.mark.parametrize("damage", ["flipped", "truncated", "no sidecar", "sidecar not JSON"])
def test_a_damaged_entry_is_built_again(damage, cache, exports_made):
    path = exported.export_cached(FRONTIER, "torchscript")
    good = path.read_bytes()
    sidecar = path.with_name(path.name + ".json")
    if damage == "flipped":
        path.write_bytes(good[:100] + bytes([good[100] ^ 1]) + good[101:])
    elif damage == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif damage == "no sidecar":
        sidecar.unlink()
    else:
        sidecar.write_text("{not json")
    assert exported.cached_export(FRONTIER, "torchscript") is None  # a miss, not an error
    rebuilt = exported.export_cached(FRONTIER, "torchscript")
    assert exports_made == ["torchscript", "torchscript"]
    assert exported.cached_export(FRONTIER, "torchscript") == rebuilt
    assert load_exported(rebuilt, "torchscript")(torch.rand(3, 1, 28, 28)).shape == (3, 10)


class Branchy(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x.flatten(1)[:, :10]
        return -x.flatten(1)[:, :10]


def test_a_model_that_cannot_be_exported_is_remembered(cache, exports_made, tmp_path):
    weights = tmp_path / "branchy.pt"
    weights.write_bytes(b"weights whose model branches on its input")
    with pytest.raises(ExportError, match="Branchy"):
        exported.export_cached(weights, "onnx", model=Branchy())
    with pytest.raises(ExportError, match="Branchy"):
        exported.export_cached(weights, "onnx")  # at once: not loaded, not exported again
    assert exports_made == ["onnx"] and "Branchy" in exported.known_failure(weights, "onnx")
    assert exported.known_failure(weights, "torchscript") is None


def page(name: str) -> AppTest:
    return AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=60)


def export_buttons(app: AppTest) -> dict[str, object]:
    return {button.label: button for button in app.get("download_button")
            if button.label in ("Download ONNX", "Download TorchScript")}


def test_evaluate_offers_both_downloads_and_the_snippet_and_serves_the_kept_file(cache, monkeypatch):
    for suffix in (".pt", ".json"):
        shutil.copy(ROOT / "checkpoints" / f"frontier{suffix}", cache.parent / f"frontier{suffix}")
    monkeypatch.setenv("MNIST_CHECKPOINTS", str(cache.parent))
    app = page("evaluate").run()
    assert not app.exception
    buttons = export_buttons(app)
    assert sorted(buttons) == ["Download ONNX", "Download TorchScript"]
    assert all(button.proto.HasField("deferred_file_id") for button in buttons.values())  # built on the click
    assert any(expander.label == "Use this model" for expander in app.expander)
    assert any('InferenceSession("frontier.onnx"' in code.value for code in app.code)
    exported.export_cached(cache.parent / "frontier.pt", "onnx")  # someone clicked Download ONNX
    app.run()
    buttons = export_buttons(app)
    assert not buttons["Download ONNX"].proto.HasField("deferred_file_id")  # now the kept file itself
    assert buttons["Download TorchScript"].proto.HasField("deferred_file_id")


def test_a_model_that_cannot_be_exported_shows_its_reason_in_one_line(cache):
    weights = cache.parent / "branchy.pt"
    weights.parent.mkdir(parents=True, exist_ok=True)
    weights.write_bytes(b"weights whose model branches on its input")
    with pytest.raises(ExportError):
        exported.export_cached(weights, "torchscript", model=Branchy())

    def script(weights):
        from app_ui.export_view import model_downloads

        model_downloads(weights, "branchy", "test")

    app = AppTest.from_function(script, args=(str(weights),), default_timeout=60).run()
    assert not app.exception
    assert [button.label for button in app.get("download_button")] == ["Download ONNX"]
    assert len(app.error) == 1 and "cannot export Branchy to TorchScript" in app.error[0].value
    assert "\n" not in app.error[0].value


@pytest.mark.parametrize("mode", ["full", "demo"])
def test_the_all_runs_table_offers_a_runs_exports(mode, cache, monkeypatch, tmp_path, tiny_data):
    from mnist_core.lab.launch import train_run
    from mnist_core.training.recipes import default_config

    monkeypatch.setenv("MNIST_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("MNIST_LAB_MODE", mode)
    train_run(default_config("writeup001_iter2", epochs=1, batch_size=64, limit=256, eval_limit=200),
              tmp_path / "runs", name="mine", data=tiny_data)
    app = page("train")
    app.session_state["open_run"] = "mine"
    app.run()
    assert not app.exception
    assert sorted(export_buttons(app)) == ["Download ONNX", "Download TorchScript"]
    assert any('InferenceSession("mine.onnx"' in code.value for code in app.code)


def test_the_onnx_readout_reads_a_drawing_as_the_torch_model_does(cache, mnist):
    from mnist_core.analysis.export import OnnxModel
    from mnist_core.analysis.predict import classify_with_models
    from mnist_core.data.mnist import test_images_uint8 as raw_test_images
    from mnist_core.store.checkpoint import load_model

    model = load_model(FRONTIER)[0]
    onnx = OnnxModel(exported.export_cached(FRONTIER, "onnx"))
    images = mnist.test.images[:64]
    with torch.no_grad():
        torch.testing.assert_close(onnx.eval()(images), model(images), atol=1e-4, rtol=1e-4)
    for index in range(5):
        digit = raw_test_images()[index].numpy()
        canvas = np.dstack([np.kron(digit, np.ones((10, 10), np.uint8))] * 3 + [np.full((280, 280), 255, np.uint8)])
        _, by_torch = classify_with_models({"frontier": model}, canvas)
        _, by_onnx = classify_with_models({"frontier": onnx}, canvas)
        assert by_onnx[0]["prediction"] == by_torch[0]["prediction"]
        assert np.allclose(by_onnx[0]["probabilities"], by_torch[0]["probabilities"], atol=1e-5)


def test_the_draw_readout_uses_onnx_where_built_and_torch_elsewhere(cache, monkeypatch):
    from app_ui import loaders, warmup
    from mnist_core.analysis.export import OnnxModel
    from mnist_core.store.checkpoint import load_model
    from mnist_core.store.shipped import list_checkpoints

    records = {record.key: record for record in list_checkpoints()[0] if record.key in ("frontier", "writeup004")}
    models = {key: load_model(record.weights_path)[0] for key, record in records.items()}
    exported.export_cached(records["frontier"].weights_path, "onnx")
    started = []
    monkeypatch.setattr(loaders, "build_in_background", started.append)
    monkeypatch.setattr(warmup, "done", lambda: True)
    loaders.cached_onnx_model.clear()
    readers = loaders.readout_models(records, models)
    assert isinstance(readers["frontier"], OnnxModel)
    assert readers["writeup004"] is models["writeup004"]  # not built yet: torch reads, and the build is asked for
    assert started == [[records["writeup004"].weights_path]]
    monkeypatch.setenv("MNIST_DRAW_READOUT", "torch")
    assert loaders.readout_models(records, models) == models
    monkeypatch.delenv("MNIST_DRAW_READOUT")
    monkeypatch.setattr(warmup, "done", lambda: False)  # onnxruntime not imported yet: torch
    assert loaders.readout_models(records, models) == models


def test_missing_exports_are_built_once_in_a_child_process(cache, tmp_path):
    import time

    weights = tmp_path / "copy-for-the-child.pt"
    shutil.copy(FRONTIER, weights)
    refused = tmp_path / "branchy.pt"
    refused.write_bytes(b"weights whose model branches on its input")
    with pytest.raises(ExportError):
        exported.export_cached(refused, "onnx", model=Branchy())
    assert export_builder.build_in_background([weights, refused]) == [str(weights)]  # a known failure is not retried
    assert export_builder.build_in_background([weights]) == []  # once per process
    deadline = time.time() + 180
    while exported.cached_export(weights, "onnx") is None and time.time() < deadline:
        time.sleep(0.5)
    assert exported.cached_export(weights, "onnx") is not None
