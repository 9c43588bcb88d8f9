"""The open run's live view: progress, Stop, epoch curves against the planned epochs, the batch
loss, the planned learning rate and a grid of test digits relabelled at each epoch end.
"""
from __future__ import annotations

import json
import math

import streamlit as st

from mnist_core.data.mnist import DatasetError
from mnist_core.store import runs
from mnist_core.training.config import ConfigError, TrainConfig
from mnist_core.training.loop import lr_schedule

from . import charts, loaders, pictures
from .train_form import FOLLOW, TRAIN_IMAGES, duration_text


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
    """The open run, redrawn every second while it trains: progress, Stop, curves, digits."""
    try:
        run = runs.get_run(name)
    except runs.RunNotFoundError:
        st.info("That run is gone (deleted).")
        return
    seen_running = st.session_state.setdefault("seen_running", {})
    if seen_running.get(name) and not run.is_running:
        seen_running[name] = False
        st.rerun(scope="app")  # it just ended: refresh Start, the table and the actions
    active = runs.active_run()
    if st.session_state.get(FOLLOW) and active is not None and active.name != name:
        st.rerun(scope="app")  # the queue started its next run: show that one
    seen_running[name] = run.is_running
    title, button = st.columns([4, 1], vertical_alignment="bottom")
    title.subheader(f"Run {run.name}")
    fraction, text = progress_text(run)
    if run.is_running:
        if button.button("Stop", icon=":material/stop:", key=f"stop_{name}"):
            try:
                st.toast(runs.stop_run(name))
            except runs.RunError as error:
                st.warning(str(error))
    st.progress(fraction, text=text)
    if not run.is_running:
        st.markdown(f"Status: **{run.status}**: {run.reason}")
    run_charts(run)


def run_charts(run: runs.Run) -> None:
    epochs = run.epochs()
    planned = run.config.get("epochs") or 1
    left, right = st.columns(2)
    if epochs:
        frame = charts.history_frame({run.name: epochs}, include_partial=True)
        left.altair_chart(charts.live_curves_chart(frame, "accuracy", planned))
        left.altair_chart(charts.live_curves_chart(frame, "loss", planned))
    else:
        left.caption("Epoch curves appear at the end of the first epoch.")
    total = run.progress.get("total_steps") or 0
    batches = run.batches()
    if batches:
        right.altair_chart(charts.batch_loss_chart(batches, total))
    try:
        config = runs.config_of(run)
        train_size = min(config.limit or TRAIN_IMAGES, TRAIN_IMAGES)
        schedule = planned_lr(json.dumps(config.to_dict(), sort_keys=True), train_size)
        right.altair_chart(charts.lr_chart(schedule, run.progress.get("step")))
    except ConfigError:
        pass
    samples = run.samples()
    latest = samples[-1] if samples else None
    indices = latest["indices"] if latest else runs.sample_indices()
    try:
        labels = latest["labels"] if latest else loaders.test_labels(indices)
        images = loaders.cached_test_images()[indices]
    except DatasetError as error:
        st.caption(f"The test digits cannot be shown: {error}")
        return
    caption = (f"The same {len(indices)} test digits after epoch {latest['epoch']}: green right, red wrong"
               if latest else f"The same {len(indices)} test digits: labelled at each epoch end")
    st.image(pictures.sample_grid_image(images, labels, latest["predictions"] if latest else None), caption=caption)
