"""Routing: deep links through the router, and the sidebar closed after a navigation on phones."""
from __future__ import annotations

import streamlit as st


def send_deep_links_through_router() -> None:
    """Streamlit's one gap that needs a workaround, kept here (app_ui is imported by the router
    and by every page, so this runs before any page body).

    On a fresh server, Streamlit runs a deep-linked page (/train) straight from pages/ without the
    router: its v1 "pages directory" fallback, on while the class flag
    `PagesManager.uses_pages_directory` is true (until some session calls st.navigation). Turning
    the flag off and rerunning sends that same URL through the router, which then shows the page
    with the app's own navigation. tests/test_deep_link.py fails loudly if the flag disappears."""
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if PagesManager.uses_pages_directory and get_script_run_ctx(suppress_warning=True) is not None:
        PagesManager.uses_pages_directory = False
        st.rerun()


def collapse_sidebar_on_phones() -> None:
    """On a narrow screen (a phone) the sidebar covers most of the page and Streamlit leaves it
    open after a navigation; close it. There is no Python API for this, so a tiny script clicks
    the sidebar's own collapse button, only when the window is narrow and the sidebar is open."""
    st.html("""<script>
      if (window.innerWidth <= 768) {
        const button = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
        const sidebar = document.querySelector('[data-testid="stSidebar"]');
        if (button && sidebar && sidebar.getAttribute('aria-expanded') !== 'false') { button.click(); }
      }
    </script>""", unsafe_allow_javascript=True, width="content")
