"""Shareable views: a page's selections live in its URL's query string, so a link reopens the same
view (a teacher sends "look at this"). Streamlit's own `bind="query-params"` writes a widget's
*formatted* label into the URL (ours carry accuracies that change), so we keep the raw keys:
`restore_from_url` fills a widget's session state from the URL once per session, before the widget is
drawn (a link with a write-up model's old name, ?model=seed004, opens writeup004 with a one-line
notice); `keep_in_url` writes the current value back after it.
"""
from __future__ import annotations

import streamlit as st


def restore_from_url(key: str, options, multi: bool = False) -> None:
    """Set st.session_state[key] from the URL parameter `key` (first visit of this session only;
    values that are not among `options` are ignored)."""
    marker = f"_from_url_{key}"
    if marker in st.session_state:
        return
    st.session_state[marker] = True
    options = [str(option) for option in options]
    values = [current_value(value, options) for value in st.query_params.get_all(key)]
    values = [value for value in values if value in options]
    if multi and values:
        st.session_state[key] = values
    elif values:
        st.session_state[key] = values[-1]  # as st.query_params.get: the last of repeated values


def current_value(value: str, options: list[str]) -> str:
    """`value`, or the new name of a write-up model it names by its old name (seed004 -> writeup004),
    with a one-line notice; what is not renamed comes back as it is."""
    from mnist_core.models import current_name, rename_notice

    renamed = current_name(value)
    if renamed != value and renamed in options:
        st.caption(f"This link uses an old model name: {rename_notice(value).removeprefix('note: ')}.")
        return renamed
    return value


def keep_in_url(key: str, value) -> None:
    """Write `value` (a string, a list of strings, or None to remove it) into the URL as `key`."""
    if value is None or value == []:
        if key in st.query_params:
            del st.query_params[key]
        return
    value = [str(v) for v in value] if isinstance(value, (list, tuple)) else str(value)
    if st.query_params.get_all(key) != (value if isinstance(value, list) else [value]):
        st.query_params[key] = value
