"""Train an iteration and manage runs: settings -> Start -> live dashboard; every run in a table."""
import json
import math

import pandas as pd
import streamlit as st

import app_ui as ui
from mnist_core import runs
from mnist_core.augment import preview
from mnist_core.config import LOSSES, OPTIMIZERS, PRECISIONS, SCHEDULERS, ConfigError, TrainConfig
from mnist_core.data import DatasetError
from mnist_core.layers import layer_table
from mnist_core.models import create_model, list_models, model_info
from mnist_core.planning import estimate_duration
from mnist_core.pretrained import list_checkpoints
from mnist_core.recipes import default_config, get_recipe, list_recipes, spec_config
from mnist_core.spec import BLOCKS, network_parameters, partial_table, spec_from_model
from mnist_core.train import lr_schedule

TRAIN_IMAGES = 55000  # the training split (60k minus the 5k validation images)
OPEN = "open_run"  # session_state: the run shown under Start
FOLLOW = "follow_queue"  # session_state: show whichever run the queue is training
BATCH = "pending_batch"  # session_state: a "Reproduce write-up" batch to open on Compare when done
COMPARE_PAGE = "pages/compare.py"
BUILD = "(build your own)"  # the Architecture choice that opens the block builder
LAYERS = "builder_layers"  # session_state: the builder's blocks, a list of dicts
# Form widgets: TrainConfig field -> (label, kind). Their session_state keys are "form_<field>".
FIELDS = {
    "model": ("Architecture", "model"), "recipe": ("Recipe", "recipe"), "epochs": ("Epochs", "int"),
    "limit": ("Training images (0 = all 55,000)", "int"), "batch_size": ("Batch size", "int"),
    "seed": ("Seed", "int"), "optimizer": ("Optimizer", OPTIMIZERS), "lr": ("Learning rate (peak for onecycle)", "float"),
    "momentum": ("Momentum", "float"), "weight_decay": ("Weight decay", "float"),
    "scheduler": ("Scheduler", SCHEDULERS), "step_size": ("Step size (epochs)", "int"),
    "gamma": ("Step decay (gamma)", "float"), "loss": ("Loss", LOSSES),
    "label_smoothing": ("Label smoothing", "float"), "rotation": ("Rotation (±°)", "float"),
    "translate": ("Shift (± fraction)", "float"), "scale": ("Zoom (± fraction)", "float"),
    "precision": ("Precision", PRECISIONS),
}


def load_form(config: TrainConfig) -> None:
    """Put a config's values into the form's widgets (before they are drawn); a spec's blocks go
    into the builder."""
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
    base = default_config("seed004" if model == BUILD else model, st.session_state.form_recipe)
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
    active = runs.active_run()
    if "form_model" not in st.session_state:
        try:
            load_form(runs.config_of(active) if active is not None else default_config("seed004"))
        except ConfigError:
            load_form(default_config("seed004"))
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
                format_func=lambda name: name if name == BUILD else f"{name} ({model_info(name).source})")
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
                     help="bf16: the forward pass under bfloat16 autocast (weights and updates stay fp32).")
        row = st.columns(4)
        number(row[0], "rotation", step=1.0, fmt="%.1f")
        number(row[1], "translate", step=0.01, fmt="%.2f")
        number(row[2], "scale", step=0.01, fmt="%.2f")


@st.cache_data(show_spinner=False, ttl=600)
def cached_estimate(config_json: str, records_version: int):
    config = TrainConfig.from_dict(json.loads(config_json))
    records, _ = runs.trained_models()
    return estimate_duration(config, TRAIN_IMAGES, records)


def duration_text(seconds: float) -> str:
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def start_row(config: TrainConfig | None, error: str | None, active: runs.Run | None, run_count: int) -> None:
    left, middle, right = st.columns([1, 1, 3], vertical_alignment="center")
    reason = (f"{active.name} is training; only one run trains at a time" if active is not None
              else error)
    if middle.button("Add to queue", icon=":material/queue:", disabled=error is not None,
                     help="Trains after whatever is training or queued now, one run at a time"):
        ui.queue_runs([config], "queued by hand")
        st.session_state[FOLLOW] = True
        st.toast("Queued")
    if left.button("Start training", type="primary", icon=":material/play_arrow:",
                   disabled=reason is not None, help=reason):
        try:
            run = ui.start_training(config)
        except (runs.RunBusyError, DatasetError) as refused:
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
        right.caption(f"**{network_parameters(config.model, config.spec):,} parameters** · estimated **{duration_text(estimate.seconds)}** "
                      f"for {config.epochs} epochs ({estimate.images_per_s:,.0f} training images/s, from "
                      f"{estimate.basis})")


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
    charts(run)


def charts(run: runs.Run) -> None:
    epochs = run.epochs()
    planned = run.config.get("epochs") or 1
    left, right = st.columns(2)
    if epochs:
        frame = ui.history_frame({run.name: epochs}, include_partial=True)
        left.altair_chart(ui.live_curves_chart(frame, "accuracy", planned))
        left.altair_chart(ui.live_curves_chart(frame, "loss", planned))
    else:
        left.caption("Epoch curves appear at the end of the first epoch.")
    total = run.progress.get("total_steps") or 0
    batches = run.batches()
    if batches:
        right.altair_chart(ui.batch_loss_chart(batches, total))
    try:
        config = runs.config_of(run)
        train_size = min(config.limit or TRAIN_IMAGES, TRAIN_IMAGES)
        schedule = planned_lr(json.dumps(config.to_dict(), sort_keys=True), train_size)
        right.altair_chart(ui.lr_chart(schedule, run.progress.get("step")))
    except ConfigError:
        pass
    samples = run.samples()
    latest = samples[-1] if samples else None
    indices = latest["indices"] if latest else runs.sample_indices()
    try:
        labels = latest["labels"] if latest else ui.test_labels(indices)
        images = ui.cached_test_images()[indices]
    except DatasetError as error:
        st.caption(f"The test digits cannot be shown: {error}")
        return
    caption = (f"The same {len(indices)} test digits after epoch {latest['epoch']}: green right, red wrong"
               if latest else f"The same {len(indices)} test digits: labelled at each epoch end")
    st.image(ui.sample_grid_image(images, labels, latest["predictions"] if latest else None), caption=caption)


def run_actions(run: runs.Run) -> None:
    """For a run that is not training: reuse its settings, download, promote / un-promote, delete."""
    a, b, c, d, e = st.columns([1.5, 1.1, 1.1, 1, 1])
    if a.button("Settings from this run", icon=":material/tune:", key="reuse"):
        try:
            load_form(runs.config_of(run))
            st.rerun()
        except ConfigError as error:
            st.error(str(error))
    if run.has_weights:
        b.download_button("Metrics (CSV)", run.metrics_csv(), f"{run.name}.csv", "text/csv",
                          icon=":material/download:")
        c.download_button("Weights (.pt)", run.weights_path.read_bytes(), f"{run.name}.pt",
                          icon=":material/download:")
    if d.button("Promote…", icon=":material/upload:", disabled=run.status != "finished",
                help="Copy into checkpoints/ so every page offers it (finished runs only)"
                if run.status == "finished" else f"Only finished runs can be promoted; this one is {run.status}."):
        promote_dialog(run.name)
    if e.button("Delete…", icon=":material/delete:"):
        delete_dialog(run.name)
    promoted = [r for r in list_checkpoints()[0] if r.kind == "promoted" and r.promoted_from == run.name]
    for record in promoted:
        left, right = st.columns([3, 1], vertical_alignment="center")
        left.success(f"Promoted as checkpoint **{record.name}** ({record.verified_test_acc:.2f}% on the "
                     f"10,000 test images).")
        if right.button("Un-promote", key=f"unpromote_{record.name}", icon=":material/undo:"):
            try:
                runs.unpromote(record.name)
                st.toast(f"Removed {record.name} from checkpoints/")
                st.rerun()
            except runs.RunError as error:
                st.error(str(error))


@st.dialog("Promote this run to checkpoints/?")
def promote_dialog(name: str) -> None:
    try:
        with st.spinner("Loading and evaluating its weights on the 10,000 test images…"):
            plan = runs.plan_promotion(name, data=ui.cached_mnist())
    except (runs.RunError, DatasetError) as error:
        st.error(str(error))
        return
    left, right = st.columns(2)
    left.metric(f"This run ({plan.model})", f"{plan.test_acc:.2f}%", help="Measured now from its weights")
    if plan.shipped_stem:
        right.metric(f"Shipped {plan.shipped_stem}", f"{plan.shipped_test_acc:.2f}%",
                     f"{plan.test_acc - plan.shipped_test_acc:+.2f} points", delta_color="normal")
    stem = st.text_input("Checkpoint name", plan.stem, help="Never overwrites an existing checkpoint")
    st.caption("Every page will offer it. Un-promote removes exactly these two files again.")
    if st.button("Promote", type="primary"):
        try:
            record = runs.promote(name, stem, data=ui.cached_mnist())
        except (runs.RunError, DatasetError) as error:
            st.error(str(error))
            return
        st.toast(f"Promoted as {record.name}")
        st.rerun()


@st.dialog("Delete this run?")
def delete_dialog(name: str) -> None:
    st.write(f"Run **{name}**, its curves and its weights will be deleted. This cannot be undone.")
    left, right = st.columns(2)
    if left.button("Delete", type="primary", icon=":material/delete:"):
        try:
            runs.delete_run(name)
        except runs.RunError as error:
            st.error(str(error))
            return
        st.session_state.pop(OPEN, None)
        st.rerun()
    if right.button("Cancel"):
        st.rerun()


def runs_table(all_runs: list[runs.Run]) -> None:
    st.subheader("All runs")
    rows = []
    for run in all_runs:
        summary = run.record.summary
        started = pd.Timestamp(run.started_at, unit="s", tz="UTC").tz_convert(None) if run.started_at else None
        rows.append({"run": run.name, "status": run.status, "model": run.config.get("model", "?"),
                     "epochs": f"{summary.epochs if summary else 0}/{run.config.get('epochs', '?')}",
                     "final test (%)": summary.final_test_acc if summary else None,
                     "final val (%)": summary.final_val_acc if summary else None,
                     "started (UTC)": started, "wall time (s)": run.wall_seconds})
    event = st.dataframe(pd.DataFrame(rows), hide_index=True, on_select="rerun", selection_mode="single-row",
                         key="runs_table", width="stretch", column_config={
                             "final test (%)": st.column_config.NumberColumn(format="%.2f"),
                             "final val (%)": st.column_config.NumberColumn(format="%.2f"),
                             "started (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                             "wall time (s)": st.column_config.NumberColumn(format="%.0f")})
    st.caption("Click a row to open that run above.")
    picked = event.selection.rows if event is not None else []
    if picked:
        name = rows[picked[0]]["run"]
        if st.session_state.get("last_pick") != name:
            st.session_state.last_pick = name
            st.session_state[OPEN] = name
            st.rerun()


@st.cache_data(show_spinner=False)
def templates() -> dict[str, list[dict]]:
    """Registered models that can be written as blocks, and a small example."""
    found = {"a 3-layer example": [{"block": "conv", "out": 8, "kernel": 3}, {"block": "relu"},
                                    {"block": "maxpool", "kernel": 2}, {"block": "conv", "out": 16, "kernel": 3},
                                    {"block": "relu"}, {"block": "gap"}, {"block": "linear", "out": 10}]}
    for name in list_models():
        spec = spec_from_model(name)
        if spec is not None:
            found[name] = spec["layers"]
    return found


def builder() -> None:
    """Compose a network from blocks; shapes and parameters update as blocks are added."""
    st.markdown("**Build your own iteration**: add blocks one by one, or start from a template.")
    available = templates()
    a, b, c, d = st.columns([2, 1, 1, 1.2], vertical_alignment="bottom")
    template = a.selectbox("Start from", list(available), key="builder_template",
                           help="Every registered model that can be written as blocks (seed000's is not)")
    if b.button("Load", key="builder_load"):
        st.session_state[LAYERS] = [dict(layer) for layer in available[template]]
        st.session_state.spec_name = template.replace(" ", "-").replace("a-3-layer-example", "three-layer") + "-custom"
    if c.button("Clear", key="builder_clear"):
        st.session_state[LAYERS] = []
    d.text_input("Name", key="spec_name", placeholder="my-net")
    layers = st.session_state.setdefault(LAYERS, [])
    row = st.columns([1.2, 1, 1, 1, 1, 0.8, 1], vertical_alignment="bottom")
    block = row[0].selectbox("Block", list(BLOCKS), key="builder_block")
    fields = BLOCKS[block]
    new = {"block": block}
    for column, field in zip(row[1:6], fields):
        kind, default, low, high = fields[field]
        if kind is bool:
            new[field] = column.checkbox("bias", value=default, key=f"builder_{block}_{field}")
        elif kind is int:
            new[field] = int(column.number_input(field, low, high, default, key=f"builder_{block}_{field}"))
        else:
            new[field] = float(column.number_input(field, low, high, default, step=0.05, key=f"builder_{block}_{field}"))
    if row[6].button("Add block", icon=":material/add:", key="builder_add"):
        layers.append(new)
    if layers and st.button("Remove the last block", icon=":material/undo:", key="builder_pop"):
        layers.pop()
    rows, problem = partial_table(builder_spec())
    total = sum(r["params"] for r in rows)
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                     column_config={"params": st.column_config.NumberColumn(format="%d")})
    st.metric("Parameters", f"{total:,}" if problem is None else f"{total:,} so far")
    if problem is not None:
        st.error(f"Not trainable yet: {problem}")


def queue_panel() -> None:
    """Reproduce a write-up in one click; the queue's items, cancellable while they wait."""
    with st.expander("Queue and reproduce a write-up", expanded=bool(runs.queued())):
        st.caption("Queue every iteration of a write-up with its own recipe; they train one after another, and "
                   "Compare opens on them when the last one ends. (Full recipes: minutes to an hour on 2 cores.)")
        fast = st.toggle("Fast recipes", key="reproduce_fast",
                         help="Queue each write-up architecture with its `<model>_fast` recipe (ours: "
                              "one-cycle, bf16, few epochs) instead of the write-up's own.")
        sources = sorted({model_info(name).source for name in list_models()})
        for column, source in zip(st.columns(len(sources)), sources):
            names = [name for name in list_models() if model_info(name).source == source]
            label = f"Reproduce {source}" if source != "own" else "Train ours"
            recipe = "fast" if fast and source != "own" else None
            if column.button(label, key=f"reproduce_{source}", help=", ".join(names)):
                batch = f"Reproduce write-up {source}{' (fast)' if recipe else ''} ({len(names)} runs)"
                ui.queue_runs([default_config(name, recipe) for name in names], batch)
                st.session_state[FOLLOW], st.session_state[BATCH] = True, batch
                st.rerun()
        items = runs.queued()
        if not items:
            return
        waiting = [item for item in items if item.state == "waiting"]
        rows = [{"#": item.id, "model": item.config.model, "epochs": item.config.epochs, "batch": item.batch,
                 "state": item.state, "run": item.run or "", "note": item.reason} for item in items]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        if waiting:
            left, right = st.columns([3, 1], vertical_alignment="bottom")
            choice = left.selectbox("Cancel a waiting item", [item.id for item in waiting], key="cancel_choice",
                                    format_func=lambda i: next(f"#{w.id} {w.config.model}" for w in waiting if w.id == i))
            if right.button("Cancel it", key="cancel_one"):
                runs.cancel_queued(choice)
                st.rerun()
            if st.button(f"Cancel all {len(waiting)} waiting", key="cancel_all"):
                runs.cancel_queued()
                st.rerun()


def open_finished_batch() -> None:
    """When this session's "Reproduce" batch is over, open Compare on its runs."""
    batch = st.session_state.get(BATCH)
    if not batch:
        return
    names, done = runs.batch_runs(batch)
    if done:
        st.session_state.pop(BATCH)
        if names:
            st.session_state["compare_keys"] = [f"run:{name}" for name in names]
            st.switch_page(COMPARE_PAGE)


def augmentation_preview(config: TrainConfig | None) -> None:
    with st.expander("Augmentation preview: 16 training digits as this recipe transforms them"):
        if config is None:
            st.caption("Fix the settings above first.")
            return
        left, right = st.columns([4, 1], vertical_alignment="center")
        if right.button("New sample", icon=":material/casino:", key="new_sample"):
            st.session_state.preview_seed = st.session_state.get("preview_seed", 0) + 1
        try:
            originals, augmented = preview(ui.cached_mnist().train.images, config, st.session_state.get("preview_seed", 0))
        except DatasetError as error:
            st.error(str(error))
            return
        left.caption(f"Rotation ±{config.rotation:g}°, shift ±{100 * config.translate:g}%, zoom ±{100 * config.scale:g}%, "
                     f"centre crop to {config.center_crop_size} px with probability {config.center_crop_prob:g} "
                     f"(a new random draw for every image in every batch).")
        st.image(ui.tile(ui.to_unit(originals), columns=16, factor=3), caption="The training digits")
        st.image(ui.tile(ui.to_unit(augmented), columns=16, factor=3), caption="As the recipe augments them")


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
        runs.check_trainable(config)
    except ConfigError as invalid:
        error = str(invalid)
    all_runs = runs.list_runs()
    start_row(config, error, active, len(all_runs))
    if st.session_state.form_model != BUILD:
        with st.expander(f"Layer table of {st.session_state.form_model}"):
            rows = [{**row, "output": "×".join(map(str, row["output"]))}
                    for row in layer_table(create_model(st.session_state.form_model))]
            st.dataframe(pd.DataFrame(rows), hide_index=True)
    queue_panel()
    augmentation_preview(config)
    open_finished_batch()
    names = [run.name for run in all_runs]
    if st.session_state.get(FOLLOW) and active is not None:
        st.session_state[OPEN] = active.name  # follow the queue from run to run
    if st.session_state.get(OPEN) not in names:
        st.session_state[OPEN] = active.name if active is not None else (names[0] if names else None)
    name = st.session_state.get(OPEN)
    if name is None:
        st.info("No runs yet: choose settings above and press Start.")
        return
    opened = next(run for run in all_runs if run.name == name)
    waiting = any(item.state == "waiting" for item in runs.queued())
    st.fragment(run_every=1.0 if opened.is_running or waiting else None)(live_view)(name)
    if not opened.is_running:
        run_actions(opened)
    st.divider()
    runs_table(all_runs)


render()
