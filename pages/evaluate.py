"""Evaluate a checkpoint on the test set: accuracy, confusion matrix, per-class report, and every
digit of any cell, paged, each with its top-2, its explanation and a way into Draw."""
import pandas as pd
import streamlit as st

import app_ui as ui
from mnist_core.analysis.evaluate import cell_digits
from mnist_core.data.mnist import DatasetError
from mnist_core.reports.html import html_report
from mnist_core.store.checkpoint import CheckpointError
from mnist_core.store.records import metrics_csv

PAGE_SIZE = 48
DRAW_PAGE = "pages/draw.py"


def selected_cell(event) -> tuple[int, int] | None:
    points = (event or {}).get("selection", {}).get("cell", []) if event else []
    if points:
        return int(points[0]["true"]), int(points[0]["predicted"])
    return None


def shared_cell(clicked: tuple[int, int] | None) -> tuple[int, int] | None:
    """The cell clicked in the chart, else the one a shared link names (?cell=4-9, read once per
    session); the shown cell is written back into the URL."""
    if "url_cell" not in st.session_state:
        cells = ui.url_values("cell", ui.digit_pair)
        st.session_state.url_cell = cells[-1] if cells else None  # the last, as st.query_params.get
    if clicked is not None:
        st.session_state.url_cell = None  # a click in the chart wins from now on
    cell = clicked or st.session_state.url_cell
    ui.keep_in_url("cell", f"{cell[0]}-{cell[1]}" if cell else None)
    if cell is not None and clicked is None:
        st.button("Show all mistakes", key="forget_url_cell", on_click=lambda: st.session_state.update(url_cell=None))
    return cell


def digits_to_show(report: dict, cell, true_filter, predicted_filter) -> tuple[list[dict], str]:
    """(digits, what they are) for the clicked cell or the filters."""
    if cell is not None:
        true, predicted = cell
        rows = cell_digits(report["digits"], true, predicted)
        if true == predicted:
            return rows, f"correctly read {true}s, least confident first"
        return rows, f"{true}s read as {predicted}, most confident first"
    rows = [row for row in report["misclassified"]
            if true_filter in ("any", row["true"]) and predicted_filter in ("any", row["predicted"])]
    return sorted(rows, key=lambda row: -row["confidence"]), "mistakes, most confident first"


def gallery(rows: list[dict], what: str, key: str) -> list[dict]:
    """One page of digits with their top-2; returns the rows shown."""
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    page = right.number_input(f"Page (of {pages})", 1, pages, 1, key=f"page_{key}") if pages > 1 else 1
    shown = rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    left.caption(f"{len(rows):,} {what}" + (f"; showing {len(shown)} on page {page} of {pages}." if pages > 1 else "."))
    images = ui.cached_test_images()
    ui.image_grid([images[row["index"]] for row in shown],
                  [f"#{row['index']} {row['true']}→{row['predicted']} {100 * row['confidence']:.0f}% · "
                   f"{row['second']} {100 * row['second_confidence']:.0f}%" for row in shown])
    return shown


def explain_one(shown: list[dict], record, key: str) -> None:
    """Pick a digit of this page: its explanation, and "Open in Draw"."""
    st.subheader("Why this digit?")
    choices = [row["index"] for row in shown]
    index = st.selectbox("Test digit", choices, key=f"explain_{key}",
                         format_func=lambda i: next(f"#{r['index']}: true {r['true']}, read {r['predicted']} "
                                                    f"({100 * r['confidence']:.0f}%), then {r['second']}"
                                                    for r in shown if r["index"] == i))
    image = ui.cached_test_images()[index].astype("float32") / 255.0
    tensor = ui.cached_test().images[index:index + 1]  # (1, 1, 28, 28), normalized as the model expects
    if st.button("Open in Draw", icon=":material/draw:", key=f"draw_{key}"):
        st.session_state["draw_injected_image"] = ui.canvas_from_digit(ui.cached_test_images()[index])
        st.session_state["draw_injected_label"] = f"test digit #{index}"
        st.switch_page(DRAW_PAGE)
    ui.explanation(ui.model_from(record)[0], image, tensor, f"evaluate_{key}_{index}")


def render() -> None:
    st.title("Evaluate a checkpoint")
    records = ui.checkpoint_records(include_runs=True)
    if not records:
        st.warning("No checkpoints found in checkpoints/. Train one: `python -m mnist_core pretrain`.")
        return
    ui.restore_from_url("evaluate_model", list(records))  # a shared link: ?evaluate_model=writeup002&cell=4-9
    key = st.selectbox("Checkpoint or run", list(records), format_func=ui.record_label(records), key="evaluate_model")
    ui.keep_in_url("evaluate_model", key)
    try:
        report = ui.evaluation_of(records[key])
    except (CheckpointError, DatasetError) as error:
        st.error(f"Cannot evaluate: {error}")
        return
    errors = len(report["misclassified"])
    record = records[key]
    left, right, *exports = st.columns([1, 1, 1.05, 1.35])
    left.download_button("Report (HTML)", html_report(record, report), f"{record.name}-report.html", "text/html",
                         icon=":material/description:", help="Self-contained: opens offline")
    right.download_button("Metrics (CSV)", metrics_csv(record.history), f"{record.name}-metrics.csv", "text/csv",
                          icon=":material/download:")
    ui.model_downloads(record.weights_path, record.name, f"export_{key}", exports)  # ONNX, TorchScript, snippet
    a, b, c = st.columns(3)
    a.metric("Test accuracy", f"{100 * report['accuracy']:.2f}%")
    b.metric("Test loss", f"{report['loss']:.4f}")
    c.metric("Mistakes", f"{errors:,} of {report['count']:,}")

    left, right = st.columns([1.1, 1], gap="large")
    with left:
        st.subheader("Confusion matrix")
        normalized = st.toggle("Row-normalized (% of each true digit)", key="normalized")
        st.caption("Click a cell to see its digits below: the diagonal shows the least confident correct ones.")
        event = st.altair_chart(ui.confusion_chart(report["confusion_matrix"], normalized), on_select="rerun",
                                key=f"confusion_{key}_{normalized}")
    with right:
        st.subheader("Per class")
        st.dataframe(pd.DataFrame(report["per_class"]), hide_index=True, column_config={
            "precision": st.column_config.NumberColumn(format="%.4f"),
            "recall": st.column_config.NumberColumn(format="%.4f"),
            "f1": st.column_config.NumberColumn(format="%.4f")})

    st.subheader("Test digits")
    cell = shared_cell(selected_cell(event))
    if cell is None:
        f1, f2 = st.columns(2)
        true_filter = f1.selectbox("True digit", ["any", *ui.DIGITS], index=0)
        predicted_filter = f2.selectbox("Predicted digit", ["any", *ui.DIGITS], index=0)
    else:
        true_filter = predicted_filter = "any"
        st.caption(f"Cell: true {cell[0]}, predicted {cell[1]} (click it again to go back to all mistakes).")
    rows, what = digits_to_show(report, cell, true_filter, predicted_filter)
    if not rows:
        if cell is not None and cell[0] != cell[1]:
            st.info(f"No test digit {cell[0]} was read as {cell[1]} by this model: the cell is empty.")
        else:
            st.info("No digits match these filters.")
        return
    shown = gallery(rows, what, f"{key}_{cell}_{true_filter}_{predicted_filter}")
    explain_one(shown, records[key], f"{key}_{cell}")


render()
