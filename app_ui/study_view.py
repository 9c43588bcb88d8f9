"""The Compare page's "Seed studies": the seeds files of the chosen checkpoints (three seeds of
every shipped iteration) and runs that share a study tag (one recipe, several seeds), grouped:
mean ± sd of final test and validation accuracy with every seed as a dot, and the mean test curve
with its min–max band. The grouping is mnist_core.reports.studies'; this only draws.
"""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from mnist_core.reports.studies import mean_band, shipped_study_groups, study_groups

from .colours import colour_scale


def seeds_chart(groups) -> alt.Chart:
    rows = [{"study": group.study, "seed": row["seed"], "final test accuracy (%)": row["final_test_acc"]}
            for group in groups for row in group.seeds]
    title = "final test accuracy (%)"
    base = alt.Chart(pd.DataFrame(rows)).encode(y=alt.Y("study:N", title=None, axis=alt.Axis(labelLimit=220)))
    dots = base.mark_circle(size=70, opacity=0.8).encode(
        x=alt.X(f"{title}:Q", title=title, scale=alt.Scale(zero=False, padding=12)),
        color=alt.Color("study:N", scale=colour_scale([row["study"] for row in rows]), legend=None),
        tooltip=["study", "seed", alt.Tooltip(f"{title}:Q", format=".2f")])
    mean = base.mark_tick(thickness=2, size=22, color="black").encode(x=alt.X(f"mean({title}):Q", title=title))
    return (dots + mean).properties(height=alt.Step(34), title="every seed (dots) and the mean (tick)")


def band_chart(frame: pd.DataFrame) -> alt.Chart:
    """Mean test accuracy per epoch with its min–max band; the axis starts where the curves are
    past their first epoch, so that a slow first epoch does not flatten every band."""
    later = frame[frame["epoch"] > 1] if (frame["epoch"] > 1).any() else frame
    low = float(later["low"].min())
    scale = alt.Scale(domain=[max(0.0, low - 0.3), min(100.0, float(frame["high"].max()) + 0.1)], clamp=True)
    colours = colour_scale(frame["study"])
    base = alt.Chart(frame).encode(x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1, format="d")))
    # the legend comes from the lines (the band's 25% opacity would pale its swatches)
    band = base.mark_area(opacity=0.25, clip=True).encode(
        y=alt.Y("low:Q", title="test accuracy (%)", scale=scale), y2="high:Q",
        color=alt.Color("study:N", scale=colours, legend=None))
    line = base.mark_line(point=True, clip=True).encode(
        y=alt.Y("mean:Q", scale=scale), color=alt.Color("study:N", scale=colours),
        tooltip=["study", "epoch", alt.Tooltip("mean:Q", format=".2f"), alt.Tooltip("low:Q", format=".2f"),
                 alt.Tooltip("high:Q", format=".2f"), "runs"])
    return (band + line).resolve_legend(color="independent").properties(
        height=260, title="mean test curve per epoch, min–max band")


def study_section(records: dict, chosen: list[str] = ()) -> None:
    """Shown when a chosen checkpoint has a seeds file or some finished runs carry a seed-study tag."""
    groups = shipped_study_groups([records[key] for key in chosen if key in records]) + study_groups(records)
    if not groups:
        return
    st.subheader("Seed studies")
    st.caption("The same recipe trained with different seeds: how much of a difference between iterations is "
               "seed noise. Chosen checkpoints' seeds files (seed 1 is the shipped run) and runs tagged by "
               "`python -m mnist_core study`.")
    table = []
    for group in groups:
        (test, test_sd), (val, val_sd) = group.stat("final_test_acc"), group.stat("final_val_acc")
        table.append({"study": group.study, "model": group.model, "seeds": len(group.seeds),
                      "final test (mean ± sd)": f"{test:.2f} ± {test_sd:.2f} %",
                      "final validation (mean ± sd)": f"{val:.2f} ± {val_sd:.2f} %", "from": group.source})
    st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")
    left, right = st.columns(2)
    left.altair_chart(seeds_chart(groups))
    bands = [dict(row, study=group.study) for group in groups
             for row in mean_band([seed["history"] for seed in group.seeds])]
    if bands:
        right.altair_chart(band_chart(pd.DataFrame(bands)))
