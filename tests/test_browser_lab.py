"""The lab like a user: build a 3-layer network from blocks, see its parameter count, train it one
epoch on 500 images and find it on Compare; queue two runs and see them finish in order."""
import time

import pytest
from browser import ARTIFACTS, SMALL_MODEL, choose, set_number, settle


@pytest.fixture(scope="module")
def app(shared_app):
    return shared_app.url, shared_app.browser


@pytest.fixture(scope="module")
def runs_folder(shared_app):
    return shared_app.runs


def open_train(page, url: str) -> None:
    page.goto(url)
    page.locator("[data-testid='stSidebarNav']").get_by_text("Train", exact=True).click()
    page.get_by_role("button", name="Start training").first.wait_for(timeout=60000)
    settle(page)


def add_block(page, block: str, **fields) -> None:
    choose(page, "Block", block)
    for name, value in fields.items():
        set_number(page, name, value)
    page.get_by_role("button", name="Add block").click()
    settle(page)


def wait_for_runs(runs_folder, count: int, timeout: float = 240):
    from mnist_core.store import runs

    deadline = time.time() + timeout
    while time.time() < deadline:
        listed = runs.list_runs(runs_folder)
        if len(listed) >= count and all(run.status == "finished" for run in listed):
            return listed
        time.sleep(0.5)
    raise AssertionError(f"runs did not finish: {[(r.name, r.status) for r in runs.list_runs(runs_folder)]}")


def test_build_a_three_layer_network_train_it_and_find_it_on_compare(app, runs_folder):
    url, browser = app
    page = browser.new_page(viewport={"width": 1300, "height": 1400})
    open_train(page, url)
    choose(page, "Architecture", "(build your own)")
    page.get_by_text("Build your own iteration").wait_for(timeout=30000)
    set_number(page, "Name", "three-layer")
    add_block(page, "conv", out=8, kernel=3)
    add_block(page, "relu")
    add_block(page, "maxpool")
    add_block(page, "conv", out=16, kernel=3)
    add_block(page, "relu")
    add_block(page, "gap")
    add_block(page, "linear", out=10)
    expected = 8 * 9 + 8 * 16 * 9 + 16 * 10 + 10
    metric = page.get_by_test_id("stMetric").filter(has_text="Parameters")
    metric.get_by_text(f"{expected:,}", exact=True).wait_for(timeout=20000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "builder.png"), full_page=True)
    set_number(page, "Epochs", 1)
    set_number(page, "Training images (0 = all 55,000)", 500)
    page.get_by_role("button", name="Start training").first.click()
    page.get_by_text("Status: finished").wait_for(timeout=180000)
    (run,) = wait_for_runs(runs_folder, 1)
    assert run.config["model"] == "spec:three-layer" and run.record.params == expected
    page.locator("[data-testid='stSidebarNav']").get_by_text("Compare", exact=True).click()
    page.get_by_text("Compare iterations").first.wait_for(timeout=60000)
    settle(page)
    page.get_by_text("What changed").first.wait_for(timeout=60000)  # the page has finished drawing
    picker = page.get_by_test_id("stMultiSelect").first
    picker.locator("input").first.click()
    page.keyboard.type("spec-three")
    page.get_by_role("option").filter(has_text=f"run:{run.name}").first.click()
    page.keyboard.press("Escape")
    settle(page)
    page.get_by_text(f"run:{run.name}").first.wait_for(timeout=30000)
    table = page.locator("[data-testid='stDataFrame']").first
    deadline = time.time() + 30
    while f"run:{run.name}" not in (table.text_content() or "") and time.time() < deadline:
        page.wait_for_timeout(300)
    assert f"run:{run.name}" in (table.text_content() or "")


def test_queue_two_runs_and_see_them_finish_in_order(app, runs_folder):
    from mnist_core.store import runs

    url, browser = app
    before = {run.name for run in runs.list_runs(runs_folder)}
    page = browser.new_page(viewport={"width": 1300, "height": 1400})
    open_train(page, url)
    choose(page, "Architecture", SMALL_MODEL)
    set_number(page, "Epochs", 1)
    set_number(page, "Training images (0 = all 55,000)", 500)
    queue = page.get_by_test_id("stExpander").filter(has_text="Queue and reproduce")
    for count, seed in enumerate((11, 12), 1):
        page.get_by_text("Recipe details").click()
        set_number(page, "Seed", seed)
        page.get_by_text("Recipe details").click()
        page.get_by_role("button", name="Add to queue").click()
        page.mouse.move(0, 0)  # its help tooltip would otherwise cover the next click
        deadline = time.time() + 30  # the queue's table lists the new item (a toast can be gone by now)
        while (queue.text_content() or "").count("queued by hand") < count and time.time() < deadline:
            page.wait_for_timeout(300)
        assert (queue.text_content() or "").count("queued by hand") >= count
        settle(page)
    page.get_by_text("Queue and reproduce a write-up").first.wait_for(timeout=10000)
    listed = wait_for_runs(runs_folder, len(before) + 2)
    queued = sorted((run for run in listed if run.name not in before), key=lambda run: run.started_at)
    assert [run.config["seed"] for run in queued] == [11, 12]
    assert queued[0].progress["updated_at"] <= queued[1].started_at
    page.get_by_text("Status: finished").first.wait_for(timeout=60000)
    page.screenshot(path=str(ARTIFACTS / "queue.png"), full_page=True)
