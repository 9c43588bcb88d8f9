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

# What the Draw page needs, first: it waits only for these. Then everything the other pages import.
FIRST_UI = ("loaders", "pictures", "colours", "readout", "explain_view", "share")
FIRST = ("torch", "mnist_core", "mnist_core.analysis.predict", "mnist_core.analysis.uncertainty",
         "mnist_core.analysis.explain", "PIL.Image", *(f"app_ui.{name}" for name in FIRST_UI))
THEN = ("mnist_core.analysis.changes", "mnist_core.analysis.pareto", "mnist_core.store.derived",
        "mnist_core.reports.html", "mnist_core.training.planning", "pandas", "altair", "app_ui.charts",
        "app_ui.train_form", "app_ui.builder", "app_ui.queue_panel", "app_ui.preview", "app_ui.live_view",
        "app_ui.run_manager", "mnist_core.reports.comparison", "app_ui.arch_diff", "onnxruntime")

_FIRST_DONE = threading.Event()
_GO_ON = threading.Event()  # THEN starts once the first page is shown, or once a page needs it
_DONE = threading.Event()
_START = threading.Lock()
_THREAD: threading.Thread | None = None


def _import(names) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the page that needs it imports it again and shows why
            pass


def _load_shipped_models() -> None:
    """Load the shipped checkpoints into the app's model cache, so the first drawing is answered
    without waiting for 12 files to be read."""
    try:
        from mnist_core.store.shipped import list_checkpoints

        from .loaders import cached_model, weights_key

        for record in list_checkpoints()[0]:
            cached_model(*weights_key(record))
    except Exception:  # noqa: BLE001 - the page loads (and reports) them itself
        pass


def _load_dataset() -> None:
    """MNIST's test split into the app's cache (~0.1 s): Compare and Evaluate need it."""
    try:
        from .loaders import cached_test

        cached_test()
    except Exception:  # noqa: BLE001 - a missing dataset is said on the page that needs it
        pass


def _import_all() -> None:
    try:
        _import(FIRST)
        _load_shipped_models()
        _FIRST_DONE.set()
        _GO_ON.wait(timeout=10)  # not while the first visitor's page renders: they share the GIL
        _import(THEN)
        _load_dataset()
    finally:
        _FIRST_DONE.set()
        _DONE.set()


def start() -> None:
    """Begin the imports (once per process); returns at once."""
    global _THREAD
    with _START:
        if _THREAD is None:
            _THREAD = threading.Thread(target=_import_all, name="heavy-imports", daemon=True)
            _THREAD.start()


def wait(first_only: bool = False) -> None:
    """Block until every heavy module is imported (with first_only, the Draw page's: FIRST), starting
    the imports if nobody has. A thread that waited for FIRST may use those modules while THEN is
    still importing: they are complete, and it holds no import lock the importer could need."""
    start()
    if not first_only:
        _GO_ON.set()
    (_FIRST_DONE if first_only else _DONE).wait()


def done() -> bool:
    """Whether every heavy module is imported (without waiting)."""
    return _DONE.is_set()


def page_shown() -> None:
    """The router's run ended: the rest of the imports may go on."""
    _GO_ON.set()
