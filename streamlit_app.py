"""The MNIST iteration lab: the router. Pages live in pages/ and only call mnist_core."""
import streamlit as st

import app_ui  # sends deep links on a fresh server through this router (see app_ui)

st.set_page_config(page_title="MNIST iteration lab", page_icon=":material/draw:", layout="wide")
PAGES = [
    st.Page("pages/draw.py", title="Draw", icon=":material/draw:", default=True),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("pages/evaluate.py", title="Evaluate", icon=":material/grid_on:"),
]
page = st.navigation(PAGES)
if st.session_state.get("shown_page") not in (None, page.url_path):
    app_ui.collapse_sidebar_on_phones()  # after a navigation: show the page, not the menu over it
st.session_state["shown_page"] = page.url_path
page.run()
