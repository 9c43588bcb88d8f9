"""Every shipped checkpoint exports to ONNX and TorchScript and reads the first 500 test digits as
the torch model does; the "use this model" snippet runs as shown; an unexportable model is refused
in one line. (The full 10k parity and latencies: scripts/export_parity.py, docs/export.md.)"""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch
import torch.nn as nn
from PIL import Image

from mnist_core.analysis.export import (
    EXTENSIONS,
    FORMATS,
    OPSET,
    ExportError,
    check_parity,
    export_model,
    usage_snippet,
)
from mnist_core.data.mnist import test_images_uint8 as raw_test_images
from mnist_core.store.checkpoint import load_model
from mnist_core.store.shipped import list_checkpoints

CHECKPOINTS = list_checkpoints()[0]
SUBSET = 500


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("record", CHECKPOINTS, ids=lambda record: record.name)
def test_export_reads_the_test_digits_as_the_checkpoint_does(record, fmt, mnist, tmp_path):
    model, _ = load_model(record.weights_path)
    path = tmp_path / f"{record.name}{EXTENSIONS[fmt]}"
    written = export_model(model, fmt, path)
    assert written["file_bytes"] == path.stat().st_size > 0
    assert written["opset"] == (OPSET if fmt == "onnx" else None)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary file left

    parity = check_parity(model, path, fmt, mnist.test.head(SUBSET), latency_calls=1)
    assert parity["images"] == SUBSET
    assert parity["argmax_agreement"] >= 99.99
    assert abs(parity["test_acc"] - parity["torch_test_acc"]) <= 0.01
    assert parity["max_abs_diff"] < 1e-3
    assert parity["opset"] == written["opset"]
    assert parity["latency_ms_export"] > 0 and parity["latency_ms_torch"] > 0


def test_the_usage_snippet_runs_as_shown_and_reads_a_test_digit(mnist, tmp_path):
    record = CHECKPOINTS[0]
    model, _ = load_model(record.weights_path)
    file_name = f"{record.name}.onnx"
    export_model(model, "onnx", tmp_path / file_name)
    (tmp_path / "use_model.py").write_text(usage_snippet(file_name))
    digit = raw_test_images()[0].numpy()  # white on black, as MNIST stores it
    label = int(mnist.test.labels[0])
    Image.fromarray(digit).save(tmp_path / "digit.png")
    Image.fromarray(255 - digit).save(tmp_path / "paper.png")  # dark ink on white paper
    for image in ("digit.png", "paper.png"):
        result = subprocess.run([sys.executable, "use_model.py", image], cwd=tmp_path,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert int(result.stdout.split()[0]) == label, result.stdout


class DataDependentBranch(nn.Module):
    """Python control flow on a tensor's value: neither torch.export nor a trace can capture it."""

    def forward(self, x):
        if x.sum() > 0:
            return x
        return -x


class Unexportable(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3), DataDependentBranch())
        self.classifier = nn.Linear(4, 10)

    def forward(self, x):
        return self.classifier(self.features(x).mean((2, 3)))


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unexportable_model_is_refused_in_one_line_naming_the_block(fmt, tmp_path):
    with pytest.raises(ExportError) as refused:
        export_model(Unexportable(), fmt, tmp_path / f"net{EXTENSIONS[fmt]}")
    message = str(refused.value)
    assert "\n" not in message
    assert "'features.1' (DataDependentBranch)" in message and "if x.sum() > 0" in message
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_an_unknown_format_names_the_known_ones(tmp_path):
    with pytest.raises(ValueError, match="onnx"):
        export_model(nn.Linear(784, 10), "tflite", tmp_path / "net.tflite")


def test_the_onnx_batch_axis_is_dynamic(tmp_path):
    from mnist_core.analysis.export import load_exported

    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10)).eval()
    export_model(model, "onnx", tmp_path / "net.onnx")
    run = load_exported(tmp_path / "net.onnx", "onnx")
    for batch in (1, 7):
        pixels = torch.rand(batch, 1, 28, 28)
        assert run(pixels).shape == (batch, 10)
