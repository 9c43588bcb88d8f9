"""Shareable views: a page's selections live in its URL's query string, so a link reopens the same
view (a teacher sends "look at this"). Streamlit's own `bind="query-params"` writes a widget's
*formatted* label into the URL (ours carry accuracies that change), so we keep the raw keys:
`restore_from_url` fills a widget's session state from the URL once per session, before the widget is
drawn (a link with a write-up model's old name, ?model=seed004, opens writeup004 with a one-line
notice); `keep_in_url` writes the current value back after it.

A URL is anyone's to write: every value is read through `url_values` with a strict parser (a name
among the options, `digit_pair` for Evaluate's cell), and what does not parse is ignored, so no
link can raise on a page.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

import streamlit as st

Parsed = TypeVar("Parsed")
MAX_URL_VALUE = 200  # characters: longer than any name or cell a page writes into its URL
DIGIT_PAIR = re.compile(r"([0-9])-([0-9])")  # ASCII digits only: str.isdigit also accepts "²" and "٣"


def url_values(key: str, parse: Callable[[str], Parsed | None]) -> list[Parsed]:
    """Every value of the URL parameter `key` that `parse` accepts, in order (the one reader of the
    query string). `parse` returns None or raises ValueError for what it refuses; values that are
    too long or hold control characters never reach it."""
    values = []
    for raw in st.query_params.get_all(key):
        if not isinstance(raw, str) or len(raw) > MAX_URL_VALUE or not raw.isprintable():
            continue
        try:
            parsed = parse(raw)
        except ValueError:
            continue
        if parsed is not None:
            values.append(parsed)
    return values


def digit_pair(text: str) -> tuple[int, int] | None:
    """A cell as a link writes it, "4-9", as (4, 9); None for anything else."""
    matched = DIGIT_PAIR.fullmatch(text)
    return (int(matched.group(1)), int(matched.group(2))) if matched else None


def restore_from_url(key: str, options, multi: bool = False) -> None:
    """Set st.session_state[key] from the URL parameter `key` (first visit of this session only;
    values that are not among `options` are ignored)."""
    marker = f"_from_url_{key}"
    if marker in st.session_state:
        return
    st.session_state[marker] = True
    options = [str(option) for option in options]
    values = url_values(key, lambda value: chosen(value, options))
    if multi and values:
        st.session_state[key] = values
    elif values:
        st.session_state[key] = values[-1]  # as st.query_params.get: the last of repeated values


def chosen(value: str, options: list[str]) -> str | None:
    """The option `value` names (by its current or old name), or None."""
    value = current_value(value, options)
    return value if value in options else None


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
