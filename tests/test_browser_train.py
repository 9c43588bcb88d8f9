"""The Train page like a user: start a run, watch the charts move, Stop it; reload re-attaches."""
import hashlib
import shutil
import time

import pytest

from browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, stop_button, streamlit_server

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian chromium not installed")


@pytest.fixture(scope="module")
def runs_folder(tmp_path_factory):
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="module")
def app(runs_folder):
    with streamlit_server({"MNIST_RUNS": str(runs_folder)}) as url:
        with playwright_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield url, browser
            browser.close()


def set_number(page, label: str, value: int) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")
    page.wait_for_timeout(400)


def open_train_page(page) -> None:
    page.locator("[data-testid='stSidebarNav']").get_by_text("Train", exact=True).click()
    page.get_by_text("Start training").wait_for(timeout=60000)


def start_small_run(page, url: str, runs_folder) -> str:
    """Start a 30-epoch run on 3,000 images; returns its name once its folder says running."""
    from mnist_core import runs

    before = {run["name"] for run in runs.list_runs(runs_folder)}
    page.goto(url)  # like a user: the app's root, then the sidebar (see open_train_page)
    open_train_page(page)
    set_number(page, "Epochs", 30)
    set_number(page, "Training images (0 = all 55,000)", 3000)
    deadline = time.time() + 60
    while time.time() < deadline:
        page.wait_for_load_state("networkidle")
        page.get_by_role("button", name="Start training").click()
        for _ in range(20):
            page.wait_for_timeout(250)
            new = [run["name"] for run in runs.list_runs(runs_folder) if run["name"] not in before]
            if new:
                stop_button(page).wait_for(timeout=30000)
                return new[0]
    raise AssertionError("pressing Start training did not start a run")


def chart_fingerprints(page) -> str:
    """A hash of every chart canvas on the page: changes when any chart is redrawn with new data."""
    urls = page.eval_on_selector_all(
        "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg",
        "cs => cs.map(c => c.tagName === 'CANVAS' ? c.toDataURL() : c.outerHTML)")
    return hashlib.sha1("".join(urls).encode()).hexdigest() if urls else ""


def test_start_watch_charts_update_then_stop(app, runs_folder):
    url, browser = app
    page = browser.new_page(viewport={"width": 1300, "height": 1500})
    start_small_run(page, url, runs_folder)
    seen = []
    deadline = time.time() + 120
    while time.time() < deadline and len(set(seen) - {""}) < 3:
        seen.append(chart_fingerprints(page))
        page.wait_for_timeout(700)
    distinct = set(seen) - {""}
    assert len(distinct) >= 3, "the charts should update at least twice while the run trains"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "train_running.png"), full_page=True)
    stop_button(page).click()
    page.get_by_text("Status: stopped").wait_for(timeout=90000)
    from mnist_core import runs
    (run,) = runs.list_runs(runs_folder)
    assert run["status"]["status"] == "stopped"
    metrics = runs.read_jsonl(run["folder"] / "metrics.jsonl")
    assert metrics and metrics[-1]["partial"] is True and len(metrics) < 30
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "train_stopped.png"), full_page=True)


def test_reload_mid_run_reattaches(app, runs_folder):
    url, browser = app
    page = browser.new_page(viewport={"width": 1300, "height": 1200})
    heading = f"Run {start_small_run(page, url, runs_folder)}"
    page.get_by_role("heading", name=heading).wait_for(timeout=30000)
    assert page.url.endswith("/train")
    page.reload()
    page.get_by_role("heading", name=heading).wait_for(timeout=30000)  # re-attached after reload
    stop_button(page).wait_for(timeout=30000)
    other = browser.new_page()  # a second visitor sees the same run and cannot start another
    other.goto(url)
    open_train_page(other)
    other.get_by_text("Training now:").wait_for(timeout=30000)
    other.get_by_role("button", name="Start training").click()
    other.get_by_text("is already training").wait_for(timeout=30000)
    stop_button(page).click()
    page.get_by_text("Status: stopped").wait_for(timeout=90000)
