"""The app like a user: headless Chromium draws on the canvas and opens the Evaluate page."""
import json
import math
import shutil
import statistics
import time

import pytest
from browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, streamlit_server, stroke

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian chromium not installed")

ELLIPSE = [(140 + 55 * math.sin(t / 20 * 2 * math.pi), 140 - 90 * math.cos(t / 20 * 2 * math.pi))
           for t in range(21)]
DIGITS = {
    "1": [[(140, 40), (140, 240)]],
    "0": [ELLIPSE],
    "7": [[(70, 50), (210, 50), (120, 250)]],
}


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def app_url():
    with streamlit_server() as url:
        yield url


def reset_canvas(page) -> None:
    """The canvas toolbar's bin (the page has no Clear button of its own)."""
    page.get_by_role("button", name="Reset canvas & history").click()


def metric_value(page) -> str:
    return page.locator("[data-testid='stMetricValue']").first.inner_text().strip()


def test_drawing_three_digits_gives_the_right_predictions(browser, app_url):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    page.goto(app_url)
    latencies = []
    for digit, strokes in DIGITS.items():
        canvas = page.locator("canvas.upper-canvas")  # (in a shadow root: locators pierce it)
        canvas.wait_for(timeout=30000)  # one canvas, kept mounted: reset clears it in place
        page.wait_for_timeout(500)
        box = canvas.bounding_box()
        for points in strokes[:-1]:
            stroke(page, box, points)
        previous = page.locator("[data-testid='stMetricValue']").count()
        stroke(page, box, strokes[-1])
        pen_up = time.perf_counter()
        page.wait_for_function(
            "(n) => document.querySelectorAll(\"[data-testid='stMetricValue']\").length > n", arg=previous,
            timeout=20000)
        latencies.append(time.perf_counter() - pen_up)
        assert metric_value(page) == digit, f"drew a {digit}, app said {metric_value(page)}"
        assert page.get_by_text("Prediction (").first.is_visible()
        page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=20000)  # every iteration's probabilities
        page.wait_for_function("() => [...document.querySelectorAll('img')].every(i => i.complete)")
        page.wait_for_timeout(300)
        page.screenshot(path=str(ARTIFACTS / f"draw_{digit}.png"))
        reset_canvas(page)
        page.wait_for_function("() => !document.querySelector(\"[data-testid='stMetricValue']\")", timeout=20000)
    (ARTIFACTS / "draw_latency.json").write_text(json.dumps(
        {"pen_up_to_prediction_s": latencies, "median_s": statistics.median(latencies)}))
    print(f"pen-up to prediction: median {statistics.median(latencies):.3f} s, all {latencies}")


def test_evaluate_page_renders_the_heatmap(browser, app_url):
    page = browser.new_page(viewport={"width": 1300, "height": 1400})
    page.goto(f"{app_url}/evaluate")
    page.get_by_text("Test accuracy").wait_for(timeout=60000)
    chart = page.locator("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg").first
    chart.wait_for(timeout=30000)
    box = chart.bounding_box()
    assert box["width"] > 200 and box["height"] > 200
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "evaluate.png"), full_page=True)
    assert "%" in metric_value(page)
