"""Train an iteration and manage runs: settings -> Start -> live dashboard; every run in a table.

The page only lays out its parts; each lives in app_ui (train_form, builder, queue_panel, preview,
live_view, run_manager, sweep_panel) and is tested on its own."""
import pandas as pd
import streamlit as st

from app_ui.builder import builder
from app_ui.live_view import live_view, run_charts
from app_ui.preview import augmentation_preview
from app_ui.queue_panel import open_finished_batch, queue_panel
from app_ui.run_manager import run_actions, runs_table
from app_ui.sweep_panel import sweep_panel
from app_ui.train_form import BUILD, FOLLOW, OPEN, form_config, prepare_form, settings_form, start_row
from mnist_core.lab import launch, run_queue
from mnist_core.models import create_model
from mnist_core.models.trace import trace_layers
from mnist_core.store import runs
from mnist_core.training.config import ConfigError


def layers_expander(model: str) -> None:
    with st.expander(f"Layer table of {model}"):
        rows = [{**row, "output": "×".join(map(str, row["output"]))} for row in trace_layers(create_model(model))]
        st.dataframe(pd.DataFrame(rows), hide_index=True)


def open_run_name(all_runs: list, active) -> str | None:
    """The run shown under Start: the one the user opened, the queue's current one when following
    it, else the training one, else the newest."""
    names = [run.name for run in all_runs]
    if st.session_state.get(FOLLOW) and active is not None:
        st.session_state[OPEN] = active.name  # follow the queue from run to run
    if st.session_state.get(OPEN) not in names:
        st.session_state[OPEN] = active.name if active is not None else (names[0] if names else None)
    return st.session_state.get(OPEN)


def render() -> None:
    st.title("Train an iteration")
    active = prepare_form()
    settings_form()
    if st.session_state.form_model == BUILD:
        with st.container(border=True, key="builder"):
            builder()
    config, error = None, None
    try:
        config = form_config()
        launch.check_trainable(config)
    except ConfigError as invalid:
        error = str(invalid)
    all_runs = runs.list_runs()
    start_row(config, error, active, len(all_runs))
    if st.session_state.form_model != BUILD:
        layers_expander(st.session_state.form_model)
    queue_panel()
    sweep_panel(st.session_state.form_model, st.session_state.form_recipe)
    augmentation_preview(config)
    open_finished_batch()
    name = open_run_name(all_runs, active)
    if name is None:
        st.info("No runs yet: choose settings above and press Start.")
        return
    opened = next(run for run in all_runs if run.name == name)
    waiting = any(item.state == "waiting" for item in run_queue.queued())
    # the live view reads the run's files every 2 s: the run trains in its own process meanwhile
    st.fragment(run_every=2.0 if opened.is_running or waiting else None)(live_view)(name)
    run_charts(opened)
    if not opened.is_running:
        run_actions(opened)
    st.divider()
    runs_table(all_runs)


render()
