"""Shared UI helpers for the pages: cached loaders, charts and image grids.

Everything cached here reads only its arguments. ML logic stays in mnist_core.
"""
from __future__ import annotations

from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from mnist_core.checkpoint import load_model
from mnist_core.data import load_mnist, test_images_uint8
from mnist_core.evaluate import evaluate
from mnist_core.pretrained import CHECKPOINT_DIR, read_records
from mnist_core.runs import list_runs, run_record, start_run

DIGITS = list(range(10))
DEEP_LINK = "deep_link_page"  # session_state: the page a deep link asked for, for the router


def route_through_router(page_file: str) -> None:
    """Call first in every page. On a fresh server Streamlit runs a deep-linked page (/train)
    straight from pages/, bypassing the router: that is its pages/-directory fallback, used until
    some session has called st.navigation. Send such a run through the router once; the router
    then forwards to the page that was asked for, with the app's own navigation."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without the fallback
        return
    if getattr(PagesManager, "uses_pages_directory", False) and Path(page_file).parent.name == "pages":
        st.session_state[DEEP_LINK] = Path(page_file).stem
        st.switch_page("streamlit_app.py")


@st.cache_data(show_spinner=False)
def shipped_records(directory: str = str(CHECKPOINT_DIR)) -> list[dict]:
    """Summaries of the shipped checkpoints (the JSON beside each .pt)."""
    return read_records(Path(directory))


def checkpoint_choices(include_runs: bool = False) -> dict[str, str]:
    """Label -> .pt path for every shipped checkpoint (best final test accuracy first), then runs."""
    records = sorted(shipped_records(), key=lambda r: -r["summary"]["final_test_acc"])
    choices = {f"{r['stem']} ({r['summary']['final_test_acc']:.2f}%)": str(CHECKPOINT_DIR / f"{r['stem']}.pt")
               for r in records}
    if include_runs:
        for record in finished_run_records():
            choices[f"{record['stem']} ({record['summary']['final_test_acc']:.2f}%)"] = record["weights"]
    return choices


def finished_run_records() -> list[dict]:
    """Records of runs in the runs store that have weights (finished or stopped), newest first."""
    records = []
    for run in list_runs():
        if run["status"].get("status") in ("finished", "stopped") and (run["folder"] / "model.pt").exists():
            record = run_record(run["folder"])
            if record["summary"] is not None:
                records.append(record)
    return records


def all_records() -> dict[str, dict]:
    """stem -> record for shipped checkpoints and finished runs (the Compare page's choices)."""
    records = {r["stem"]: r for r in shipped_records()}
    records.update({r["stem"]: r for r in finished_run_records()})
    return records


@st.cache_resource(show_spinner="Loading model…")
def cached_model(path: str, modified: float):
    """(model, checkpoint); `modified` (the file's mtime) invalidates the cache on change."""
    return load_model(path)


def model_from(path: str):
    return cached_model(path, Path(path).stat().st_mtime)


@st.cache_resource(show_spinner="Loading MNIST…")
def cached_mnist():
    return load_mnist()


@st.cache_resource(show_spinner=False)
def cached_test_images() -> np.ndarray:
    return test_images_uint8().numpy()


@st.cache_data(show_spinner="Evaluating on the 10,000 test images…")
def cached_evaluation(path: str, modified: float) -> dict:
    model, _ = cached_model(path, modified)
    return evaluate(model, cached_mnist().test).to_dict()


def evaluation_of(path: str) -> dict:
    return cached_evaluation(path, Path(path).stat().st_mtime)


def upscale(image: np.ndarray, factor: int = 7) -> np.ndarray:
    """A 28x28 float/uint8 image as a crisp, larger uint8 picture."""
    array = np.asarray(image, dtype=np.float32)
    array = array / 255.0 if array.max() > 1.0 else array
    return (np.kron(array, np.ones((factor, factor))) * 255).astype(np.uint8)


def probability_chart(probabilities: list[float], predicted: int) -> alt.Chart:
    frame = pd.DataFrame({"digit": DIGITS, "probability": probabilities})
    frame["predicted"] = frame["digit"] == predicted
    return alt.Chart(frame, height=220).mark_bar().encode(
        x=alt.X("digit:O", title="digit", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("probability:Q", scale=alt.Scale(domain=[0, 1]), title="probability"),
        color=alt.condition("datum.predicted", alt.value("#e4572e"), alt.value("#4c78a8")),
        tooltip=["digit", alt.Tooltip("probability:Q", format=".3f")],
    )


def confusion_chart(matrix: list[list[int]]) -> alt.Chart:
    frame = pd.DataFrame([{"true": t, "predicted": p, "count": matrix[t][p]}
                          for t in DIGITS for p in DIGITS])
    cell = alt.selection_point(name="cell", fields=["true", "predicted"], on="click")
    base = alt.Chart(frame, height=420, width=420).encode(
        x=alt.X("predicted:O", title="predicted", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("true:O", title="true label"))
    heat = base.mark_rect().encode(
        color=alt.Color("count:Q", scale=alt.Scale(type="symlog", scheme="blues"), legend=None),
        opacity=alt.condition(cell, alt.value(1.0), alt.value(0.5)),
        tooltip=["true", "predicted", "count"]).add_params(cell)
    text = base.mark_text(fontSize=11).encode(
        text="count:Q",
        color=alt.condition("datum.count > 300", alt.value("white"), alt.value("black")))
    return heat + text


def image_grid(images: list[np.ndarray], captions: list[str], columns: int = 8) -> None:
    for start in range(0, len(images), columns):
        cells = st.columns(columns)
        for cell, image, caption in zip(cells, images[start:start + columns], captions[start:start + columns]):
            cell.image(upscale(image, 3), caption=caption, width="stretch")


def history_frame(records: dict[str, dict], include_partial: bool = False) -> pd.DataFrame:
    """Long table: one row per (model, epoch, split, metric) for curves. A partial (stopped)
    epoch is plotted at its fraction, e.g. 2.4, only when asked (the live view)."""
    rows = []
    for stem, record in records.items():
        for row in record["history"]:
            if row.get("partial") and not include_partial:
                continue
            for split in ("train", "val", "test"):
                epoch = row["epoch"] - 1 + row["batches"] / max(row.get("batches_per_epoch") or row["batches"], 1) \
                    if row.get("partial") else row["epoch"]
                rows.append({"run": stem, "epoch": epoch, "split": split,
                             "accuracy": row[f"{split}_acc"], "loss": row[f"{split}_loss"]})
    return pd.DataFrame(rows, columns=["run", "epoch", "split", "accuracy", "loss"])


def curves_chart(frame: pd.DataFrame, metric: str, color: str = "run", dash: str = "split",
                 height: int = 300) -> alt.Chart:
    """Per-epoch curves with a clickable legend (click a name to highlight it)."""
    legend = alt.selection_point(fields=[color], bind="legend")
    scale = alt.Scale(zero=False) if metric == "accuracy" else alt.Scale(type="log")
    return alt.Chart(frame, height=height).mark_line(point=True).encode(
        x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1, format=".2~f")),
        y=alt.Y(f"{metric}:Q", scale=scale, title=metric + (" (%)" if metric == "accuracy" else "")),
        color=alt.Color(f"{color}:N"), strokeDash=alt.StrokeDash(f"{dash}:N"),
        opacity=alt.condition(legend, alt.value(1.0), alt.value(0.15)),
        tooltip=[color, dash, "epoch", alt.Tooltip(f"{metric}:Q", format=".4f")],
    ).add_params(legend)


def start_training(config):
    """Start a background run on the cached dataset (RunBusyError if one is training)."""
    return start_run(config, data=cached_mnist())
