"""Compare iterations: curves, a table of size and accuracy, and the accuracy-vs-size frontier."""
import altair as alt
import pandas as pd
import streamlit as st

import app_ui as ui
from mnist_core.layers import memory_estimate
from mnist_core.models import UnknownModelError
from mnist_core.pareto import pareto_front

DEFAULT = ["seed001_iter1", "seed001_iter2", "seed001_iter3", "seed001_iter4"]


def summary_table(records: dict) -> pd.DataFrame:
    rows = []
    for key, record in records.items():
        summary = record.summary
        try:
            memory = memory_estimate(record.model)
        except UnknownModelError:  # a run of a model that is no longer registered
            memory = {"weights_bytes": 0, "activations_bytes_per_image": 0}
        rows.append({"run": key, "model": record.model, "write-up": record.source, "status": record.status,
                     "params": record.params, "size on disk (KiB)": (record.size_bytes or 0) / 1024,
                     "memory, weights + activations/image (KiB)":
                         (memory["weights_bytes"] + memory["activations_bytes_per_image"]) / 1024,
                     "final test acc (%)": summary.final_test_acc, "best test acc (%)": summary.best_test_acc,
                     "epochs": summary.epochs, "wall time (s)": summary.wall_seconds})
    return pd.DataFrame(rows)


def frontier_chart(table: pd.DataFrame) -> alt.Chart:
    front = pareto_front(list(zip(table["run"], table["params"], table["final test acc (%)"])))
    table = table.assign(pareto=table["run"].isin(front))
    points = alt.Chart(table, height=340).mark_circle(size=140).encode(
        x=alt.X("params:Q", scale=alt.Scale(type="log"), title="parameters (log scale)"),
        y=alt.Y("final test acc (%):Q", scale=alt.Scale(zero=False)),
        color=alt.condition("datum.pareto", alt.value("#e4572e"), alt.value("#4c78a8")),
        tooltip=["run", "params", "final test acc (%)"])
    labels = points.mark_text(dy=-12, fontSize=11).encode(text="run:N", color=alt.value("#333"))
    line = alt.Chart(table[table["pareto"]].sort_values("params")).mark_line(
        strokeDash=[4, 3], color="#e4572e").encode(x="params:Q", y="final test acc (%):Q")
    return line + points + labels


def render() -> None:
    st.title("Compare iterations")
    records = ui.checkpoint_records(include_runs=True)
    if not records:
        st.warning("No checkpoints or finished runs to compare yet.")
        return
    default = [key for key in DEFAULT if key in records] or list(records)[:4]
    chosen = st.multiselect("Checkpoints and finished runs", list(records), default=default,
                            format_func=ui.record_label(records))
    if not chosen:
        st.info("Pick at least one checkpoint or run.")
        return
    selected = {key: records[key] for key in chosen}
    frame = ui.history_frame({key: record.history for key, record in selected.items()})
    split = st.segmented_control("Curves for", ["test", "validation", "train"], default="test")
    curves = frame[frame["split"] == (split or "test")]
    left, right = st.columns(2)
    left.altair_chart(ui.curves_chart(curves, "accuracy"))
    right.altair_chart(ui.curves_chart(curves, "loss"))
    st.caption("Click a name in a legend to highlight that run.")
    table = summary_table(selected)
    st.dataframe(table, hide_index=True, column_config={
        "size on disk (KiB)": st.column_config.NumberColumn(format="%.0f"),
        "memory, weights + activations/image (KiB)": st.column_config.NumberColumn(format="%.0f"),
        "final test acc (%)": st.column_config.NumberColumn(format="%.2f"),
        "best test acc (%)": st.column_config.NumberColumn(format="%.2f"),
        "wall time (s)": st.column_config.NumberColumn(format="%.0f")})
    st.subheader("Accuracy against size")
    st.caption("Red: the Pareto front (no other model is both smaller and more accurate).")
    st.altair_chart(frontier_chart(table))


render()
