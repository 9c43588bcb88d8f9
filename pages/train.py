"""Train an iteration and watch it learn: settings -> background run -> live charts, Stop."""
import altair as alt
import pandas as pd
import streamlit as st

import app_ui as ui
from mnist_core.config import PRECISIONS, ConfigError
from mnist_core.models import count_parameters, create_model, list_models, model_info
from mnist_core.pretrained import CHECKPOINT_DIR
from mnist_core.recipes import default_config, get_recipe, list_recipes
from mnist_core.runs import RunBusyError, active_run, list_runs, metrics_csv, promote, read_jsonl, stop_active
from mnist_core.summary import layer_summary

ui.route_through_router(__file__)


def settings_form():
    """Widgets -> TrainConfig (or None with an error shown)."""
    left, right = st.columns(2)
    model = left.selectbox("Architecture", list_models(), index=list_models().index("seed004"))
    recipes = list_recipes()
    recipe = right.selectbox("Recipe", recipes, index=recipes.index(model_info(model).recipe),
                             help="Default: the recipe of the model's own write-up")
    base = get_recipe(recipe)
    a, b, c, d = st.columns(4)
    epochs = a.number_input("Epochs", 1, 100, base.epochs)
    batch_size = b.number_input("Batch size", 1, 4096, base.batch_size)
    lr = c.number_input("Learning rate", 0.00001, 5.0, base.lr, format="%.5f")
    seed = d.number_input("Seed", 0, 2**31 - 1, base.seed)
    e, f, g, h = st.columns(4)
    rotation = e.number_input("Rotation (±°)", 0.0, 180.0, base.rotation)
    translate = f.number_input("Shift (± fraction)", 0.0, 0.5, base.translate)
    scale = g.number_input("Zoom (± fraction)", 0.0, 0.9, base.scale)
    limit = h.number_input("Training images (0 = all 55,000)", 0, 55000, 0, step=1000)
    precision = st.radio("Precision", PRECISIONS, horizontal=True, index=PRECISIONS.index(base.precision),
                         help="bf16: the forward pass under bfloat16 autocast (weights and updates stay "
                              "fp32). Faster on CPUs with bf16 instructions for the larger models; "
                              "see README, Performance.")
    try:
        return default_config(model, recipe, epochs=int(epochs), batch_size=int(batch_size), lr=float(lr),
                              seed=int(seed), rotation=float(rotation), translate=float(translate),
                              scale=float(scale), limit=int(limit) or None, precision=precision)
    except ConfigError as error:
        st.error(f"Invalid setting: {error}")
        return None


def model_card(config) -> None:
    model = create_model(config.model)
    st.markdown(f"**{config.model}** (write-up {model_info(config.model).source}): "
                f"{model_info(config.model).description}. **{count_parameters(model):,} parameters.**")
    with st.expander("Layer summary"):
        rows = [{**row, "output": "×".join(map(str, row["output"]))} for row in layer_summary(model)]
        st.dataframe(pd.DataFrame(rows), hide_index=True)


def start_button(config) -> None:
    running = active_run()
    if st.button("Start training", type="primary", icon=":material/play_arrow:", disabled=config is None):
        try:
            run = ui.start_training(config)
            st.session_state.watch_run = run.name
            st.toast(f"Started {run.name}")
        except RunBusyError as error:
            st.error(f"Cannot start: {error}")
    elif running is not None:
        st.caption(f"Training now: **{running.name}**. Only one run trains at a time.")


@st.fragment(run_every=1.0)
def live_view() -> None:
    """Redrawn every second from the run's files: progress, charts, Stop."""
    running = active_run()
    runs = list_runs()
    if not runs:
        st.info("No runs yet: choose settings above and press Start.")
        return
    names = [run["name"] for run in runs]
    watched = running.name if running is not None else st.session_state.get("watch_run", names[0])
    run = next((r for r in runs if r["name"] == watched), runs[0])
    status = run["status"]
    st.subheader(f"Run {run['name']}")
    state = status.get("status", "unknown")
    total = status.get("total_steps") or 0
    fraction = min(1.0, status.get("step", 0) / total) if total else 0.0
    eta = status.get("eta_s")
    st.progress(fraction, text=(f"{state} · epoch {status.get('epoch', 0)}/{status.get('epochs', '?')} · "
                                f"batch {status.get('batch', 0)}/{status.get('batches_per_epoch', '?')} · "
                                f"{status.get('images_per_s', 0):,.0f} images/s"
                                + (f" · ETA {eta:,.0f} s" if eta and state == "running" else "")))
    if state == "running":
        if st.button("Stop", icon=":material/stop:", key="stop"):
            stop_active()
            st.toast("Stopping after this batch…")
    else:
        st.markdown(f"Status: **{state}**: {status.get('reason', '')}")
    epochs = [row for row in read_jsonl(run["folder"] / "metrics.jsonl")]
    batches = read_jsonl(run["folder"] / "batches.jsonl")
    left, right = st.columns(2)
    if epochs:
        frame = ui.history_frame({run["name"]: {"history": epochs}}, include_partial=True)
        left.altair_chart(ui.curves_chart(frame, "accuracy", color="split", dash="run", height=260))
        left.altair_chart(ui.curves_chart(frame, "loss", color="split", dash="run", height=260))
    else:
        left.caption("Epoch curves appear at the end of the first epoch.")
    if batches:
        frame = pd.DataFrame(batches)
        right.altair_chart(alt.Chart(frame, height=260, title="batch loss").mark_line().encode(
            x=alt.X("step:Q", title="batch"), y=alt.Y("loss:Q", scale=alt.Scale(type="log"))))
    if state in ("finished", "stopped") and (run["folder"] / "model.pt").exists():
        finished_actions(run)


def finished_actions(run: dict) -> None:
    a, b, c = st.columns(3)
    a.download_button("Metrics (CSV)", metrics_csv(run["folder"]), f"{run['name']}.csv", "text/csv",
                      icon=":material/download:")
    b.download_button("Weights (.pt)", (run["folder"] / "model.pt").read_bytes(), f"{run['name']}.pt",
                      icon=":material/download:")
    if c.button("Promote to checkpoints/", icon=":material/upload:",
                help="Copy these weights and metrics into checkpoints/ so every page offers them"):
        path = promote(run["folder"], CHECKPOINT_DIR)
        ui.shipped_records.clear()
        st.toast(f"Promoted to {path}")
    st.caption("Evaluate it on the Evaluate page (finished runs are listed there).")


def render() -> None:
    st.title("Train an iteration")
    config = settings_form()
    if config is not None:
        model_card(config)
    start_button(config)
    st.divider()
    live_view()


render()
