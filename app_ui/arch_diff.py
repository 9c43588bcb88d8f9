"""The Compare page's "Architecture diff": two choosers, the layer tables side by side, the totals
and the training settings that differ (all of them with a toggle). The diff itself is
mnist_core.reports.diff's; this module only lays it out."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from mnist_core.models import UnknownModelError, list_models
from mnist_core.reports.diff import architecture_diff, short
from mnist_core.store.records import Record


def layers_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"layer": row["layer"], "type": row["type"], "output": "×".join(map(str, row["output"])),
                          "params": row["params"], "multiply-adds": row["macs"]} for row in rows])


def architecture_diff_view(records: dict[str, Record], chosen: list[str]) -> None:
    """Two choosers (trained models first, then registered architectures with their recipes),
    defaulting to the last two chosen models."""
    st.subheader("Architecture diff")
    options = list(dict.fromkeys([*chosen, *records, *list_models()]))
    defaults = chosen[-2:] if len(chosen) >= 2 else options[:2]
    left, right = st.columns(2)
    name_a = left.selectbox("Architecture A", options, index=options.index(defaults[0]), key="diff_a")
    name_b = right.selectbox("Architecture B", options, index=options.index(defaults[-1]), key="diff_b")
    try:
        diff = architecture_diff(name_a, name_b, everything=st.session_state.get("diff_all", False),
                                 records=list(records.values()))
    except UnknownModelError as error:
        st.error(f"Cannot diff: {error}")
        return
    for column, side in ((left, "a"), (right, "b")):
        column.caption(f"{diff[side]} ({diff['source_' + side]}): {diff['params_' + side]:,} parameters, "
                       f"{diff['macs_' + side]:,} multiply-adds per image")
        column.dataframe(layers_frame(diff[f"layers_{side}"]), hide_index=True, height=260)
    a, b = st.columns(2)
    a.metric("Parameters (B)", f"{diff['params_b']:,}", delta=f"{diff['params_b'] - diff['params_a']:+,} vs A",
             delta_color="inverse")
    b.metric("Multiply-adds per image (B)", f"{diff['macs_b']:,}", delta=f"{diff['macs_b'] - diff['macs_a']:+,} vs A",
             delta_color="inverse")
    show_all = st.toggle("Show all settings", key="diff_all")
    rows = diff["config_diff"]
    if not rows:
        st.caption("Trained with the same settings.")
        return
    st.caption("Every training setting." if show_all else "The training settings that differ.")
    st.dataframe(pd.DataFrame([{"setting": row["setting"], "A": short(row["a"]), "B": short(row["b"]),
                                "differs": row["differs"]} for row in rows]), hide_index=True)
