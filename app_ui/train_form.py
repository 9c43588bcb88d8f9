"""The Train page's settings form: TrainConfig fields as widgets (session keys `form_<field>`),
recipe and model changes, a new session mirroring the running run, and the Start / Add to queue row
with its estimate.
"""
from __future__ import annotations

import json

import streamlit as st

from mnist_core.data.mnist import DatasetError, images_per_epoch
from mnist_core.lab import launch
from mnist_core.lab.mode import fit_demo
from mnist_core.models import list_models, model_info
from mnist_core.models.spec import network_parameters
from mnist_core.store import runs
from mnist_core.training.config import DEVICES, LOSSES, OPTIMIZERS, PRECISIONS, SCHEDULERS, ConfigError, TrainConfig
from mnist_core.training.devices import available_devices
from mnist_core.training.planning import estimate_duration
from mnist_core.training.recipes import default_config, get_recipe, list_recipes, spec_config

from . import loaders

OPEN = "open_run"  # session_state: the run shown under Start


FOLLOW = "follow_queue"  # session_state: show whichever run the queue is training


BATCH = "pending_batch"  # session_state: a "Reproduce write-up" batch to open on Compare when done


COMPARE_PAGE = "pages/compare.py"


BUILD = "(build your own)"  # the Architecture choice that opens the block builder


LAYERS = "builder_layers"  # session_state: the builder's blocks, a list of dicts


# Form widgets: TrainConfig field -> (label, kind). Their session_state keys are "form_<field>".
FIELDS = {
    "model": ("Architecture", "model"),
    "recipe": ("Recipe", "recipe"),
    "epochs": ("Epochs", "int"),
    "limit": ("Training images (0 = all 55,000)", "int"),
    "batch_size": ("Batch size", "int"),
    "seed": ("Seed", "int"),
    "optimizer": ("Optimizer", OPTIMIZERS),
    "lr": ("Learning rate (peak for onecycle)", "float"),
    "momentum": ("Momentum", "float"),
    "weight_decay": ("Weight decay", "float"),
    "scheduler": ("Scheduler", SCHEDULERS),
    "step_size": ("Step size (epochs)", "int"),
    "gamma": ("Step decay (gamma)", "float"),
    "loss": ("Loss", LOSSES),
    "label_smoothing": ("Label smoothing", "float"),
    "rotation": ("Rotation (±°)", "float"),
    "translate": ("Shift (± fraction)", "float"),
    "scale": ("Zoom (± fraction)", "float"),
    "precision": ("Precision", PRECISIONS),
    "device": ("Device", DEVICES),  # a chooser only where this machine has more than the CPU
}


def architecture_label(name: str) -> str:
    """"writeup001_iter4 · write-up 001 · iteration 4", "frontier (own)": the name to type and what it is."""
    info = model_info(name)
    return f"{name} · {info.label}" if info.label != name else f"{name} ({info.source})"


def load_form(config: TrainConfig) -> None:
    """Put a config's values into the form's widgets (before they are drawn); a spec's blocks go
    into the builder. In demo mode the config is first shrunk to the demo's cap."""
    config = fit_demo(config)
    for name in FIELDS:
        value = getattr(config, name)
        st.session_state[f"form_{name}"] = (value or 0) if name == "limit" else value
    if config.spec is not None:
        st.session_state.form_model = BUILD
        st.session_state[LAYERS] = [dict(layer) for layer in config.spec["layers"]]
        st.session_state.spec_name = config.spec["name"]


def on_model_change() -> None:
    if st.session_state.form_model == BUILD:
        return  # keep the recipe and settings; the builder below makes the network
    load_form(default_config(st.session_state.form_model).replace(limit=st.session_state.form_limit or None))


def on_recipe_change() -> None:
    model = st.session_state.form_model
    base = default_config("writeup004" if model == BUILD else model, st.session_state.form_recipe)
    load_form(base.replace(limit=st.session_state.form_limit or None))
    st.session_state.form_model = model


def form_config() -> TrainConfig:
    """The form's widgets -> TrainConfig (ConfigError names the field)."""
    values = {name: st.session_state[f"form_{name}"] for name in FIELDS}
    values["limit"] = int(values["limit"]) or None
    model, recipe = values.pop("model"), values.pop("recipe")
    if model == BUILD:
        return spec_config(builder_spec(), recipe, **values)
    return default_config(model, recipe, **values)


def builder_spec() -> dict:
    return {"name": st.session_state.get("spec_name") or "my-net", "layers": st.session_state.get(LAYERS, [])}


def prepare_form() -> runs.Run | None:
    """A new session (a first visit or a reload) starts from the running run's settings, or from
    the default recipe when nothing trains; after that the form is the user's."""
    active = launch.active_run()
    if "form_model" not in st.session_state:
        try:
            load_form(runs.config_of(active) if active is not None else default_config("writeup004"))
        except ConfigError:
            load_form(default_config("writeup004"))
        if active is not None:
            st.session_state[OPEN] = active.name
    return active


def number(column, name: str, step=None, fmt=None) -> None:
    label, kind = FIELDS[name]
    if kind == "int":
        column.number_input(label, min_value=0 if name in ("limit", "seed") else 1, step=step or 1,
                            key=f"form_{name}")
    else:
        column.number_input(label, min_value=0.0, step=step, format=fmt, key=f"form_{name}")


def choice(column, name: str, **kwargs) -> None:
    label, options = FIELDS[name]
    column.selectbox(label, options, key=f"form_{name}", **kwargs)


def settings_form() -> None:
    a, b, c, d = st.columns([1.2, 1.2, 0.8, 1.2])
    a.selectbox("Architecture", [*list_models(), BUILD], key="form_model", on_change=on_model_change,
                format_func=lambda name: name if name == BUILD else architecture_label(name))
    b.selectbox("Recipe", list_recipes(), key="form_recipe", on_change=on_recipe_change,
                help="Default: the recipe of the model's own write-up; `<model>_fast` is our fast variant "
                     "of it (README, Performance). Changing it loads its settings.")
    number(c, "epochs")
    number(d, "limit", step=1000)
    with st.expander("Recipe details: optimizer, schedule, loss, augmentation, precision"):
        notes = get_recipe(st.session_state.form_recipe).extra.get("notes")
        if notes:
            st.caption(f"Recipe notes: {notes}")
        row = st.columns(4)
        choice(row[0], "optimizer")
        number(row[1], "lr", step=0.001, fmt="%.5f")
        number(row[2], "momentum", step=0.05, fmt="%.2f")
        number(row[3], "weight_decay", step=0.0001, fmt="%.5f")
        row = st.columns(4)
        choice(row[0], "scheduler")
        number(row[1], "step_size")
        number(row[2], "gamma", step=0.05, fmt="%.3f")
        number(row[3], "batch_size", step=16)
        row = st.columns(4)
        choice(row[0], "loss")
        number(row[1], "label_smoothing", step=0.05, fmt="%.2f")
        number(row[2], "seed")
        row[3].radio("Precision", PRECISIONS, key="form_precision", horizontal=True,
                     help="auto: bf16 only where this machine measures it faster, else fp32 (the run's page says "
                          "which and why). bf16: the forward pass under bfloat16 autocast (weights and "
                          "updates stay fp32).")
        row = st.columns(4)
        number(row[0], "rotation", step=1.0, fmt="%.1f")
        number(row[1], "translate", step=0.01, fmt="%.2f")
        number(row[2], "scale", step=0.01, fmt="%.2f")
        devices = available_devices()
        if len(devices) > 1:
            row[3].selectbox("Device", ["auto", *devices], key="form_device",
                             help="auto: CUDA, then Apple MPS, then the CPU. The run records where it trained.")


@st.cache_data(show_spinner=False, ttl=600)
def cached_estimate(config_json: str, records_version: int):
    config = TrainConfig.from_dict(json.loads(config_json))
    records, _ = runs.trained_models()
    return estimate_duration(config, images_per_epoch(None, config.validation_size), records)


def duration_text(seconds: float) -> str:
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def start_row(config: TrainConfig | None, error: str | None, active: runs.Run | None, run_count: int) -> None:
    left, middle, right = st.columns([1, 1, 3], vertical_alignment="center")
    reason = (f"{active.name} is training; only one run trains at a time" if active is not None
              else error)
    if middle.button("Add to queue", icon=":material/queue:", disabled=error is not None,
                     help="Trains after whatever is training or queued now, one run at a time"):
        try:
            loaders.queue_runs([config], "queued by hand")
        except ConfigError as refused:  # e.g. a demo's queue is full
            st.error(f"Cannot queue: {refused}")
        else:
            st.session_state[FOLLOW] = True
            st.toast("Queued")
    if left.button("Start training", type="primary", icon=":material/play_arrow:",
                   disabled=reason is not None, help=reason):
        try:
            run = loaders.start_training(config)
        except (launch.RunBusyError, DatasetError) as refused:
            st.error(f"Cannot start: {refused}")
            return
        st.session_state[OPEN] = run.name
        st.rerun()
    if active is not None:
        right.caption(f"Start is off while **{active.name}** trains (one run at a time on this server).")
    elif error is not None:
        right.error(f"Invalid setting: {error}")
    elif config is not None:
        estimate = cached_estimate(json.dumps(config.to_dict(), sort_keys=True), run_count)
        right.caption(
            f"**{network_parameters(config.model, config.spec):,} parameters** · "
            f"estimated **{duration_text(estimate.seconds)}** "
            f"for {config.epochs} epochs ({estimate.images_per_s:,.0f} training images/s, from "
            f"{estimate.basis})"
        )
