"""Compare iterations: curves (train and test together, by epoch, wall time or images seen), a
table, accuracy against size, what changed between two iterations (and whether it is beyond
noise), and their architectures side by side. One colour per model everywhere; a highlighted
model stands out in every chart and in the table."""
import altair as alt
import pandas as pd
import streamlit as st

import app_ui as ui
from mnist_core.analysis.changes import what_changed
from mnist_core.analysis.pareto import pareto_front
from mnist_core.data.mnist import DatasetError, images_per_epoch
from mnist_core.reports.comparison import significance
from mnist_core.store.checkpoint import CheckpointError

DEFAULT = ["writeup001_iter1", "writeup001_iter2", "writeup001_iter3", "writeup001_iter4"]
X_AXES = {"epoch": "epoch", "wall time": "wall time (s)", "images seen": "images seen"}


def emphasis(highlight: str | None):
    """Opacity: the highlighted model at full strength, the others faded (all full when none)."""
    if highlight is None:
        return alt.value(1.0)
    return alt.condition(alt.datum.run == highlight, alt.value(1.0), alt.value(0.15))


def curves(frame: pd.DataFrame, metric: str, x: str, scale: alt.Scale, highlight: str | None) -> alt.Chart:
    """Curves in each model's colour (legend: the selected models only)."""
    y_scale = ui.metric_scale(frame, metric)
    shown = sorted(frame["run"].unique())
    base = alt.Chart(frame, height=320, title=f"{metric} ({', '.join(sorted(frame['split'].unique()))})")
    line = base.mark_line().encode(
        x=alt.X(f"{x}:Q", title=x, axis=alt.Axis(format="~s" if x == "images seen" else "~f")),
        y=alt.Y(f"{metric}:Q", scale=y_scale, title=metric + (" (%)" if metric == "accuracy" else "")),
        color=alt.Color("run:N", scale=scale, legend=alt.Legend(orient="bottom", columns=2, title=None, labelLimit=260,
                                                                values=shown)),
        strokeDash=alt.StrokeDash("split:N", legend=alt.Legend(orient="bottom", title=None)),
        opacity=emphasis(highlight), detail="split:N")
    pick = alt.selection_point(name="pick", fields=["run"], on="click")
    points = base.mark_point(filled=True, size=60).add_params(pick).encode(
        x=f"{x}:Q", y=f"{metric}:Q", color=alt.Color("run:N", scale=scale, legend=None),
        shape=alt.Shape("partial:N", scale=alt.Scale(domain=[False, True], range=["circle", "triangle-down"]),
                        legend=alt.Legend(orient="bottom", title="partial epoch (stopped run)")),
        opacity=emphasis(highlight),
        tooltip=["run", "split", alt.Tooltip("epoch:Q", format=".2f"), alt.Tooltip(f"{metric}:Q", format=".4f"),
                 alt.Tooltip("wall time (s):Q", format=",.0f"), alt.Tooltip("images seen:Q", format=",.0f")])
    return line + points


def summary_table(records: dict) -> pd.DataFrame:
    rows = []
    for key, record in records.items():
        summary = record.summary
        rows.append(
            {
                "model": key,
                "write-up": record.source,
                "status": record.status + (" (partial)" if summary.partial else ""),
                "params": record.params,
                "final test (%)": summary.final_test_acc,
                "best test (%)": summary.best_test_acc,
                "best epoch": summary.best_test_epoch,
                "epochs": summary.epochs,
                "wall time (s)": summary.wall_seconds,
            }
        )
    return pd.DataFrame(rows)


def styled(table: pd.DataFrame, highlight: str | None):
    """Each model's name in its colour; with a highlight, the other rows fade to gray."""
    def row_style(row):
        faded = highlight is not None and row["model"] != highlight
        text = "color: #b0b0b0" if faded else ""
        name = f"color: {ui.model_colour(row['model'])}; font-weight: bold" if not faded else text
        return [name] + [text] * (len(row) - 1)
    return table.style.apply(row_style, axis=1).format(
        {"params": "{:,.0f}", "final test (%)": "{:.2f}", "best test (%)": "{:.2f}", "wall time (s)": "{:,.0f}"})


def frontier_chart(table: pd.DataFrame, scale: alt.Scale, highlight: str | None) -> alt.Chart:
    front = pareto_front(list(zip(table["model"], table["params"], table["final test (%)"])))
    table = table.assign(pareto=table["model"].isin(front), run=table["model"])
    low, high = table["params"].min() / 1.6, table["params"].max() * 1.6
    x = alt.X("params:Q", scale=alt.Scale(type="log", domain=[low, high]), title="parameters (log scale)",
              axis=alt.Axis(format="~s", labelOverlap=True, tickCount=6))
    y = alt.Y("final test (%):Q", scale=alt.Scale(zero=False, padding=12))
    pick = alt.selection_point(name="pick", fields=["run"], on="click")
    points = alt.Chart(table, height=360).mark_circle(size=160).add_params(pick).encode(
        x=x, y=y, color=alt.Color("run:N", scale=scale, legend=None), opacity=emphasis(highlight),
        tooltip=["model", alt.Tooltip("params:Q", format=","), alt.Tooltip("final test (%):Q", format=".2f")])
    labels = alt.Chart(table).mark_text(dy=-14, fontSize=11).encode(x=x, y=y, text="model:N", color=alt.value("#333"))
    line = alt.Chart(table[table["pareto"]].sort_values("params")).mark_line(
        strokeDash=[4, 3], color="#888").encode(x=x, y=y)
    return line + points + labels


def image_strip(rows: list[dict], old: str, new: str, limit: int = 24) -> None:
    images = ui.cached_test_images()
    shown = rows[:limit]
    ui.image_grid([images[row["index"]] for row in shown],
                  [f"#{row['index']} ({row['true']}): {row['old_prediction']} {100 * row['old_confidence']:.0f}% → "
                   f"{row['new_prediction']} {100 * row['new_confidence']:.0f}%" for row in shown], columns=8)
    if len(rows) > limit:
        st.caption(f"… and {len(rows) - limit} more (most confident new answers first).")


def start_at(key: str, options: list, index: int) -> dict:
    """A selectbox's starting index, unless it already holds one of `options` (e.g. from a shared
    link); a value no longer offered is dropped, so the index applies again."""
    if st.session_state.get(key) in options:
        return {}
    st.session_state.pop(key, None)
    return {"index": index}


def what_changed_section(records: dict, chosen: list[str]) -> None:
    st.subheader("What changed")
    ordered = sorted(chosen, key=lambda key: ui.iteration_order(records[key]))
    ui.restore_from_url("older", ordered)
    ui.restore_from_url("newer", ordered)
    left, right = st.columns(2)
    old = left.selectbox(
        "Older iteration",
        ordered,
        **start_at("older", ordered, max(0, len(ordered) - 2)),
        key="older",
        format_func=ui.record_label(records),
    )
    new = right.selectbox("Newer iteration", ordered, **start_at("newer", ordered, len(ordered) - 1), key="newer",
                          format_func=ui.record_label(records))
    ui.keep_in_url("older", old)
    ui.keep_in_url("newer", new)
    if old == new:
        st.info("Pick two different iterations.")
        return
    try:
        changes = what_changed(ui.logits_of(records[old]), ui.logits_of(records[new]), ui.cached_test().labels)
    except (CheckpointError, DatasetError) as error:
        st.error(f"Cannot compare: {error}")
        return
    st.markdown(f"**{new}** fixed **{len(changes.fixed)}** test digits that **{old}** got wrong and broke "
                f"**{len(changes.broken)}** it got right: {changes.old_accuracy:.2f}% → {changes.new_accuracy:.2f}%.")
    judged = significance(changes, records[old], records[new])
    st.markdown(judged["sentence"] + (" " + judged["seed_sentence"] if "seed_sentence" in judged else ""))
    a, b = st.columns(2)
    deltas = pd.DataFrame(changes.per_class)
    a.altair_chart(alt.Chart(deltas, height=260, title="per-class accuracy change (points)").mark_bar().encode(
        x=alt.X("digit:O", axis=alt.Axis(labelAngle=0)), y=alt.Y("delta:Q", title="new − old (points)"),
        color=alt.condition("datum.delta >= 0", alt.value("#54a24b"), alt.value("#e45756")),
        tooltip=["digit", alt.Tooltip("old_accuracy:Q", format=".2f"), alt.Tooltip("new_accuracy:Q", format=".2f"),
                 alt.Tooltip("delta:Q", format="+.2f")]))
    cells = pd.DataFrame([{"true": t, "predicted": p, "change": changes.confusion_delta[t][p]}
                          for t in range(10) for p in range(10) if t != p])
    limit = max(1, cells["change"].abs().max())
    heat = (
        alt.Chart(cells, height=300, title="confusions, new − old (off-diagonal)")
        .mark_rect()
        .encode(
            x=alt.X("predicted:O", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("true:O", axis=alt.Axis(labelOverlap=False)),
            color=alt.Color(
                "change:Q", scale=alt.Scale(scheme="redblue", reverse=True, domain=[-limit, limit]), legend=None
            ),
            tooltip=["true", "predicted", "change"],
        )
    )
    text = heat.mark_text(fontSize=10).encode(text="change:Q", color=alt.value("#222"),
                                              opacity=alt.condition("datum.change != 0", alt.value(1), alt.value(0)))
    b.altair_chart(heat + text)
    fixed = sorted(changes.fixed, key=lambda row: -row["new_confidence"])
    broken = sorted(changes.broken, key=lambda row: -row["new_confidence"])
    st.markdown(f"**Fixed by {new}** ({len(fixed)}). Each digit: its index, the true label in brackets, "
                f"then {old}'s answer and confidence → {new}'s")
    if fixed:
        image_strip(fixed, old, new)
    st.markdown(f"**Broken by {new}** ({len(broken)})")
    if broken:
        image_strip(broken, old, new)


def robustness_section(records: dict, chosen: list[str], scale: alt.Scale, highlight: str | None) -> None:
    st.subheader("Robustness")
    st.caption("Accuracy on the first 2,000 test images under increasing rotation, shift, scale, stroke "
               "thickening (+) / thinning (−) and Gaussian noise. Computed once per checkpoint, then cached on disk.")
    if not st.toggle("Run the robustness probes (the first time about 10–20 s per model)", key="robustness"):
        return
    rows = []
    for key in chosen:
        try:
            rows += [
                {**row, "run": key, "accuracy (%)": 100 * row["accuracy"]} for row in ui.robustness_of(records[key])
            ]
        except (CheckpointError, DatasetError) as error:
            st.error(f"{key}: {error}")
    if not rows:
        return
    frame = pd.DataFrame(rows)
    perturbations = list(dict.fromkeys(frame["perturbation"]))
    st.markdown(" · ".join(f"<span style='color:{ui.model_colour(key)}; font-weight:600'>● {key}</span>"
                           for key in chosen), unsafe_allow_html=True)
    columns = st.columns(3)
    for index, perturbation in enumerate(perturbations):
        part = frame[frame["perturbation"] == perturbation]
        chart = alt.Chart(part, height=200, title=perturbation).mark_line(point=True).encode(
            x=alt.X("strength:Q", title=None), y=alt.Y("accuracy (%):Q", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("run:N", scale=scale, legend=None),
            opacity=emphasis(highlight),
            tooltip=["run", "strength", alt.Tooltip("accuracy (%):Q", format=".1f")])
        columns[index % 3].altair_chart(chart)


PICKABLE = ("curves_accuracy", "curves_loss", "pareto")  # charts where clicking a model highlights it


def follow_chart_clicks() -> None:
    """A model clicked in any chart becomes the highlight everywhere (set before the pills exist)."""
    for key in PICKABLE:
        points = ((st.session_state.get(key) or {}).get("selection") or {}).get("pick") or []
        picked = points[0].get("run") if points else None
        if picked and picked != st.session_state.get(f"{key}_last_pick"):
            st.session_state["highlight"] = picked
        st.session_state[f"{key}_last_pick"] = picked


def render() -> None:
    st.title("Compare iterations")
    records = ui.checkpoint_records(include_runs=True)
    if not records:
        st.warning("No checkpoints or finished runs to compare yet.")
        return
    asked = [key for key in st.session_state.pop("compare_keys", []) if key in records]  # from the Train page's queue
    if asked:
        st.session_state["compare_choice"] = asked
    default = [key for key in DEFAULT if key in records] or list(records)[:4]
    if [key for key in st.session_state.get("compare_choice", []) if key not in records]:
        st.session_state.pop("compare_choice")  # a run or checkpoint that has gone since
    ui.restore_from_url("compare_choice", list(records), multi=True)  # ?compare_choice=a&compare_choice=b
    chosen = st.multiselect("Checkpoints and runs", list(records), key="compare_choice",
                            default=None if "compare_choice" in st.session_state else default,
                            format_func=ui.record_label(records))
    ui.keep_in_url("compare_choice", chosen)
    if not chosen:
        st.info("Pick at least one checkpoint or run.")
        return
    chosen = sorted(chosen, key=lambda key: ui.iteration_order(records[key]))
    selected = {key: records[key] for key in chosen}
    scale = ui.colour_scale(records)  # every model's colour, whatever is selected
    follow_chart_clicks()
    if st.session_state.get("highlight") not in chosen:
        st.session_state.pop("highlight", None)
    highlight = st.pills("Highlight a model (or click it in a chart)", chosen, key="highlight",
                         format_func=lambda key: key)
    a, b = st.columns(2)
    splits = a.pills("Curves for", ["train", "validation", "test"], selection_mode="multi", default=["train", "test"],
                     key="splits", help="Train and test together show the generalization gap")
    x_name = b.segmented_control("x-axis", list(X_AXES), default="epoch", key="x_axis") or "epoch"
    sizes = {key: images_per_epoch(record.config.get("limit"), record.config.get("validation_size") or 5000)
             for key, record in selected.items()}
    frame = ui.history_frame({key: record.history for key, record in selected.items()}, include_partial=True,
                             train_sizes=sizes)
    frame = frame[frame["split"].isin(splits or ["test"])]
    left, right = st.columns(2)
    left.altair_chart(curves(frame, "accuracy", X_AXES[x_name], scale, highlight), on_select="rerun",
                      key="curves_accuracy")
    right.altair_chart(curves(frame, "loss", X_AXES[x_name], scale, highlight), on_select="rerun", key="curves_loss")
    table = summary_table(selected)
    st.dataframe(styled(table, highlight), hide_index=True, width="stretch")
    st.subheader("Accuracy against size")
    st.caption("Dashed: the Pareto front (no other model is both smaller and more accurate).")
    st.altair_chart(frontier_chart(table, scale, highlight), on_select="rerun", key="pareto")
    if len(chosen) >= 2:
        what_changed_section(records, chosen)
    else:
        st.caption("Pick two or more to see what changed between iterations.")
    with st.container(key="robustness_section"):
        robustness_section(records, chosen, scale, highlight)
    ui.architecture_diff_view(records, chosen)
    ui.study_section(records, chosen)


render()
ui.sweep_section()  # Sweeps: the Optuna studies in the runs folder, whatever is picked above
