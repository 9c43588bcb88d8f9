"""Visitors like users in headless Chromium: two sessions on one server never see each other's
drawing or form; a server in demo mode shows its banner, offers no Delete/Promote, and trains a
capped run to the end."""
import time

import pytest
from browser import (
    ARTIFACTS,
    CANVAS,
    METRIC,
    SMALL_MODEL,
    choose,
    clear_canvas,
    digit_strokes,
    set_number,
    settle,
    streamlit_server,
    stroke,
)


@pytest.fixture(scope="module")
def browser(chromium):
    return chromium


def draw(page, digit: int) -> str:
    """Draw `digit` on a cleared pad; the Prediction metric's value once it shows."""
    clear_canvas(page)
    page.wait_for_function(f"() => !document.querySelector(\"{METRIC}\")", timeout=10000)
    settle(page)
    box = page.locator(CANVAS).bounding_box()
    for points in digit_strokes(digit):
        stroke(page, box, points)
    page.wait_for_function(f"() => !!document.querySelector(\"{METRIC}\")", timeout=30000)
    return page.locator(METRIC).first.inner_text().strip()


def open_page(browser, url: str, name: str | None = None):
    context = browser.new_context(viewport={"width": 1300, "height": 1100})
    page = context.new_page()
    page.goto(url)
    page.locator(CANVAS).wait_for(timeout=60000)
    if name is not None:
        page.locator("[data-testid='stSidebarNav']").get_by_text(name, exact=True).click()
    return page


def test_two_sessions_never_see_each_others_drawing_or_form(browser, shared_app):
    url = shared_app.url
    # the shared server: other modules' sessions have come and gone before these two
    first = open_page(browser, url)
    assert draw(first, 7) == "7"
    second = open_page(browser, url)
    settle(second)
    assert second.locator(METRIC).count() == 0, "a new session must not show another's prediction"
    assert draw(second, 1) == "1"
    settle(first)
    assert first.locator(METRIC).first.inner_text().strip() == "7", "the first session keeps its own answer"
    for page in (first, second):  # the form, too, is each session's own
        page.locator("[data-testid='stSidebarNav']").get_by_text("Train", exact=True).click()
        page.get_by_role("button", name="Start training").first.wait_for(timeout=60000)
    set_number(first, "Epochs", 3)
    second.reload()
    second.get_by_role("button", name="Start training").first.wait_for(timeout=60000)
    settle(second)
    assert second.get_by_label("Epochs", exact=True).input_value() != "3"
    assert first.get_by_label("Epochs", exact=True).input_value() == "3"


def test_demo_mode_banner_no_delete_or_promote_and_a_capped_run_finishes(browser, tmp_path):
    from mnist_core.store import runs

    with streamlit_server({"MNIST_RUNS": str(tmp_path), "MNIST_LAB_MODE": "demo"}) as url:
        page = open_page(browser, url)
        page.get_by_text("Demo.", exact=False).first.wait_for(timeout=30000)
        assert draw(page, 7) == "7"  # Draw works fully
        page.locator("[data-testid='stSidebarNav']").get_by_text("Train", exact=True).click()
        page.get_by_role("button", name="Start training").first.wait_for(timeout=60000)
        choose(page, "Architecture", SMALL_MODEL)
        set_number(page, "Epochs", 1)
        set_number(page, "Training images (0 = all 55,000)", 500)
        deadline = time.time() + 60
        while not runs.list_runs(tmp_path) and time.time() < deadline:
            page.get_by_role("button", name="Start training").first.click()
            for _ in range(6):  # a click that lands on a button being redrawn is lost: click again
                page.wait_for_timeout(250)
                if runs.list_runs(tmp_path):
                    break
        page.get_by_text("Status: finished").wait_for(timeout=120000)
        (run,) = runs.list_runs(tmp_path)
        assert run.status == "finished"
        settle(page)
        for label in ("Delete…", "Promote…", "Un-promote"):
            assert page.get_by_role("button", name=label).count() == 0, label
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "demo_train.png"), full_page=True)
