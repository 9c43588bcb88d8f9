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

DIGITS = list(range(10))


@st.cache_data(show_spinner=False)
def shipped_records(directory: str = str(CHECKPOINT_DIR)) -> list[dict]:
    """Summaries of the shipped checkpoints (the JSON beside each .pt)."""
    return read_records(Path(directory))


def checkpoint_choices() -> dict[str, str]:
    """Label -> .pt path for every shipped checkpoint, best final test accuracy first."""
    records = sorted(shipped_records(), key=lambda r: -r["summary"]["final_test_acc"])
    return {f"{r['stem']} ({r['summary']['final_test_acc']:.2f}%)": str(CHECKPOINT_DIR / f"{r['stem']}.pt")
            for r in records}


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
