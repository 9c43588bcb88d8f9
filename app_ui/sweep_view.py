"""The Compare page's "Sweeps": pick a study, from this lab's runs folder or from a storage URL
that other machines' workers share (`MNIST_SWEEP_STORAGE`, in the environment or
.streamlit/secrets.toml, or the field on the page; read only); its best-so-far curve, which
settings mattered most (Optuna's importances), every trial's curves, the varied settings as
parallel coordinates coloured by validation accuracy, its trials as a table, and a button that
brings a trial trained elsewhere into this lab as a run. The Sweeps heading shows once there is a
study to show. The rows are mnist_core.reports.sweeps'; this module only draws them.
"""
from __future__ import annotations

import os

import altair as alt
import pandas as pd
import streamlit as st

from mnist_core.lab.mode import DemoModeError, is_demo
from mnist_core.lab.storage_check import StorageError, safe_url
from mnist_core.lab.sweep_results import import_trial
from mnist_core.lab.sweep_storage import default_storage
from mnist_core.reports.sweeps import StudyNotFoundError, list_studies, study_stamp, sweep_report
from mnist_core.store.runs import RunError, list_runs, runs_dir

STORAGE_ENV = "MNIST_SWEEP_STORAGE"  # a storage URL whose studies Compare shows beside this lab's
REMOTE = "storage:"  # the Study chooser's value for a study of the storage URL (local ones: the name)

STATE_COLOURS = alt.Scale(domain=["complete", "pruned", "failed", "running", "waiting"],
                          range=["#4c78a8", "#f58518", "#e45756", "#9d9d9d", "#c7c7c7"])


@st.cache_data(show_spinner=False, max_entries=16)
def cached_report(study: str, directory: str, stamp: tuple) -> dict:
    """One read of the study's journal per change of it (`stamp`: its size and modification time)."""
    return sweep_report(study, directory)


@st.cache_data(show_spinner=False, max_entries=16, ttl=15)
def cached_storage_report(study: str, url: str) -> dict:
    """A study of a storage URL, read again at most every 15 s (a database has no file to stamp)."""
    return sweep_report(study, storage=url)


@st.cache_data(show_spinner=False, max_entries=8, ttl=15)
def cached_storage_studies(url: str) -> list[str]:
    return list_studies(storage=url)


def trial_curves_chart(rows: list[dict]) -> alt.Chart:
    """Every trial's accuracy per epoch (validation solid, train dashed), one colour per trial."""
    frame = pd.DataFrame(rows)
    return alt.Chart(frame, height=280, title="every trial's curves (validation solid, train dashed)").mark_line(
        point=True, strokeWidth=1.5).encode(
        x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("accuracy:Q", title="accuracy (%)", scale=alt.Scale(zero=False)),
        color=alt.Color("trial:N", legend=alt.Legend(orient="right", columns=2)),
        strokeDash=alt.StrokeDash("split:N", scale=alt.Scale(domain=["validation", "train"], range=[[1, 0], [4, 3]]),
                                  legend=None),
        detail="split:N",
        tooltip=["trial", "state", "split", "epoch", alt.Tooltip("accuracy:Q", format=".2f")])


def best_so_far_chart(series: list[dict]) -> alt.Chart:
    """Each trial's validation accuracy (a dot in its state's colour) and the best so far (a step line)."""
    frame = pd.DataFrame(series)
    base = alt.Chart(frame)
    x = alt.X("trial:Q", title="trial", axis=alt.Axis(tickMinStep=1, format="d"))
    line = base.mark_line(interpolate="step-after", color="#54a24b", strokeWidth=2.5).encode(
        x=x, y=alt.Y("best:Q", title="validation accuracy (%)", scale=alt.Scale(zero=False)))
    states = [state for state in STATE_COLOURS.domain if state in set(frame["state"])]
    dots = base.mark_circle(size=70).encode(
        x=x, y="val_acc:Q", color=alt.Color("state:N", scale=STATE_COLOURS,
                                            legend=alt.Legend(orient="right", title=None, values=states)),
        tooltip=["trial", "state", alt.Tooltip("val_acc:Q", format=".2f", title="val (%)"),
                 alt.Tooltip("best:Q", format=".2f", title="best so far (%)")])
    return (line + dots).properties(height=280, title="best validation accuracy so far")


def importance_chart(ranked: dict[str, float]) -> alt.Chart:
    frame = pd.DataFrame({"setting": list(ranked), "importance": list(ranked.values())})
    return alt.Chart(frame, height=280, title="which settings mattered most").mark_bar(color="#4c78a8").encode(
        x=alt.X("importance:Q", title="importance (shares of 1)"),
        y=alt.Y("setting:N", sort="-x", title=None),
        tooltip=["setting", alt.Tooltip("importance:Q", format=".3f")])


def parallel_chart(points: list[dict], axes: list[dict]) -> alt.Chart:
    """One line per trial across the varied settings (each axis 0..1 from its search range's low end
    to its high end, labelled with them), coloured by validation accuracy; pruned trials dashed."""
    frame = pd.DataFrame(points)
    frame["shown"] = frame["value"].map(lambda value: f"{value:.4g}" if isinstance(value, float) else str(value))
    order = [axis["setting"] for axis in axes]
    # the setting's name under its axis, below the axis's low-end label
    x = alt.X(
        "setting:N",
        sort=order,
        title=None,
        axis=alt.Axis(labelAngle=0, orient="bottom", labelPadding=22, domain=False, ticks=False, labelFontSize=12),
    )
    y = alt.Y("position:Q", scale=alt.Scale(domain=[0, 1]), axis=None)
    base = alt.Chart(frame)
    colour = alt.Color("val_acc:Q", title="val (%)", scale=alt.Scale(scheme="viridis"))
    lines = base.mark_line(strokeWidth=2, opacity=0.8).encode(
        x=x, y=y, color=colour, detail="trial:N",
        strokeDash=alt.StrokeDash("state:N", scale=alt.Scale(domain=["complete", "pruned"], range=[[1, 0], [5, 3]]),
                                  legend=alt.Legend(orient="bottom", title=None)))
    dots = base.mark_circle(size=45).encode(
        x=x, y=y, color=colour,
        tooltip=["trial", "state", "setting", alt.Tooltip("shown:N", title="value"),
                 alt.Tooltip("val_acc:Q", format=".2f", title="val (%)")])
    ends = pd.DataFrame(axes)
    rules = alt.Chart(ends).mark_rule(color="#bbb").encode(x=x)
    low = alt.Chart(ends).mark_text(dy=12, fontSize=10, color="#555").encode(
        x=x, y=alt.datum(0), text="low:N")
    high = alt.Chart(ends).mark_text(dy=-8, fontSize=10, color="#555").encode(
        x=x, y=alt.datum(1), text="high:N")
    return (rules + lines + dots + low + high).properties(
        height=340, title="varied settings, one line per trial (colour: validation accuracy)")


def trials_frame(trials: list[dict]) -> pd.DataFrame:
    rows = [{"trial": row["number"], "state": row["state"], "val (%)": row["val_acc"], "epochs": row["epochs"],
             **row["params"], "run": row["run"] or "", "note": row["reason"]} for row in trials]
    return pd.DataFrame(rows)


def headline(report: dict) -> str:
    settings = report.get("settings") or {}
    searched = (f"{settings.get('model')} (recipe {settings.get('recipe')}, {settings.get('epochs')} epoch(s), "
                f"{settings.get('limit') or 'all'} images)") if settings else "?"
    best = report["best"]
    found = (f"best: trial {best['number']}, **{best['val_acc']:.2f}%** validation, run `{best['run']}`"
             if best else "no trial has completed yet")
    return f"**{report['study']}** searches {searched}: {len(report['trials'])} trial(s); {found}."


def storage_url() -> str:
    """The storage URL field (its first value: MNIST_SWEEP_STORAGE, from the environment or the app's
    secrets, copied there by app_ui.deployment), stripped."""
    if "sweep_storage" not in st.session_state:
        st.session_state.sweep_storage = os.environ.get(STORAGE_ENV, "")
    return (st.session_state.sweep_storage or "").strip()


def sweep_section() -> None:
    """The Sweeps section: nothing but the storage field while there is no study to show."""
    local = list_studies()
    url = storage_url()
    remote, problem = [], None
    if url:
        try:
            remote = cached_storage_studies(url)
        except (StorageError, OSError) as error:
            problem = str(error)
    if local or remote or problem:
        st.subheader("Sweeps")
        st.caption("Optuna searches of a recipe on the validation split (the test split is never read); every trial "
                   "is a run (`<study>-trial<N>`), so it can be picked above, opened on Evaluate or promoted.")
        if problem:
            st.error(problem)
        if local or remote:
            show_study(local, remote, url)
    with st.expander("Studies on a shared storage (other machines' workers)", expanded=bool(url)):
        st.text_input("Storage URL", key="sweep_storage", placeholder="postgresql://USER@HOST/DB, sqlite:///sweeps.db "
                      "or a journal file", help="Read only: nothing is written to it. Set MNIST_SWEEP_STORAGE (in the "
                      "environment or .streamlit/secrets.toml) to open it here by default.")


def show_study(local: list[str], remote: list[str], url: str) -> None:
    options = local + [REMOTE + study for study in remote]
    where = f"on {safe_url(url)}" if url else ""
    study = st.selectbox("Study", options, key="sweep_study",
                         format_func=lambda value: f"{value.removeprefix(REMOTE)} ({where})" if value.startswith(REMOTE)
                         else f"{value} (this lab)")
    directory = str(runs_dir())
    try:
        if study.startswith(REMOTE):
            report = cached_storage_report(study.removeprefix(REMOTE), url)
        else:
            report = cached_report(study, directory, study_stamp(study, directory))
    except (StudyNotFoundError, StorageError, KeyError) as error:  # deleted meanwhile, or a journal without its study
        st.error(f"Cannot read study {study.removeprefix(REMOTE)}: {error}")
        return
    st.markdown(headline(report))
    if not report["best_so_far"]:
        st.info("No trial of this study has a validation accuracy yet.")
        return
    left, right = st.columns(2)
    left.altair_chart(best_so_far_chart(report["best_so_far"]))
    if report["importances"]:
        right.altair_chart(importance_chart(report["importances"]))
        right.caption(report["importance_note"])
    else:
        right.info(report["importance_note"])
    if report["curves"]:
        st.altair_chart(trial_curves_chart(report["curves"]))
    if report["parallel"]:
        st.altair_chart(parallel_chart(report["parallel"], report["axes"]))
    st.dataframe(trials_frame(report["trials"]), hide_index=True, width="stretch",
                 column_config={"val (%)": st.column_config.NumberColumn(format="%.2f")})
    import_form(report, url if study.startswith(REMOTE) else default_storage(study))


def import_form(report: dict, source: str) -> None:
    """Bring a trial whose run is not in this runs folder (trained on another machine) in as a run."""
    if (done := st.session_state.pop("sweep_imported", None)) is not None:
        st.success(done)
    here = {run.name for run in list_runs()}
    rows = {row["number"]: row for row in report["trials"]}
    missing = [number for number in report["importable"] if rows.get(number, {}).get("run") not in here]
    if not missing or is_demo():
        return
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    number = left.selectbox("A trial trained elsewhere", missing, key="sweep_import_trial",
                            format_func=lambda n: f"trial {n} · {rows[n]['state']} · val "
                            + (f"{rows[n]['val_acc']:.2f}%" if rows[n]["val_acc"] is not None else "-"))
    if right.button("Bring into this lab", key="sweep_import"):
        try:
            run = import_trial(source, report["study"], number)
        except (RunError, StorageError, DemoModeError) as error:
            st.error(str(error))
            return
        st.session_state.sweep_imported = (f"Trial {number} of {report['study']} is run **{run.name}** here now: pick "
                                           f"it above, open it on Evaluate or promote it.")
        st.rerun()  # the page's lists of runs include it from now on
