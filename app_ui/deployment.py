"""How this server is deployed: the lab's mode (full or demo) and the demo's banner.

The mode is `MNIST_LAB_MODE` in the environment, or the same key in `.streamlit/secrets.toml`
(a hosted app's secrets): `read_mode_from_secrets` copies the secret (and `MNIST_SWEEP_STORAGE`,
the storage URL Compare's Sweeps opens) into the environment once, so mnist_core (which refuses
what demo mode forbids) sees the same settings as the pages.
"""
from __future__ import annotations

import os

import streamlit as st

MODE_ENV = "MNIST_LAB_MODE"  # = mnist_core.lab.mode.MODE_ENV; not imported here: mnist_core loads torch,
# and the router must draw before that (app_ui.warmup)


SETTINGS_FROM_SECRETS = (MODE_ENV, "MNIST_SWEEP_STORAGE")  # the second: app_ui.sweep_view's storage URL


def read_mode_from_secrets() -> None:
    """Copy the lab's settings from the app's secrets into the environment (the environment wins)."""
    for key in SETTINGS_FROM_SECRETS:
        if key in os.environ:
            continue
        try:
            value = st.secrets.get(key)
        except Exception:  # noqa: BLE001 - no secrets file, or an unreadable one: the default
            value = None
        if value:
            os.environ[key] = str(value)


def demo_banner() -> None:
    if not os.environ.get(MODE_ENV):
        return  # the default mode: no banner, and no mnist_core import on the router's path
    from mnist_core.lab.mode import DEMO, mode_in_effect

    mode, problem = mode_in_effect()
    if problem:  # a typo in the mode: say so; mnist_core runs as the demo (the safe mode) meanwhile
        st.error(problem)
    if mode == "demo":
        st.info(f"**Demo.** Draw, Compare and Evaluate work fully. Training is limited to one short run "
                f"(at most {DEMO.max_image_epochs:,} images × epochs, {DEMO.max_parameters:,} parameters, "
                f"{DEMO.max_queue} waiting). Deleting and promoting are off. Run the lab yourself "
                "(`make run`) for all of it.", icon=":material/public:")
