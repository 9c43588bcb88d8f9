"""The app's heavy imports (torch, mnist_core, pandas, Altair and the UI modules built on them), in
one background thread per server process, started by the router's first run.

Two reasons. A cold server's first visitor gets the Draw canvas before torch has finished
importing (the page waits for these imports only after drawing it). And Python's import locks
can deadlock when two script threads (two visitors, or a page switch overlapping a run) import
one package tree from different ends, e.g. `mnist_core.models` (child lock first, then its parent)
while another thread inside `mnist_core/__init__` imports `mnist_core.models`: the loser gets an
exception, and torch, half-initialized, cannot be imported again in that process. Importing
everything from one thread, and making every page wait for it, rules that out.
"""
from __future__ import annotations

import importlib
import threading

MODULES = ("torch", "mnist_core", "mnist_core.analysis.predict", "mnist_core.analysis.explain",
           "mnist_core.analysis.changes", "mnist_core.analysis.pareto", "mnist_core.store.derived",
           "mnist_core.reports.html", "mnist_core.training.planning", "pandas", "altair", "PIL.Image",
           "app_ui.loaders", "app_ui.charts", "app_ui.colours", "app_ui.pictures", "app_ui.explain_view",
           "app_ui.train_form", "app_ui.builder", "app_ui.queue_panel", "app_ui.preview", "app_ui.live_view",
           "app_ui.run_manager")

_DONE = threading.Event()
_START = threading.Lock()
_THREAD: threading.Thread | None = None


def _import_all() -> None:
    try:
        for name in MODULES:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - the page that needs it imports it again and shows why
                pass
    finally:
        _DONE.set()


def start() -> None:
    """Begin the imports (once per process); returns at once."""
    global _THREAD
    with _START:
        if _THREAD is None:
            _THREAD = threading.Thread(target=_import_all, name="heavy-imports", daemon=True)
            _THREAD.start()


def wait() -> None:
    """Block until every heavy module is imported (starting the imports if nobody has)."""
    start()
    _DONE.wait()
