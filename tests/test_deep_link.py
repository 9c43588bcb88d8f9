"""The deep-link workaround in app_ui leans on one Streamlit internal: fail loudly if it goes."""
from streamlit.runtime.pages_manager import PagesManager


def test_streamlit_still_has_the_pages_directory_flag_app_ui_turns_off():
    # app_ui._send_deep_links_through_router sets this class attribute to False so that a
    # deep-linked first visit runs through the router. If a Streamlit upgrade renames or drops
    # it, the workaround silently stops working: revisit app_ui and tests/test_browser_deeplink.py.
    assert "uses_pages_directory" in vars(PagesManager), "Streamlit dropped PagesManager.uses_pages_directory"


def test_importing_app_ui_outside_a_script_run_leaves_the_flag_alone():
    import importlib

    import app_ui

    before = PagesManager.uses_pages_directory
    PagesManager.uses_pages_directory = True
    try:
        importlib.reload(app_ui)  # no script run (tests, the CLI): nothing to reroute
        assert PagesManager.uses_pages_directory is True
    finally:
        PagesManager.uses_pages_directory = before
