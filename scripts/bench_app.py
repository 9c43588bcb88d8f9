"""How fast the app feels, measured like a user in headless Chromium, in one run:

- cold_canvas_s: a freshly started server (its health check just answered, no session yet) -> the
  Draw page's pad on screen, taking strokes; cold_idle_s: -> the page idle with every model loaded
  (a stroke drawn now is answered at once); on a desktop viewport and on a 390x844 phone;
- page_switch_s: on the warm server (5 s after its first page), a click in the sidebar -> the page
  idle, for every page, twice (the first time opens each page's caches);
- draw: N digits drawn with the mouse, each on a cleared canvas; pen-up -> the Prediction metric
  shows; a drawing that shows nothing within 10 s has not settled;
- training: the same config (writeup004, 1 epoch, 10,000 images) from the app with the Train page open
  (its live view on) and from the CLI, alternating, three of each: the median training images/s of
  each (from the runs' own records) and their ratio.

    python -m scripts.bench_app [--json] [--digits 60] [--skip-train] [--parts draw ...] [--cache DIR]

The Draw page reads with ONNX Runtime once a model's export is built (app_ui.loaders.readout_models;
a fresh cache builds them in the background while the first drawings are read with torch);
MNIST_DRAW_READOUT=torch in the environment times the torch readout instead.

Nothing here asserts a time: it prints figures (JSON with --json) and the machine they came from.
Only 127.0.0.1 is contacted. Run it with nothing else heavy running.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.browser import CANVAS, CHROMIUM, CHROMIUM_ARGS, METRIC, clear_canvas, digit_strokes, streamlit_server, stroke

ROOT = Path(__file__).resolve().parent.parent

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
PAGES = {"Train": "Train an iteration", "Compare": "Compare iterations", "Evaluate": "Evaluate a checkpoint",
         "Draw": "Draw a digit"}
TRAIN_CONFIG = {"model": "writeup004", "epochs": 1, "limit": 10000}
TRAIN_REPEATS = 3
WARM_SECONDS = 5  # page switches are timed on a warm server: after its background imports (app_ui.warmup)


def machine() -> dict:
    from mnist_core.training.machine import machine_info

    return machine_info()


def wait_idle(page, timeout_ms: int = 30000) -> None:
    page.wait_for_selector(IDLE, timeout=timeout_ms)
    page.wait_for_timeout(150)  # a rerun queued right after "notRunning" shows within this
    page.wait_for_selector(IDLE, timeout=timeout_ms)


CONSOLE_ERRORS: list[str] = []  # every error any page logged in the browser console


def new_page(browser, viewport: dict):
    page = browser.new_page(viewport=viewport)
    page.on("console", lambda message: message.type == "error" and CONSOLE_ERRORS.append(message.text))
    page.on("pageerror", lambda error: CONSOLE_ERRORS.append(f"page error: {error}"))
    page.on("response", lambda response: response.status >= 400 and CONSOLE_ERRORS.append(
        f"HTTP {response.status} {response.url.split('//', 1)[-1].split('/', 1)[-1]}"))
    return page


def open_canvas(browser, url: str, viewport: dict) -> tuple[float, float, object]:
    """(seconds until the pad is on screen and takes strokes, seconds until the page is idle with
    every model loaded, the page)."""
    page = new_page(browser, viewport)
    started = time.perf_counter()
    page.goto(url)
    page.locator(CANVAS).wait_for(timeout=60000)
    shown = time.perf_counter() - started
    wait_idle(page, 60000)
    return shown, time.perf_counter() - started, page


def measure_cold(browser, env: dict) -> dict:
    figures = {}
    for label, viewport in (("desktop", {"width": 1300, "height": 1000}), ("phone", {"width": 390, "height": 844})):
        with streamlit_server(env) as url:
            shown, idle, page = open_canvas(browser, url, viewport)
            figures[label] = (round(shown, 2), round(idle, 2))
            page.close()
    return figures


def measure_switches(page) -> dict:
    figures = {}
    for name, title in PAGES.items():
        link = page.get_by_test_id("stSidebarNav").get_by_role("link", name=name)
        started = time.perf_counter()
        link.click()
        page.get_by_role("heading", name=title).wait_for(timeout=30000)
        wait_idle(page)
        figures[name] = round(time.perf_counter() - started, 2)
    return figures


def measure_draw(page, count: int, seed: int = 0) -> dict:
    rng = random.Random(seed)
    latencies, unsettled, wrong = [], 0, 0
    canvas = page.locator(CANVAS)
    for index in range(count):
        digit = index % 10
        clear_canvas(page)
        page.wait_for_function(f"() => !document.querySelector(\"{METRIC}\")", timeout=10000)
        wait_idle(page)
        box = canvas.bounding_box()
        strokes = digit_strokes(digit, rng)
        for points in strokes[:-1]:
            stroke(page, box, points, steps=4)
        stroke(page, box, strokes[-1], steps=4)
        pen_up = time.perf_counter()
        try:
            page.wait_for_function(f"() => !!document.querySelector(\"{METRIC}\")", polling=20, timeout=10000)
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: this drawing never settled
            unsettled += 1
            continue
        latencies.append(time.perf_counter() - pen_up)
        shown = page.locator(METRIC).first.inner_text().strip()
        wrong += shown != str(digit)
        wait_idle(page)
    ordered = sorted(latencies)
    return {
        "draw_p50_ms": round(1000 * statistics.median(ordered)) if ordered else None,
        "draw_p95_ms": round(1000 * ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)])
        if ordered
        else None,
        "draw_settled": f"{len(latencies)}/{count}",
        "draw_read_as_drawn": f"{count - unsettled - wrong}/{count}",
    }


def run_images_per_s(runs_folder: Path, name: str) -> float:
    from mnist_core.store.runs import get_run

    history = get_run(name, runs_folder).epochs()
    return float(history[-1]["images_per_s"])


def train_cli(runs_folder: Path, env: dict, name: str = "bench-cli") -> float:
    """The CLI run, while the app's server stays up and idle (no page open): the fair comparison."""
    command = [sys.executable, "-m", "mnist_core", "train", "--model", TRAIN_CONFIG["model"], "--epochs",
               str(TRAIN_CONFIG["epochs"]), "--limit", str(TRAIN_CONFIG["limit"]), "--name", name]
    subprocess.run(command, cwd=ROOT, env={**env, "MNIST_RUNS": str(runs_folder)}, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=900)
    return run_images_per_s(runs_folder, name)


def train_app(browser, url: str, runs_folder: Path) -> float:
    page = new_page(browser, {"width": 1300, "height": 1000})
    page.goto(url)  # like a user: the app, then Train in the sidebar
    page.locator(CANVAS).wait_for(timeout=60000)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Train").click()
    page.get_by_role("heading", name="Train an iteration").wait_for(timeout=60000)
    wait_idle(page)
    for label, value in (
        ("Epochs", TRAIN_CONFIG["epochs"]),
        ("Training images (0 = all 55,000)", TRAIN_CONFIG["limit"]),
    ):
        field = page.get_by_label(label, exact=True)
        field.fill(str(value))
        field.press("Enter")
        wait_idle(page)
    wait_idle(page)
    from mnist_core.store.runs import list_runs

    before = {run.name for run in list_runs(runs_folder)}
    page.get_by_role("button", name="Start training").first.click()
    deadline = time.time() + 900
    newest = None
    while time.time() < deadline:  # the page stays open (its live view on) until the run ends
        new = [run for run in list_runs(runs_folder) if run.name not in before]
        if new and not new[0].is_running:
            newest = new[0]
            break
        time.sleep(0.5)
    page.get_by_text("Status: finished").wait_for(timeout=60000)
    page.close()
    if newest is None or newest.status != "finished":
        raise RuntimeError(f"the app's run did not finish: {newest}")
    shown = {key: newest.config.get(key) for key in TRAIN_CONFIG}
    if shown != TRAIN_CONFIG:
        raise RuntimeError(f"the app trained {shown}, not {TRAIN_CONFIG}")
    return run_images_per_s(runs_folder, newest.name)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--digits", type=int, default=60, help="drawings to time (default 60)")
    parser.add_argument("--skip-train", action="store_true", help="leave out the training comparison")
    parser.add_argument("--cache", type=Path,
                        help="the server's cache folder (MNIST_CACHE) instead of a fresh one: a server whose "
                             "derived results and exports are already built")
    parser.add_argument("--parts", nargs="*", default=["cold", "pages", "draw", "train"],
                        help="which measurements (default: cold pages draw train)")
    args = parser.parse_args(argv)
    parts = set(args.parts) - ({"train"} if args.skip_train else set())
    if shutil.which(CHROMIUM) is None:
        print(f"{CHROMIUM} is missing (apt-get install chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    result = {"machine_before": machine()}
    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as playwright:
        runs_folder = Path(scratch) / "runs"
        env = {"MNIST_RUNS": str(runs_folder), "MNIST_CACHE": str(args.cache or Path(scratch) / "cache")}
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        if "cold" in parts:
            cold = measure_cold(browser, env)
            result["cold_canvas_s"], result["cold_idle_s"] = cold["desktop"]
            result["cold_canvas_phone_s"], result["cold_idle_phone_s"] = cold["phone"]
        with streamlit_server(env) as url:
            *_, page = open_canvas(browser, url, {"width": 1300, "height": 1000})
            page.wait_for_timeout(WARM_SECONDS * 1000)  # let the server finish its background imports
            if "pages" in parts:
                result["page_switch_s"] = measure_switches(page)
                result["page_switch_s_second"] = measure_switches(page)
            if "draw" in parts:
                result.update(measure_draw(page, args.digits))
            page.close()
            result["console_errors"] = len(CONSOLE_ERRORS)  # the walk: cold starts, every page, drawing
            result["console_error_messages"] = sorted(set(CONSOLE_ERRORS))[:20]
            if "train" in parts:  # alternating, three of each: the medians (a run is ~4 s, so noisy)
                app_rates, cli_rates = [], []
                for attempt in range(TRAIN_REPEATS):
                    app_rates.append(train_app(browser, url, runs_folder))
                    cli_rates.append(train_cli(runs_folder, {**os.environ, **env}, f"bench-cli-{attempt}"))
                result["train_config"] = TRAIN_CONFIG
                result["train_app_images_per_s"] = round(statistics.median(app_rates))
                result["train_cli_images_per_s"] = round(statistics.median(cli_rates))
                result["train_ratio"] = round(result["train_app_images_per_s"] / result["train_cli_images_per_s"], 3)
                result["train_each"] = {"app": [round(rate) for rate in app_rates],
                                        "cli": [round(rate) for rate in cli_rates]}
        browser.close()
    result["console_errors_with_training"] = len(CONSOLE_ERRORS)
    result["machine"] = machine()
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        for key, value in result.items():
            print(f"{key:>24}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
