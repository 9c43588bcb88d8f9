"""The block builder: compose a network from blocks (or a registered model's template); shapes
and parameters update as blocks are added.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from mnist_core.models import list_models
from mnist_core.models.spec import BLOCKS, partial_table, spec_from_model

from .train_form import LAYERS, builder_spec


@st.cache_data(show_spinner=False)
def templates() -> dict[str, list[dict]]:
    """Registered models that can be written as blocks, and a small example."""
    found = {"a 3-layer example": [{"block": "conv", "out": 8, "kernel": 3}, {"block": "relu"},
                                    {"block": "maxpool", "kernel": 2}, {"block": "conv", "out": 16, "kernel": 3},
                                    {"block": "relu"}, {"block": "gap"}, {"block": "linear", "out": 10}]}
    for name in list_models():
        spec = spec_from_model(name)
        if spec is not None:
            found[name] = spec["layers"]
    return found


def builder() -> None:
    """Compose a network from blocks; shapes and parameters update as blocks are added."""
    st.markdown("**Build your own iteration**: add blocks one by one, or start from a template.")
    available = templates()
    a, b, c, d = st.columns([2, 1, 1, 1.2], vertical_alignment="bottom")
    template = a.selectbox("Start from", list(available), key="builder_template",
                           help="Every registered model that can be written as blocks (writeup000's is not)")
    if b.button("Load", key="builder_load"):
        st.session_state[LAYERS] = [dict(layer) for layer in available[template]]
        st.session_state.spec_name = template.replace(" ", "-").replace("a-3-layer-example", "three-layer") + "-custom"
    if c.button("Clear", key="builder_clear"):
        st.session_state[LAYERS] = []
    d.text_input("Name", key="spec_name", placeholder="my-net")
    layers = st.session_state.setdefault(LAYERS, [])
    row = st.columns([1.2, 1, 1, 1, 1, 0.8, 1], vertical_alignment="bottom")
    block = row[0].selectbox("Block", list(BLOCKS), key="builder_block")
    fields = BLOCKS[block]
    new = {"block": block}
    for column, field in zip(row[1:6], fields):
        kind, default, low, high = fields[field]
        if kind is bool:
            new[field] = column.checkbox("bias", value=default, key=f"builder_{block}_{field}")
        elif kind is int:
            new[field] = int(column.number_input(field, low, high, default, key=f"builder_{block}_{field}"))
        else:
            new[field] = float(
                column.number_input(field, low, high, default, step=0.05, key=f"builder_{block}_{field}")
            )
    if row[6].button("Add block", icon=":material/add:", key="builder_add"):
        layers.append(new)
    if layers and st.button("Remove the last block", icon=":material/undo:", key="builder_pop"):
        layers.pop()
    rows, problem = partial_table(builder_spec())
    total = sum(r["params"] for r in rows)
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                     column_config={"params": st.column_config.NumberColumn(format="%d")})
    st.metric("Parameters", f"{total:,}" if problem is None else f"{total:,} so far")
    if problem is not None:
        st.error(f"Not trainable yet: {problem}")
