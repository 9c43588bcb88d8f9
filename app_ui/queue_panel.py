"""The run queue: reproduce a write-up in one click, the queue's items (cancellable while they
wait), and Compare opened on a finished batch.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from mnist_core.lab import run_queue
from mnist_core.lab.mode import fit_demo
from mnist_core.models import list_models, model_info
from mnist_core.training.config import ConfigError
from mnist_core.training.recipes import default_config

from . import loaders
from .train_form import BATCH, COMPARE_PAGE, FOLLOW


def queue_panel() -> None:
    """Reproduce a write-up in one click; the queue's items, cancellable while they wait."""
    with st.expander("Queue and reproduce a write-up", expanded=bool(run_queue.queued())):
        st.caption("Queue every iteration of a write-up with its own recipe; they train one after another, and "
                   "Compare opens on them when the last one ends. (Full recipes: minutes to an hour on 2 cores.)")
        fast = st.toggle("Fast recipes", key="reproduce_fast",
                         help="Queue each write-up architecture with its `<model>_fast` recipe (ours: "
                              "one-cycle, precision auto, few epochs) instead of the write-up's own.")
        sources = sorted({model_info(name).source for name in list_models()})
        for column, source in zip(st.columns(len(sources)), sources):
            names = [name for name in list_models() if model_info(name).source == source]
            label = f"Reproduce {source}" if source != "own" else "Train ours"
            recipe = "fast" if fast and source != "own" else None
            if column.button(label, key=f"reproduce_{source}", help=", ".join(names)):
                batch = f"Reproduce write-up {source}{' (fast)' if recipe else ''} ({len(names)} runs)"
                try:
                    loaders.queue_runs([fit_demo(default_config(name, recipe)) for name in names], batch)
                except ConfigError as refused:  # e.g. more runs than a demo queues
                    st.error(f"Cannot queue: {refused}")
                else:
                    st.session_state[FOLLOW], st.session_state[BATCH] = True, batch
                    st.rerun()
        items = run_queue.queued()
        if not items:
            return
        waiting = [item for item in items if item.state == "waiting"]
        rows = [{"#": item.id, "model": item.config.model, "epochs": item.config.epochs, "batch": item.batch,
                 "state": item.state, "run": item.run or "", "note": item.reason} for item in items]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        if waiting:
            left, right = st.columns([3, 1], vertical_alignment="bottom")
            choice = left.selectbox(
                "Cancel a waiting item",
                [item.id for item in waiting],
                key="cancel_choice",
                format_func=lambda i: next(f"#{w.id} {w.config.model}" for w in waiting if w.id == i),
            )
            if right.button("Cancel it", key="cancel_one"):
                run_queue.cancel_queued(choice)
                st.rerun()
            if st.button(f"Cancel all {len(waiting)} waiting", key="cancel_all"):
                run_queue.cancel_queued()
                st.rerun()


def open_finished_batch() -> None:
    """When this session's "Reproduce" batch is over, open Compare on its runs."""
    batch = st.session_state.get(BATCH)
    if not batch:
        return
    names, done = run_queue.batch_runs(batch)
    if done:
        st.session_state.pop(BATCH)
        if names:
            st.session_state["compare_keys"] = [f"run:{name}" for name in names]
            st.switch_page(COMPARE_PAGE)
