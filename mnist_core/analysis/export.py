"""Take a model out of the lab: export it to ONNX or TorchScript and check the export against it.

The exported graph takes what a person has in hand: pixels in 0..1, a white digit on black,
float32 of shape (B, 1, 28, 28) with a dynamic batch axis B. The MNIST normalisation the lab applies
to its tensors ((x - 0.1307) / 0.3081, `data.mnist.normalize`) is folded into the graph, so the
user never has to know the constants; its output is the model's own scores (logits, or
log-probabilities for the write-ups that end in log_softmax: softmax of either gives the same
probabilities). ONNX goes through torch.export (`torch.onnx.export(dynamo=True)`, which needs
onnxscript) at opset 18; TorchScript through `torch.jit.trace`, which torch marks as deprecated but
still ships for libtorch users.

Choosing and loading checkpoints, naming files and showing results are left to the store, the
scripts and the pages; this module works on a model in memory and a path.
"""
from __future__ import annotations

import contextlib
import copy
import io
import linecache
import os
import re
import statistics
import tempfile
import time
import traceback
import warnings
from pathlib import Path
from typing import Callable

import torch
import torch.nn as nn

from ..data.mnist import MNIST_MEAN, MNIST_STD, Split
from .evaluate import EVAL_BATCH, predict_logits

FORMATS = ("onnx", "torchscript")
EXTENSIONS = {"onnx": ".onnx", "torchscript": ".torchscript.pt"}
# torchlib's own opset in torch 2.14 (a higher one adds a version-conversion pass and gains nothing
# for convolutions, pooling and linear layers); onnxruntime has run opset 18 since 1.14
OPSET = 18
INPUT_NAME, OUTPUT_NAME = "image", "scores"
IMAGE_SHAPE = (1, 28, 28)
NORMALIZATION = "folded in: feed pixels in 0..1 (white digit on black)"


class ExportError(RuntimeError):
    """A model cannot be exported; the one-line message names the block and the op or reason."""


class PixelInput(nn.Module):
    """The model behind the lab's normalisation: takes 0..1 pixels, returns the model's scores."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        normalized = (image - MNIST_MEAN) / MNIST_STD  # (B, 1, 28, 28), as data.mnist.normalize gives
        return self.model(normalized)


def to_pixels(images: torch.Tensor) -> torch.Tensor:
    """The lab's normalised tensors back to 0..1 pixels, what an export takes."""
    return images * MNIST_STD + MNIST_MEAN


def export_model(model: nn.Module, fmt: str, out_path: Path | str) -> dict:
    """Write `model` (a copy, in eval mode) as `fmt` ("onnx" or "torchscript") to `out_path`.

    Normalisation is folded in: the file takes (B, 1, 28, 28) float32 pixels in 0..1, B dynamic,
    and returns (B, 10) scores. The file is written to a temporary name beside `out_path` and
    renamed, so a reader never sees half a file. Raises ExportError (one line naming the block and
    the op) when the model cannot be captured. Returns what was written: format, path, file_bytes,
    opset (ONNX; None for TorchScript), input and output names, normalization, torch version.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    out_path = Path(out_path)
    wrapper = PixelInput(copy.deepcopy(model).cpu().float()).eval()
    example = torch.rand(2, *IMAGE_SHAPE)
    writer = write_onnx if fmt == "onnx" else write_torchscript
    out_path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=out_path.parent, prefix=f".{out_path.name}.", suffix=".tmp")
    os.close(descriptor)
    try:
        opset = writer(wrapper, example, Path(temporary))
        os.chmod(temporary, 0o644)  # mkstemp makes it private; an export is meant to be shared
        os.replace(temporary, out_path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return {"format": fmt, "path": str(out_path), "file_bytes": out_path.stat().st_size, "opset": opset,
            "input": {"name": INPUT_NAME, "shape": ["batch", *IMAGE_SHAPE], "dtype": "float32"},
            "output": {"name": OUTPUT_NAME, "shape": ["batch", 10]},
            "normalization": NORMALIZATION, "torch": torch.__version__}


def write_onnx(wrapper: PixelInput, example: torch.Tensor, path: Path) -> int:
    """torch.export, then the ONNX translation, each step's failure named; returns the opset."""
    batch = torch.export.Dim("batch", min=1)
    with quiet_exporter():
        try:
            program = torch.export.export(wrapper, (example,), dynamic_shapes=({0: batch},))
        except Exception as error:  # noqa: BLE001 - torch.export raises many types
            raise ExportError(failure_line(wrapper, "ONNX", error)) from None
        try:
            onnx_program = torch.onnx.export(program, (example,), dynamo=True, opset_version=OPSET,
                                             input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                                             verbose=False)
        except Exception as error:  # noqa: BLE001 - ConversionError, DispatchError, ...
            raise ExportError(failure_line(wrapper, "ONNX", error, program)) from None
        onnx_program.save(path, external_data=False)
    return int(onnx_program.model.opset_imports[""])


def write_torchscript(wrapper: PixelInput, example: torch.Tensor, path: Path) -> None:  # no opset
    """torch.jit.trace with its TracerWarnings as errors: a trace that would silently bake in a
    Python value (data-dependent branches, .item(), numpy) is refused where it happens."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.jit", category=FutureWarning)
        warnings.simplefilter("error", torch.jit.TracerWarning)
        try:
            traced = torch.jit.trace(wrapper, (example,), check_trace=False)
        except Exception as error:  # noqa: BLE001 - tracing raises many types
            raise ExportError(failure_line(wrapper, "TorchScript", error)) from None
    probe = torch.rand(3, *IMAGE_SHAPE)  # another batch size: the batch axis must not be baked in
    with torch.inference_mode():
        if not torch.allclose(traced(probe), wrapper(probe), atol=1e-4, rtol=1e-4):
            raise ExportError(f"cannot export {type(wrapper.model).__name__} to TorchScript: the trace "
                              "disagrees with the model on a batch of 3 (shape-dependent Python in forward)")
    buffer = io.BytesIO()  # through memory: saved to a path, the archive inside would be named after the temporary
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.jit", category=FutureWarning)
        torch.jit.save(traced, buffer)
    path.write_bytes(buffer.getvalue())
    return None


@contextlib.contextmanager
def quiet_exporter():
    """torch.export prints a failed capture's partial graph to stderr and warns about its own
    internals; the ExportError says what matters in one line instead."""
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def failure_line(wrapper: PixelInput, target: str, error: BaseException, program=None) -> str:
    """'cannot export Net to ONNX: block 'features.1' (Branch): <root cause>' on one line."""
    chain = error_chain(error)
    root = chain[-1]
    message = re.sub(r"\x1b\[[0-9;]*m", "", str(root)).strip()
    reason = f"{type(root).__name__}: {(message.splitlines() or [''])[0]}"[:200]
    op = next((match.group(1) for err in chain
               for match in [re.search(r"op='([\w.]+)'", str(err))] if match), None)
    block = block_of_op(program, op) if op and program is not None else block_in_traceback(wrapper, chain)
    where = f"block {block}" if block else "the model"
    if op and "No ONNX function found" in message:
        what = f"op {op} has no ONNX translation at opset {OPSET}"
    else:
        what = f"op {op}: {reason}" if op else reason
    return f"cannot export {type(wrapper.model).__name__} to {target}: {where}: {what}"


def error_chain(error: BaseException) -> list[BaseException]:
    """`error` and what it wraps (__cause__, else __context__), outermost first."""
    chain: list[BaseException] = []
    while error is not None and error not in chain:
        chain.append(error)
        error = error.__cause__ or error.__context__
    return chain


def block_in_traceback(wrapper: PixelInput, chain: list[BaseException]) -> str | None:
    """The deepest block of the model whose forward was running when the error was raised, with
    the line of its code that raised it: "'features.1' (Branch), `if x.sum() > 0:`"."""
    names = {id(module): name for name, module in wrapper.model.named_modules()}
    found = None
    for error in chain:
        for frame, line_number in traceback.walk_tb(error.__traceback__):
            owner = frame.f_locals.get("self")
            if id(owner) in names:
                code = linecache.getline(frame.f_code.co_filename, line_number).strip()
                found = f"'{names[id(owner)] or '(top)'}' ({type(owner).__name__})" + (f", `{code}`" if code else "")
    return found


def block_of_op(program, op: str) -> str | None:
    """The block whose forward called `op` ("aten._linalg_svd"), from torch.export's module stack;
    the op may appear only once the exporter has decomposed the program, so that is looked at too."""
    found = block_in_graph(program.graph, op)
    if found is None:
        try:
            found = block_in_graph(program.run_decompositions().graph, op)
        except Exception:  # noqa: BLE001 - naming the block is a courtesy; the op is named anyway
            found = None
    return found


def block_in_graph(graph, op: str) -> str | None:
    for node in graph.nodes:
        if ".".join(str(node.target).split(".")[:2]) != op:  # "aten._linalg_svd.default"
            continue
        stack = list((node.meta.get("nn_module_stack") or {}).values())
        if stack:
            path, kind = stack[-1]
            name = re.sub(r"^(L\['self'\]\.)?model\.?", "", str(path))
            class_name = kind.__name__ if isinstance(kind, type) else str(kind).rsplit(".", 1)[-1].strip("'>")
            return f"'{name or '(top)'}' ({class_name})"
    return None


def load_exported(path: Path | str, fmt: str, threads: int | None = None) -> Callable[[torch.Tensor], torch.Tensor]:
    """The export as a function of a (B, 1, 28, 28) pixel tensor -> (B, 10) scores, run by
    onnxruntime (ONNX) or torch.jit (TorchScript) on `threads` intra-op threads (default torch's)."""
    threads = threads or torch.get_num_threads()
    if fmt == "onnx":
        session = onnx_session(path, threads)
        return lambda pixels: torch.from_numpy(session.run(None, {INPUT_NAME: pixels.numpy()})[0])
    if fmt == "torchscript":
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*torch\.jit", category=FutureWarning)
            module = torch.jit.load(str(path), map_location="cpu").eval()

        def run(pixels: torch.Tensor) -> torch.Tensor:
            with torch.inference_mode():
                return module(pixels)
        return run
    raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")


class OnnxModel:
    """An ONNX export called as the lab calls its torch model: the lab's normalised (B, 1, 28, 28)
    tensor in (mapped back to the pixels the export takes), (B, 10) scores out, run by onnxruntime on
    `threads` threads. `eval()` is there so that code written for a model (analysis.predict) takes it."""

    def __init__(self, path: Path | str, threads: int = 1) -> None:
        self.session = onnx_session(path, threads)

    def eval(self) -> "OnnxModel":
        return self

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        pixels = to_pixels(images).contiguous().numpy()
        return torch.from_numpy(self.session.run(None, {INPUT_NAME: pixels})[0])


def onnx_session(path: Path | str, threads: int = 1):
    """An onnxruntime CPU session that uses `threads` threads for an op and runs ops one by one."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def median_latency_ms(call: Callable[[], object], calls: int, warmup: int = 10) -> float:
    """Median wall time of `calls` calls of `call()`, in milliseconds, after min(warmup, calls)
    calls that are not timed (the first ones allocate and pick kernels)."""
    for _ in range(min(warmup, calls)):
        call()
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return 1000.0 * statistics.median(times)


def onnx_opset(path: Path | str) -> int:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return next(int(entry.version) for entry in model.opset_import if entry.domain in ("", "ai.onnx"))


def check_parity(model: nn.Module, exported_path: Path | str, fmt: str, test_split: Split,
                 latency_calls: int = 200) -> dict:
    """The export beside the torch model on `test_split` (the lab's normalised tensors; the export
    gets them as pixels): max_abs_diff of the scores, argmax_agreement, test_acc (export) and
    torch_test_acc in percent, file_bytes, batch-1 latency_ms_export / latency_ms_torch (median of
    `latency_calls` calls on the split's first image, torch eager under inference_mode, both on
    torch's thread count), cpu_capability, threads, and opset for ONNX."""
    net = copy.deepcopy(model).eval()
    one_image = test_split.images[:1].contiguous()

    def torch_call():
        with torch.inference_mode():
            net(one_image)

    # torch first: onnxruntime's idle pool threads spin for a while after each run and would slow
    # torch's own threads down if torch were timed after it
    torch_scores = predict_logits(model, test_split.images)
    latency_torch = median_latency_ms(torch_call, latency_calls)
    run_export = load_exported(exported_path, fmt)
    pixels = to_pixels(test_split.images)
    export_scores = torch.cat([run_export(pixels[start:start + EVAL_BATCH].contiguous())
                               for start in range(0, len(pixels), EVAL_BATCH)]).float()
    one_pixels = pixels[:1].contiguous()
    latency_export = median_latency_ms(lambda: run_export(one_pixels), latency_calls)
    labels = test_split.labels
    return {
        "format": fmt,
        "images": len(labels),
        "max_abs_diff": float((export_scores - torch_scores).abs().max()),
        "argmax_agreement": percent(export_scores.argmax(1) == torch_scores.argmax(1)),
        "test_acc": percent(export_scores.argmax(1) == labels),
        "torch_test_acc": percent(torch_scores.argmax(1) == labels),
        "file_bytes": Path(exported_path).stat().st_size,
        "latency_ms_export": latency_export,
        "latency_ms_torch": latency_torch,
        "latency_calls": latency_calls,
        "threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "opset": onnx_opset(exported_path) if fmt == "onnx" else None,
    }


def percent(hits: torch.Tensor) -> float:
    return 100.0 * float(hits.double().mean()) if len(hits) else float("nan")


def usage_snippet(file_name: str) -> str:
    """A Python script that classifies one image with the ONNX export `file_name` (needs numpy,
    pillow and onnxruntime; `python use_model.py digit.png`). It prepares the image as the lab does
    for a 28x28 MNIST-like digit: grayscale, white ink on black (a light background is inverted),
    pixels 0..1. The normalisation is inside the model. A larger photo or drawing should first be
    cropped to the digit and centred, as the lab's preprocess does."""
    return f'''# pip install onnxruntime numpy pillow
import sys

import numpy as np
import onnxruntime
from PIL import Image

session = onnxruntime.InferenceSession("{file_name}", providers=["CPUExecutionProvider"])


def read_digit(path):
    """(1, 1, 28, 28) float32: a white digit on black, pixels 0..1 (normalisation is in the model)."""
    gray = Image.open(path).convert("L")
    if gray.size != (28, 28):
        gray = gray.resize((28, 28), Image.LANCZOS)
    pixels = np.asarray(gray, dtype=np.float32) / 255.0
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    if np.median(border) > 0.5:  # dark ink on light paper: MNIST is white on black
        pixels = 1.0 - pixels
    return pixels.reshape(1, 1, 28, 28)


image_path = sys.argv[1] if len(sys.argv) > 1 else "digit.png"
scores = session.run(None, {{"{INPUT_NAME}": read_digit(image_path)}})[0][0]
probabilities = np.exp(scores - scores.max())
probabilities /= probabilities.sum()
digit = int(probabilities.argmax())
print(digit, f"({{probabilities[digit]:.1%}})")
'''
