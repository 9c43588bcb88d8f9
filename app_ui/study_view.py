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


def seeds_chart(groups) -> alt.Chart:
    rows = [{"study": group.study, "seed": row["seed"], "final test accuracy (%)": row["final_test_acc"]}
            for group in groups for row in group.seeds]
    base = alt.Chart(pd.DataFrame(rows))
    dots = base.mark_circle(size=70, opacity=0.8).encode(
        x=alt.X("final test accuracy (%):Q", scale=alt.Scale(zero=False)), y=alt.Y("study:N", title=None),
        tooltip=["study", "seed", alt.Tooltip("final test accuracy (%):Q", format=".2f")])
    mean = base.mark_tick(thickness=2, size=22, color="black").encode(
        x="mean(final test accuracy (%)):Q", y="study:N")
    return (dots + mean).properties(height=max(80, 36 * len(groups)), title="every seed (dots) and the mean (tick)")


def band_chart(frame: pd.DataFrame) -> alt.Chart:
    base = alt.Chart(frame).encode(x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1, format="d")))
    band = base.mark_area(opacity=0.2).encode(y=alt.Y("low:Q", title="test accuracy (%)", scale=alt.Scale(zero=False)),
                                              y2="high:Q", color="study:N")
    line = base.mark_line(point=True).encode(y="mean:Q", color="study:N",
                                             tooltip=["study", "epoch", alt.Tooltip("mean:Q", format=".2f"), "runs"])
    return (band + line).properties(height=260, title="mean test accuracy per epoch, min–max band over seeds")


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
