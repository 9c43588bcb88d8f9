"""Cached loaders: trained models, the dataset and each checkpoint's derived results.

Everything cached here reads only its arguments (a weights file's path, mtime and size), so a
changed file is a new cache entry. ML logic stays in mnist_core.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import streamlit as st

from mnist_core.analysis.evaluate import report_from_logits
from mnist_core.analysis.export import OnnxModel
from mnist_core.data.mnist import load_test, test_images_uint8, verify_files
from mnist_core.lab.export_builder import build_in_background
from mnist_core.lab.launch import start_run
from mnist_core.store.checkpoint import CheckpointError, load_model
from mnist_core.store.derived import cached_probe, test_log_probs
from mnist_core.store.exported import cached_export
from mnist_core.store.records import Record
from mnist_core.store.runs import trained_models

from . import warmup

READOUT_ENV = "MNIST_DRAW_READOUT"  # "onnx" (default) or "torch": what reads a drawing with every model


def checkpoint_records(include_runs: bool = False) -> dict[str, Record]:
    """key -> Record of every loadable-looking trained model: shipped and promoted checkpoints
    (best final test accuracy first), then, with include_runs, finished or stopped runs (newest
    first). Files that cannot be read are skipped and shown as a note on the page."""
    records, problems = trained_models(include_runs=include_runs)
    show_problems(problems)
    checkpoints = sorted((r for r in records if r.kind != "run"), key=lambda r: -r.summary.final_test_acc)
    return {record.key: record for record in checkpoints + [r for r in records if r.kind == "run"]}


def show_problems(problems: list[str]) -> None:
    if problems:
        with st.expander(f"{len(problems)} file(s) skipped", icon=":material/warning:"):
            for problem in problems:
                st.caption(problem)


def record_label(records: dict[str, Record]):
    """format_func for a chooser keyed by record key."""
    return lambda key: records[key].label() if key in records else key


@st.cache_resource(show_spinner=False, max_entries=64)  # ~30 ms a model; preloaded by warmup
def cached_model(path: str, modified: float, size: int):
    """(model, checkpoint); the file's mtime and size invalidate the cache when it changes."""
    return load_model(path)


def weights_key(record: Record) -> tuple[str, float, int]:
    """(path, mtime, size) of a record's weights: the cache key of everything computed from them.
    CheckpointError with a one-line reason for a file that disappeared since the page listed it."""
    path = record.weights_path
    try:
        stat = Path(path).stat()
    except (OSError, TypeError):
        raise CheckpointError(f"{record.key}: its weights file is gone ({path})") from None
    return path, stat.st_mtime, stat.st_size


def model_from(record: Record):
    """(model, checkpoint), or CheckpointError with a one-line reason."""
    return cached_model(*weights_key(record))


def loadable_models(records: dict[str, Record]) -> dict[str, object]:
    """key -> model for every record whose weights load; the others are listed in a note."""
    models, problems = {}, []
    for key, record in records.items():
        try:
            models[key] = model_from(record)[0]
        except CheckpointError as error:
            problems.append(f"{error} (skipped)")
    show_problems(problems)
    return models


@st.cache_resource(show_spinner=False, max_entries=64)
def cached_onnx_model(path: str, modified: float, size: int) -> OnnxModel:
    """The kept ONNX export of these weights in onnxruntime, one thread; LookupError while there is
    none (an exception is not cached: the next pen-up asks again)."""
    kept = cached_export(path, "onnx")
    if kept is None:
        raise LookupError(f"no ONNX export of {path} yet")
    return OnnxModel(kept, threads=1)


def readout_models(records: dict[str, Record], models: dict[str, object]) -> dict[str, object]:
    """key -> what reads a drawing (the Draw page's twelve-model readout): the model's ONNX export in
    onnxruntime on one thread where it is built, else the torch model, whose missing exports are
    then built in a child process (mnist_core.lab.export_builder). Measured by scripts/bench_app.py on
    this 2-core machine: pen-up -> prediction p50 186-200 ms against 266-272 ms with torch
    (docs/export.md). Torch throughout until the server's background imports (onnxruntime among
    them) are done, or with MNIST_DRAW_READOUT=torch."""
    if os.environ.get(READOUT_ENV, "onnx").strip().lower() == "torch" or not warmup.done():
        return models
    readers, missing = {}, []
    for key, model in models.items():
        try:
            readers[key] = cached_onnx_model(*weights_key(records[key]))
        except Exception:  # noqa: BLE001
            readers[key] = model
            missing.append(records[key].weights_path)
    if missing:
        build_in_background(missing)
    return readers


@st.cache_resource(show_spinner=False)  # ~0.1 s, loaded in the background by warmup
def cached_test():
    """The test split (31 MB): all a page needs. The server never holds the training images
    (~250 MB more): runs train in their own process (memory per server stays small)."""
    return load_test()


@st.cache_resource(show_spinner=False)
def cached_test_images() -> np.ndarray:
    return test_images_uint8().numpy()


def test_labels(indices: list[int]) -> list[int]:
    return cached_test().labels[list(indices)].tolist()


@st.cache_data(show_spinner="Evaluating on the 10,000 test images (once per checkpoint; kept on disk)…",
               max_entries=32)
def cached_evaluation(path: str, modified: float, size: int) -> dict:
    return report_from_logits(cached_logits(path, modified, size), cached_test().labels).to_dict()


def evaluation_of(record: Record) -> dict:
    """The test-set report of a record's weights; CheckpointError when they cannot be loaded."""
    return cached_evaluation(*weights_key(record))


@st.cache_data(show_spinner="Computing test-set predictions (once per checkpoint; kept on disk)…", max_entries=32)
def cached_logits(path: str, modified: float, size: int):
    """Test-set log-probabilities: from checkpoints/derived/ or the disk cache, else computed
    (loading the weights, which raises CheckpointError for a bad file)."""
    return test_log_probs(path, cached_test())


def logits_of(record: Record):
    """(10000, 10) test-set log-probabilities of a record's weights (they serve every metric that
    logits do); CheckpointError when they cannot be loaded."""
    return cached_logits(*weights_key(record))


@st.cache_data(show_spinner="Probing robustness (once per checkpoint; kept on disk)…", max_entries=64)
def cached_robustness(path: str, modified: float, size: int) -> list[dict]:
    return cached_probe(path, cached_test())


def robustness_of(record: Record) -> list[dict]:
    """[{perturbation, strength, accuracy}] on the first 2,000 test images; CheckpointError if the
    weights cannot be loaded."""
    return cached_robustness(*weights_key(record))


def queue_runs(configs, batch: str):
    """Queue configurations to train one after another, each in its own process."""
    from mnist_core.lab.run_queue import enqueue

    verify_files()  # a missing or broken dataset is refused here (DatasetError), not in the run
    return enqueue(configs, batch)


def start_training(config):
    """Start a run in its own process (RunBusyError if one is training): the server stays free to
    serve pages while the run has the CPU torch would give a CLI run. The dataset is checked here
    first (DatasetError), so a broken one is a message on the page, not a failed run."""
    verify_files()
    return start_run(config)
