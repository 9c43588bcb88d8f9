"""Shared UI helpers for the pages: cached loaders, charts and image grids.

Everything cached here reads only its arguments. ML logic stays in mnist_core.
"""
from __future__ import annotations

from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from mnist_core.checkpoint import CheckpointError, load_model
from mnist_core.data import load_mnist, test_images_uint8
from mnist_core.evaluate import evaluate
from mnist_core.records import Record
from mnist_core.runs import start_run, trained_models

DIGITS = list(range(10))


def _send_deep_links_through_router() -> None:
    """Streamlit's one gap that needs a workaround, kept here (app_ui is imported by the router
    and by every page, so this runs before any page body).

    On a fresh server, Streamlit runs a deep-linked page (/train) straight from pages/ without the
    router: its v1 "pages directory" fallback, on while the class flag
    `PagesManager.uses_pages_directory` is true (until some session calls st.navigation). Turning
    the flag off and rerunning sends that same URL through the router, which then shows the page
    with the app's own navigation. tests/test_deep_link.py fails loudly if the flag disappears."""
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if PagesManager.uses_pages_directory and get_script_run_ctx(suppress_warning=True) is not None:
        PagesManager.uses_pages_directory = False
        st.rerun()


def collapse_sidebar_on_phones() -> None:
    """On a narrow screen (a phone) the sidebar covers most of the page and Streamlit leaves it
    open after a navigation; close it. There is no Python API for this, so a tiny script clicks
    the sidebar's own collapse button, only when the window is narrow and the sidebar is open."""
    st.html("""<script>
      if (window.innerWidth <= 768) {
        const button = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
        const sidebar = document.querySelector('[data-testid="stSidebar"]');
        if (button && sidebar && sidebar.getAttribute('aria-expanded') !== 'false') { button.click(); }
      }
    </script>""", unsafe_allow_javascript=True, width="content")


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


@st.cache_resource(show_spinner="Loading model…", max_entries=64)
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


@st.cache_resource(show_spinner="Loading MNIST…")
def cached_mnist():
    return load_mnist()


@st.cache_resource(show_spinner=False)
def cached_test_images() -> np.ndarray:
    return test_images_uint8().numpy()


def test_labels(indices: list[int]) -> list[int]:
    return cached_mnist().test.labels[list(indices)].tolist()


@st.cache_data(show_spinner="Evaluating on the 10,000 test images…", max_entries=32)
def cached_evaluation(path: str, modified: float, size: int) -> dict:
    model, _ = cached_model(path, modified, size)
    return evaluate(model, cached_mnist().test).to_dict()


def evaluation_of(record: Record) -> dict:
    """The test-set report of a record's weights; CheckpointError when they cannot be loaded."""
    return cached_evaluation(*weights_key(record))  # its cached_model call raises CheckpointError


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


def confusion_chart(matrix: list[list[int]], normalized: bool = False) -> alt.Chart:
    """Counts (or, normalized, the share of each true digit) with clickable cells."""
    totals = [max(sum(row), 1) for row in matrix]
    frame = pd.DataFrame([{"true": t, "predicted": p, "count": matrix[t][p],
                           "share": matrix[t][p] / totals[t]} for t in DIGITS for p in DIGITS])
    value = "share" if normalized else "count"
    cell = alt.selection_point(name="cell", fields=["true", "predicted"], on="click")
    base = alt.Chart(frame, height=420, width=420).encode(
        x=alt.X("predicted:O", title="predicted", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("true:O", title="true label"))
    heat = base.mark_rect().encode(
        color=alt.Color(f"{value}:Q", scale=alt.Scale(type="symlog" if not normalized else "sqrt", scheme="blues"),
                        legend=None),
        opacity=alt.condition(cell, alt.value(1.0), alt.value(0.5)),
        tooltip=["true", "predicted", "count", alt.Tooltip("share:Q", format=".2%")]).add_params(cell)
    text = base.mark_text(fontSize=10 if normalized else 11).encode(
        text=alt.Text(f"{value}:Q", format=".1%" if normalized else "d"),
        color=alt.condition(f"datum.{value} > {0.5 if normalized else 300}", alt.value("white"), alt.value("black")))
    return heat + text


def canvas_from_digit(digit: np.ndarray) -> np.ndarray:
    """A 28x28 uint8 digit as the Draw page's 280x280 RGBA canvas (white ink on opaque black)."""
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., :3] = np.kron(np.asarray(digit, np.uint8), np.ones((10, 10), np.uint8))[..., None]
    rgba[..., 3] = 255
    return rgba


def image_grid(images: list[np.ndarray], captions: list[str], columns: int = 8) -> None:
    for start in range(0, len(images), columns):
        cells = st.columns(columns)
        for cell, image, caption in zip(cells, images[start:start + columns], captions[start:start + columns]):
            cell.image(upscale(image, 3), caption=caption, width="stretch")


def history_frame(histories: dict[str, list[dict]], include_partial: bool = False,
                  train_sizes: dict[str, int] | None = None) -> pd.DataFrame:
    """Long table: one row per (run, epoch, split) for curves, from key -> history rows, with the
    cumulative wall time and images seen. A partial (stopped) epoch sits at its fraction, e.g. 2.4,
    and is marked `partial`; it is left out unless asked for."""
    rows = []
    for key, history in histories.items():
        seconds = 0.0
        size = (train_sizes or {}).get(key, 55000)
        for row in history:
            seconds += row.get("seconds") or 0.0
            if row.get("partial") and not include_partial:
                continue
            fraction = row.get("batches", 1) / max(row.get("batches_per_epoch") or row.get("batches") or 1, 1)
            epoch = row["epoch"] - 1 + fraction if row.get("partial") else row["epoch"]
            for split in ("train", "val", "test"):
                rows.append({"run": key, "epoch": epoch, "split": SPLIT_NAMES[split],
                             "accuracy": row.get(f"{split}_acc"), "loss": row.get(f"{split}_loss"),
                             "wall time (s)": seconds, "images seen": epoch * size,
                             "partial": bool(row.get("partial"))})
    return pd.DataFrame(rows, columns=["run", "epoch", "split", "accuracy", "loss", "wall time (s)",
                                       "images seen", "partial"])


SPLIT_NAMES = {"train": "train", "val": "validation", "test": "test"}
SPLIT_COLOURS = alt.Scale(domain=["train", "validation", "test"], range=["#4c78a8", "#f58518", "#54a24b"])


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


def metric_scale(frame: pd.DataFrame, metric: str) -> alt.Scale:
    """Loss on a log scale; accuracy zoomed to the epochs after the first (which starts far lower
    and is clamped to the bottom edge), so the part that matters is readable."""
    if metric != "accuracy":
        return alt.Scale(type="log")
    later = frame.loc[frame["epoch"] > 1, "accuracy"].dropna()
    low = max(0.0, float(later.min()) - 0.5) if len(later) else 0.0
    return alt.Scale(domain=[low, 100.0], clamp=True)


def live_curves_chart(frame: pd.DataFrame, metric: str, epochs: int, height: int = 260) -> alt.Chart:
    """One run's train / validation / test curves in stable colours, x fixed to the planned epochs."""
    scale = metric_scale(frame, metric)
    return alt.Chart(frame, height=height, title=f"{metric} per epoch").mark_line(point=True).encode(
        x=alt.X("epoch:Q", scale=alt.Scale(domain=[0, max(epochs, 1)]), axis=alt.Axis(tickMinStep=1, format="~f")),
        y=alt.Y(f"{metric}:Q", scale=scale, title=metric + (" (%)" if metric == "accuracy" else "")),
        color=alt.Color("split:N", scale=SPLIT_COLOURS, legend=alt.Legend(orient="right", title=None)),
        tooltip=["split", alt.Tooltip("epoch:Q", format=".2f"), alt.Tooltip(f"{metric}:Q", format=".4f")],
    )


def batch_loss_chart(batches: list[dict], total_steps: int, height: int = 260) -> alt.Chart:
    """Raw batch loss (faint) with an exponential moving average over it, log scale."""
    frame = pd.DataFrame(batches)[["step", "loss"]].dropna()
    frame = frame[frame["loss"] > 0]
    frame["smoothed"] = frame["loss"].ewm(alpha=0.1).mean()
    x = alt.X("step:Q", title="batch", scale=alt.Scale(domain=[0, max(total_steps, 1)]))
    base = alt.Chart(frame, height=height, title="batch loss (faint) and its moving average")
    raw = base.mark_line(opacity=0.3, color="#999999").encode(x=x, y=alt.Y("loss:Q", scale=alt.Scale(type="log")))
    smooth = base.mark_line(color="#e45756", strokeWidth=2).encode(x=x, y="smoothed:Q",
                                                                     tooltip=["step", alt.Tooltip("smoothed:Q", format=".4f")])
    return raw + smooth


def lr_chart(schedule: list[dict], current_step: int | None, height: int = 260) -> alt.Chart:
    """The planned learning-rate schedule; a rule marks where the run is now."""
    frame = pd.DataFrame(schedule)
    line = alt.Chart(frame, height=height, title="learning rate (planned)").mark_line(color="#4c78a8").encode(
        x=alt.X("step:Q", title="batch"), y=alt.Y("lr:Q", title="learning rate", axis=alt.Axis(format="~g")),
        tooltip=["step", alt.Tooltip("lr:Q", format=".2e")])
    if not current_step:
        return line
    rule = alt.Chart(pd.DataFrame({"step": [current_step]})).mark_rule(color="#e45756").encode(x="step:Q")
    return line + rule


def sample_grid_image(images: np.ndarray, labels: list[int], predictions: list[int] | None,
                      columns: int = 12, factor: int = 3) -> np.ndarray:
    """The live view's fixed test digits as one picture: each digit with a green (right) or red
    (wrong) frame and its predicted label under it; grey before the first epoch ends."""
    from PIL import Image, ImageDraw

    from PIL import ImageFont

    cell, label_height = 28 * factor + 8, 22
    font = ImageFont.load_default(size=15)
    rows = -(-len(labels) // columns)
    canvas = Image.new("RGB", (columns * cell, rows * (cell + label_height)), "white")
    draw = ImageDraw.Draw(canvas)
    for position, (image, label) in enumerate(zip(images, labels)):
        left, top = (position % columns) * cell, (position // columns) * (cell + label_height)
        predicted = None if predictions is None else predictions[position]
        colour = "#bbbbbb" if predicted is None else ("#2e9e44" if predicted == label else "#d62728")
        draw.rectangle([left + 1, top + 1, left + cell - 2, top + cell - 2], fill=colour)
        digit = Image.fromarray(upscale(image, factor)).convert("RGB")
        canvas.paste(digit, (left + 4, top + 4))
        text = "…" if predicted is None else f"{predicted}" + ("" if predicted == label else f" (true {label})")
        draw.text((left + 4, top + cell + 1), text, font=font, fill=colour if predicted is not None else "#777777")
    return np.asarray(canvas)


def heat_colours(heat: np.ndarray) -> np.ndarray:
    """(H, W) in [0, 1] -> (H, W, 3) in [0, 1]: dark blue through red to yellow."""
    heat = np.clip(np.asarray(heat, dtype=np.float32), 0, 1)
    return np.stack([np.clip(1.6 * heat, 0, 1), np.clip(1.6 * heat - 0.6, 0, 1), 0.35 * (1 - heat)], axis=-1)


def overlay(image: np.ndarray, heat: np.ndarray, factor: int = 8, strength: float = 0.65) -> np.ndarray:
    """A 28x28 digit (ink = 1) in gray with a heat map laid over it, upscaled: uint8 RGB."""
    gray = np.repeat(np.clip(np.asarray(image, np.float32), 0, 1)[..., None], 3, axis=-1)
    weight = strength * np.clip(np.asarray(heat, np.float32), 0, 1)[..., None]
    mixed = (1 - weight) * 0.8 * gray + weight * heat_colours(heat)
    big = np.kron(mixed, np.ones((factor, factor, 1), np.float32))
    return (np.clip(big, 0, 1) * 255).astype(np.uint8)


def tile(maps: np.ndarray, columns: int = 8, factor: int = 4, gap: int = 2) -> np.ndarray:
    """(N, H, W) maps, each scaled to [0, 1] on its own, as one uint8 grid picture."""
    maps = np.asarray(maps, dtype=np.float32)
    count, height, width = maps.shape
    low = maps.reshape(count, -1).min(1)[:, None, None]
    high = maps.reshape(count, -1).max(1)[:, None, None]
    scaled = np.where(high > low, (maps - low) / np.maximum(high - low, 1e-12), 0.0)
    factor = max(1, factor * 28 // max(height, 1) // 2) if height < 14 else factor
    cell_h, cell_w = height * factor + gap, width * factor + gap
    columns = min(columns, count)
    rows = -(-count // columns)
    canvas = np.ones((rows * cell_h, columns * cell_w), np.float32)
    for index in range(count):
        top, left = (index // columns) * cell_h, (index % columns) * cell_w
        canvas[top:top + height * factor, left:left + width * factor] = np.kron(scaled[index], np.ones((factor, factor)))
    return (canvas * 255).astype(np.uint8)


PALETTE = ["#4c78a8", "#e45756", "#f58518", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6",
           "#9d755d", "#ffbb78", "#1f77b4", "#9467bd", "#c49c94", "#e377c2", "#aec7e8", "#8c564b",
           "#98df8a", "#bcbd22", "#17becf", "#c5b0d5"]  # vivid, no greys: greys read as "disabled"


def model_colour(name: str) -> str:
    """A colour that depends on the name only (a hash into the 20-colour palette), so a model keeps
    it on every chart whatever else is selected. The salt was picked so that the twelve shipped
    models get twelve different colours, none of them pale, and the iterations of one write-up
    (and our own four models) get different hues; runs may share one."""
    import hashlib

    return PALETTE[int(hashlib.sha1(f"lab271003{name}".encode()).hexdigest(), 16) % len(PALETTE)]


def colour_scale(names) -> alt.Scale:
    names = sorted(set(names))
    return alt.Scale(domain=names, range=[model_colour(name) for name in names])


def iteration_order(record: Record) -> tuple:
    """Write-up 000 -> 004, then our own models, then runs; within a write-up by name."""
    kinds = {"shipped": 0, "promoted": 1, "run": 2}
    return (kinds.get(record.kind, 3), record.source == "own", record.source, record.name)


def probabilities_heatmap(rows: list[dict], order: list[str], height_per_row: int = 26) -> alt.Chart:
    """Each model's ten probabilities as a row of cells (darker = more likely), models in `order`."""
    frame = pd.DataFrame([{"model": row["model"], "digit": digit, "probability": p}
                          for row in rows for digit, p in enumerate(row["probabilities"])])
    base = alt.Chart(frame, height=max(120, height_per_row * len(rows))).encode(
        x=alt.X("digit:O", axis=alt.Axis(labelAngle=0, orient="top"), title=None),
        y=alt.Y("model:N", sort=order, title=None, axis=alt.Axis(labelOverlap=False, labelLimit=200)))
    cells = base.mark_rect().encode(
        color=alt.Color("probability:Q", scale=alt.Scale(domain=[0, 1], scheme="blues"), legend=None),
        tooltip=["model", "digit", alt.Tooltip("probability:Q", format=".3f")])
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text("probability:Q", format=".0%"),
        color=alt.condition("datum.probability > 0.5", alt.value("white"), alt.value("#333")),
        opacity=alt.condition("datum.probability >= 0.05", alt.value(1.0), alt.value(0.0)))
    return cells + text


def explanation(model, image: np.ndarray, tensor, key: str) -> None:
    """Saliency and Grad-CAM over a 28x28 input (`image` in [0, 1], `tensor` normalized for the
    model), then the feature maps of every conv layer and one channel's kernels."""
    from mnist_core.explain import explain, kernels

    result = explain(model, tensor)
    a, b, c = st.columns(3)
    a.image(upscale(image, 8), caption="Input (28×28)", width="stretch")
    b.image(overlay(image, result.saliency.numpy()), width="stretch",
            caption="Saliency: pixels whose change moves the answer most")
    c.image(overlay(image, result.gradcam.numpy()), width="stretch",
            caption=f"Grad-CAM on {result.gradcam_layer}: where the evidence for {result.prediction} is")
    st.markdown("**Feature maps** (each channel scaled on its own; bright = strongly active)")
    for index, maps in enumerate(result.feature_maps):
        st.image(tile(maps.maps.numpy(), columns=16), width="content",
                 caption=f"conv {index + 1}: {maps.layer}, {maps.channels} channels of "
                         f"{maps.maps.shape[1]}×{maps.maps.shape[2]}")
    left, right = st.columns(2)
    layers = [maps.layer for maps in result.feature_maps]
    layer = left.selectbox("Kernels of layer", layers, key=f"kernel_layer_{key}")
    channels = next(maps.channels for maps in result.feature_maps if maps.layer == layer)
    channel = right.number_input("channel", 0, channels - 1, 0, key=f"kernel_channel_{key}")
    weights = kernels(model, layer, int(channel)).numpy()  # (in_channels, k, k)
    st.image(tile(weights, columns=16, factor=12), width="content",
             caption=f"{layer}, channel {channel}: its {weights.shape[0]} kernels of "
                     f"{weights.shape[1]}×{weights.shape[2]} (one per input channel)")


@st.cache_data(show_spinner="Computing test-set logits…", max_entries=32)
def cached_logits(path: str, modified: float, size: int):
    from mnist_core.evaluate import predict_logits

    model, _ = cached_model(path, modified, size)
    return predict_logits(model, cached_mnist().test.images)


def logits_of(record: Record):
    """(10000, 10) test-set logits of a record's weights; CheckpointError when they cannot load."""
    return cached_logits(*weights_key(record))  # its cached_model call raises CheckpointError


@st.cache_data(show_spinner="Probing robustness (once per checkpoint; cached on disk)…", max_entries=64)
def cached_robustness(path: str, modified: float, size: int) -> list[dict]:
    from mnist_core.robustness import cached_probe

    model, _ = cached_model(path, modified, size)
    return cached_probe(path, cached_mnist().test, model=model)


def robustness_of(record: Record) -> list[dict]:
    """[{perturbation, strength, accuracy}] on the first 2,000 test images; CheckpointError if the
    weights cannot be loaded."""
    return cached_robustness(*weights_key(record))  # its cached_model call raises CheckpointError


def to_unit(images) -> np.ndarray:
    """Normalized (N, 1, 28, 28) tensors -> (N, 28, 28) floats in [0, 1] for pictures."""
    from mnist_core.data import MNIST_MEAN, MNIST_STD

    return np.clip(images[:, 0].numpy() * MNIST_STD + MNIST_MEAN, 0, 1)


def queue_runs(configs, batch: str):
    """Queue configurations to train one after another on the cached dataset."""
    from mnist_core.runs import enqueue
    return enqueue(configs, batch, data=cached_mnist())


def start_training(config):
    """Start a background run on the cached dataset (RunBusyError if one is training)."""
    return start_run(config, data=cached_mnist())


_send_deep_links_through_router()
