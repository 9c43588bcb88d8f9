"""The open run's live view: progress, Stop and the batch loss every 2 s (a fragment); epoch curves
against the planned epochs, the planned learning rate and a grid of test digits relabelled at each
epoch end (redrawn only when an epoch ends). The run trains in its own process; this only reads
its files.
"""
from __future__ import annotations

import json
import math

import streamlit as st

from mnist_core.data.mnist import DatasetError, images_per_epoch
from mnist_core.lab import launch
from mnist_core.store import runs
from mnist_core.training.config import ConfigError, TrainConfig
from mnist_core.training.loop import lr_schedule

from . import charts, loaders, pictures
from .train_form import FOLLOW, duration_text


@st.cache_data(show_spinner=False)
def planned_lr(config_json: str, train_size: int) -> list[dict]:
    config = TrainConfig.from_dict(json.loads(config_json))
    return lr_schedule(config, math.ceil(train_size / config.batch_size))


def progress_text(run: runs.Run) -> tuple[float, str]:
    progress = run.progress
    total = progress.get("total_steps") or 0
    fraction = min(1.0, progress.get("step", 0) / total) if total else 0.0
    eta = progress.get("eta_s")
    text = (f"{run.status} · epoch {progress.get('epoch', 0)}/{progress.get('epochs', '?')} · "
            f"batch {progress.get('batch', 0)}/{progress.get('batches_per_epoch', '?')} · "
            f"{progress.get('images_per_s', 0):,.0f} images/s"
            + (f" · about {duration_text(eta)} left" if eta and run.is_running else ""))
    return fraction, text


def live_view(name: str) -> None:
    """The open run's moving parts, redrawn every 2 s while it trains: progress, Stop and the batch
    loss. What changes only at an epoch end (curves, digits) is drawn by run_charts, outside this
    fragment: a new epoch or the run's end reruns the page once, so those redraw only then."""
    try:
        run = runs.get_run(name)
    except runs.RunNotFoundError:
        st.info("That run is gone (deleted).")
        return
    seen = st.session_state.setdefault("live_seen", {})
    now = (run.is_running, len(run.epochs()))
    if name in seen and seen[name] != now:
        seen[name] = now
        st.rerun(scope="app")  # an epoch ended, or the run did: refresh the charts, Start, the table
    seen[name] = now
    active = launch.active_run()
    if st.session_state.get(FOLLOW) and active is not None and active.name != name:
        st.rerun(scope="app")  # the queue started its next run: show that one
    title, button = st.columns([4, 1], vertical_alignment="bottom")
    title.subheader(f"Run {run.name}")
    fraction, text = progress_text(run)
    if run.is_running:
        if button.button("Stop", icon=":material/stop:", key=f"stop_{name}"):
            try:
                st.toast(launch.stop_run(name))
            except runs.RunError as error:
                st.warning(str(error))
    st.progress(fraction, text=text)
    reason = (run.config.get("extra") or {}).get("precision_reason")
    if reason:  # the loop settled precision "auto" for this machine: say what and why
        st.caption(f"Precision **{run.config.get('precision')}**"
                   f"{' + channels_last' if run.config.get('channels_last') else ''}: {reason}")
    if not run.is_running:
        st.markdown(f"Status: **{run.status}**: {run.reason}")
    batches = run.batches()
    if batches:
        st.altair_chart(charts.batch_loss_chart(batches, run.progress.get("total_steps") or 0, height=200))


@st.cache_data(show_spinner=False, max_entries=16)
def digits_picture(indices: tuple, labels: tuple, predictions: tuple | None):
    """The grid of fixed test digits, drawn once per epoch's predictions (not on every redraw)."""
    images = loaders.cached_test_images()[list(indices)]
    return pictures.sample_grid_image(images, list(labels), list(predictions) if predictions else None)


def run_charts(run: runs.Run) -> None:
    """What changes at epoch ends: the curves against the planned epochs, the planned learning
    rate and the test digits relabelled after the latest epoch."""
    epochs = run.epochs()
    planned = run.config.get("epochs") or 1
    left, right = st.columns(2)
    if epochs:
        frame = charts.history_frame({run.name: epochs}, include_partial=True)
        left.altair_chart(charts.live_curves_chart(frame, "accuracy", planned))
        right.altair_chart(charts.live_curves_chart(frame, "loss", planned))
    else:
        left.caption("Epoch curves appear at the end of the first epoch.")
    try:
        config = runs.config_of(run)
        train_size = images_per_epoch(config.limit, config.validation_size)
        schedule = planned_lr(json.dumps(config.to_dict(), sort_keys=True), train_size)
        (right if not epochs else left).altair_chart(charts.lr_chart(schedule, None))
    except ConfigError:
        pass
    samples = run.samples()
    latest = samples[-1] if samples else None
    indices = latest["indices"] if latest else runs.sample_indices()
    try:
        labels = latest["labels"] if latest else loaders.test_labels(indices)
        picture = digits_picture(tuple(indices), tuple(labels), tuple(latest["predictions"]) if latest else None)
    except DatasetError as error:
        st.caption(f"The test digits cannot be shown: {error}")
        return
    caption = (f"The same {len(indices)} test digits after epoch {latest['epoch']}: green right, red wrong"
               if latest else f"The same {len(indices)} test digits: labelled at each epoch end")
    st.image(picture, caption=caption)
