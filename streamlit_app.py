"""The MNIST iteration lab: the router. Pages live in pages/ and only call mnist_core."""
from pathlib import Path

import streamlit as st

import app_ui  # starts the heavy imports in the background; sends deep links through this router
import app_ui.deployment  # the lab's mode (full or demo) and the demo's banner

# A local favicon: a material icon here would be fetched from a font host (not reachable offline)
st.set_page_config(page_title="MNIST iteration lab", page_icon=str(Path(__file__).parent / "app_ui" / "favicon.png"),
                   layout="wide")
PAGES = [
    st.Page("pages/draw.py", title="Draw", icon=":material/draw:", default=True),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("pages/evaluate.py", title="Evaluate", icon=":material/grid_on:"),
]
app_ui.deployment.read_mode_from_secrets()
page = st.navigation(PAGES)
app_ui.deployment.demo_banner()
if st.session_state.get("shown_page") not in (None, page.url_path):
    app_ui.collapse_sidebar_on_phones()  # after a navigation: show the page, not the menu over it
st.session_state["shown_page"] = page.url_path
if page.url_path != "":  # the Draw page (the default) draws its canvas first, then waits itself
    app_ui.wait_for_imports()
page.run()
app_ui.warmup.page_shown()
