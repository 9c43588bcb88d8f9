"""Shareable views: a page's selections live in its URL's query string, so a link reopens the same
view (a teacher sends "look at this"). Streamlit's own `bind="query-params"` writes a widget's
*formatted* label into the URL (ours carry accuracies that change), so we keep the raw keys:
`seed_from_url` fills a widget's session state from the URL once per session, before the widget is
drawn; `keep_in_url` writes the current value back after it.
"""
from __future__ import annotations

import streamlit as st


def seed_from_url(key: str, options, multi: bool = False) -> None:
    """Set st.session_state[key] from the URL parameter `key` (first visit of this session only;
    values that are not among `options` are ignored)."""
    marker = f"_from_url_{key}"
    if marker in st.session_state:
        return
    st.session_state[marker] = True
    options = [str(option) for option in options]
    if multi:
        values = [value for value in st.query_params.get_all(key) if value in options]
        if values:
            st.session_state[key] = values
    elif st.query_params.get(key) in options:
        st.session_state[key] = st.query_params[key]


def keep_in_url(key: str, value) -> None:
    """Write `value` (a string, a list of strings, or None to remove it) into the URL as `key`."""
    if value is None or value == []:
        if key in st.query_params:
            del st.query_params[key]
        return
    value = [str(v) for v in value] if isinstance(value, (list, tuple)) else str(value)
    if st.query_params.get_all(key) != (value if isinstance(value, list) else [value]):
        st.query_params[key] = value
