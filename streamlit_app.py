"""The MNIST iteration lab: the router. Pages live in pages/ and only call mnist_core."""
import streamlit as st

from app_ui import DEEP_LINK

st.set_page_config(page_title="MNIST iteration lab", page_icon=":material/draw:", layout="wide")
PAGES = {
    "draw": st.Page("pages/draw.py", title="Draw", icon=":material/draw:", default=True),
    "train": st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    "compare": st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
    "evaluate": st.Page("pages/evaluate.py", title="Evaluate", icon=":material/grid_on:"),
}
current = st.navigation(list(PAGES.values()))
asked = st.session_state.pop(DEEP_LINK, None)  # set by app_ui.route_through_router
if asked in PAGES and current.url_path != PAGES[asked].url_path:
    st.switch_page(PAGES[asked])
current.run()
