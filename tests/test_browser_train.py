"""The Train page like a user: start a run, watch the charts move, Stop it; reload re-attaches;
the runs table opens an older run, which is promoted (with confirmation) and un-promoted."""
import hashlib
import shutil
import time

import pytest
from browser import ARTIFACTS, SMALL_MODEL, choose, set_number, settle, stop_button, streamlit_server

playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def checkpoints_folder(tmp_path_factory):
    """A scratch checkpoints/ (two shipped models) so promotion never touches the repository's."""
    from mnist_core.store.shipped import CHECKPOINT_DIR

    folder = tmp_path_factory.mktemp("checkpoints")
    for name in ("writeup001_iter2", "frontier"):
        for suffix in (".pt", ".json"):
            shutil.copy(CHECKPOINT_DIR / f"{name}{suffix}", folder / f"{name}{suffix}")
    return folder


@pytest.fixture(scope="module")
def app(runs_folder, checkpoints_folder, chromium):
    """A server of its own: promotion writes into a scratch checkpoints folder."""
    with streamlit_server({"MNIST_RUNS": str(runs_folder), "MNIST_CHECKPOINTS": str(checkpoints_folder)}) as url:
        yield url, chromium


def open_train_page(page) -> None:
    page.locator("[data-testid='stSidebarNav']").get_by_text("Train", exact=True).click()
    page.get_by_role("button", name="Start training").first.wait_for(timeout=60000)


def start_small_run(page, url: str, runs_folder) -> str:
    """Start a 30-epoch run of a small architecture on 3,000 images; returns its name once its
    folder says running."""
    from mnist_core.store import runs

    before = {run.name for run in runs.list_runs(runs_folder)}
    page.goto(url)  # like a user: the app's root, then the sidebar (see open_train_page)
    open_train_page(page)
    choose(page, "Architecture", SMALL_MODEL)
    set_number(page, "Epochs", 30)
    set_number(page, "Training images (0 = all 55,000)", 3000)
    deadline = time.time() + 60
    while time.time() < deadline:
        settle(page)
        page.get_by_role("button", name="Start training").first.click()
        for _ in range(20):
            page.wait_for_timeout(250)
            new = [run.name for run in runs.list_runs(runs_folder) if run.name not in before]
            if new:
                stop_button(page).wait_for(timeout=30000)
                return new[0]
    raise AssertionError("pressing Start training did not start a run")


def press_stop(page, runs_folder, timeout: float = 60) -> None:
    """Click Stop until the run stops: the live view redraws every 2 s, and a click that lands on
    the old copy of its button is lost (as a user would click again)."""
    from mnist_core.store import runs

    deadline = time.time() + timeout
    while time.time() < deadline:
        if not any(run.status == "running" for run in runs.list_runs(runs_folder)):
            return
        if stop_button(page).count():
            try:
                stop_button(page).click(timeout=5000)
            except playwright_api.Error:
                pass  # redrawn under the pointer: try again
        for _ in range(6):  # the run stops within a batch of the click
            page.wait_for_timeout(250)
            if not any(run.status == "running" for run in runs.list_runs(runs_folder)):
                return
    raise AssertionError("pressing Stop did not stop the run")


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
    press_stop(page, runs_folder)
    page.get_by_text("Status: stopped").wait_for(timeout=90000)
    from mnist_core.store import runs
    (run,) = runs.list_runs(runs_folder)
    assert run.status == "stopped"
    metrics = run.epochs()
    # stopped between batches, long before its 30 epochs (mid-epoch unless it landed on an epoch's last batch)
    assert metrics and len(metrics) < 30 and "user" in run.reason and run.has_weights
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "train_stopped.png"), full_page=True)


def test_reload_mid_run_reattaches_and_a_second_visitor_cannot_start(app, runs_folder):
    url, browser = app
    page = browser.new_page(viewport={"width": 1300, "height": 1200})
    name = start_small_run(page, url, runs_folder)
    heading = f"Run {name}"
    page.get_by_role("heading", name=heading).wait_for(timeout=30000)
    assert page.url.endswith("/train")
    page.reload()
    page.get_by_role("heading", name=heading).wait_for(timeout=30000)  # re-attached after reload
    stop_button(page).wait_for(timeout=30000)
    assert page.get_by_label("Epochs", exact=True).input_value() == "30"  # the form mirrors the run
    table_text(page, name)  # listed in the runs table
    other = browser.new_page()  # a second visitor sees the same run and cannot start another
    other.goto(url)
    open_train_page(other)
    other.get_by_text("Start is off while").wait_for(timeout=30000)
    assert other.get_by_role("button", name="Start training").first.is_disabled()
    press_stop(page, runs_folder)
    page.get_by_text("Status: stopped").wait_for(timeout=90000)


def table_text(page, name: str, timeout: float = 30) -> None:
    """Wait until the runs table (a canvas grid with an accessible DOM copy) lists `name`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if name in (page.locator("[data-testid='stDataFrame']").last.text_content() or ""):
            return
        page.wait_for_timeout(300)
    raise AssertionError(f"{name} is not in the runs table")


def click_table_row(page, runs_folder, name: str) -> None:
    """Click the row of `name` in the runs table (rows are ~35 px under a ~35 px header)."""
    from mnist_core.store import runs

    names = [run.name for run in runs.list_runs(runs_folder)]
    grid = page.locator("[data-testid='stDataFrame']").last
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    row = names.index(name)
    page.mouse.click(box["x"] + 12, box["y"] + 35 * (row + 1) + 17)


def test_open_an_older_run_promote_with_confirmation_then_unpromote(app, runs_folder, checkpoints_folder, mnist):
    from mnist_core.data.mnist import MNIST
    from mnist_core.lab import launch
    from mnist_core.training.recipes import default_config

    small = MNIST(train=mnist.train.head(512), validation=mnist.validation.head(500),
                  test=mnist.test.head(500), root=mnist.root)
    launch.train_run(default_config("writeup001_iter2", epochs=1, limit=512, eval_limit=500), runs_folder,
                   name="an-older-run", data=small)
    url, browser = app
    page = browser.new_page(viewport={"width": 1300, "height": 1200})
    page.goto(url)
    open_train_page(page)
    table_text(page, "an-older-run")
    click_table_row(page, runs_folder, "an-older-run")
    page.get_by_role("heading", name="Run an-older-run").wait_for(timeout=30000)
    dialog = page.get_by_role("dialog")
    for _ in range(8):  # a click that lands while the page is still rerunning can be lost
        settle(page)
        if not dialog.is_visible():
            page.get_by_role("button", name="Promote…").click()
        try:  # the dialog opens at once, but a rerun landing just after the click can close it
            dialog.wait_for(timeout=3000)
            dialog.get_by_text("This run (writeup001_iter2)").wait_for(timeout=20000)
            break
        except playwright_api.TimeoutError:
            continue  # closed (or never opened): click again
    dialog.get_by_text("This run (writeup001_iter2)").wait_for(timeout=5000)
    dialog.get_by_text("Shipped writeup001_iter2").wait_for(timeout=10000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "train_promote_dialog.png"))
    dialog.get_by_role("button", name="Promote", exact=True).click()
    page.get_by_text("Promoted as checkpoint").wait_for(timeout=60000)
    assert (checkpoints_folder / "an-older-run.pt").is_file() and (checkpoints_folder / "an-older-run.json").is_file()
    page.get_by_role("button", name="Un-promote").click()
    page.get_by_text("Promoted as checkpoint").wait_for(state="detached", timeout=30000)
    assert not (checkpoints_folder / "an-older-run.pt").exists()
    assert (checkpoints_folder / "writeup001_iter2.pt").is_file()  # the shipped files are untouched
