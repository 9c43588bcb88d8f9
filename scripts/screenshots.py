"""Screenshots of every page for the README (docs/*.png), taken in headless Chromium.

    python -m scripts.screenshots                # needs Debian's chromium and the shipped checkpoints
    python -m scripts.screenshots --pages train  # only some pages
    python -m scripts.screenshots --pages sweeps --runs runs --study frontier-4k-b
                                                 # Compare -> Sweeps on a runs folder that holds studies
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageChops
from playwright.sync_api import sync_playwright

from tests.browser import CANVAS, CHROMIUM, CHROMIUM_ARGS, stop_button, streamlit_server, stroke

ROOT = Path(__file__).resolve().parent.parent

DOCS = ROOT / "docs"


def save_small(page, name: str, full_page: bool = True, width: int = 1000) -> None:
    raw = DOCS / f"{name}.raw.png"
    page.screenshot(path=str(raw), full_page=full_page)
    image = Image.open(raw).convert("RGB")
    main = image.crop((image.width // 4, 0, image.width, image.height))  # right of the sidebar
    content = ImageChops.difference(
        main, Image.new("RGB", main.size, main.getpixel((main.width - 5, main.height - 5)))
    ).getbbox()
    if content:  # trim the empty page below the last element
        image = image.crop((0, 0, image.width, min(image.height, content[3] + 40)))
    image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
    image.quantize(colors=128).save(DOCS / f"{name}.png", optimize=True)
    raw.unlink()


def nav(page, title: str, wait_text: str) -> None:
    page.locator("[data-testid='stSidebarNav']").get_by_text(title, exact=True).click()
    page.get_by_text(wait_text).first.wait_for(timeout=120000)
    page.wait_for_timeout(2500)


def train_shots(page, runs_folder: str) -> None:
    """Train: an older finished run in the table, then a new run just after Start (the 1280x900
    fold), and the same run a few epochs later (whole page)."""
    from mnist_core.data.mnist import load_mnist
    from mnist_core.lab.launch import train_run
    from mnist_core.training.recipes import default_config

    train_run(default_config("writeup001_iter2", epochs=2, limit=5000), runs_folder, name="writeup001_iter2-earlier",
              data=load_mnist())
    nav(page, "Train", "Start training")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_label("Architecture").click()
    page.get_by_role("option", name="frontier (own)").click()
    page.wait_for_timeout(1500)
    field = page.get_by_label("Training images (0 = all 55,000)", exact=True)
    field.fill("10000")
    field.press("Enter")
    page.wait_for_timeout(1500)
    page.get_by_role("button", name="Start training").first.click()
    page.mouse.move(5, 5)  # no hover tooltip in the picture
    page.wait_for_timeout(6000)
    page.screenshot(path=str(DOCS / "train_fold.raw.png"))
    Image.open(DOCS / "train_fold.raw.png").convert("RGB").quantize(colors=128).save(
        DOCS / "train_fold.png", optimize=True
    )
    (DOCS / "train_fold.raw.png").unlink()
    page.set_viewport_size({"width": 1300, "height": 1700})
    page.wait_for_timeout(25000)  # a few epochs (of 15, ~90 s in all here), so the curves have shape
    page.mouse.move(5, 5)
    save_small(page, "train")  # still training: the picture shows the live view
    if stop_button(page).is_visible():
        stop_button(page).click()


def element_shot(locator, name: str) -> None:
    raw = DOCS / f"{name}.raw.png"
    locator.screenshot(path=str(raw))
    Image.open(raw).convert("RGB").quantize(colors=128).save(DOCS / f"{name}.png", optimize=True)
    raw.unlink()


def lab_shots(page, url: str) -> None:
    """The lab: the block builder, the augmentation preview, the queue, robustness on Compare."""
    def settle():
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(800)

    def choose(label, option):
        page.get_by_label(label, exact=True).first.click()
        page.get_by_role("option", name=option, exact=True).click()
        settle()

    page.goto(url)
    nav(page, "Train", "Start training")
    choose("Architecture", "writeup000 · write-up 000")
    page.get_by_text("Augmentation preview").click()
    page.get_by_text("As the recipe augments them").wait_for(timeout=30000)
    settle()
    element_shot(page.get_by_test_id("stExpander").filter(has_text="Augmentation preview"), "preview")
    page.get_by_text("Augmentation preview").click()
    choose("Architecture", "(build your own)")
    choose("Start from", "a 3-layer example")
    page.get_by_role("button", name="Load").click()
    settle()
    page.get_by_text("Parameters").first.wait_for(timeout=30000)
    element_shot(page.locator(".st-key-builder"), "builder")
    choose("Architecture", "writeup001_iter2 · write-up 001 · iteration 2")
    for label, value in (("Epochs", 1), ("Training images (0 = all 55,000)", 2000)):
        field = page.get_by_label(label, exact=True)
        field.fill(str(value))
        field.press("Enter")
        settle()
    for _ in range(3):
        page.get_by_role("button", name="Add to queue").click()
        settle()
    page.wait_for_timeout(3000)
    page.mouse.move(5, 5)
    element_shot(page.get_by_test_id("stExpander").filter(has_text="Queue and reproduce"), "queue")
    page.wait_for_timeout(15000)  # let the queue finish before the next pictures
    nav(page, "Compare", "Accuracy against size")
    page.get_by_text("Run the robustness probes").click()
    section = page.locator(".st-key-robustness_section")
    deadline = 300
    while section.locator("[data-testid='stVegaLiteChart']").count() < 5 and deadline > 0:
        page.wait_for_timeout(1000)
        deadline -= 1
    page.wait_for_timeout(2500)
    element_shot(section, "robustness")


def sweep_shot(page, study: str | None) -> None:
    """Compare -> Sweeps with `study` chosen (default: the first listed): the section from its heading."""
    nav(page, "Compare", "Accuracy against size")
    heading = page.get_by_role("heading", name="Sweeps").first
    heading.wait_for(timeout=120000)
    if study:
        page.get_by_label("Study", exact=True).first.click()
        page.get_by_role("option", name=f"{study} (this lab)", exact=True).click()
        page.wait_for_load_state("networkidle")
    page.wait_for_load_state("networkidle")
    page.locator("[data-testid='stVegaLiteChart']").last.wait_for(timeout=120000)
    heading.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.mouse.move(5, 5)
    page.wait_for_timeout(4000)
    page.screenshot(path=str(DOCS / "compare_sweeps.raw.png"))
    Image.open(DOCS / "compare_sweeps.raw.png").convert("RGB").quantize(colors=128).save(
        DOCS / "compare_sweeps.png", optimize=True)
    (DOCS / "compare_sweeps.raw.png").unlink()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", nargs="*", default=["draw", "evaluate", "compare", "train", "lab"],
                        help="draw evaluate compare train lab sweeps (default: all but sweeps)")
    parser.add_argument("--runs", help="the server's runs folder (default: a new empty one; sweeps needs studies)")
    parser.add_argument("--study", help="sweeps: the study to show (default: the first listed)")
    args = parser.parse_args()
    wanted = set(args.pages)
    DOCS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as playwright, \
            streamlit_server({"MNIST_RUNS": str(Path(args.runs).resolve()) if args.runs else scratch}) as url:
        runs = str(Path(args.runs).resolve()) if args.runs else scratch
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1700})
        page.goto(url)
        if "draw" in wanted:
            canvas = page.locator(CANVAS)
            canvas.wait_for(timeout=60000)
            page.wait_for_timeout(1000)
            box = canvas.bounding_box()
            stroke(page, box, [(70, 50), (210, 50), (120, 250)])  # a 7
            page.locator("table.probabilities").first.wait_for(timeout=30000)
            page.get_by_text("Why? Saliency, Grad-CAM and feature maps").click()
            page.get_by_test_id("stImage").filter(has_text="Grad-CAM on").first.wait_for(timeout=30000)
            page.wait_for_timeout(2500)
            page.mouse.move(5, 5)
            save_small(page, "draw")
            phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
            phone.goto(url)
            phone.locator(CANVAS).wait_for(timeout=60000)
            phone.wait_for_timeout(1000)
            stroke(phone, phone.locator(CANVAS).bounding_box(), [(70, 50), (210, 50), (120, 250)])
            phone.locator("[data-testid='stMetricValue']").first.wait_for(timeout=30000)
            phone.wait_for_timeout(1500)
            phone.screenshot(path=str(DOCS / "draw_phone.raw.png"))
            Image.open(DOCS / "draw_phone.raw.png").convert("RGB").quantize(colors=128).save(
                DOCS / "draw_phone.png", optimize=True
            )
            (DOCS / "draw_phone.raw.png").unlink()
            phone.close()
        if "evaluate" in wanted:
            nav(page, "Evaluate", "Test accuracy")
            save_small(page, "evaluate")
            downloads = page.get_by_role("button", name="Download ONNX").first
            downloads.wait_for(timeout=60000)
            downloads.evaluate("e => e.scrollIntoView({block: 'center'})")
            page.mouse.move(5, 5)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(DOCS / "evaluate_downloads.raw.png"))  # the viewport from the buttons down
            Image.open(DOCS / "evaluate_downloads.raw.png").convert("RGB").quantize(colors=128).save(
                DOCS / "evaluate_downloads.png", optimize=True)
            (DOCS / "evaluate_downloads.raw.png").unlink()
        if "compare" in wanted:
            nav(page, "Compare", "Accuracy against size")
            page.get_by_text("Fixed by").first.wait_for(timeout=60000)
            page.wait_for_timeout(2500)
            save_small(page, "compare")
            for heading, name in (("What changed", "compare_changes"), ("Architecture diff", "compare_diff"),
                                  ("Seed studies", "compare_seeds")):
                page.get_by_role("heading", name=heading).first.evaluate("e => e.scrollIntoView({block: 'start'})")
                page.mouse.move(5, 5)
                page.wait_for_timeout(1200)
                page.screenshot(path=str(DOCS / f"{name}.raw.png"))  # the viewport from that section down
                Image.open(DOCS / f"{name}.raw.png").convert("RGB").quantize(colors=128).save(
                    DOCS / f"{name}.png", optimize=True)
                (DOCS / f"{name}.raw.png").unlink()
        if "train" in wanted:
            train_shots(page, runs)
        if "lab" in wanted:
            lab_shots(page, url)
        if "sweeps" in wanted:
            sweep_shot(page, args.study)
        browser.close()
    print("wrote", ", ".join(sorted(p.name for p in DOCS.glob("*.png"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
