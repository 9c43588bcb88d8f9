"""Managing runs that are not training: reuse settings, downloads (metrics, weights, ONNX and
TorchScript), promote / un-promote, delete (each asks first), and the table of every run with Upload
(a run from another machine's lab: its `runs export` zip or this table's Download). Not in demo
mode: no run leaves or enters a shared lab (its ONNX and TorchScript downloads stay: they write only
the cache).
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from mnist_core.data.mnist import DatasetError
from mnist_core.lab import launch, promotion, transfer
from mnist_core.lab.mode import is_demo
from mnist_core.store import runs
from mnist_core.store.shipped import list_checkpoints
from mnist_core.training.config import ConfigError

from . import loaders
from .export_view import model_downloads
from .train_form import OPEN, load_form


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
        model_downloads(run.weights_path, run.name, f"export_run_{run.name}")  # allowed in demo: writes only the cache
    if is_demo():  # a public demo: promoting, deleting and moving runs are off (and refused in mnist_core too)
        return
    if run.status not in ("running", "damaged"):
        a.download_button("Run (.zip)", transfer.download(run.name), f"{run.name}.zip", "application/zip",
                          icon=":material/archive:", key="download_run",
                          help="The whole run (record, curves, weights) as one file: Upload it below on another "
                               "machine's lab, or `python -m mnist_core runs import FILE.zip`")
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
                promotion.unpromote(record.name)
                st.toast(f"Removed {record.name} from checkpoints/")
                st.rerun()
            except runs.RunError as error:
                st.error(str(error))


@st.dialog("Promote this run to checkpoints/?")
def promote_dialog(name: str) -> None:
    try:
        with st.spinner("Loading and evaluating its weights on the 10,000 test images…"):
            plan = promotion.plan_promotion(name, data=loaders.cached_test())
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
            record = promotion.promote(name, stem, data=loaders.cached_test())
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
            launch.delete_run(name)
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
    if not is_demo():
        upload_run()
    picked = event.selection.rows if event is not None else []
    if picked:
        name = rows[picked[0]]["run"]
        if st.session_state.get("last_pick") != name:
            st.session_state.last_pick = name
            st.session_state[OPEN] = name
            st.rerun()


def upload_run() -> None:
    """A run's zip from another machine, checked like a checkpoint, into this runs folder (once per file)."""
    upload = st.file_uploader("Bring a run in (its .zip: Download above, or `runs export`)", type=["zip"],
                              key="run_upload")
    if upload is None or st.session_state.get("run_uploaded") == upload.file_id:
        return
    st.session_state.run_uploaded = upload.file_id
    try:
        run = transfer.import_archive(upload.getvalue())  # under the name it was exported with
    except runs.RunError as error:
        st.error(str(error))
        return
    st.session_state[OPEN] = run.name
    st.toast(f"Imported run {run.name}")
    st.rerun()
