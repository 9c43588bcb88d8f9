"""Take a model away: Download ONNX / Download TorchScript and how to use the file, for the Evaluate
page's checkpoint or run and the All runs table's run.

An export is built the first time someone asks for it (the button's data is a function Streamlit
calls on the click, in its own thread, so the page never waits for an export it may not need) and
kept on disk per weights file by mnist_core.store.exported; later visits serve the kept file. A
model that cannot be exported shows its one-line reason in place of the button (from the next
rerun after the failed click: Streamlit's own message says the download failed).
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from mnist_core.analysis.export import EXTENSIONS, FORMATS, usage_snippet
from mnist_core.store import exported

LABELS = {"onnx": "Download ONNX", "torchscript": "Download TorchScript"}
HELP = {"onnx": "For onnxruntime and most runtimes (opset 18). Input: (batch, 1, 28, 28) pixels 0..1, a white digit "
                "on black; the MNIST normalisation is inside the model. Built once, then kept.",
        "torchscript": "For libtorch (C++) or torch.jit.load; same input as the ONNX file. Built once, then kept."}


def model_downloads(weights: Path | str, name: str, key: str, slots: list | None = None) -> None:
    """Two download buttons for the model in `weights` (files named after `name`), in `slots` (two
    columns of the caller's row; default a row of their own), then a "Use this model" snippet;
    `key` keeps the buttons apart from others on the page."""
    columns = slots or st.columns(len(FORMATS))
    try:
        digest = exported.content_digest(weights)
    except OSError as error:
        st.error(f"Cannot export {name}: its weights cannot be read ({error.strerror or error})")
        return
    for column, fmt in zip(columns, FORMATS):
        failure = exported.known_failure(weights, fmt, digest)
        if failure is not None:
            column.error(failure, icon=":material/block:")
            continue
        kept = exported.cached_export(weights, fmt, digest)
        data = kept.read_bytes() if kept is not None else build(weights, fmt)
        column.download_button(LABELS[fmt], data, f"{name}{EXTENSIONS[fmt]}", "application/octet-stream",
                               key=f"{key}_{fmt}", icon=":material/deployed_code:", help=HELP[fmt],
                               on_click="ignore")
    with st.expander("Use this model", icon=":material/code:"):
        st.caption("Download ONNX, save this as use_model.py beside it and run `python use_model.py digit.png` "
                   "(a 28×28 digit, either polarity). From the command line, with a parity check on the 10,000 "
                   "test digits: `python -m mnist_core export --help` (docs/export.md).")
        st.code(usage_snippet(f"{name}.onnx"), language="python")


def build(weights: Path | str, fmt: str):
    """The export's bytes, built when the button is clicked (a function of no arguments)."""
    return lambda: exported.export_bytes(weights, fmt)
