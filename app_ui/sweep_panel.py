"""The Train page's "Sweep a recipe (Optuna)": trials, epochs and images for the form's
architecture and recipe, a Start button, and the sweep's progress while it runs.

The sweep runs as `python -m mnist_core sweep` in a child process (mnist_core.lab.background_sweep's
start_sweep), holding the server's one place for training: Start training and the queue wait for
it, and it waits for them. Hidden in demo mode (where mnist_core refuses sweeps anyway).
"""
from __future__ import annotations

import streamlit as st

from mnist_core.data.mnist import images_per_epoch
from mnist_core.lab.background_sweep import background_sweep, start_sweep
from mnist_core.lab.launch import RunBusyError
from mnist_core.lab.mode import DemoModeError, is_demo
from mnist_core.reports.sweeps import sweep_progress
from mnist_core.training.config import ConfigError

from .train_form import BUILD

WAS_RUNNING = "sweep_was_running"  # the progress fragment reruns the page once when the sweep ends


def sweep_panel(model: str, recipe: str) -> None:
    if is_demo():
        return
    background = background_sweep()
    running = background is not None and background.running()
    with st.expander("Sweep a recipe (Optuna)", expanded=running):
        st.caption(f"Searches the learning rate, batch size, augmentation and the recipe family's other knobs around "
                   f"**{recipe}**'s values, for **{model}**. Every trial is a run scored on the validation split; "
                   "trials behind the median are pruned. Compare shows the study under Sweeps.")
        trials_column, epochs_column, limit_column = st.columns(3)
        trials = trials_column.number_input("Trials", min_value=1, max_value=200, value=8, key="sweep_trials")
        epochs = epochs_column.number_input("Epochs per trial", min_value=1, max_value=100, value=1, key="sweep_epochs")
        limit = limit_column.number_input(
            "Training images per trial (0: all)",
            min_value=0,
            max_value=images_per_epoch(),
            value=2000,
            step=500,
            key="sweep_limit",
        )
        if model == BUILD:
            st.info("Sweeps search a registered architecture: pick one under Architecture.")
        elif st.button("Start sweep", icon=":material/tune:", disabled=running, key="sweep_start",
                       help="Runs while nothing else trains; Start training and the queue wait for it"):
            try:
                start_sweep(model, recipe, int(trials), int(epochs), int(limit) or None)
            except (ConfigError, RunBusyError, DemoModeError) as refused:
                st.error(f"Cannot start the sweep: {refused}")
            else:
                st.session_state[WAS_RUNNING] = True
                st.rerun()
        if background is not None:
            st.fragment(run_every=3.0 if running else None)(sweep_progress_view)()


def sweep_progress_view() -> None:
    """Trials ended / N and the best validation accuracy so far, read from the study's journal."""
    background = background_sweep()
    running = background.running()
    progress = sweep_progress(background.study, background.trials, background.directory)
    best = (f"best {progress['best_val_acc']:.2f}% validation (trial {progress['best_trial']}, "
            f"run `{progress['best_run']}`)" if progress["best_val_acc"] is not None else "no trial complete yet")
    done = min(progress["ended"], background.trials)
    st.progress(done / background.trials, text=f"**{background.study}**: {done} / {background.trials} trials ended"
                + (f", {progress['running']} running" if progress["running"] else "") + f" · {best}")
    if running:
        if st.button("Stop the sweep", key="sweep_stop", help="The trial training now stops between batches"):
            background.stop()
        return
    code = background.process.returncode
    if code == 0:
        st.success(f"Sweep {background.study} finished: see it under Sweeps on Compare.")
    elif code == 130:
        st.warning(f"Sweep {background.study} stopped: its trials so far are under Sweeps on Compare.")
    else:
        st.error(f"Sweep {background.study} ended with code {code}: " + " / ".join(background.log_tail()))
    if st.session_state.pop(WAS_RUNNING, False):
        st.rerun()  # the whole page: Start buttons on again, the fragment's timer off
