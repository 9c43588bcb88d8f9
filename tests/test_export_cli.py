"""`python -m mnist_core export`: every shipped checkpoint in both formats reads the 10,000 test
digits as the checkpoint does; a run exports by name; a bad checkpoint, an unknown run, an
unexportable model or a bad --out gets one line and leaves nothing behind; demo mode writes only a
new file inside the runs folder; the README's "Take your model with you" code runs as printed."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from PIL import Image

from mnist_core.analysis.export import EXTENSIONS, FORMATS, OPSET
from mnist_core.data.mnist import test_images_uint8 as raw_test_images
from mnist_core.models import registry
from mnist_core.store.checkpoint import save_checkpoint
from mnist_core.store.shipped import list_checkpoints

ROOT = Path(__file__).resolve().parent.parent
CHECKPOINTS = list_checkpoints()[0]


def tree(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*")) if folder.exists() else []


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    return lines[0]


def check_export(record, fmt, cli, tmp_path, limit: int | None) -> dict:
    out = tmp_path / f"{record.name}{EXTENSIONS[fmt]}"
    result = cli("export", "--checkpoint", record.weights_path, "--format", fmt, "--out", out, "--json",
                 "--latency-calls", "20", *(["--limit", str(limit)] if limit else []))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["images"] == (limit or 10_000) and report["parity_ok"]
    assert report["argmax_agreement"] >= 99.99
    assert abs(report["test_acc"] - report["torch_test_acc"]) <= 0.01
    assert abs(report["recorded_test_acc"] - record.summary.final_test_acc) <= 1e-6
    assert report["max_abs_diff"] < 1e-3
    assert report["file_bytes"] == out.stat().st_size and report["path"] == str(out)
    assert report["opset"] == (OPSET if fmt == "onnx" else None)
    assert report["input"]["shape"] == ["batch", 1, 28, 28]
    assert report["latency_ms_export"] > 0 and report["latency_ms_torch"] > 0 and report["latency_calls"] == 20
    assert report["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert tree(tmp_path) == [out.name]  # no temporary file left
    return report


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_export_scores_the_10k_test_digits_as_the_checkpoint_recorded(fmt, cli, tmp_path):
    frontier = next(record for record in CHECKPOINTS if record.name == "frontier")
    report = check_export(frontier, fmt, cli, tmp_path, limit=None)
    assert abs(report["test_acc"] - frontier.summary.final_test_acc) <= 0.01  # the checkpoint's recorded figure


def test_the_text_report_times_200_calls_by_default(cli, tmp_path):
    out = tmp_path / "frontier.onnx"
    result = cli("export", "--checkpoint", ROOT / "checkpoints" / "frontier.pt", "--format", "onnx", "--out", out,
                 "--limit", "500")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith(f"wrote {out} (") and "ONNX opset 18" in lines[0]
    assert "parity on 500 test images: argmax agreement 100.00%" in lines[1]
    assert "median of 200" in lines[2] and torch.backends.cpu.get_cpu_capability() in lines[2]


def test_a_run_exports_by_name(cli, tmp_path, monkeypatch, tiny_data):
    from mnist_core.lab.launch import train_run
    from mnist_core.training.recipes import default_config

    monkeypatch.setenv("MNIST_RUNS", str(tmp_path / "runs"))
    train_run(default_config("writeup001_iter2", epochs=1, batch_size=64, limit=256, eval_limit=200),
              tmp_path / "runs", name="mine", data=tiny_data)
    out = tmp_path / "mine.torchscript.pt"
    result = cli("export", "--run", "mine", "--format", "torchscript", "--out", out, "--json", "--limit", "1000",
                 "--latency-calls", "5")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["source"] == "run mine" and report["model"] == "writeup001_iter2" and report["parity_ok"]
    assert out.is_file()


def test_an_unknown_run_or_one_without_weights_is_one_line(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_RUNS", str(tmp_path / "runs"))
    out = tmp_path / "out" / "x.onnx"
    assert "no run named 'nobody'" in one_error_line(cli("export", "--run", "nobody", "--format", "onnx",
                                                         "--out", out))
    assert not (tmp_path / "out").exists()


def pickled(path: Path) -> Path:
    torch.save({"format": "mnist_core.checkpoint/1", "model": "frontier", "state_dict": {}, "hook": nn.ReLU()}, path)
    return path


BAD_CHECKPOINTS = {
    "corrupt": (lambda path: path.write_bytes((ROOT / "checkpoints" / "frontier.pt").read_bytes()[:5000]),
                "truncated or not a PyTorch checkpoint"),
    "pickled": (pickled, "pickled Python objects, which are refused"),
    "missing": (lambda path: None, "checkpoint not found"),
    "unknown model": (lambda path: save_checkpoint(path, nn.Linear(784, 10), "no_such_model"), "no_such_model"),
}


@pytest.mark.parametrize("kind", BAD_CHECKPOINTS)
def test_a_bad_checkpoint_is_one_line_and_nothing_is_written(kind, cli, tmp_path):
    make, words = BAD_CHECKPOINTS[kind]
    checkpoint = tmp_path / "given.pt"
    make(checkpoint)
    before = tree(tmp_path)
    result = cli("export", "--checkpoint", checkpoint, "--format", "onnx", "--out", tmp_path / "new" / "x.onnx")
    assert words in one_error_line(result)
    assert tree(tmp_path) == before


class DataDependentBranch(nn.Module):
    def forward(self, x):
        if x.sum() > 0:  # Python control flow on a tensor's value: no graph can hold it
            return x
        return -x


@pytest.fixture
def unexportable_checkpoint(tmp_path, monkeypatch) -> Path:
    """A valid checkpoint of a registered model that cannot be exported (registered for this test)."""
    def factory() -> nn.Module:
        return nn.Sequential(nn.Conv2d(1, 4, 3), DataDependentBranch(), nn.Flatten(), nn.Linear(4 * 26 * 26, 10))

    factory.__name__ = "unexportable_net"
    info = registry.ModelInfo("unexportable_net", "own", "a test's", None, 100_000, None, "", "frontier", factory)
    monkeypatch.setitem(registry._REGISTRY, "unexportable_net", info)
    return save_checkpoint(tmp_path / "unexportable.pt", factory(), "unexportable_net")


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unexportable_model_is_one_line_naming_the_block(fmt, cli, tmp_path, unexportable_checkpoint):
    before = tree(tmp_path)
    result = cli("export", "--checkpoint", unexportable_checkpoint, "--format", fmt,
                 "--out", tmp_path / "deep" / "er" / f"x{EXTENSIONS[fmt]}")
    line = one_error_line(result)
    assert "'1' (DataDependentBranch)" in line and "if x.sum() > 0" in line, line
    assert tree(tmp_path) == before  # not the file, not a temporary, not the folders made for it


def test_an_out_that_is_a_folder_or_under_a_file_is_one_line(cli, tmp_path):
    frontier = ROOT / "checkpoints" / "frontier.pt"
    (tmp_path / "a-file").write_text("mine")
    before = tree(tmp_path)
    assert "it is a folder" in one_error_line(cli("export", "--checkpoint", frontier, "--format", "onnx",
                                                  "--out", tmp_path))
    assert "is a file, not a folder" in one_error_line(cli("export", "--checkpoint", frontier, "--format", "onnx",
                                                           "--out", tmp_path / "a-file" / "x.onnx"))
    assert tree(tmp_path) == before and (tmp_path / "a-file").read_text() == "mine"


def test_demo_mode_writes_a_new_file_inside_the_runs_folder_only(cli, tmp_path, monkeypatch):
    runs_folder = tmp_path / "runs"
    runs_folder.mkdir()
    monkeypatch.setenv("MNIST_RUNS", str(runs_folder))
    monkeypatch.setenv("MNIST_LAB_MODE", "demo")
    frontier = ROOT / "checkpoints" / "frontier.pt"
    outside = tmp_path / "frontier.onnx"
    line = one_error_line(cli("export", "--checkpoint", frontier, "--format", "onnx", "--out", outside))
    assert "outside the runs folder" in line and "off in this demo" in line
    assert not outside.exists()
    inside = runs_folder / "frontier.onnx"
    result = cli("export", "--checkpoint", frontier, "--format", "onnx", "--out", inside, "--limit", "200",
                 "--latency-calls", "5")
    assert result.returncode == 0 and inside.is_file(), result.stderr
    again = cli("export", "--checkpoint", frontier, "--format", "onnx", "--out", inside)  # over another export
    assert "over an existing file" in one_error_line(again)


def readme_snippet() -> str:
    """The Python block of the README's "Take your model with you" section."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Take your model with you", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readmes_snippet_runs_on_an_exported_model_and_reads_a_test_digit(cli, mnist, tmp_path):
    snippet = readme_snippet()
    file_name = re.search(r'InferenceSession\("([^"]+)"', snippet).group(1)
    command = re.search(r"python -m mnist_core export (.*?--out \S+)", (ROOT / "README.md").read_text()).group(1)
    arguments = command.replace("`", "").split()
    assert arguments[arguments.index("--out") + 1] == file_name  # the README's verb writes what its code reads
    result = cli("export", *arguments[:arguments.index("--out")], "--out", tmp_path / file_name, "--limit", "100",
                 "--latency-calls", "5")
    assert result.returncode == 0, result.stderr
    (tmp_path / "snippet.py").write_text(snippet)
    for index in (0, 1, 2):
        Image.fromarray(raw_test_images()[index].numpy()).save(tmp_path / "digit.png")  # white on black
        ran = subprocess.run([sys.executable, "snippet.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.strip().splitlines()[-1] == str(int(mnist.test.labels[index])), ran.stdout
