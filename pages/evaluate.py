"""Evaluate a checkpoint on the test set: accuracy, confusion matrix, per-class report, mistakes."""
import pandas as pd
import streamlit as st

import app_ui as ui
from mnist_core.checkpoint import CheckpointError
from mnist_core.data import DatasetError


def selected_cell(event) -> tuple[int, int] | None:
    points = (event or {}).get("selection", {}).get("cell", []) if event else []
    if points:
        return int(points[0]["true"]), int(points[0]["predicted"])
    return None


def render() -> None:
    st.title("Evaluate a checkpoint")
    records = ui.checkpoint_records(include_runs=True)
    if not records:
        st.warning("No checkpoints found in checkpoints/. Train one: `python -m mnist_core pretrain`.")
        return
    key = st.selectbox("Checkpoint or run", list(records), format_func=ui.record_label(records))
    try:
        report = ui.evaluation_of(records[key])
    except (CheckpointError, DatasetError) as error:
        st.error(f"Cannot evaluate: {error}")
        return
    errors = len(report["misclassified"])
    a, b, c = st.columns(3)
    a.metric("Test accuracy", f"{100 * report['accuracy']:.2f}%")
    b.metric("Test loss", f"{report['loss']:.4f}")
    c.metric("Mistakes", f"{errors:,} of {report['count']:,}")

    left, right = st.columns([1.1, 1], gap="large")
    with left:
        st.subheader("Confusion matrix")
        st.caption("Click a cell to see those digits below.")
        event = st.altair_chart(ui.confusion_chart(report["confusion_matrix"]), on_select="rerun",
                                key=f"confusion_{key}")
    with right:
        st.subheader("Per class")
        st.dataframe(pd.DataFrame(report["per_class"]), hide_index=True, column_config={
            "precision": st.column_config.NumberColumn(format="%.4f"),
            "recall": st.column_config.NumberColumn(format="%.4f"),
            "f1": st.column_config.NumberColumn(format="%.4f")})

    st.subheader("Misclassified test digits")
    cell = selected_cell(event)
    f1, f2, f3 = st.columns(3)
    true_filter = f1.selectbox("True digit", ["any", *ui.DIGITS], index=0 if cell is None else cell[0] + 1)
    predicted_filter = f2.selectbox("Predicted digit", ["any", *ui.DIGITS],
                                    index=0 if cell is None else cell[1] + 1)
    order = f3.radio("Sort by confidence", ["most confident first", "least confident first"],
                     horizontal=True)
    mistakes = [m for m in report["misclassified"]
                if true_filter in ("any", m["true"]) and predicted_filter in ("any", m["predicted"])]
    mistakes.sort(key=lambda m: m["confidence"], reverse=order.startswith("most"))
    st.caption(f"{len(mistakes)} digits; showing up to 48.")
    images = ui.cached_test_images()
    shown = mistakes[:48]
    ui.image_grid([images[m["index"]] for m in shown],
                  [f"#{m['index']}: {m['true']}→{m['predicted']} ({100 * m['confidence']:.0f}%)" for m in shown])


render()
