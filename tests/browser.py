"""Helpers for the browser tests: a Streamlit server on a free local port, headless Chromium."""
from __future__ import annotations

import contextlib
import math
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerURL(str):
    """The server's URL; `.pid` is its process (for memory figures)."""
    pid: int


@contextlib.contextmanager
def streamlit_server(extra_env: dict | None = None):
    port = free_port()
    env = {**os.environ, **(extra_env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = ServerURL(f"http://127.0.0.1:{port}")
    url.pid = process.pid
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError("streamlit did not start within 60 s")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


CANVAS = "canvas[aria-label^='Drawing pad']"  # the Draw page's drawing pad (app_ui.draw_pad)
METRIC = "[data-testid='stMetricValue']"


def clear_canvas(page) -> None:
    """The pad's own Clear button (off while the pad is empty)."""
    button = page.get_by_role("button", name="Clear", exact=True)
    if button.is_enabled():
        button.click()


def digit_strokes(digit: int, rng=None) -> list[list[tuple[float, float]]]:
    """Mouse strokes that draw `digit` on the 280x280 canvas, jittered a little by `rng` (a
    random.Random) so that repeated drawings differ."""
    def arc(cx, cy, rx, ry, start, end, n=16):
        return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
                for a in [start + (end - start) * i / n for i in range(n + 1)]]

    shapes = {
        0: [arc(140, 140, 55, 90, -90, 270, 24)],
        1: [[(140, 45), (140, 240)]],
        2: [arc(140, 95, 50, 45, 200, 360, 10) + [(175, 135), (85, 235), (200, 235)]],
        3: [arc(135, 90, 50, 42, 210, 450, 12) + arc(135, 185, 55, 50, 270, 500, 12)],
        4: [[(160, 45), (75, 175), (205, 175)], [(165, 110), (165, 245)]],
        5: [[(195, 50), (100, 50), (95, 130)] + arc(135, 175, 55, 55, 235, 490, 14)],
        6: [[(175, 50), (110, 120)] + arc(140, 185, 55, 55, 200, 560, 18)],
        7: [[(75, 55), (205, 55), (120, 245)]],
        8: [arc(140, 92, 42, 45, 90, 450, 16) + arc(140, 190, 52, 52, -90, 270, 16)],
        9: [arc(140, 95, 50, 48, 0, 360, 16) + [(190, 95), (180, 245)]],
    }
    if rng is None:
        return shapes[digit]
    dx, dy, scale = rng.uniform(-12, 12), rng.uniform(-10, 10), rng.uniform(0.9, 1.05)
    return [[(140 + (x - 140) * scale + dx, 140 + (y - 140) * scale + dy) for x, y in points]
            for points in shapes[digit]]


def stroke(page, box, points, steps: int = 1) -> None:
    """Draw one pen stroke through canvas-relative points (the pad joins consecutive points with
    straight lines, so `steps` > 1 draws the same line with more events: each costs a frame)."""
    x0, y0 = box["x"], box["y"]
    page.mouse.move(x0 + points[0][0], y0 + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x0 + x, y0 + y, steps=steps)
    page.mouse.up()


def stop_button(page):
    """The Train page's Stop button (not the one in Streamlit's own "Running…" status widget)."""
    return page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop", exact=True)


def set_number(page, label: str, value, timeout: float = 30) -> None:
    """Type `value` into the number input labelled `label`, once the page has settled: while a
    rerun moves a form (a run's heading appears above it), Streamlit shows the old copy beside the
    new one for a moment, and filling the old one is lost."""
    field = page.get_by_label(label, exact=True)
    deadline = time.time() + timeout
    while field.count() != 1 and time.time() < deadline:
        page.wait_for_timeout(200)
    field.first.fill(str(value))
    field.first.press("Enter")
    settle(page)


def choose(page, label: str, option: str) -> None:
    """Pick `option` in the selectbox labelled `label`."""
    page.get_by_label(label, exact=True).first.click()
    page.get_by_role("option", name=option, exact=True).click()
    settle(page)


# A small architecture for the tests that train from the browser: the form's default (write-up 004)
# trains ~140 images/s on a busy 2-core machine, this one thousands.
SMALL_MODEL = "writeup001_iter2 · write-up 001 · iteration 2"


# Counts the app's finished script runs: the app root's data-test-script-state goes
# "running" -> "notRunning" once per run (a rerun a widget asked for, a fragment's tick). Added to
# every page the session's Chromium opens (conftest's `chromium`), before the app's own scripts, so
# the first run is counted too; `settle` installs it on pages opened elsewhere.
RUN_COUNTER = """(() => {
  if (window.__runs) return;
  const runs = {finished: 0, seen: 0, state: null};
  window.__runs = runs;
  new MutationObserver((records) => {
    for (const record of records) {
      if (record.target.getAttribute("data-testid") !== "stApp") continue;
      const state = record.target.getAttribute("data-test-script-state");
      if (state === "notRunning" && runs.state !== "notRunning") runs.finished += 1;
      runs.state = state;
    }
  }).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-test-script-state"]});
})()"""
_IDLE = "document.querySelector(\"[data-testid='stApp']\")?.getAttribute('data-test-script-state') === 'notRunning'"


class CountingBrowser:
    """A Playwright Browser whose new pages and contexts count the app's script runs (RUN_COUNTER)
    from their first navigation on; everything else is the browser's own."""

    def __init__(self, browser):
        self._browser = browser

    def new_page(self, **options):
        page = self._browser.new_page(**options)
        page.add_init_script(RUN_COUNTER)
        return page

    def new_context(self, **options):
        context = self._browser.new_context(**options)
        context.add_init_script(RUN_COUNTER)
        return context

    def __getattr__(self, name):
        return getattr(self._browser, name)


def settle(page, grace_ms: int = 600, timeout_ms: int = 60000) -> None:
    """Wait until the rerun that the last action asked for has finished: a script run finished since
    the previous settle and none is running, or, where no run finished within `grace_ms` (an action
    that asks for none), none is running. A page drawn from a rerun still in flight shows old and
    new copies of its elements side by side."""
    page.evaluate(RUN_COUNTER)
    try:
        page.wait_for_function(f"() => window.__runs.finished > window.__runs.seen && {_IDLE}", timeout=grace_ms)
    except playwright_error():
        page.wait_for_function(f"() => {_IDLE}", timeout=timeout_ms)
    page.evaluate("() => { window.__runs.seen = window.__runs.finished; }")


def script_idle(page) -> bool:
    """Whether the app is between script runs now (none running, none asked for)."""
    return page.evaluate(f"() => {_IDLE}")


def playwright_error():
    from playwright.sync_api import TimeoutError

    return TimeoutError
